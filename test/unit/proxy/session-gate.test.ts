import assert from 'node:assert/strict'
import {test} from 'node:test'
import {loadConfig} from '../../../src/plugins/config/index.js'
import type {Decision} from '../../../src/plugins/proxy/decision.js'
import {hostOfUrl, ProxySessions, sessionSettingsFromConfig} from '../../../src/plugins/proxy/session-gate.js'
import {defaultSessionSettings} from '../../../src/plugins/sessions/index.js'

const clock = {nowNanos: () => 1_700_000_000_000_000_000n}

function gate(over = {}) {
  const events: Array<{event: string; fields: Record<string, unknown>}> = []
  const audit = {event: (_l: string, event: string, _m: string, fields: Record<string, unknown> = {}) => void events.push({event, fields})}
  const ps = new ProxySessions({...defaultSessionSettings(), ...over}, clock, () => audit as never)
  return {ps, events}
}

function decision(over: Partial<Decision>): Decision {
  return {
    requestId: 'req-1', transport: 'forward', method: 'GET', target: 'http://h.test/', agent: 'a', clientIp: '1.1.1.1', sessionKey: 'a|1.1.1.1',
    verdict: 'block', stage: 'url_scan', layer: 'blocklist', reason: 'domain_blocklist', severity: 'critical', retry: 'policy', class: 'threat',
    detail: 'x', status: 403, warnings: [], bytes: 0, durationMs: 0, ...over,
  }
}

test('settle: blocks (enforced or not) score 3.0; config_mismatch 1.0; neutral classes and layers nothing', () => {
  const {ps} = gate()
  const cases: Array<[Partial<Decision>, number]> = [
    [{}, 3],
    [{verdict: 'would_block'}, 3],
    [{class: 'config_mismatch', layer: 'ssrf'}, 1],
    [{class: 'protective', layer: 'ratelimit'}, 0],
    [{class: 'infrastructure_error', layer: 'ssrf'}, 0],
    [{class: 'structural_exemption'}, 0],
    [{layer: 'session_deny', reason: 'escalation_level'}, 0],
    [{layer: 'kill_switch', reason: 'kill_switch_active'}, 0],
    [{layer: 'tunnel_capacity', reason: 'rate_limit'}, 0],
    [{verdict: 'error', layer: 'upstream', class: null}, 0],
  ]
  for (const [over, points] of cases) {
    const t = ps.begin(`k${Math.random()}`, 'anonymous', '9.9.9.9')
    ps.settle(t, decision(over))
    assert.equal(t.session.threatScore, points, JSON.stringify(over))
  }
})

test('settle: a clean allowed request decays; one with a finding or a neutral outcome does not', () => {
  const {ps} = gate()
  const t1 = ps.begin('k', 'anonymous', 'k')
  ps.settle(t1, decision({}))
  ps.settle(ps.begin('k', 'anonymous', 'k'), decision({verdict: 'allow', layer: 'all', reason: null, class: null}))
  assert.equal(t1.session.threatScore, 2.5)
  const t2 = ps.begin('k', 'anonymous', 'k')
  t2.finding = true
  ps.settle(t2, decision({verdict: 'allow', layer: 'all', reason: null, class: null}))
  assert.equal(t1.session.threatScore, 2.5)
  const t3 = ps.begin('k', 'anonymous', 'k')
  ps.settle(t3, decision({class: 'protective', layer: 'ratelimit'}))
  ps.settle(t3, decision({verdict: 'allow', layer: 'all', reason: null, class: null}))
  assert.equal(t1.session.threatScore, 2.5)
})

test('settle: DLP blocks on adaptive exempt domains do not score', () => {
  const base = defaultSessionSettings()
  const {ps} = gate({adaptive: {...base.adaptive, exemptDomains: ['h.test']}})
  const t = ps.begin('k', 'anonymous', 'k')
  ps.settle(t, decision({layer: 'dlp', reason: 'dlp_match', target: 'http://h.test/[redacted]'}))
  assert.equal(t.session.threatScore, 0)
  ps.settle(t, decision({layer: 'blocklist', target: 'http://h.test/'}))
  assert.equal(t.session.threatScore, 3)
})

test('preflight: block_all denies with escalation_level / session_deny; anomaly block only when enforcing', () => {
  const {ps, events} = gate({anomalyAction: 'block', domainBurst: 2})
  const t = ps.begin('a|2.2.2.2', 'a', '2.2.2.2')
  assert.equal(ps.preflight(t, 'one.test', undefined, true), null)
  assert.deepEqual(ps.preflight(t, 'two.test', undefined, true), {layer: 'session_profiling', reason: 'session_anomaly', detail: 'session anomaly: ip_domain_anomaly', label: 'elevated'})
  assert.deepEqual(events.map((e) => e.event), ['session_anomaly', 'session_anomaly', 'adaptive_escalation'])
  const u = ps.begin('b|3.3.3.3', 'b', '3.3.3.3')
  ps.preflight(u, 'one.test', undefined, false)
  assert.equal(ps.preflight(u, 'two.test', undefined, false), null, 'audit mode logs anomalies, never blocks on them')
  for (let i = 0; i < 7; i++) ps.settle(u, decision({}))
  assert.deepEqual(ps.preflight(u, 'one.test', undefined, false), {layer: 'session_deny', reason: 'escalation_level', detail: 'session escalation level critical', label: 'critical'})
})

