import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {Clock} from '../../../src/plugins/canonical/index.js'
import {
  defaultSessionSettings, DomainWindow, isCooperativeUserAgent, levelLabel, resolveLevels, SessionManager, SIGNAL_POINTS,
  upgradeAction, VOLUME_MIN_SAMPLES, type SessionSettings,
} from '../../../src/plugins/sessions/index.js'

/** A clock the test moves by hand. */
function manualClock(startMs = 1_700_000_000_000): Clock & {advance(ms: number): void} {
  let ns = BigInt(startMs) * 1_000_000n
  return {nowNanos: () => ns, advance: (ms) => (ns += BigInt(ms) * 1_000_000n)}
}

function manager(over: Partial<SessionSettings> = {}) {
  const clock = manualClock()
  const events: string[] = []
  const m = new SessionManager(defaultSessionSettings(over), clock, {
    escalated: (s, from, to, sig) => events.push(`esc ${s.key} ${from}->${to} ${sig}`),
    deescalated: (s, from, to) => events.push(`deesc ${s.key} ${from}->${to}`),
    anomaly: (s, kind) => events.push(`anomaly ${s.key} ${kind}`),
    evicted: (s, why) => events.push(`evict ${s.key} ${why}`),
  })
  return {m, clock, events}
}

test('signal points are exactly §14.2', () => {
  assert.deepEqual({...SIGNAL_POINTS}, {
    block: 3.0, near_miss: 1.0, domain_anomaly: 2.0, entropy_budget: 2.0, fragment_dlp: 3.0, strip: 2.0, shield_rewrite: 0.25,
    ip_domain_anomaly: 3.0, domain_anomaly_cooperative: 0.4, ip_domain_anomaly_cooperative: 0.6,
  })
})

test('levels 1/2/3 are reached at cumulative scores 5/10/20 (threshold doubles, score kept)', () => {
  const {m, events} = manager()
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  const seen: Array<[number, number]> = []
  for (let i = 0; i < 20; i++) {
    m.signal(s, 'near_miss')
    seen.push([s.threatScore, s.level])
  }
  const firstAt = (lvl: number) => seen.find(([, l]) => l === lvl)![0]
  assert.equal(firstAt(1), 5)
  assert.equal(firstAt(2), 10)
  assert.equal(firstAt(3), 20)
  assert.equal(s.threatScore, 20)
  assert.equal(s.threshold, 40)
  assert.deepEqual(events, ['esc a|1.1.1.1 0->1 near_miss', 'esc a|1.1.1.1 1->2 near_miss', 'esc a|1.1.1.1 2->3 near_miss'])
  assert.equal(m.counters.escalations, 3)
  assert.equal(m.counters.escalationPairs.get('normal|elevated'), 1)
  assert.equal(m.counters.escalationPairs.get('high|critical'), 1)
})

test('one signal raises at most one level; blocks escalate at the 2nd, 4th and 7th block', () => {
  const {m} = manager()
  const s = m.touch('k', 'anonymous', 'k')
  const levels: number[] = []
  for (let i = 0; i < 7; i++) {
    m.signal(s, 'block')
    levels.push(s.level)
  }
  assert.deepEqual(levels, [0, 1, 1, 2, 2, 2, 3])
  assert.equal(s.blockAll, true)
})

test('labels: 0 normal, 1 elevated, 2 high, >=3 critical', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 9].map(levelLabel), ['normal', 'elevated', 'high', 'critical', 'critical', 'critical'])
})

test('decay: minus 0.5 per clean request, never below 0, never touches the level', () => {
  const {m} = manager()
  const s = m.touch('k', 'anonymous', 'k')
  m.signal(s, 'block')
  m.signal(s, 'block')
  assert.equal(s.level, 1)
  m.decay(s)
  assert.equal(s.threatScore, 5.5)
  for (let i = 0; i < 20; i++) m.decay(s)
  assert.equal(s.threatScore, 0)
  assert.equal(s.level, 1)
})

