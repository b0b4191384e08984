// Two stages of the MCP tool-call gate that mirror the HTTP gate (docs/mcp.md "Airlock" and
// "Audit mode"): the `session` stage holds a session's messages at its airlock tier by their
// receipt action class, and `enforce: false` turns the blocks HTTP also downgrades into one
// recorded would-block per message that is forwarded, while the blocks HTTP never downgrades stand.
import assert from 'node:assert/strict'
import {after, test} from 'node:test'
import {decideRequest, liveCutDecision, liveCutWords} from '../../../src/plugins/mcp/index.js'
import {buildMcpRuntime, type McpRuntime} from '../../../src/plugins/mcp-proxy/index.js'
import {AuditLog, ReceiptSink, type AirlockChange} from '../../../src/plugins/proxy/index.js'
import {classifyMcp} from '../../../src/plugins/recorder/index.js'
import {AWS_KEY, call, mcpConfig, Session} from './helpers.js'

const opened: McpRuntime[] = []
after(() => {
  for (const r of opened) r.close()
})

function runtime(file: Record<string, unknown>, changes: string[] = []): McpRuntime {
  const r = buildMcpRuntime(mcpConfig(file), {}, () => 1_000_000, () => undefined, '_default', {
    evidence: (c: AirlockChange) => changes.push(`${c.session.key} ${c.from}->${c.to} ${c.trigger}`), classify: (method, tool) => classifyMcp(method, tool).actionType,
  })
  opened.push(r)
  return r
}

const err = (id: number, code: number, message: string, reason: string) => `{"jsonrpc":"2.0","id":${id},"error":{"code":${code},"message":"${message}","data":{"block_reason":"${reason}"}}}`
const AIRLOCK = {session_profiling: {enabled: true}, airlock: {enabled: true}}

test('airlock on MCP: hard lets what receipts classify as read through, refuses the rest; drain refuses all; none releases', () => {
  const changes: string[] = []
  const rt = runtime(AIRLOCK, changes)
  const s = new Session(rt)
  assert.equal(s.req(call(1, 'write_file', {path: '/tmp/x'})).verdict, 'allow')
  const m = rt.sessions!.manager
  const sess = m.get('mcp-stdio-1')!
  m.setAirlock(sess, 'hard', 'api', 'manual', 'admin_api')

  assert.equal(s.req(call(2, 'read_file', {path: '/tmp/x'})).verdict, 'allow', 'a read-named tool passes at hard')
  assert.equal(s.req({jsonrpc: '2.0', id: 3, method: 'tools/list'}).verdict, 'allow', 'tools/list is a read')
  const w = s.req(call(4, 'write_file', {path: '/tmp/x'}))
  assert.deepEqual([w.verdict, w.stage, w.layer, w.reason, w.pattern, w.forward], ['block', 'session', 'airlock', 'airlock_active', 'airlock:hard', null])
  assert.equal(w.answer, err(4, -32001, 'pipelock: session in airlock hard: write tool call refused', 'airlock_active'))
  assert.deepEqual(w.notes, ['input line 4: session in airlock hard: write tool call refused'])
  // A tool the classifier cannot place is not a read: refused at hard.
  assert.equal(s.req(call(5, 'echo', {text: 'hi'})).reason, 'airlock_active')
  assert.equal(s.req({jsonrpc: '2.0', method: 'notifications/cancelled', params: {}}).answer, null, 'a notification is dropped, not answered')

  m.setAirlock(sess, 'drain', 'api', 'manual', 'admin_api')
  const r = s.req(call(6, 'read_file', {path: '/tmp/x'}))
  assert.equal(r.answer, err(6, -32001, 'pipelock: session in airlock drain: read tool call refused', 'airlock_active'))

  m.setAirlock(sess, 'none', 'api', 'manual', 'admin_api')
  assert.equal(s.req(call(7, 'write_file', {path: '/tmp/x'})).verdict, 'allow')
  assert.deepEqual([...m.counters.airlock.denials], [['hard|mcp|write', 1], ['hard|mcp|unclassified', 2], ['drain|mcp|read', 1]])
  // Every tier change reaches the runtime's evidence callback (the receipt chain signs it).
  assert.deepEqual(changes, ['mcp-stdio-1 none->hard api', 'mcp-stdio-1 hard->drain api', 'mcp-stdio-1 drain->none api'])
})

test('airlock on MCP is not downgraded by audit mode, and the listener\'s identity session is held the same way', () => {
  const rt = runtime({...AIRLOCK, enforce: false})
  const s = new Session(rt, 'mcp_http_listener')
  assert.equal(s.req(call(1, 'echo', {text: 'hi'})).verdict, 'allow')
  const [key] = [...rt.sessions!.manager.all()].map((x) => x.key)
  rt.sessions!.manager.setAirlock(rt.sessions!.manager.get(key!)!, 'hard', 'api', 'manual', 'admin_api')
  const d = s.req(call(2, 'delete_file', {path: '/tmp/x'}))
  assert.deepEqual([d.verdict, d.reason, d.notes], ['block', 'airlock_active', ['input: session in airlock hard: write tool call refused']])
})

