import {existsSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import path from 'node:path'

// The one way tests find the reference conformance data: PIPELOCK_VECTORS, default
// ../shared/vectors relative to the repository root. The data is never copied into the repo.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

export function repoPath(...parts: string[]): string {
  return path.join(repoRoot, ...parts)
}

export function vectorsRoot(): string {
  return path.resolve(process.env.PIPELOCK_VECTORS ?? path.join(repoRoot, '..', 'shared', 'vectors'))
}

let noticeShown = false

/**
 * The vectors folder, or undefined when it is missing outside CI (tests then skip with a
 * visible notice). With CI=true a missing folder is an error: conformance must not silently vanish.
 */
export function vectorsAvailable(): string | undefined {
  const root = vectorsRoot()
  if (existsSync(root)) return root
  if (process.env.CI === 'true') {
    throw new Error(`conformance vectors not found at ${root} (set PIPELOCK_VECTORS); CI=true requires them`)
  }
  if (!noticeShown) {
    noticeShown = true
    process.stderr.write(`NOTICE: conformance vectors not found at ${root}; vector tests are skipped\n`)
  }
  return undefined
}

/** `{skip}` option for node:test when vectors are absent. */
export function skipWithoutVectors(): {skip: string | false} {
  return {skip: vectorsAvailable() === undefined ? `vectors missing at ${vectorsRoot()}` : false}
}

export function vectorPath(...parts: string[]): string {
  return path.join(vectorsRoot(), ...parts)
}

export function readVector(...parts: string[]): string {
  return readFileSync(vectorPath(...parts), 'utf8')
}

export function readVectorBytes(...parts: string[]): Buffer {
  return readFileSync(vectorPath(...parts))
}