test('adaptive disabled: signals neither score nor escalate, nothing is upgraded', () => {
  const base = defaultSessionSettings()
  const {m} = manager({adaptive: {...base.adaptive, enabled: false}})
  const s = m.touch('k', 'anonymous', 'k')
  for (let i = 0; i < 10; i++) m.signal(s, 'block')
  assert.equal(s.threatScore, 0)
  assert.equal(s.level, 0)
  assert.equal(m.upgrade(s, 'warn'), 'warn')
})

test('time recovery: after > 5 min quiet one level per step, threshold halves, score = threshold/2', () => {
  const {m, clock, events} = manager()
  const s = m.touch('k', 'anonymous', 'k')
  for (let i = 0; i < 7; i++) m.signal(s, 'block') // level 3, threshold 40, score 21
  assert.equal(s.level, 3)
  clock.advance(5 * 60_000)
  m.recoverAll()
  assert.equal(s.level, 3, 'exactly 5 minutes is not yet "more than 5 minutes"')
  clock.advance(1)
  m.recoverAll()
  assert.equal(s.level, 2)
  assert.equal(s.threshold, 20)
  assert.equal(s.threatScore, 10)
  assert.equal(s.blockAll, false, 'block_all recomputed for high')
  m.recoverAll()
  assert.equal(s.level, 2, 'the next step waits another 5 minutes')
  clock.advance(5 * 60_000 + 1)
  m.touch('k', 'anonymous', 'k') // recovery also happens on access
  assert.equal(s.level, 1)
  assert.equal(s.threshold, 10)
  assert.equal(s.threatScore, 5)
  clock.advance(5 * 60_000 + 1)
  m.recoverAll()
  assert.equal(s.level, 0)
  assert.equal(s.threshold, 5)
  assert.equal(s.threatScore, 2.5)
  assert.equal(m.counters.autoDeescalations, 3)
  assert.deepEqual(events.filter((e) => e.startsWith('deesc')), ['deesc k 3->2', 'deesc k 2->1', 'deesc k 1->0'])
})

test('UpgradeAction with the default levels', () => {
  const t = resolveLevels()
  assert.equal(upgradeAction('warn', 0, t), 'warn')
  assert.equal(upgradeAction('ask', 0, t), 'ask')
  assert.equal(upgradeAction('warn', 1, t), 'block')
  assert.equal(upgradeAction('ask', 1, t), 'ask')
  assert.equal(upgradeAction('allow', 1, t), 'allow')
  assert.equal(upgradeAction('warn', 2, t), 'block')
  assert.equal(upgradeAction('ask', 2, t), 'block')
  assert.equal(upgradeAction('allow', 2, t), 'allow')
  assert.equal(upgradeAction('allow', 3, t), 'block', 'critical blocks all')
  assert.equal(upgradeAction('allow', 7, t), 'block')
})

test('levels: defaults fill only absent fields; explicit "" / false disable', () => {
  const t = resolveLevels({elevated: {upgrade_warn: ''}, high: {upgrade_ask: ''}, critical: {block_all: false}})
  assert.deepEqual(t.elevated, {upgradeWarn: false, upgradeAsk: false, blockAll: false})
  assert.deepEqual(t.high, {upgradeWarn: true, upgradeAsk: false, blockAll: false})
  assert.deepEqual(t.critical, {upgradeWarn: true, upgradeAsk: true, blockAll: false})
  assert.equal(upgradeAction('allow', 3, t), 'allow')
  assert.equal(upgradeAction('warn', 1, t), 'warn')
  const b = resolveLevels({elevated: {block_all: true}})
  assert.equal(upgradeAction('allow', 1, b), 'block')
})

test('DLP findings on adaptive exempt domains are not upgraded', () => {
  const base = defaultSessionSettings()
  const {m} = manager({adaptive: {...base.adaptive, exemptDomains: ['*.example.com']}})
  const s = m.touch('k', 'anonymous', 'k')
  m.signal(s, 'block')
  m.signal(s, 'block')
  assert.equal(m.upgrade(s, 'warn', 'api.example.com', true), 'warn')
  assert.equal(m.upgrade(s, 'warn', 'api.example.com', false), 'block')
  assert.equal(m.upgrade(s, 'warn', 'other.test', true), 'block')
})

