import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {Clock} from '../../../src/plugins/canonical/index.js'
import {
  airlockActionClass, airlockPermits, defaultSessionSettings, drainDurationMs, resolveLevels, SessionManager, triggerTier,
  type AirlockSettings, type SessionSettings,
} from '../../../src/plugins/sessions/index.js'

function manualClock(startMs = 1_700_000_000_000): Clock & {advance(ms: number): void} {
  let ns = BigInt(startMs) * 1_000_000n
  return {nowNanos: () => ns, advance: (ms) => (ns += BigInt(ms) * 1_000_000n)}
}

const AIRLOCK: AirlockSettings = {enabled: true, onElevated: 'none', onHigh: 'soft', onCritical: 'hard', softMs: 5 * 60_000, hardMs: 15 * 60_000, drainMs: 30_000}

function manager(airlock: Partial<AirlockSettings> = {}, over: Partial<SessionSettings> = {}) {
  const clock = manualClock()
  const events: string[] = []
  const m = new SessionManager(defaultSessionSettings({airlock: {...AIRLOCK, ...airlock}, ...over}), clock, {
    airlockChanged: (s, from, to, trigger, detail) => events.push(`${s.key} ${from}->${to} ${trigger} ${detail}`),
    airlockDenied: (s, transport, method) => events.push(`deny ${s.key} ${s.airlockTier} ${transport} ${method}`),
  })
  return {m, clock, events}
}

test('drain duration: drain_minutes alone, drain_timeout_seconds alone, the smaller of both, 0 = manual (OP §6 item 1)', () => {
  assert.equal(drainDurationMs(2, 0), 120_000)
  assert.equal(drainDurationMs(0, 30), 30_000)
  assert.equal(drainDurationMs(2, 30), 30_000)
  assert.equal(drainDurationMs(1, 90), 60_000)
  assert.equal(drainDurationMs(0, 0), 0)
})

test('per-transport enforcement table (OP §6 item 3)', () => {
  const rows: Array<[string, string, string, boolean]> = [
    ['soft', 'fetch', 'GET', true], ['soft', 'forward', 'POST', true], ['soft', 'connect', 'CONNECT', true], ['soft', 'websocket', 'GET', true],
    ['hard', 'fetch', 'GET', true], ['hard', 'forward', 'GET', true], ['hard', 'forward', 'head', true], ['hard', 'forward', 'OPTIONS', true],
    ['hard', 'forward', 'POST', false], ['hard', 'forward', 'DELETE', false], ['hard', 'connect', 'CONNECT', false], ['hard', 'websocket', 'GET', false],
    ['hard', 'intercepted', 'GET', true], ['hard', 'intercepted', 'PUT', false],
    ['drain', 'fetch', 'GET', false], ['drain', 'forward', 'GET', false], ['drain', 'connect', 'CONNECT', false], ['drain', 'intercepted', 'GET', false],
    ['none', 'forward', 'POST', true],
  ]
  for (const [tier, transport, method, want] of rows) {
    assert.equal(airlockPermits(tier as never, transport as never, method), want, `${tier} ${transport} ${method}`)
  }
  assert.deepEqual(['fetch', 'forward', 'connect', 'websocket'].map((t) => airlockActionClass(t as never, 'post')), ['read', 'POST', 'CONNECT', 'GET'])
})

test('MCP messages: hard lets what receipts classify as read through, drain nothing, soft everything', () => {
  const rows: Array<[string, string, boolean]> = [
    ['soft', 'write', true], ['soft', 'delegate', true], ['hard', 'read', true], ['hard', 'write', false],
    ['hard', 'delegate', false], ['hard', 'unclassified', false], ['drain', 'read', false], ['none', 'write', true],
  ]
  for (const [tier, cls, want] of rows) assert.equal(airlockPermits(tier as never, 'mcp', cls), want, `${tier} mcp ${cls}`)
  assert.equal(airlockActionClass('mcp', 'write'), 'write')
})

test('triggers: level 1/2/≥3 map to on_elevated/on_high/on_critical', () => {
  assert.deepEqual(triggerTier(AIRLOCK, 1), {tier: 'none', trigger: 'on_elevated'})
  assert.deepEqual(triggerTier(AIRLOCK, 2), {tier: 'soft', trigger: 'on_high'})
  assert.deepEqual(triggerTier(AIRLOCK, 4), {tier: 'hard', trigger: 'on_critical'})
})

