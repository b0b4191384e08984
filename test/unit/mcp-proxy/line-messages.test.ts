// The stdio wrap's server lines as messages (line-messages.ts): the lines of one JSON value are
// joined, everything else is passed on line by line as it came.
import assert from 'node:assert/strict'
import {Readable} from 'node:stream'
import {test} from 'node:test'
import {lineMessages} from '../../../src/plugins/mcp-proxy/line-messages.js'

async function messages(lines: string[], max?: number): Promise<string[]> {
  const out: string[] = []
  for await (const m of lineMessages(Readable.from(lines), max)) out.push(m)
  return out
}

test('a pretty-printed object or array is one message, joined by line feeds; one-line messages pass as they are', async () => {
  const pretty = JSON.stringify({jsonrpc: '2.0', id: 1, result: {text: 'a { [ "quoted" \\ '}}, null, 2).split('\n')
  assert.deepEqual(await messages(['{"jsonrpc":"2.0","id":0,"result":{}}', ...pretty, '[', '  {"id": 2}', ']', '{"a":1}']), [
    '{"jsonrpc":"2.0","id":0,"result":{}}', pretty.join('\n'), '[\n  {"id": 2}\n]', '{"a":1}',
  ])
})

test('held lines that make no one value are passed on one by one, and what follows is read afresh', async () => {
  // A string still open at the end of a line (JSON strings hold no raw line break).
  assert.deepEqual(await messages(['{', '  "a": "open', '}']), ['{', '  "a": "open', '}'])
  // More closed than opened, or something after the value on its closing line.
  assert.deepEqual(await messages(['{', '}}', '{"b":2}']), ['{', '}}', '{"b":2}'])
  assert.deepEqual(await messages(['{', '} x']), ['{', '} x'])
  // A whole message from the first column is not the rest of a held value.
  assert.deepEqual(await messages(['{', '{"jsonrpc":"2.0","id":1,"result":{}}', '}']), ['{', '{"jsonrpc":"2.0","id":1,"result":{}}', '}'])
  // Over the byte limit, and at the stream's end.
  assert.deepEqual(await messages(['{', '  "a": "' + 'x'.repeat(40) + '",', '}'], 32), ['{', '  "a": "' + 'x'.repeat(40) + '",', '}'])
  assert.deepEqual(await messages(['[', '  1,']), ['[', '  1,'])
})
