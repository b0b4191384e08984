import assert from 'node:assert/strict'
import {after, test} from 'node:test'
import {callEndpoints, DowTracker, dowSettings, type DowSource} from '../../../src/plugins/mcp/index.js'
import {buildMcpRuntime, type McpRuntime} from '../../../src/plugins/mcp-proxy/index.js'
import {call, mcpConfig, Session} from './helpers.js'

// The budget fields the reference documents as enforced and never applies (mcp.md §17 D9), applied
// here: calls in flight, calls to one endpoint, fan-out, and the cost weights of the call count.

const opened: McpRuntime[] = []
after(() => {
  for (const r of opened) r.close()
})

function runtime(file: Record<string, unknown>, clock = {ms: 1_000_000}): McpRuntime {
  const r = buildMcpRuntime(mcpConfig(file), {}, () => clock.ms)
  opened.push(r)
  return r
}

const budgetError = (id: number, reason: string): string =>
  `{"jsonrpc":"2.0","id":${id},"error":{"code":-32600,"message":"pipelock: ${reason}","data":{"block_reason":"data_budget"}}}`
const result = (id: number): Record<string, unknown> => ({jsonrpc: '2.0', id, result: {content: [{type: 'text', text: 'ok'}]}})
const tracker = (rt: McpRuntime): DowTracker => (rt.deps.budget as DowSource).trackerFor(undefined)!

test('max_concurrent_tool_calls: a call over the limit is refused while the others are out; an answer frees its slot', () => {
  const rt = runtime({agents: {_default: {budget: {max_concurrent_tool_calls: 2}}}})
  const s = new Session(rt)
  assert.equal(s.req(call(1, 'echo', {text: 'a'})).verdict, 'allow')
  assert.equal(s.req(call(2, 'echo', {text: 'b'})).verdict, 'allow')
  const third = s.req(call(3, 'echo', {text: 'c'}))
  assert.equal(third.verdict, 'block')
  assert.equal(third.stage, 'denial_of_wallet')
  assert.equal(third.answer, budgetError(3, 'concurrent tool call limit exceeded: 3/2 in flight'))
  assert.equal(tracker(rt).callsInFlight, 2, 'a refused call takes no slot')
  // Any answer ends a call, an error too; a response to no call frees nothing.
  s.res({jsonrpc: '2.0', id: 2, error: {code: -1, message: 'failed'}})
  s.res(result(99))
  assert.equal(tracker(rt).callsInFlight, 1)
  assert.equal(s.req(call(4, 'echo', {text: 'd'})).verdict, 'allow')
  assert.equal(s.req(call(5, 'echo', {text: 'e'})).verdict, 'block')
  // Another method than tools/call, and a tools/call notification (no answer comes), hold no slot.
  assert.equal(s.req({jsonrpc: '2.0', id: 6, method: 'tools/list'}).verdict, 'allow')
  assert.equal(tracker(rt).callsInFlight, 2)
  s.res(result(1))
  assert.equal(s.req({jsonrpc: '2.0', method: 'tools/call', params: {name: 'echo', arguments: {text: 'f'}}}).verdict, 'allow')
  assert.equal(tracker(rt).callsInFlight, 1)
})

test('max_concurrent_tool_calls: a call a later stage refuses gives its slot back; dow_action warn forwards and holds it', () => {
  const rt = runtime({
    agents: {_default: {budget: {max_concurrent_tool_calls: 1}}},
    cross_request_detection: {enabled: true, action: 'block', entropy_budget: {enabled: true, bits_per_window: 2000, window_minutes: 5, action: 'block'}},
  })
  const s = new Session(rt)
  // Cross-request detection (after the budget in the gate) refuses a high-entropy call.
  const noisy = s.req(call(1, 'echo', {text: Array.from({length: 400}, (_, i) => String.fromCharCode(33 + ((i * 7919) % 90))).join('')}))
  assert.equal(noisy.verdict, 'block')
  assert.equal(noisy.stage, 'cross_request')
  assert.equal(tracker(rt).callsInFlight, 0)

  const warn = runtime({agents: {_default: {budget: {max_concurrent_tool_calls: 1, dow_action: 'warn'}}}})
  const w = new Session(warn)
  assert.equal(w.req(call(1, 'echo', {text: 'a'})).verdict, 'allow')
  const over = w.req(call(2, 'echo', {text: 'b'}))
  assert.equal(over.verdict, 'allow')
  assert.ok(over.notes.includes('input line 2: tools/call "echo" DoW warn: concurrent tool call limit exceeded: 2/1 in flight (concurrency_limit)'), over.notes.join('\n'))
  assert.equal(tracker(warn).callsInFlight, 2)
})

