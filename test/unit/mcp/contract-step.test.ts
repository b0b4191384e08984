import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {fromPlain, parseJson, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {argsShape, REDACTED_ARGS} from '../../../src/plugins/capture/index.js'
import type {ActiveSet} from '../../../src/plugins/gate/index.js'
import type {Mode, ResolvedContract} from '../../../src/plugins/enforcement/index.js'
import {mcpContractGate, serverIdentity, startMcpListener} from '../../../src/plugins/mcp-proxy/index.js'
import {request} from 'undici'
import {classifyMcp} from '../../../src/plugins/recorder/index.js'
import {AWS_KEY, call, mcpConfig, runtimeFor, Session} from './helpers.js'
import type {McpTransport} from '../../../src/plugins/mcp/index.js'

// The contract step of the MCP request order (mcp.md §15.3, learn-lifecycle §7.7, §7.9) through
// the real pipeline and the one evaluator: kill switch → scanners → contract → mode gate.

const CONTRACT: ResolvedContract = {
  contractHash: 'sha256:' + 'c'.repeat(64),
  activeManifestHash: 'sha256:' + 'a'.repeat(64),
  selectorId: 'sel-1',
  generation: 3n,
  body: fromPlain({
    rules: [
      {rule_id: 'r-echo', rule_kind: 'mcp_tool_call', lifecycle_state: 'enforce', selector: {server: {value: 'node'}, tool: {value: 'echo'}}},
      {rule_id: 'r-read', rule_kind: 'mcp_tool_call', lifecycle_state: 'enforce', selector: {server: {value: 'node'}, tool: {value: 'read_file'}, args: [{key: 'path', value: '/srv/a'}]}},
      {rule_id: 'r-up', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: '127.0.0.1'}}},
    ],
  }) as JsonObject,
}

function session(mode: Mode, opts: {transport?: McpTransport; upstream?: string; contract?: ResolvedContract | undefined; file?: Record<string, unknown>} = {}): Session {
  const contract = 'contract' in opts ? opts.contract : CONTRACT
  const set = {manifestHash: contract?.activeManifestHash ?? '', generation: 3n, selectors: []} as unknown as ActiveSet
  const gate = mcpContractGate({
    runtime: {mode, resolve: () => contract, current: () => (contract === undefined ? undefined : set)},
    agent: '_default',
    server: 'node',
    ...(opts.upstream !== undefined ? {upstream: opts.upstream} : {}),
  })
  const rt = runtimeFor(opts.file ?? {})
  return new Session({...rt, deps: {...rt.deps, contract: gate}}, opts.transport ?? 'mcp_stdio')
}