test('domain burst: the 5th distinct host in 5 minutes raises one scored anomaly per window; each further new host repeats it unscored', () => {
  const {m, clock, events} = manager()
  const s = m.touch('a|9.9.9.9', 'a', '9.9.9.9')
  const hits = []
  for (let i = 1; i <= 8; i++) hits.push(m.observeHost(s, `h${i}.test`, 'agent/1'))
  // the anomaly_action applies to the 6th, 7th and 8th new host too (configuration reference,
  // "Domain Burst Scoring"): a block stops the fan-out, not one request of it
  assert.deepEqual(hits, [null, null, null, null, 'ip_domain_anomaly', 'ip_domain_anomaly', 'ip_domain_anomaly', 'ip_domain_anomaly'])
  assert.deepEqual(events.slice(0, 3), ['anomaly a|9.9.9.9 domain_anomaly', 'anomaly a|9.9.9.9 ip_domain_anomaly', 'esc a|9.9.9.9 0->1 ip_domain_anomaly'])
  assert.deepEqual(events.slice(3), Array(3).fill(['anomaly a|9.9.9.9 domain_anomaly', 'anomaly a|9.9.9.9 ip_domain_anomaly']).flat(), 'repeats are logged, never escalate')
  assert.equal(s.threatScore, 2.0 + 3.0, 'repeats add no score')
  assert.equal(m.observeHost(s, 'h1.test', 'agent/1'), null, 'a known host is not new: it stays reachable')
  clock.advance(5 * 60_000)
  for (let i = 9; i <= 12; i++) assert.equal(m.observeHost(s, `h${i}.test`, 'agent/1'), null)
  assert.equal(m.observeHost(s, 'h13.test', 'agent/1'), 'ip_domain_anomaly', 'a new window may raise again')
  assert.ok(s.threatScore > 2.0 + 3.0, 'and score again')
})

test('per-IP burst spans agent identities; cooperative user agents score the down-weighted signals', () => {
  const {m} = manager()
  const a = m.touch('a|2.2.2.2', 'a', '2.2.2.2')
  const b = m.touch('b|2.2.2.2', 'b', '2.2.2.2')
  for (let i = 1; i <= 4; i++) m.observeHost(i % 2 ? a : b, `x${i}.test`, 'curl/8.0')
  assert.equal(m.observeHost(b, 'x5.test', 'curl/8.0'), 'ip_domain_anomaly_cooperative')
  assert.equal(b.threatScore, 0.6)
  assert.equal(a.threatScore, 0)
  const c = m.touch('c|3.3.3.3', 'c', '3.3.3.3')
  for (let i = 1; i <= 4; i++) m.observeHost(c, `y${i}.test`, 'python-requests/2.31')
  m.observeHost(c, 'y5.test', 'python-requests/2.31')
  assert.equal(c.threatScore, 0.4 + 0.6)
  assert.ok(isCooperativeUserAgent('Git/2.4') && isCooperativeUserAgent('yt-dlp/1') && isCooperativeUserAgent('PNPM/9'))
  assert.ok(!isCooperativeUserAgent('curl') && !isCooperativeUserAgent('Mozilla/5.0 curl/8') && !isCooperativeUserAgent(undefined))
})

test('cooperative_tool_downweight: false scores tools like anyone else', () => {
  const base = defaultSessionSettings()
  const {m} = manager({adaptive: {...base.adaptive, cooperativeToolDownweight: false}})
  const s = m.touch('k', 'anonymous', 'k')
  for (let i = 1; i <= 5; i++) m.observeHost(s, `z${i}.test`, 'curl/8')
  assert.equal(s.threatScore, 5)
})

test('domain window keeps age order and forgets hosts older than the window', () => {
  const w = new DomainWindow()
  assert.equal(w.observe('a', 0, 100, 3), null)
  assert.equal(w.observe('b', 50, 100, 3), null)
  assert.equal(w.size(120, 100), 1)
  assert.equal(w.observe('c', 120, 100, 3), null)
  assert.equal(w.observe('d', 130, 100, 3), 'raised')
  assert.equal(w.observe('e', 131, 100, 3), 'repeat')
  assert.equal(w.observe('d', 132, 100, 3), null, 'a host already in the window')
  // the raise at 130 covers its window: once the hosts age out below the burst nothing fires
  assert.equal(w.observe('f', 240, 100, 3), null)
})

