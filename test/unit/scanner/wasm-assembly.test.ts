/**
 * The scanner's WebAssembly modules are assembled from their `.wat` sources (beside the modules)
 * by `scripts/gen-wasm.mjs`: the embedded bytes must be the current assembly of each source. The
 * generator also checks each module before it writes: the run finder's lookup tables against the
 * byte rules they encode, the plain maps' functions on every byte, the visible-text walk on a page
 * of each construct, the text forms on every ASCII byte.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

test('the embedded modules are the current assembly of run-finder.wat, plain-maps.wat, html-text.wat and text-forms.wat', () => {
  const r = spawnSync(process.execPath, ['scripts/gen-wasm.mjs', '--check'], {cwd: ROOT, encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^run-finder-wasm\.ts: up to date \(\d+ bytes\)\nplain-maps-wasm\.ts: up to date \(\d+ bytes\)\nhtml-text-wasm\.ts: up to date \(\d+ bytes\)\ntext-forms-wasm\.ts: up to date \(\d+ bytes\)\n$/)
})
