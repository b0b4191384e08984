import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseConfigText, type PipelockConfig} from '../../../src/plugins/config/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

/** Loads YAML text as a config file named `test.yaml`, with an empty environment. */
export function load(text: string): {config: PipelockConfig; warnings: {field: string; message: string}[]} {
  return parseConfigText(text, 'test.yaml', {env: {}})
}

/** Asserts the text is refused with CONFIG_INVALID, the message matching `pattern`, and (optionally) the line. */
export function assertRefused(text: string, pattern: RegExp, line?: number): PipelockError {
  let caught: unknown
  try {
    load(text)
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof PipelockError, `expected a PipelockError for:\n${text}\ngot ${String(caught)}`)
  assert.equal(caught.code, 'CONFIG_INVALID')
  assert.match(caught.message, pattern)
  assert.equal(caught.location?.file, 'test.yaml')
  if (line !== undefined) assert.equal(caught.location?.line, line, `line for ${caught.message}`)
  return caught
}

/** A temp dir removed by the returned cleanup. */
export function tempDir(): {dir: string; file: (name: string, content: string | Uint8Array, mode?: number) => string; cleanup: () => void} {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-config-'))
  return {
    dir,
    file: (name, content, mode) => {
      const p = path.join(dir, name)
      writeFileSync(p, content)
      if (mode !== undefined) chmodSync(p, mode)
      return p
    },
    cleanup: () => rmSync(dir, {recursive: true, force: true}),
  }
}