test('audit mode (enforce: false): a secret in the arguments is one would_block Decision, forwarded as received', () => {
  const s = new Session(runtime({enforce: false}))
  const msg = JSON.stringify(call(1, 'echo', {text: `key ${AWS_KEY}`}))
  const d = s.req(msg)
  assert.deepEqual([d.verdict, d.stage, d.layer, d.reason, d.answer, d.forward], ['would_block', 'content', 'mcp_input_scanning', 'dlp_match', null, msg])
  assert.equal(d.notes.at(-1), 'input line 1: audit mode (enforce: false): not enforced, recorded as would-block (dlp_match)')
  // Enforcing, the same call is the block.
  const e = new Session(runtime({})).req(msg)
  assert.deepEqual([e.verdict, e.forward], ['block', null])
})

test('audit mode: cross-request fragments are a would-block; a budget and the kill switch still block', () => {
  const cee = {cross_request_detection: {enabled: true, action: 'block', fragment_reassembly: {enabled: true, max_buffer_bytes: 65536, window_minutes: 5}}}
  const s = new Session(runtime({enforce: false, ...cee}))
  assert.equal(s.req(call(1, 'echo', {text: AWS_KEY.slice(0, 4)})).verdict, 'allow')
  const split = s.req(call(2, 'echo', {text: AWS_KEY.slice(4)}))
  assert.deepEqual([split.verdict, split.stage, split.reason, split.answer === null, split.forward !== null], ['would_block', 'cross_request', 'cross_request_deny', true, true])

  const capped = new Session(runtime({enforce: false, agents: {_default: {budget: {max_tool_calls_per_session: 1}}}}))
  assert.equal(capped.req(call(1, 'echo', {text: 'a'})).verdict, 'allow')
  assert.deepEqual([capped.req(call(2, 'echo', {text: 'b'})).verdict, capped.req(call(3, 'echo', {text: 'c'})).reason], ['block', 'data_budget'])

  const killed = new Session(runtime({enforce: false, kill_switch: {enabled: true}})).req(call(1, 'echo', {text: 'hi'}))
  assert.deepEqual([killed.verdict, killed.reason], ['block', 'kill_switch_active'])
})

test('audit mode: the first would-block is the Decision, a later block that is never downgraded still wins', () => {
  // A secret (would-block) from a session the operator holds at hard: the airlock answers.
  const rt = runtime({...AIRLOCK, enforce: false})
  const s = new Session(rt)
  s.req(call(1, 'read_file', {path: '/tmp/x'}))
  rt.sessions!.manager.setAirlock(rt.sessions!.manager.get('mcp-stdio-1')!, 'hard', 'api', 'manual', 'admin_api')
  const d = s.req(call(2, 'echo', {text: `key ${AWS_KEY}`}))
  assert.deepEqual([d.verdict, d.layer, d.reason], ['block', 'airlock', 'airlock_active'])
  // A read with a secret passes the airlock: recorded as the content finding's would-block.
  const r = s.req(call(3, 'read_file', {path: `/tmp/${AWS_KEY}`}))
  assert.deepEqual([r.verdict, r.layer, r.reason], ['would_block', 'mcp_input_scanning', 'dlp_match'])
})

test('the sinks record a would_block as HTTP records its own: a warn receipt and an anomaly audit event', () => {
  const d = new Session(runtime({enforce: false})).req(call(1, 'echo', {text: `key ${AWS_KEY}`}))
  // The one audit sink (the run's AuditLog) as its emitter tap sees it.
  const events: Array<[string, Readonly<Record<string, unknown>>]> = []
  const audit = new AuditLog([], {includeAllowed: false, includeBlocked: true, now: () => new Date(0)})
  audit.setTap({emit: (type, f) => void events.push([type, f])})
  audit.record(d)
  assert.deepEqual(events, [['anomaly', {resource: 'echo', transport: 'mcp_stdio', method: 'MCP', scanner: 'mcp_input_scanning', reason: 'dlp_match'}]])
  const emitted: Array<Record<string, unknown>> = []
  const chains = {emitter: {failures: 0, emit: (r: Record<string, unknown>) => void emitted.push(r)}, evidence: {emit: () => undefined}, publicKeyHex: ''}
  new ReceiptSink(chains as never, {escrow: false, toolCallAgent: ''}).record(d)
  assert.deepEqual(emitted.map((r) => [r.target, r.verdict, r.layer]), [['echo', 'warn', 'mcp_input_scanning']])
})