test('volume spike: needs 5 samples, then > 3.0x the running mean; unscored', () => {
  const {m, events} = manager()
  const s = m.touch('k', 'anonymous', 'k')
  for (let i = 0; i < VOLUME_MIN_SAMPLES - 1; i++) assert.equal(m.observeVolume(s, 1000), false)
  assert.equal(m.observeVolume(s, 100_000), false, 'no baseline yet')
  const {m: m2} = manager()
  const t = m2.touch('k', 'anonymous', 'k')
  for (let i = 0; i < VOLUME_MIN_SAMPLES; i++) m2.observeVolume(t, 1000)
  assert.equal(m2.observeVolume(t, 3000), false, 'exactly 3x is not a spike')
  assert.equal(m2.observeVolume(t, 5000), true)
  assert.equal(t.threatScore, 0)
  assert.equal(t.anomalies, 1)
  assert.equal(events.length, 0)
})

test('capacity: the least recently active non-airlocked session is evicted, airlocked never', () => {
  const {m, clock, events} = manager({maxSessions: 3})
  const a = m.touch('a', 'anonymous', 'a')
  clock.advance(10)
  m.touch('b', 'anonymous', 'b')
  clock.advance(10)
  m.touch('c', 'anonymous', 'c')
  clock.advance(10)
  a.airlockTier = 'soft'
  m.touch('d', 'anonymous', 'd')
  assert.deepEqual(events, ['evict b capacity'])
  assert.equal(m.size, 3)
  assert.ok(m.get('a') && m.get('c') && m.get('d'))
  // An escalated session is evicted like any other (only airlock protects).
  const c = m.get('c')!
  for (let i = 0; i < 7; i++) m.signal(c, 'block')
  clock.advance(10)
  m.touch('e', 'anonymous', 'e')
  assert.equal(m.get('c'), undefined)
  assert.equal(m.counters.evicted, 2)
})

test('TTL: idle > 30 min is evicted by cleanup (airlocked kept); block_all sessions do not refresh activity', () => {
  const {m, clock, events} = manager()
  const idle = m.touch('idle', 'anonymous', 'idle')
  const locked = m.touch('locked', 'anonymous', 'locked')
  locked.airlockTier = 'hard'
  const blocked = m.touch('blocked', 'anonymous', 'blocked')
  for (let i = 0; i < 7; i++) m.signal(blocked, 'block')
  assert.equal(blocked.blockAll, true)
  const before = blocked.lastActivityMs
  clock.advance(60_000)
  m.touch('blocked', 'anonymous', 'blocked')
  assert.equal(blocked.lastActivityMs, before, 'a block_all session does not refresh last_activity')
  const busy = m.touch('busy', 'anonymous', 'busy')
  clock.advance(29 * 60_000)
  m.cleanup()
  assert.equal(m.size, 4, 'exactly the TTL is not idle yet')
  clock.advance(1)
  m.touch('busy', 'anonymous', 'busy')
  m.cleanup()
  assert.ok(m.get('busy') && m.get('locked'))
  assert.equal(m.get('idle'), undefined)
  assert.equal(m.get('blocked'), undefined)
  assert.deepEqual(events.filter((e) => e.startsWith('evict')), ['evict idle ttl', 'evict blocked ttl'])
  void idle
  void busy
})

test('reset clears level, score, threshold, block_all, windows and cancels live work', () => {
  const {m} = manager()
  const s = m.touch('a|4.4.4.4', 'a', '4.4.4.4')
  let cancelled = 0
  s.cancels.add(() => cancelled++)
  for (let i = 0; i < 7; i++) m.signal(s, 'block')
  const r = m.reset(s)
  assert.deepEqual(r, {previousLevel: 3, previousScore: 21, previousTier: 'none', ipStateCleared: true, connectionsCut: 1})
  assert.equal(s.level, 0)
  assert.equal(s.threatScore, 0)
  assert.equal(s.threshold, 5)
  assert.equal(s.blockAll, false)
  assert.equal(cancelled, 1)
  assert.equal(s.events.length, 0)
})