describe('live contract on MCP tool calls', () => {
  test('an allowed tool is forwarded with the contract fields on its decision', () => {
    const d = session('live').req(call(1, 'echo', {text: 'hi'}))
    assert.equal(d.verdict, 'allow')
    assert.ok(d.forward !== null)
    assert.equal(d.contract?.winningSource, 'contract')
    assert.equal(d.contract?.ruleId, 'r-echo')
    assert.equal(d.contract?.generation, 3n)
  })

  test('unknown tool: -32006 with the sorted-key data object, byte for byte', () => {
    const d = session('live').req(call(7, 'write_file', {path: '/x'}))
    assert.equal(d.verdict, 'block')
    assert.equal(d.forward, null)
    assert.equal(d.stage, 'contract')
    assert.equal(
      d.answer,
      '{"jsonrpc":"2.0","id":7,"error":{"code":-32006,"message":"pipelock: request blocked by live-lock contract","data":{"block_reason":"contract_default_deny","contract_hash":"sha256:' +
        'c'.repeat(64) +
        '","contract_reason":"contract_mcp_default_deny","contract_selector":"sel-1","live_verdict":"block","policy_sources":["scanner","contract"],"rule_id":"","winning_source":"contract"}}}',
    )
    assert.equal(d.pattern, 'contract_default_deny')
    assert.equal(d.severity, 'critical')
  })

  test('args mismatch → contract_enforce_default naming the rule', () => {
    const d = session('live').req(call(2, 'read_file', {path: '/etc/passwd'}))
    const data = (parseJson(d.answer!) as JsonObject).get('error') as JsonObject
    assert.equal(((data.get('data') as JsonObject).get('block_reason')), 'contract_enforce_default')
    assert.equal(((data.get('data') as JsonObject).get('rule_id')), 'r-read')
    assert.equal(session('live').req(call(3, 'read_file', {path: '/srv/a'})).verdict, 'allow')
  })

  test('a scanner block always wins: the contract is never consulted', () => {
    const d = session('live').req(call(4, 'echo', {text: AWS_KEY}))
    assert.equal(d.verdict, 'block')
    assert.equal(d.stage, 'content')
    assert.equal(d.contract, undefined)
    assert.match(d.answer!, /-32001/)
  })

  test('a scanner warn stays warn under a contract allow; a contract block still blocks it', () => {
    const s = session('live', {file: {mcp_input_scanning: {enabled: true, action: 'warn'}}})
    const w = s.req(call(5, 'echo', {text: AWS_KEY}))
    assert.equal(w.verdict, 'warn')
    assert.equal(w.contract?.winningSource, 'contract')
    assert.equal(s.req(call(6, 'write_file', {text: AWS_KEY})).verdict, 'block')
  })

  test('shadow and capture modes never block; the decision keeps what live would have done', () => {
    for (const mode of ['shadow', 'capture'] as const) {
      const d = session(mode).req(call(8, 'write_file', {}))
      assert.equal(d.verdict, 'allow', mode)
      assert.equal(d.contract?.liveVerdict, 'block')
      assert.equal(d.contract?.reason, 'contract_observed_only')
      assert.equal(d.contract?.winningSource, 'scanner')
    }
  })

  test('no contract in force: scanner verdict, no contract fields', () => {
    const d = session('live', {contract: undefined}).req(call(9, 'write_file', {}))
    assert.equal(d.verdict, 'allow')
    assert.equal(d.contract, undefined)
  })

  test('an evaluator error blocks with the no-data -32006 (missing tool name)', () => {
    const d = session('live').req({jsonrpc: '2.0', id: 10, method: 'tools/call', params: {arguments: {}}})
    assert.equal(d.answer, '{"jsonrpc":"2.0","id":10,"error":{"code":-32006,"message":"pipelock: contract tool-call evaluation failed"}}')
  })

  test('other methods are not gated on stdio', () => {
    assert.equal(session('live').req({jsonrpc: '2.0', id: 11, method: 'tools/list'}).verdict, 'allow')
  })
})