test('audit mode on the listener: a header DLP match and an A2A block are would-blocks, forwarded; enforcing they answer', () => {
  for (const [extras, stage, layer] of [
    [{headerDlp: ['AWS Access ID']}, 'header_dlp', 'header_dlp'],
    [{a2a: {on: 'input', reason: 'a2a_dlp:AWS Access ID', block: true}}, 'content', 'mcp_a2a_scanning'],
  ] as const) {
    const audit = new Session(runtime({enforce: false}), 'mcp_http_listener')
    const msg = JSON.stringify(call(1, 'echo', {text: 'hi'}))
    const d = decideRequest(audit.ctx, msg, extras)
    assert.deepEqual([d.verdict, d.stage, d.layer, d.forward, d.answer], ['would_block', stage, layer, msg, null], layer)
    const enforced = decideRequest(new Session(runtime({}), 'mcp_http_listener').ctx, msg, extras)
    assert.deepEqual([enforced.verdict, enforced.stage, enforced.forward], ['block', stage, null], layer)
  }
})

test('an unbound listener client is held by what its address earned in another session (tier, then block_all); a release frees it', () => {
  const rt = runtime(AIRLOCK)
  const s = new Session(rt, 'mcp_http_listener')
  Object.assign(s.ctx.state, {clientIp: '10.0.0.5'}) // as the listener sets it per request
  const m = rt.sessions!.manager
  const evil = m.touch('evil|10.0.0.5', 'evil', '10.0.0.5')
  m.setAirlock(evil, 'hard', 'api', 'manual', 'admin_api')
  const w = s.req(call(1, 'write_file', {path: '/tmp/x'}))
  assert.deepEqual([w.verdict, w.stage, w.layer, w.reason, w.pattern], ['block', 'session', 'airlock', 'airlock_active', 'airlock:hard'])
  assert.equal(w.answer, err(1, -32001, 'pipelock: session in airlock hard: write tool call refused', 'airlock_active'))
  assert.deepEqual(w.notes, ['input: client address 10.0.0.5 in airlock hard (session evil|10.0.0.5; the identity is not bound)'])
  assert.equal(s.req(call(2, 'read_file', {path: '/tmp/x'})).verdict, 'allow', 'hard lets a read through')
  // Nothing was copied: the listener's own session is not quarantined, and one release frees it.
  assert.equal(m.get('10.0.0.5')!.airlockTier, 'none')
  m.setAirlock(evil, 'none', 'api', 'manual', 'admin_api')
  assert.equal(s.req(call(3, 'write_file', {path: '/tmp/x'})).verdict, 'allow')

  // A level with block_all earned by another session of the address holds every message.
  const esc = runtime({session_profiling: {enabled: true}, adaptive_enforcement: {enabled: true}})
  const t = new Session(esc, 'mcp_http_listener')
  Object.assign(t.ctx.state, {clientIp: '10.0.0.7'})
  const em = esc.sessions!.manager
  const bad = em.touch('bad|10.0.0.7', 'bad', '10.0.0.7')
  for (let i = 0; i < 7; i++) em.signal(bad, 'block')
  assert.equal(bad.blockAll, true)
  const b = t.req(call(4, 'read_file', {path: '/tmp/x'}))
  assert.deepEqual([b.verdict, b.layer, b.reason, b.answer], ['block', 'session_deny', 'escalation_level', err(4, -32001, 'pipelock: session escalation level critical', 'escalation_level')])
  assert.deepEqual(b.notes, ['input: session deny — client address 10.0.0.7 at escalation level critical (session bad|10.0.0.7; the identity is not bound)'])
  // A stdio invocation session has no address: never held by one.
  const stdio = new Session(esc)
  assert.equal(stdio.req(call(5, 'read_file', {path: '/tmp/x'})).verdict, 'allow')
})

test('a live MCP cut records the cause the session manager gives it, not the tier after the cut (terminate, reset, evicted, hard)', () => {
  const rt = runtime(AIRLOCK)
  const s = new Session(rt)
  assert.equal(s.req(call(1, 'read_file', {path: '/tmp/x'})).verdict, 'allow')
  const m = rt.sessions!.manager
  const handle = s.ctx.state.session!
  const seen: string[] = []
  const cutOnce = (act: () => void): void => {
    const unregister = handle.registerLive!((cause) => {
      const d = liveCutDecision(s.ctx, {id: '1', method: 'tools/call', tool: 'read_file'}, cause)
      seen.push(`${d.pattern} | ${d.notes.join(' ')} | ${d.forward}`)
    })
    act()
    unregister()
  }
  cutOnce(() => m.reset(m.get('mcp-stdio-1')!, 'terminate'))
  cutOnce(() => m.reset(m.get('mcp-stdio-1')!, 'reset'))
  cutOnce(() => m.setAirlock(m.get('mcp-stdio-1')!, 'hard', 'api', 'manual', 'admin_api'))
  assert.deepEqual(seen, [
    `airlock:session_terminated | live stream cut: session mcp-stdio-1 terminated | ${err(1, -32001, 'pipelock: session terminated: live stream cut', 'airlock_active')}`,
    `airlock:session_reset | live stream cut: session mcp-stdio-1 reset | ${err(1, -32001, 'pipelock: session reset: live stream cut', 'airlock_active')}`,
    `airlock:hard | live stream cut: session mcp-stdio-1 in airlock hard | ${err(1, -32001, 'pipelock: session in airlock hard: live stream cut', 'airlock_active')}`,
  ])
  assert.equal(liveCutWords('evicted'), 'evicted')
})
