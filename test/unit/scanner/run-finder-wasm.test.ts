/**
 * The WebAssembly run finder (`run-finder.wat`, embedded in `run-finder-wasm.ts`; its assembly is
 * checked in wasm-assembly.test.ts). Its runs are compared with the JavaScript loops in
 * binary-runs-differential.test.ts.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {wasmRunBounds} from '../../../src/plugins/scanner/run-finder-wasm.js'

test('the module loads and finds the runs of a small body', () => {
  const body = Buffer.concat([Buffer.from([0xff]), Buffer.from('hello world, text'), Buffer.from([0x00, 0xc0]), Buffer.from('ab\tcdefg')])
  // NUL is well-formed UTF-8 (a control byte, read as text); C0 is never used.
  assert.deepEqual([...wasmRunBounds('utf8', body, 12)!], [1, 19])
  assert.deepEqual([...wasmRunBounds('printable', body, 6)!], [1, 18, 20, 28])
})

test('the module\'s memory is never grown: its buffer stays the same, bodies too large for it go to JavaScript', () => {
  // Growing a WebAssembly memory detaches its old buffer, which slows every typed-array access of
  // the process from then on (run-finder-wasm.ts): the bounds always view the one first buffer.
  const first = wasmRunBounds('utf8', Buffer.alloc(300, 0x61), 12)!.buffer
  const big = Buffer.alloc(1 << 20, 0x61)
  big[1000] = 0xff
  assert.deepEqual([...wasmRunBounds('utf8', big, 12)!], [0, 1000, 1001, 1 << 20])
  assert.equal(wasmRunBounds('printable', big, 6)!.buffer, first)
  assert.equal(wasmRunBounds('utf8', big, 1), null, 'the bounds of min 1 would not fit: the JavaScript loop runs')
  assert.equal(wasmRunBounds('utf8', Buffer.alloc((1 << 20) + 1), 12), null)
  assert.equal(wasmRunBounds('utf8', big, 12)!.buffer, first)
  assert.equal(first.byteLength, 48 * 65536)
})
