import assert from 'node:assert/strict'
import {test} from 'node:test'
import {errorLine, goFormatFloat, allStrings, valueStrings, extractText, remainderText, unescapeU, mcpError, MCP_ERRORS, parseFrame, textResultLine} from '../../../src/plugins/mcp/index.js'
import {parseJson} from '../../../src/plugins/canonical/index.js'

test('frame: id kept as raw compact JSON text, method, tools/call name and arguments', () => {
  const f = parseFrame('  {"jsonrpc":"2.0", "id": "a<b", "method":"tools/call","params":{"name":"echo","arguments":{"x":1.50}}}\r\n')
  assert.equal(f.error, null)
  assert.equal(f.id, '"a\\u003cb"')
  assert.equal(f.method, 'tools/call')
  assert.equal(f.toolName, 'echo')
  assert.equal(parseFrame('{"jsonrpc":"2.0","id":1.0,"method":"ping"}').id, '1.0')
  assert.equal(parseFrame('{"jsonrpc":"2.0","id":null,"method":"n"}').id, null)
  assert.equal(parseFrame('{"jsonrpc":"2.0","method":"n"}').id, null)
  assert.equal(parseFrame(' [1,2]').isBatch, true)
  assert.equal(parseFrame('{"jsonrpc":"2.0","id":1,"result":{}}').isResponse, true)
})

test('frame: duplicate keys at any depth and case-folded envelope/params keys are parse errors (Q12 fix)', () => {
  assert.equal(parseFrame('{"method":"ping","method":"tools/call"}').error, 'duplicate object key "method"')
  assert.equal(parseFrame('{"a":{"b":{"c":1,"c":2}}}').error, 'duplicate object key "c"')
  const q12 = parseFrame('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"k":"secret"}},"Params":{"name":"x"}}')
  assert.equal(q12.error, 'duplicate object key "Params" (case-insensitive match of "params")')
  assert.match(parseFrame('{"jsonrpc":"2.0","id":1,"method":"m","params":{"Name":"a","name":"b"}}').error!, /case-insensitive/)
  // Go folds more than ASCII case: U+017F LATIN SMALL LETTER LONG S is `s` to encoding/json, so
  // `paramſ` / `argumentſ` would replace the judged params / arguments on a Go upstream.
  const longS = parseFrame('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{}},"param\u017f":{"name":"delete_all","arguments":{}}}')
  assert.equal(longS.error, 'duplicate object key "param\u017f" (case-insensitive match of "params")')
  assert.match(parseFrame('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/tmp/x"},"argument\u017f":{"path":"/etc/shadow"}}}').error!, /case-insensitive match of "arguments"/)
  assert.match(parseFrame('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"},"\u212aey":1,"key":2}').error!, /case-insensitive/)
  // Case variants deeper inside arguments are ordinary distinct keys (Go decodes arguments raw).
  assert.equal(parseFrame('{"jsonrpc":"2.0","id":1,"method":"m","params":{"arguments":{"A":1,"a":2}}}').error, null)
  assert.equal(parseFrame('{"jsonrpc":"2.0","id":1,"method":null}').error, 'mcp: method must be a string')
  assert.equal(parseFrame('{"jsonrpc":"2.0","id":1,"method":5}').error, 'mcp: method must be a string')
  assert.match(parseFrame('not json').error!, /^invalid JSON: /)
})

