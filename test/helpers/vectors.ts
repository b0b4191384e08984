import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import path from 'node:path'

// The one way tests find the conformance data: vendored in the repository under test/vectors/
// (unchanged bytes, provenance in each folder's README and SHA256SUMS), so every test runs on
// any clone. PIPELOCK_VECTORS overrides the folder (same layout), e.g. to test another copy.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

export function repoPath(...parts: string[]): string {
  return path.join(repoRoot, ...parts)
}

export function vectorsRoot(): string {
  const override = process.env.PIPELOCK_VECTORS
  return override !== undefined && override !== '' ? path.resolve(override) : path.join(repoRoot, 'test', 'vectors')
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