test('escalation edges enter the airlock upward only, cutting live work at hard', () => {
  const {m, events} = manager()
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  let cut = 0
  m.registerLive(s, () => cut++)
  for (let i = 0; i < 4; i++) m.signal(s, 'block') // score 12: level 2 (high) → soft
  assert.equal(s.level, 2)
  assert.equal(s.airlockTier, 'soft')
  assert.equal(s.airlockTrigger, 'on_high')
  assert.equal(s.airlockTriggerSource, 'airlock_triggers')
  assert.equal(cut, 0, 'soft is observe only')
  for (let i = 0; i < 3; i++) m.signal(s, 'block') // score 21: level 3 → hard
  assert.equal(s.airlockTier, 'hard')
  assert.equal(cut, 1, 'entering hard cuts registered tunnels/WebSockets')
  assert.deepEqual(events, ['a|1.1.1.1 none->soft adaptive on_high', 'a|1.1.1.1 soft->hard adaptive on_critical'])
  // A later operator move down is not undone by a lower trigger: automatic moves only go up.
  m.setAirlock(s, 'drain', 'api', 'manual', 'admin_api')
  m.signal(s, 'block')
  assert.equal(s.airlockTier, 'drain')
  // A registration while hard/drain is cut at once.
  let late = 0
  m.registerLive(s, () => late++)
  assert.equal(late, 1)
})

test('no automatic entry while the airlock is disabled', () => {
  const {m} = manager({enabled: false})
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  for (let i = 0; i < 10; i++) m.signal(s, 'block')
  assert.equal(s.level, 3)
  assert.equal(s.airlockTier, 'none')
})

test('timers step down one tier per sweep, restarting per tier; they run with adaptive enforcement off (quirk fixed)', () => {
  const adaptiveOff = {...defaultSessionSettings().adaptive, enabled: false, levels: resolveLevels()}
  const {m, clock, events} = manager({}, {adaptive: adaptiveOff})
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.setAirlock(s, 'drain', 'api', 'manual', 'admin_api')
  clock.advance(29_999)
  m.airlockSweep()
  assert.equal(s.airlockTier, 'drain')
  assert.deepEqual(m.nextDeescalation(s), {tier: 'hard', atMs: s.airlockEnteredAtMs! + 30_000})
  clock.advance(1)
  m.airlockSweep()
  assert.equal(s.airlockTier, 'hard')
  assert.equal(s.airlockTrigger, 'timer')
  assert.equal(s.airlockTriggerSource, 'airlock_timers')
  m.airlockSweep()
  assert.equal(s.airlockTier, 'hard', 'the hard timer restarts on entry')
  clock.advance(15 * 60_000)
  m.airlockSweep()
  assert.equal(s.airlockTier, 'soft')
  clock.advance(5 * 60_000)
  m.airlockSweep()
  assert.equal(s.airlockTier, 'none')
  assert.equal(m.nextDeescalation(s), null)
  assert.deepEqual(events.slice(1), ['a|1.1.1.1 drain->hard timer timer', 'a|1.1.1.1 hard->soft timer timer', 'a|1.1.1.1 soft->none timer timer'])
  assert.deepEqual(Object.fromEntries(m.counters.airlock.transitions), {'none|drain|api': 1, 'drain|hard|timer': 1, 'hard|soft|timer': 1, 'soft|none|timer': 1})
})

test('a timer of 0 means manual release only', () => {
  const {m, clock} = manager({softMs: 0})
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.setAirlock(s, 'soft', 'api', 'manual', 'admin_api')
  clock.advance(24 * 3600_000)
  m.airlockSweep()
  assert.equal(s.airlockTier, 'soft')
  assert.equal(m.nextDeescalation(s), null)
})

test('in-flight counts really count; drain completes at zero or times out', () => {
  const {m, clock} = manager()
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  const end1 = m.beginInFlight(s)
  const end2 = m.beginInFlight(s)
  assert.equal(s.inFlight, 2)
  m.setAirlock(s, 'drain', 'api', 'manual', 'admin_api')
  end1()
  end1()
  assert.equal(s.inFlight, 1, 'ending twice counts once')
  assert.equal(m.counters.airlock.drainCompleted, 0)
  end2()
  assert.equal(s.inFlight, 0)
  assert.equal(m.counters.airlock.drainCompleted, 1)
  // A second drain with work still in flight when the timer runs out: a timeout.
  m.setAirlock(s, 'none', 'api', 'manual', 'admin_api')
  const end3 = m.beginInFlight(s)
  m.setAirlock(s, 'drain', 'api', 'manual', 'admin_api')
  clock.advance(30_000)
  m.airlockSweep()
  assert.equal(s.airlockTier, 'hard')
  assert.equal(m.counters.airlock.drainTimeout, 1)
  end3()
  assert.equal(m.counters.airlock.drainCompleted, 1, 'no completion once the drain is over')
  // Entering drain with nothing in flight completes at once.
  m.setAirlock(s, 'drain', 'api', 'manual', 'admin_api')
  assert.equal(m.counters.airlock.drainCompleted, 2)
})

