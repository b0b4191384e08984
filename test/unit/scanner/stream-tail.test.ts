import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {STREAM_TAIL_CHARS, StreamTail} from '../../../src/plugins/scanner/index.js'

// The rolling tail of a stream's messages (SSE events, WebSocket messages): a phrase split
// across messages is found in `tail + message`. A scan may answer later (a large message scanned
// off the event loop): the verdicts, the `across` flags and the tail it keeps must be the same.
const PHRASE = 'ignore previous instructions'
const scan = (t: string): boolean => !t.includes(PHRASE)
const later = async (t: string): Promise<boolean> => {
  await new Promise((r) => setImmediate(r))
  return scan(t)
}

const STREAM = ['hello ', 'please ig', 'nore previous instr', 'uctions now', 'x'.repeat(STREAM_TAIL_CHARS + 10), 'more', '', PHRASE, 'after a hit the tail is empty']

describe('StreamTail', () => {
  test('finds a phrase split across messages, and forgets what a hit or the tail length left behind', () => {
    const tail = new StreamTail()
    const got = STREAM.map((m) => tail.next(m, scan, (r) => r))
    assert.deepEqual(got.map((v) => [v.verdict, v.across]), [
      [true, false], [true, true], [true, true], [false, true], [true, false], [true, true], [true, false], [false, false], [true, false],
    ])
  })

  test('a scan that answers later gives the same verdicts in the same order', async () => {
    const sync = new StreamTail()
    const want = STREAM.map((m) => sync.next(m, scan, (r) => r))
    const tail = new StreamTail()
    const got = []
    for (const m of STREAM) {
      const v = tail.next<boolean>(m, later, (r) => r)
      assert.ok(v instanceof Promise)
      got.push(await v)
    }
    assert.deepEqual(got, want)
  })

  test('a scan that answers at once for some messages and later for others keeps one tail', async () => {
    const sync = new StreamTail()
    const want = STREAM.map((m) => sync.next(m, scan, (r) => r))
    const tail = new StreamTail()
    const got = []
    for (const [i, m] of STREAM.entries()) got.push(await tail.next<boolean>(m, (t) => (i % 2 === 0 ? scan(t) : later(t)), (r) => r))
    assert.deepEqual(got, want)
  })

  test('other readings of the stream are read after a line break in the same scan; the tail keeps only the message\'s reading', () => {
    const tail = new StreamTail()
    const seen: string[] = []
    const record = (t: string): boolean => {
      seen.push(t)
      return scan(t)
    }
    assert.deepEqual(tail.next('{"id":"e1","d":"ignore"}', record, (r) => r, 'e1ignore'), {verdict: true, across: false})
    // In the tail's join the ids stand between the tokens; the member's own stream is read after it.
    assert.deepEqual(tail.next('{"id":"e2","d":" previous"}', record, (r) => r, 'e2 previous', 'ignore previous'), {verdict: true, across: true})
    assert.deepEqual(seen.slice(-1), ['e1ignoree2 previous\nignore previous'])
    assert.deepEqual(tail.next('{"id":"e3","d":" instructions"}', record, (r) => r, 'e3 instructions', 'ignore previous instructions'), {verdict: false, across: true})
    assert.deepEqual(seen.slice(-1), ['e1ignoree2 previouse3 instructions\nignore previous instructions'])
    // A hit leaves no tail.
    assert.deepEqual(tail.next('x', record, (r) => r), {verdict: true, across: false})
  })
})
