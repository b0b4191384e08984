import {test} from 'node:test'
import assert from 'node:assert/strict'
import {commandProgress, ProgressLine} from '../../../src/cli/progress.js'

function sink(isTTY: boolean): {isTTY: boolean; out: string[]; write: (s: string) => boolean} {
  const out: string[] = []
  return {isTTY, out, write: (s: string) => (out.push(s), true)}
}

test('progress line: nothing in the first second, then a bar at most every 200 ms, erased at the end', () => {
  let t = 0
  const s = sink(true)
  const p = new ProgressLine(s, 'verifying', () => t)
  t = 900
  p.update(10, 100, 9_000)
  assert.deepEqual(s.out, [])
  t = 1_000
  p.update(50, 100, 20_000)
  assert.deepEqual(s.out, ['\rverifying [###############...............] 50% 20,000 receipts, 20,000/s '])
  t = 1_100
  p.update(60, 100, 22_000)
  assert.equal(s.out.length, 1)
  p.done()
  assert.equal(s.out.at(-1), '\r\x1b[K')
})

test('progress line: silent when stderr is not a terminal, and a short run leaves nothing to erase', () => {
  let t = 0
  const pipe = sink(false)
  const p = new ProgressLine(pipe, 'verifying', () => t)
  t = 5_000
  p.update(1, 2, 3)
  p.done()
  assert.deepEqual(pipe.out, [])
  const tty = sink(true)
  const q = new ProgressLine(tty, 'verifying', () => 0)
  q.done()
  assert.deepEqual(tty.out, [])
})

test('command progress: a callback only on a terminal without --json, with the command label and unit', () => {
  assert.equal(commandProgress(true, 'compiling', 'entries', sink(true)).option.onProgress, undefined)
  assert.equal(commandProgress(false, 'compiling', 'entries', sink(false)).option.onProgress, undefined)
  let t = 0
  const tty = sink(true)
  const p = commandProgress(false, 'replaying', 'events', tty, () => t)
  t = 2_000
  p.option.onProgress?.(1, 4, 3_000)
  assert.deepEqual(tty.out, ['\rreplaying [########......................] 25% 3,000 events, 1,500/s '])
  p.done()
  assert.equal(tty.out.at(-1), '\r\x1b[K')
})