test('the tier gauge is counted from the sessions: reset, terminate and eviction never leave it stale (quirk fixed)', () => {
  const {m} = manager()
  const a = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  const b = m.touch('b|1.1.1.1', 'b', '1.1.1.1')
  const c = m.touch('c|1.1.1.1', 'c', '1.1.1.1')
  m.setAirlock(a, 'hard', 'api', 'manual', 'admin_api')
  m.setAirlock(b, 'drain', 'api', 'manual', 'admin_api')
  m.setAirlock(c, 'soft', 'api', 'manual', 'admin_api')
  assert.deepEqual(m.sessionsByTier(), {none: 0, soft: 1, hard: 1, drain: 1})
  m.reset(a)
  assert.equal(a.airlockTier, 'none')
  m.terminate(b)
  assert.deepEqual(m.sessionsByTier(), {none: 1, soft: 1, hard: 0, drain: 0})
  assert.equal(m.counters.airlock.transitions.get('hard|none|api'), 1)
  assert.equal(m.counters.airlock.transitions.get('drain|none|api'), 1)
})

test('denials are counted by tier, transport and action class and observed', () => {
  const {m, events} = manager()
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.setAirlock(s, 'hard', 'api', 'manual', 'admin_api')
  assert.equal(m.airlockAllows(s, 'fetch', 'GET'), true)
  assert.equal(m.airlockAllows(s, 'forward', 'POST'), false)
  assert.equal(m.airlockAllows(s, 'connect', 'CONNECT'), false)
  assert.deepEqual(Object.fromEntries(m.counters.airlock.denials), {'hard|forward|POST': 1, 'hard|connect|CONNECT': 1})
  assert.deepEqual(events.slice(1), ['deny a|1.1.1.1 hard forward POST', 'deny a|1.1.1.1 hard connect CONNECT'])
})

test('a reload that disables the airlock releases every quarantine', () => {
  const {m} = manager()
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.setAirlock(s, 'hard', 'api', 'manual', 'admin_api')
  m.updateSettings(defaultSessionSettings({airlock: {...AIRLOCK, enabled: false}}))
  assert.equal(s.airlockTier, 'none')
  assert.equal(m.counters.airlock.transitions.get('hard|none|reload'), 1)
})

test('release brings the escalation level down with the tier (runbook: traffic resumes, state kept)', () => {
  const {m} = manager()
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.newTask(s, 'job')
  for (let i = 0; i < 7; i++) m.signal(s, 'block') // score 21: critical (block_all) → hard
  assert.equal(s.level, 3)
  assert.equal(s.blockAll, true)
  assert.equal(s.airlockTier, 'hard')
  const eventsBefore = s.events.length
  // --to soft: the highest level whose trigger asks for at most soft and that does not block all: high.
  assert.deepEqual(m.release(s, 'soft'), {previousTier: 'hard', tier: 'soft', tierChanged: true, previousLevel: 3, level: 2})
  assert.equal(s.blockAll, false)
  assert.equal(s.threshold, 20, 'one level down: threshold halved')
  assert.equal(s.threatScore, 10, 'score capped at half the new threshold')
  // --to none: on_elevated asks for none, so elevated stays.
  assert.deepEqual(m.release(s, 'none'), {previousTier: 'soft', tier: 'none', tierChanged: true, previousLevel: 2, level: 1})
  assert.equal(s.threshold, 10)
  assert.equal(s.threatScore, 5)
  assert.ok(s.events.length > eventsBefore, 'events are kept and the release is one of them')
  assert.match(s.events.at(-1)!.detail, /^released high -> elevated by operator \(airlock none\)$/)
  assert.equal(s.currentTaskLabel, 'job', 'the task is kept')
  // Releasing again changes nothing.
  assert.deepEqual(m.release(s, 'none'), {previousTier: 'none', tier: 'none', tierChanged: false, previousLevel: 1, level: 1})
})