test('terminate counts live work once: work registered as inside other work (counted false) is cut but not counted', () => {
  const {m} = manager()
  const s = m.touch('t|4.4.4.5', 't', '4.4.4.5')
  const causes: string[] = []
  m.registerLive(s, (cause) => void causes.push(`tunnel ${cause}`))
  m.registerLive(s, (cause) => void causes.push(`inner ${cause}`), false, false)
  assert.equal(m.reset(s, 'terminate').connectionsCut, 1)
  assert.deepEqual(causes, ['tunnel terminate', 'inner terminate'])
})

test('recent events are capped at 20', () => {
  const {m} = manager()
  const s = m.touch('k', 'anonymous', 'k')
  for (let i = 0; i < 30; i++) m.signal(s, 'shield_rewrite')
  assert.equal(s.events.length, 20)
})

test('settings update in place keeps sessions and recomputes block_all', () => {
  const {m} = manager()
  const s = m.touch('k', 'anonymous', 'k')
  for (let i = 0; i < 7; i++) m.signal(s, 'block')
  assert.equal(s.blockAll, true)
  const base = defaultSessionSettings()
  m.updateSettings({...base, adaptive: {...base.adaptive, levels: resolveLevels({critical: {block_all: false}})}})
  assert.equal(m.get('k'), s)
  assert.equal(s.blockAll, false)
})

test('invocation sessions are recognised by prefix and skipped by flush', () => {
  const {m} = manager()
  const inv = m.touch('mcp-stdio-1', 'anonymous', '')
  const id = m.touch('a|1.2.3.4', 'a', '1.2.3.4')
  assert.equal(inv.kind, 'invocation')
  assert.equal(id.kind, 'identity')
  m.signal(inv, 'block')
  m.signal(id, 'block')
  assert.deepEqual(m.flush(), {identity: 1, skipped: 1, levelsReset: 1, tiersKept: 0})
  assert.equal(inv.threatScore, 3)
  assert.equal(id.threatScore, 0)
})

test('an agent named like an MCP invocation still has an identity session', () => {
  const {m} = manager()
  assert.equal(m.touch('mcp-stdio-x|1.2.3.4', 'mcp-stdio-x', '1.2.3.4').kind, 'identity')
  assert.equal(m.touch('mcp-http-7', 'anonymous', '').kind, 'invocation')
  assert.equal(m.touch('mcp-ws-7', 'anonymous', '').kind, 'invocation')
})

test('cadences: recovery tick 30 s, quiet period 5 min; defaults 1000 sessions, 30 min TTL, 60 s cleanup', async () => {
  const {RECOVERY_TICK_MS, RECOVERY_QUIET_MS} = await import('../../../src/plugins/sessions/index.js')
  assert.equal(RECOVERY_TICK_MS, 30_000)
  assert.equal(RECOVERY_QUIET_MS, 300_000)
  const d = defaultSessionSettings()
  assert.deepEqual(
    [d.maxSessions, d.sessionTtlMinutes, d.cleanupIntervalSeconds, d.domainBurst, d.windowMinutes, d.volumeSpikeRatio, d.adaptive.escalationThreshold, d.adaptive.decayPerCleanRequest],
    [1000, 30, 60, 5, 5, 3.0, 5.0, 0.5],
  )
})

test('the housekeeping timers never keep a process alive', async () => {
  const {spawnSync} = await import('node:child_process')
  const {fileURLToPath, pathToFileURL} = await import('node:url')
  const here = fileURLToPath(import.meta.url)
  const mod = pathToFileURL(here.replace(/test\/unit\/sessions\/manager\.test\.js$/, 'src/plugins/sessions/index.js')).href
  const script = `const m = await import(${JSON.stringify(mod)}); const s = new m.SessionManager(m.defaultSessionSettings(), {nowNanos: () => 0n}); s.start(); console.log('started')`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8', timeout: 10_000})
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'started\n')
})