test('error lines: exact bytes, member order, Go escaping, data.block_reason on every block', () => {
  assert.equal(errorLine('7', mcpError('tool_policy')), '{"jsonrpc":"2.0","id":7,"error":{"code":-32002,"message":"pipelock: request blocked by tool call policy","data":{"block_reason":"tool_policy_deny"}}}')
  assert.equal(errorLine(null, mcpError('batch_request')), '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"pipelock: batch requests are not supported by MCP","data":{"block_reason":"bad_request"}}}')
  assert.equal(errorLine('"x"', mcpError('kill_switch', 'stop <now> & wait')), '{"jsonrpc":"2.0","id":"x","error":{"code":-32004,"message":"stop \\u003cnow\\u003e \\u0026 wait","data":{"block_reason":"kill_switch_active"}}}')
  assert.equal(errorLine('3', mcpError('chain', 'env-then-network')), '{"jsonrpc":"2.0","id":3,"error":{"code":-32004,"message":"tool call blocked: chain pattern \\"env-then-network\\" detected","data":{"block_reason":"tool_chain_blocked"}}}')
  assert.equal(errorLine('4', mcpError('input_scanning', '', 'dlp_match')), '{"jsonrpc":"2.0","id":4,"error":{"code":-32001,"message":"pipelock: request blocked by MCP input scanning","data":{"block_reason":"dlp_match"}}}')
  // Transport errors are not blocks: no data.
  assert.equal(errorLine('1', mcpError('upstream', 'upstream HTTP request failed')), '{"jsonrpc":"2.0","id":1,"error":{"code":-32003,"message":"pipelock: upstream error: upstream HTTP request failed"}}')
  assert.equal(textResultLine('2', 'ok <3'), '{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"ok \\u003c3"}]}}')
  // The vocabulary is the spec's table: codes pinned.
  const codes = Object.fromEntries(Object.entries(MCP_ERRORS).map(([k, v]) => [k, v.code]))
  assert.deepEqual(codes, {
    listener_invalid_json: -32700, listener_invalid_request: -32600, batch_request: -32600, denial_of_wallet: -32600, frozen_tool: -32600,
    response_injection: -32000, response_unparseable: -32000, confused_deputy: -32000, response_unscanned: -32000, tool_poisoning: -32000, tool_drift: -32000, session_binding: -32000,
    input_scanning: -32001, redaction: -32001, a2a_header: -32001, a2a_input: -32001, escalation: -32001, airlock: -32001, session_cut: -32001, session_id: -32001, redirect_output_response: -32001, redirect_output_dlp: -32001,
    tool_policy: -32002, taint: -32002, media_policy: -32002, envelope: -32002, upstream: -32003, kill_switch: -32004, chain: -32004, chain_window: -32004, cross_request: -32005,
  })
})

test('numbers print like Go FormatFloat(f, -1): never an exponent, -0 kept', () => {
  assert.equal(goFormatFloat('1e21'), '1000000000000000000000')
  assert.equal(goFormatFloat('12345678901234567890'), '12345678901234567000')
  assert.equal(goFormatFloat('-0'), '-0')
  assert.equal(goFormatFloat('1.5e-7'), '0.00000015')
  assert.equal(goFormatFloat('2.50'), '2.5')
  assert.equal(goFormatFloat('-1.25e22'), '-12500000000000000000000')
})

test('allStrings / valueStrings: byte-wise key order, numbers and booleans, null skipped, every level the parser accepts', () => {
  const v = parseJson('{"b":1,"a":[true,null,"x"],"\u00e9":"e","Z":"z","\ud83d\ude00":"s","\uffff":"f"}')
  assert.deepEqual(allStrings(v), ['Z', 'z', 'a', 'true', 'x', 'b', '1', 'é', 'e', '\uffff', 'f', '😀', 's'])
  assert.deepEqual(valueStrings(v), ['z', 'x', 'e', 'f', 's'])
  let deep = '"bottom"'
  for (let i = 0; i < 70; i++) deep = `[${deep}]`
  // The reference stops below depth 64 (a string under 70 arrays went unscanned).
  assert.deepEqual(allStrings(parseJson(deep, 200)), ['bottom'])
})

test('extractText stops at content text; remainderText covers structuredContent and embedded resources (Q10 fix)', () => {
  const r = parseJson('{"content":[{"type":"text","text":"a"},{"type":"image","data":"QUJD","mimeType":"image/png"},{"type":"resource","resource":{"uri":"u","text":"inside","blob":"Zm9v"}}],"structuredContent":{"k":"struct"}}')
  assert.equal(extractText(r), 'a  ')
  assert.equal(remainderText(r), 'struct\ntext\nimage/png\nimage\ninside\nu\nresource')
  assert.equal(extractText(parseJson('{"contents":[{"uri":"x","text":"t"}]}')), 't\nx')
})

test('\\u unescaping: each escape on its own, surrogate halves become U+FFFD', () => {
  assert.equal(unescapeU('\\u0041KIA'), 'AKIA')
  assert.equal(unescapeU('\\ud83d\\ude00'), '\ufffd\ufffd')
})