test('max_retries_per_endpoint: the calls naming one host and path are counted, whatever the query; other endpoints pass', () => {
  const rt = runtime({agents: {_default: {budget: {max_retries_per_endpoint: 2}}}})
  const s = new Session(rt)
  assert.equal(s.req(call(1, 'fetch', {url: 'https://api.example.com/v1/items?page=1'})).verdict, 'allow')
  assert.equal(s.req(call(2, 'fetch', {url: 'HTTPS://API.example.com:443/v1/items?page=2'})).verdict, 'allow')
  assert.equal(s.req(call(3, 'fetch', {url: 'https://api.example.com/v1/users?page=3'})).verdict, 'allow')
  const d = s.req(call(4, 'post', {target: {href: 'https://api.example.com/v1/items#x'}}))
  assert.equal(d.verdict, 'block')
  assert.equal(d.answer, budgetError(4, 'endpoint retry limit exceeded: api.example.com/v1/items called 3 times (limit 2)'))
  // A refused attempt counts too (a retry storm is the attempts).
  assert.match(s.req(call(5, 'fetch', {url: 'https://api.example.com/v1/items?page=5'})).answer!, /called 4 times/)
  assert.equal(s.req(call(6, 'echo', {text: 'no address here'})).verdict, 'allow')
})

test('fan_out_limit: a new endpoint past the limit within the window is refused; the ones reached stay reachable; the window slides', () => {
  const clock = {ms: 1_000_000}
  const rt = runtime({agents: {_default: {budget: {fan_out_limit: 2, fan_out_window_seconds: 60}}}}, clock)
  const s = new Session(rt)
  assert.equal(s.req(call(1, 'fetch', {url: 'https://a.example/x'})).verdict, 'allow')
  clock.ms += 10_000
  assert.equal(s.req(call(2, 'fetch', {url: 'https://b.example/x'})).verdict, 'allow')
  const d = s.req(call(3, 'fetch', {url: 'https://c.example/x'}))
  assert.equal(d.verdict, 'block')
  assert.equal(d.answer, budgetError(3, 'fan-out limit exceeded: 3 unique endpoints in 1m0s (limit 2)'))
  assert.equal(s.req(call(4, 'fetch', {url: 'https://b.example/x?again=1'})).verdict, 'allow', 'an endpoint already reached')
  // At +61 s a.example (named at +0 s) has left the window, b.example (+10 s) has not: one new endpoint fits, a second does not.
  clock.ms += 51_000
  assert.equal(s.req(call(5, 'fetch', {url: 'https://c.example/x'})).verdict, 'allow')
  assert.equal(s.req(call(6, 'fetch', {url: 'https://d.example/x'})).answer, budgetError(6, 'fan-out limit exceeded: 3 unique endpoints in 1m0s (limit 2)'))
})

test('cost_multipliers weigh a call in max_tool_calls_per_session; the message names the weighted count', () => {
  const rt = runtime({agents: {_default: {budget: {max_tool_calls_per_session: 3, cost_multipliers: {write_file: 2, cheap: 0.5}}}}})
  const s = new Session(rt)
  assert.equal(s.req(call(1, 'read_file', {p: 1})).verdict, 'allow')
  assert.equal(s.req(call(2, 'cheap', {p: 2})).verdict, 'allow')
  assert.equal(s.req(call(3, 'cheap', {p: 3})).verdict, 'allow')
  const d = s.req(call(4, 'write_file', {p: 4}))
  assert.equal(d.answer, budgetError(4, 'tool call limit exceeded: 4/3'))
  const half = runtime({agents: {_default: {budget: {max_tool_calls_per_session: 1, cost_multipliers: {cheap: 0.5}}}}})
  const h = new Session(half)
  h.req(call(1, 'cheap', {p: 1}))
  h.req(call(2, 'cheap', {p: 2}))
  assert.equal(h.req(call(3, 'cheap', {p: 3})).answer, budgetError(3, 'tool call limit exceeded: 1.5/1'))
})

test('callEndpoints: every http(s)/ws(s) URL in the arguments, host lower-cased with a non-default port, path without query', () => {
  assert.deepEqual(callEndpoints('{"a":"see https://Docs.Example.com/a/b?q=1 and http://x.test:8080/","b":["wss://s.test/ws","https://docs.example.com/a/b#f"],"c":"ftp://no.test/x","d":"https://"}'), [
    'docs.example.com/a/b', 'x.test:8080/', 's.test/ws',
  ])
  assert.deepEqual(callEndpoints(''), [])
})

test('dowSettings: the new limits are off at 0; fan-out needs its window; a tracker is its own source', () => {
  const s = dowSettings({max_concurrent_tool_calls: 3})!
  assert.deepEqual([s.maxConcurrent, s.maxRetriesPerEndpoint, s.fanOutLimit, s.fanOutWindowMs, s.maxRetriesPerTool], [3, 0, 0, 0, 5])
  assert.deepEqual([dowSettings({fan_out_limit: 4, fan_out_window_seconds: 30})!.fanOutWindowMs], [30_000])
  assert.equal(dowSettings({fan_out_window_seconds: 30}), null, 'the window alone switches nothing on')
  const t = new DowTracker(s, () => 0)
  assert.equal(t.trackerFor(), t)
  const release = t.begin()
  release()
  release()
  assert.equal(t.callsInFlight, 0, 'a release is idempotent')
})
