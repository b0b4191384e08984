import assert from 'node:assert/strict'
import {Readable} from 'node:stream'
import {test} from 'node:test'
import {parseHeaderEntry, readLines, readSseEvents, sseEvent} from '../../../src/plugins/mcp-proxy/index.js'
import {runtimeFor, Session} from './helpers.js'

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const x of it) out.push(x)
  return out
}

test('SSE reader: data lines joined, comments and other fields ignored, CRLF, unterminated last event', async () => {
  const stream = Readable.from([': hello\n', 'event: message\nid: 1\ndata: {"a":\ndata:1}\n\n', 'data: x\r\n\r\n', 'retry: 5\n\n', 'data:last'])
  assert.deepEqual(await collect(readSseEvents(stream)), ['{"a":\n1}', 'x', 'last'])
  assert.equal(sseEvent('{"x":1}'), 'data: {"x":1}\n\n')
})

test('line reader: splits on LF, keeps blank lines, refuses an over-long line', async () => {
  assert.deepEqual(await collect(readLines(Readable.from(['a\n\nb', 'c\nd']))), ['a', '', 'bc', 'd'])
  await assert.rejects(collect(readLines(Readable.from(['a\n', 'x'.repeat(20)]), 10)), {name: 'LineTooLongError', message: 'line 2 exceeds the 10 bytes line limit'})
  // With onTooLong the line is reported and skipped, and reading goes on (mcp scan).
  const seen: number[] = []
  const lines = await collect(readLines(Readable.from(['a\n', 'x'.repeat(8), 'x'.repeat(8), 'y\nb\n', 'z'.repeat(20)]), 10, {onTooLong: (e) => seen.push(e.line)}))
  assert.deepEqual(lines, ['a', 'b'])
  assert.deepEqual(seen, [2, 4])
})

test('--header parsing: token keys, untrimmed value checks, reserved names', () => {
  assert.deepEqual(parseHeaderEntry('X-Api-Key:  k1 '), ['X-Api-Key', 'k1'])
  assert.deepEqual(parseHeaderEntry(' X-Tab :\tv'), ['X-Tab', 'v'])
  assert.throws(() => parseHeaderEntry(': v'), /key is empty/)
  assert.throws(() => parseHeaderEntry('X Y: v'), /key contains invalid characters/)
  assert.throws(() => parseHeaderEntry('X: v\u00a0'), /value contains invalid characters/)
  assert.throws(() => parseHeaderEntry('host: x'), /"host" is managed by the MCP HTTP transport/)
})

test('Q1 fix: on HTTP transports an unparseable message is blocked even with input scanning off', () => {
  const off = {mcp_input_scanning: {enabled: false, action: 'warn'}}
  const h = new Session(runtimeFor(off), 'mcp_http_upstream')
  const d = h.req('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":1},"Params":{}}')
  assert.equal(d.verdict, 'block')
  // A clean message passes unscanned there (content scanning off), while stdio still scans in warn mode.
  assert.equal(h.req('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"k":"AKIA' + 'QYLPMN5HHHFPZAM2"}}}').verdict, 'allow')
  const s = new Session(runtimeFor(off))
  assert.equal(s.req('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"k":"AKIA' + 'QYLPMN5HHHFPZAM2"}}}').verdict, 'warn')
})