test('warn findings: near miss at normal, upgrade (audited) at elevated; info notes are not findings', () => {
  const {ps, events} = gate()
  const t = ps.begin('k', 'anonymous', 'k')
  const info = [{pattern: 'SigV4 Long Expiry', severity: 'info' as const, core: false, encoding: '', warn: true}]
  assert.equal(ps.warnFindings(t, info, 'h.test', 'u'), null)
  assert.equal(t.session.threatScore, 0)
  const warn = [{pattern: 'Test Warn', severity: 'medium' as const, core: false, encoding: '', warn: true}]
  assert.equal(ps.warnFindings(t, warn, 'h.test', 'u'), null)
  assert.equal(t.session.threatScore, 1)
  ps.settle(t, decision({}))
  ps.settle(t, decision({}))
  assert.equal(t.session.level, 1)
  assert.deepEqual(ps.warnFindings(t, warn, 'h.test', 'u'), {label: 'elevated', names: 'Test Warn'})
  assert.equal(events.filter((e) => e.event === 'adaptive_upgrade').length, 1)
  assert.equal(ps.manager.counters.upgrades, 1)
})

test('metrics text and /stats block', () => {
  const {ps} = gate()
  const t = ps.begin('k', 'anonymous', 'k')
  ps.settle(t, decision({}))
  ps.settle(t, decision({}))
  const out: string[] = []
  ps.renderMetrics(out)
  const text = out.join('\n')
  assert.match(text, /^pipelock_sessions_active 1$/m)
  assert.match(text, /^pipelock_session_escalations_total\{from="normal",to="elevated"\} 1$/m)
  assert.match(text, /^pipelock_adaptive_sessions_current\{level="elevated"\} 1$/m)
  assert.deepEqual(ps.stats(), {active: 1, anomalies: 0, escalations: 1, top_anomalies: []})
})

test('hostOfUrl: lower-cased host without userinfo, port or brackets', () => {
  assert.equal(hostOfUrl('http://API.Example.com:8080/x'), 'api.example.com')
  assert.equal(hostOfUrl('https://user:pw@h.test/'), 'h.test')
  assert.equal(hostOfUrl('http://[::1]:80/'), '::1')
  assert.equal(hostOfUrl('not a url'), '')
})

test('config → session settings: the balanced defaults, explicit level fields kept', () => {
  const s = sessionSettingsFromConfig(loadConfig(undefined).config)
  assert.equal(s.maxSessions, 1000)
  assert.equal(s.adaptive.escalationThreshold, 5)
  assert.deepEqual(s.adaptive.levels.elevated, {upgradeWarn: true, upgradeAsk: false, blockAll: false})
  assert.deepEqual(s.adaptive.levels.critical, {upgradeWarn: true, upgradeAsk: true, blockAll: true})
  assert.equal(s.taint.recentSources, 10)
})

test('config levels: absent fields take the §14.3 defaults, an explicit "" / false is kept', async () => {
  const {mkdtempSync, writeFileSync} = await import('node:fs')
  const {tmpdir} = await import('node:os')
  const path = await import('node:path')
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'pipelock-levels-')), 'p.yaml')
  writeFileSync(file, [
    'session_profiling:', '  enabled: true', 'adaptive_enforcement:', '  enabled: true', '  levels:',
    '    elevated:', '      upgrade_warn: ""', '    critical:', '      block_all: false', '',
  ].join('\n'))
  const s = sessionSettingsFromConfig(loadConfig(file).config)
  assert.deepEqual(s.adaptive.levels.elevated, {upgradeWarn: false, upgradeAsk: false, blockAll: false})
  assert.deepEqual(s.adaptive.levels.high, {upgradeWarn: true, upgradeAsk: true, blockAll: false})
  assert.deepEqual(s.adaptive.levels.critical, {upgradeWarn: true, upgradeAsk: true, blockAll: false})
})

test('airlock denials name the transport that refused: forward (the reference\'s doubled prefix), CONNECT tunnel, reverse proxy, WebSocket', () => {
  const {ps} = gate({airlock: {enabled: true, onElevated: 'none', onHigh: 'soft', onCritical: 'hard', softMs: 0, hardMs: 0, drainMs: 0}})
  const t = ps.begin('a|1.1.1.1', 'a', '1.1.1.1')
  ps.manager.setAirlock(t.session, 'hard', 'api', 'manual', 'admin_api')
  const at = (transport: 'forward' | 'intercepted' | 'reverse' | 'websocket', method: string) => {
    const d = ps.airlockDeny(t, transport, method)
    return d === null ? null : [d.detail, d.body ?? null]
  }
  for (const transport of ['forward', 'intercepted', 'reverse'] as const) {
    assert.equal(at(transport, 'GET'), null, `${transport}: a read passes at hard`)
    assert.equal(at(transport, 'HEAD'), null)
  }
  assert.deepEqual(at('forward', 'POST'), ['airlock: hard tier blocks write methods on forward proxy', 'airlock: airlock: hard tier blocks write methods on forward proxy'])
  assert.deepEqual(at('intercepted', 'PUT'), ['airlock: hard tier blocks write methods on CONNECT tunnel', 'airlock: hard tier blocks write methods on CONNECT tunnel'])
  assert.deepEqual(at('reverse', 'DELETE'), ['airlock: hard tier blocks write methods on reverse proxy', 'airlock: hard tier blocks write methods on reverse proxy'])
  assert.deepEqual(at('websocket', 'GET'), ['airlock: hard tier blocks new WebSocket connections', null])
  ps.manager.setAirlock(t.session, 'drain', 'api', 'manual', 'admin_api')
  assert.deepEqual(at('reverse', 'GET'), ['airlock: drain tier blocks all traffic', 'airlock: drain tier blocks all traffic'])
  assert.deepEqual(at('forward', 'GET'), ['airlock: drain tier blocks all traffic', 'airlock: airlock: drain tier blocks all traffic'])
})