test('release with triggers that quarantine from elevated up drops to normal; with the airlock off only block_all goes', () => {
  const strict = manager({onElevated: 'soft', onHigh: 'hard', onCritical: 'drain'})
  const s = strict.m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  for (let i = 0; i < 7; i++) strict.m.signal(s, 'block')
  assert.equal(s.airlockTier, 'drain')
  assert.equal(strict.m.release(s, 'none').level, 0)
  assert.equal(s.blockAll, false)
  const off = manager({enabled: false})
  const t = off.m.touch('b|1.1.1.1', 'b', '1.1.1.1')
  for (let i = 0; i < 7; i++) off.m.signal(t, 'block')
  assert.equal(t.blockAll, true)
  assert.deepEqual(off.m.release(t, 'none'), {previousTier: 'none', tier: 'none', tierChanged: false, previousLevel: 3, level: 2})
  assert.equal(t.blockAll, false, 'nothing blocks a released session')
})

// Issue 37 item 1: what a client address earned, read (never copied) for its other sessions.
test('addressState: the highest tier among other live sessions of the same address; nothing copied; release lifts it', () => {
  const {m} = manager()
  const evil = m.touch('evil|10.0.0.1', 'evil', '10.0.0.1')
  const soft = m.touch('other|10.0.0.1', 'other', '10.0.0.1')
  const renamed = m.touch('nice|10.0.0.1', 'nice', '10.0.0.1')
  const elsewhere = m.touch('nice|10.0.0.2', 'nice', '10.0.0.2')
  assert.deepEqual(m.addressState(renamed), {tier: null, blockAll: null, level: null})
  m.setAirlock(soft, 'soft', 'api', 'manual', 'admin_api')
  m.setAirlock(evil, 'hard', 'api', 'manual', 'admin_api')
  assert.equal(m.addressState(renamed).tier, evil)
  assert.equal(m.addressState(evil).tier, soft, 'a session is not its own address peer')
  assert.equal(renamed.airlockTier, 'none', 'the renamed session keeps its own state')
  assert.deepEqual(m.addressState(elsewhere), {tier: null, blockAll: null, level: null})
  m.release(evil, 'none')
  assert.equal(m.addressState(renamed).tier, soft)
  m.release(soft, 'none')
  assert.deepEqual(m.addressState(renamed), {tier: null, blockAll: null, level: null})
})

test('live work admitted under the tier in force is cut only by a later change: hard → drain, a reset', () => {
  const {m} = manager()
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.setAirlock(s, 'hard', 'api', 'manual', 'admin_api')
  let cut = 0
  m.registerLive(s, () => cut++, true)
  assert.equal(cut, 0, 'a read the hard tier let through streams on')
  m.setAirlock(s, 'drain', 'api', 'manual', 'admin_api')
  assert.equal(cut, 1, 'entering drain cuts it')
  m.setAirlock(s, 'none', 'api', 'manual', 'admin_api')
  m.registerLive(s, () => cut++, true)
  m.reset(s)
  assert.equal(cut, 2, 'a reset cuts it')
})

test('live work is told why it is cut: the tier entered, a reset, a terminate, an eviction', () => {
  const {m} = manager()
  const causes: string[] = []
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.registerLive(s, (c) => causes.push(c))
  m.setAirlock(s, 'hard', 'api', 'manual', 'admin_api')
  m.registerLive(s, (c) => causes.push(c), true)
  m.setAirlock(s, 'drain', 'api', 'manual', 'admin_api')
  m.registerLive(s, (c) => causes.push(c))
  m.setAirlock(s, 'none', 'api', 'manual', 'admin_api')
  m.registerLive(s, (c) => causes.push(c))
  assert.equal(m.reset(s).connectionsCut, 1)
  m.registerLive(s, (c) => causes.push(c))
  assert.equal(m.terminate(s).connectionsCut, 1)
  // At capacity the least recently active session goes, with its live work.
  const full = manager({}, {maxSessions: 1}).m
  full.registerLive(full.touch('b|1.1.1.2', 'b', '1.1.1.2'), (c) => causes.push(c))
  full.touch('c|1.1.1.3', 'c', '1.1.1.3')
  assert.deepEqual(causes, ['hard', 'drain', 'drain', 'reset', 'terminate', 'evicted'])
})