describe('upstream gate (fix Q33: contract only, no URL pipeline)', () => {
  test('a loopback upstream the contract allows is not SSRF-blocked; every message passes', () => {
    const s = session('live', {transport: 'mcp_http_upstream', upstream: 'http://127.0.0.1/mcp'})
    for (let i = 0; i < 3; i++) assert.equal(s.req({jsonrpc: '2.0', id: i, method: 'ping'}).verdict, 'allow')
  })

  test('a contract with only MCP rules leaves the upstream to the scanner (no HTTP enforce rule); :3000 passes', () => {
    const mcpOnly: ResolvedContract = {...CONTRACT, body: fromPlain({rules: [{rule_id: 'r-echo', rule_kind: 'mcp_tool_call', lifecycle_state: 'enforce', selector: {server: {value: 'node'}, tool: {value: 'echo'}}}]}) as JsonObject}
    const s = session('live', {transport: 'mcp_http_upstream', upstream: 'http://127.0.0.1:3000/mcp', contract: mcpOnly})
    assert.equal(s.req({jsonrpc: '2.0', id: 1, method: 'ping'}).verdict, 'allow')
    assert.equal(s.req(call(2, 'echo', {text: 'x'})).verdict, 'allow')
    assert.equal(s.req(call(3, 'bash', {command: 'ls'})).verdict, 'block')
  })

  test('with HTTP enforce rules, a non-default upstream port is denied (learn-lifecycle §7.6)', () => {
    const d = session('live', {transport: 'mcp_http_upstream', upstream: 'http://127.0.0.1:3000/mcp'}).req({jsonrpc: '2.0', id: 1, method: 'ping'})
    assert.match(d.answer!, /"block_reason":"contract_non_default_port"/)
    // the port is refused for the whole host: no rule is named (docs/compatibility.md)
    assert.match(d.answer!, /"rule_id":""/)
  })

  test('an upstream path with no canonical form, under path rules for other methods: contract_invalid_path naming no rule', () => {
    // the upstream is gated as POST (§7.7); the host's only path rule is for GET, so it decided nothing
    const paths: ResolvedContract = {...CONTRACT, body: fromPlain({rules: [{rule_id: 'r-get', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: '127.0.0.1'}, methods: ['GET'], paths: [{value: '/mcp'}]}}]}) as JsonObject}
    const d = session('live', {transport: 'mcp_http_upstream', upstream: 'http://127.0.0.1//mcp', contract: paths}).req({jsonrpc: '2.0', id: 1, method: 'ping'})
    assert.match(d.answer!, /"block_reason":"contract_invalid_path"/)
    assert.match(d.answer!, /"rule_id":""/)
  })

  test('an upstream the contract does not list: -32006 upstream URL blocked, on every forwarded message', () => {
    const s = session('live', {transport: 'mcp_http_upstream', upstream: 'https://mcp.example.com/mcp'})
    const d = s.req({jsonrpc: '2.0', id: 1, method: 'ping'})
    assert.equal(d.stage, 'contract_upstream')
    assert.match(d.answer!, /^\{"jsonrpc":"2\.0","id":1,"error":\{"code":-32006,"message":"pipelock: upstream URL blocked by live-lock contract","data":\{"block_reason":"contract_default_deny",/)
    assert.equal(s.req(call(2, 'echo', {text: 'x'})).verdict, 'block')
  })
})

test('HTTP listener: an upstream the contract denies is HTTP 403 with the -32006 body; the upstream is never contacted', async () => {
  const s = session('live', {transport: 'mcp_http_listener', upstream: 'https://mcp.example.com/mcp'})
  const l = await startMcpListener({listen: '127.0.0.1:0', upstream: 'https://mcp.example.com/mcp', config: mcpConfig(), runtime: {...s.runtime, deps: s.ctx.deps}, recorder: {record: () => undefined}, log: () => undefined})
  try {
    const r = await request(`http://${l.address}/`, {method: 'POST', headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'}, body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'ping'})})
    assert.equal(r.statusCode, 403)
    assert.match(await r.body.text(), /^\{"jsonrpc":"2\.0","id":1,"error":\{"code":-32006,"message":"pipelock: upstream URL blocked by live-lock contract","data":\{"block_reason":"contract_default_deny"/)
  } finally {
    await l.close()
  }
})

describe('capture argument shapes and MCP receipt classification', () => {
  const hit = (t: string): boolean => t.includes('AKIA')
  test('keys kept and sorted, values typed without a salt, HMAC with one, as sent in raw mode', () => {
    const args = parseJson('{"z":"v","a":{"n":12,"ok":true,"list":["x",null]}}')
    assert.equal(argsShape(args, {raw: false, salt: undefined, dlpHit: hit}), '{"a":{"list":["\\u003cstring\\u003e",null],"n":"\\u003cnumber\\u003e","ok":true},"z":"\\u003cstring\\u003e"}')
    assert.match(argsShape(args, {raw: false, salt: 's', dlpHit: hit}), /^\{"a":\{"list":\["hmac-sha256:[0-9a-f]{64}",null\],"n":"hmac-sha256:[0-9a-f]{64}","ok":true\},"z":"hmac-sha256:[0-9a-f]{64}"\}$/)
    assert.equal(argsShape(args, {raw: true, salt: undefined, dlpHit: hit}), '{"a":{"list":["x",null],"n":12,"ok":true},"z":"v"}')
    assert.equal(argsShape(undefined, {raw: false, salt: undefined, dlpHit: hit}), '{}')
  })
  test('a DLP hit in a value or a key redacts the whole object, raw mode included', () => {
    assert.equal(argsShape(parseJson(`{"k":"${AWS_KEY}"}`), {raw: true, salt: undefined, dlpHit: hit}), REDACTED_ARGS)
    assert.equal(argsShape(parseJson(`{"${AWS_KEY}":1}`), {raw: false, salt: 's', dlpHit: hit}), REDACTED_ARGS)
  })
  test('receipts §8 MCP classification by tool-name prefix', () => {
    assert.equal(classifyMcp('tools/call', 'read_file').actionType, 'read')
    assert.equal(classifyMcp('tools/call', 'getUser').actionType, 'read')
    assert.equal(classifyMcp('tools/call', 'getaway').actionType, 'unclassified')
    assert.equal(classifyMcp('tools/call', 'write-file').actionType, 'write')
    assert.deepEqual(classifyMcp('tools/call', 'exec'), {actionType: 'delegate', sideEffectClass: 'external_write', reversibility: 'unknown'})
    assert.equal(classifyMcp('resources/read', '').actionType, 'read')
    assert.equal(classifyMcp('tools/call', 'echo').sideEffectClass, 'none')
  })
  test('server identity (§1.2): command basename, upstream hostname without IPv6 brackets', () => {
    assert.equal(serverIdentity(['/usr/bin/python3', 'x.py'], undefined), 'python3')
    assert.equal(serverIdentity([], 'https://mcp.example.com:8443/mcp'), 'mcp.example.com')
    assert.equal(serverIdentity([], 'ws://[::1]:9000/'), '::1')
  })
})