test('addressHold: the highest tier of another session from the same address that refuses the method, else block_all; none for no address', () => {
  const {m} = manager()
  const evil = m.touch('evil|10.0.0.5', 'evil', '10.0.0.5')
  const nice = m.touch('nice|10.0.0.5', 'nice', '10.0.0.5')
  const other = m.touch('nice|10.0.0.6', 'nice', '10.0.0.6')
  assert.equal(m.addressHold(nice, 'mcp', 'write'), null)
  m.setAirlock(evil, 'hard', 'api', 'manual', 'admin_api')
  assert.deepEqual(m.addressHold(nice, 'mcp', 'write'), {kind: 'airlock', by: evil})
  assert.equal(m.addressHold(nice, 'mcp', 'read'), null, 'hard lets an MCP read through')
  assert.equal(m.addressHold(other, 'mcp', 'write'), null, 'another address is its own')
  assert.equal(m.addressHold(evil, 'mcp', 'write'), null, 'a session is not held by itself here (its own tier is checked first)')
  const stdio1 = m.touch('mcp-stdio-1', 'a', '')
  const stdio2 = m.touch('mcp-stdio-2', 'a', '')
  m.setAirlock(stdio1, 'drain', 'api', 'manual', 'admin_api')
  assert.equal(m.addressHold(stdio2, 'mcp', 'read'), null, 'sessions without a client address hold nothing for each other')
  m.setAirlock(evil, 'none', 'api', 'manual', 'admin_api')
  assert.equal(m.addressHold(nice, 'mcp', 'write'), null, 'one release frees every name')
})

test('addressHold: another loopback source address is the same client host (any local process may bind one)', () => {
  const {m} = manager()
  const evil = m.touch('evil|127.0.0.1', 'evil', '127.0.0.1')
  const alias = m.touch('127.0.0.2', 'anonymous', '127.0.0.2')
  const v6 = m.touch('nice|::1', 'nice', '::1')
  const remote = m.touch('nice|10.0.0.6', 'nice', '10.0.0.6')
  m.setAirlock(evil, 'drain', 'api', 'manual', 'admin_api')
  assert.deepEqual(m.addressHold(alias, 'forward', 'GET'), {kind: 'airlock', by: evil})
  assert.deepEqual(m.addressHold(v6, 'forward', 'GET'), {kind: 'airlock', by: evil})
  assert.deepEqual(m.addressHolderAt('127.3.4.5', null), {kind: 'airlock', by: evil}, 'whoami from an address with no session yet')
  assert.equal(m.addressHold(remote, 'forward', 'GET'), null)
  m.setAirlock(evil, 'none', 'api', 'manual', 'admin_api')
  assert.equal(m.addressHold(alias, 'forward', 'GET'), null, 'one release frees every loopback address')
})

test('adaptive flush resets scores and levels but keeps every airlock tier, its events and live work', () => {
  const {m} = manager()
  const held = m.touch('held|10.0.0.1', 'held', '10.0.0.1')
  for (let i = 0; i < 7; i++) m.signal(held, 'block')
  assert.equal(held.level, 3)
  assert.equal(held.airlockTier, 'hard')
  assert.equal(held.blockAll, true)
  const manual = m.touch('manual|10.0.0.2', 'manual', '10.0.0.2')
  m.setAirlock(manual, 'drain', 'api', 'manual', 'admin_api')
  const calm = m.touch('calm|10.0.0.3', 'calm', '10.0.0.3')
  let cut = 0
  m.registerLive(held, () => cut++, true)
  const before = held.events.length
  assert.deepEqual(m.flush(), {identity: 3, skipped: 0, levelsReset: 1, tiersKept: 2})
  // Adaptive state is back to the start ...
  assert.equal(held.level, 0)
  assert.equal(held.threatScore, 0)
  assert.equal(held.blockAll, false)
  assert.equal(held.threshold, defaultSessionSettings().adaptive.escalationThreshold)
  // ... the quarantines, their triggers and events stay, and nothing was cut.
  assert.equal(held.airlockTier, 'hard')
  assert.equal(held.airlockTrigger, 'on_critical')
  assert.equal(manual.airlockTier, 'drain')
  assert.equal(calm.airlockTier, 'none')
  assert.equal(cut, 0)
  assert.equal(held.events.length, before + 1)
  assert.equal(held.events.at(-1)!.detail, 'flushed critical -> normal by operator (adaptive flush)')
  assert.equal(m.airlockAllows(held, 'forward', 'POST'), false)
})
