import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fixedClock} from '../../../src/plugins/canonical/index.js'
import {
  adaptiveStatusSchema,
  alignColumns,
  formatScore,
  formatSeconds,
  printable,
  renderAdaptiveFlush,
  renderAdaptiveStatus,
  renderRelease,
  renderSessionDetail,
  renderSessionExplanation,
  renderSessionList,
  renderTerminate,
  renderWhoami,
  sessionDetailSchema,
  sessionExplanationSchema,
  sessionListSchema,
  whoamiSchema,
} from '../../../src/plugins/admin-client/index.js'
import {ADAPTIVE_STATUS, ADAPTIVE_STATUS_TEXT, DETAIL_HELD, EXPLAIN_CALM, EXPLAIN_HELD, HELD_DETAIL_TEXT, HELD_EXPLAIN_TEXT, NOW, SNAPSHOT_CALM, SNAPSHOT_HELD, WHOAMI} from '../../helpers/fake-admin-api.js'

const now = fixedClock(NOW).nowNanos()

test('formatScore is Go %.2f: exact ties round half to even, unlike toFixed', () => {
  assert.equal(formatScore(0), '0.00')
  assert.equal(formatScore(5), '5.00')
  assert.equal(formatScore(0.4), '0.40')
  assert.equal(formatScore(1.005), '1.00') // 1.005 is below the tie in binary: both agree
  assert.equal(formatScore(0.125), '0.12')
  assert.equal(formatScore(0.375), '0.38')
  assert.equal(formatScore(5.125), '5.12')
  assert.equal(formatScore(12.625), '12.62')
  assert.equal(formatScore(12.875), '12.88')
  assert.equal(formatScore(-0.125), '-0.12')
  assert.equal(formatScore(2.5), '2.50')
  assert.equal(formatScore(0.6 + 0.4 + 0.25), '1.25')
})

test('formatSeconds is Go Duration.String for whole seconds', () => {
  assert.deepEqual([0, 45, 60, 123, 3600, 3725, 176582, -3].map(formatSeconds), ['0s', '45s', '1m0s', '2m3s', '1h0m0s', '1h2m5s', '49h3m2s', '0s'])
})

test('alignColumns pads every cell but the last to the column width + 2 (tabwriter), counting code points', () => {
  assert.deepEqual(alignColumns([['A', 'BB', 'C'], ['ééé', 'D', 'EEEE']]), ['A    BB  C', 'ééé  D   EEEE'])
})

test('printable replaces terminal control characters from the server', () => {
  assert.equal(printable('a\u001b[2Jb\r\nc\u009bd'), 'a?[2Jb??c?d')
})

test('session list: exact table, identity before invocation as sent, relative last activity', () => {
  const list = sessionListSchema.parse({sessions: [SNAPSHOT_HELD, SNAPSHOT_CALM], count: 2})
  assert.deepEqual(renderSessionList(list, now), [
    'KEY                  AGENT       IP         TIER  ESCALATION  SCORE  LAST-ACTIVE',
    'shop-agent|10.0.0.5  shop-agent  10.0.0.5   hard  high        12.62  45s ago',
    'mcp-stdio-42         mcp         127.0.0.1  none  normal      0.00   1h2m0s ago',
  ])
  assert.deepEqual(renderSessionList({sessions: [], count: 0}, now), ['No sessions match.'])
})

test('session inspect: aligned fields, task lines when present, events', () => {
  const d = sessionDetailSchema.parse(DETAIL_HELD)
  assert.equal(
    renderSessionDetail(d, now).join('\n'),
    HELD_DETAIL_TEXT.join('\n'),
  )
})

test('session inspect: an event line leaves out an empty target or detail', () => {
  const d = sessionDetailSchema.parse({
    ...DETAIL_HELD,
    recent_events: [
      {at: '2026-03-01T11:57:00Z', kind: 'airlock_enter', target: '', detail: 'none->soft', severity: 'warn', score: 6},
      {at: '2026-03-01T11:57:01Z', kind: 'block', target: 'https://a.example/', detail: '', severity: 'warn', score: 7},
      {at: '2026-03-01T11:57:02Z', kind: 'taint', target: '', detail: '', severity: 'info', score: 7},
    ],
  })
  assert.deepEqual(renderSessionDetail(d, now).slice(-3), [
    '  [2026-03-01T11:57:00Z] airlock_enter score=6.00 detail=none->soft',
    '  [2026-03-01T11:57:01Z] block target=https://a.example/ score=7.00',
    '  [2026-03-01T11:57:02Z] taint score=7.00',
  ])
})

test('session inspect: no airlock entry (Go zero time), no task, no events', () => {
  const d = sessionDetailSchema.parse({...SNAPSHOT_CALM, airlock_entered_at: '0001-01-01T00:00:00Z', in_flight: 0, escalation_level_int: 0, recent_events: null})
  assert.deepEqual(renderSessionDetail(d, now), [
    'Session mcp-stdio-42',
    '  kind:            invocation',
    '  agent:           mcp',
    '  client_ip:       127.0.0.1',
    '  airlock_tier:    none',
    '  airlock_entered: -',
    '  in_flight:       0',
    '  escalation:      normal (0)',
    '  threat_score:    0.00',
    '  block_all:       false',
    '  taint_level:     none',
    '  contaminated:    false',
    '  last_activity:   2026-03-01T10:58:00Z (1h2m0s ago)',
    'recent_events:',
    '  (none)',
  ])
})

test('session explain: quarantined, with trigger, evidence and next de-escalation', () => {
  assert.deepEqual(renderSessionExplanation(sessionExplanationSchema.parse(EXPLAIN_HELD), now), HELD_EXPLAIN_TEXT)
})

test('session explain: not quarantined → evidence (none recorded), no optional lines', () => {
  assert.deepEqual(renderSessionExplanation(sessionExplanationSchema.parse(EXPLAIN_CALM), now), [
    'Session mcp-stdio-42 explanation',
    '  tier:         none',
    '  reason:       session not quarantined',
    '  escalation:   normal (0)',
    '  threat_score: 0.00',
    '  evidence:     (none recorded)',
  ])
})

test('session explain: the escalation level\'s own recovery point, when the server gives it', () => {
  const critical = {...EXPLAIN_CALM, escalation_level: 'critical', escalation_level_int: 3, block_all: true, next_level_recovery_level: 'high', next_level_recovery_at: '2026-03-01T12:04:10Z'}
  assert.deepEqual(renderSessionExplanation(sessionExplanationSchema.parse(critical), now).at(-1), '  level_recovery: level=high at=2026-03-01T12:04:10Z (in 4m10s)')
})

test('session explain: quarantined in a tier without a timer → next_deescalation says none', () => {
  const {next_deescalation_tier: _t, next_deescalation_at: _a, ...manual} = EXPLAIN_HELD
  assert.deepEqual(renderSessionExplanation(sessionExplanationSchema.parse(manual), now), [
    ...HELD_EXPLAIN_TEXT.slice(0, -1),
    '  next_deescalation: none (this tier has no timer: only an operator release lowers it)',
  ])
})

test('release and terminate lines', () => {
  assert.deepEqual(renderRelease({key: 'a|1.2.3.4', previous_tier: 'hard', new_tier: 'none', changed: true}), ['released a|1.2.3.4: hard -> none (changed=true)'])
  assert.deepEqual(
    renderRelease({key: 'a|1.2.3.4', previous_tier: 'hard', new_tier: 'none', changed: true, previous_escalation_level: 'critical', escalation_level: 'elevated', block_all: false}),
    ['released a|1.2.3.4: hard -> none (changed=true)', '  escalation: critical -> elevated'],
  )
  assert.deepEqual(
    renderTerminate({key: 'a|1.2.3.4', terminated: true, previous_tier: 'drain', previous_level: 'critical', previous_score: 20.5, ip_state_cleared: true, cee_state_cleared: false}),
    {
      warning: 'WARNING: terminated session a|1.2.3.4 — in-flight connections were cut.',
      lines: ['terminated a|1.2.3.4: previous_tier=drain level=critical score=20.50 cee_cleared=false'],
    },
  )
  const t = {key: 'a|1.2.3.4', terminated: true, previous_tier: 'none', previous_level: 'normal', previous_score: 0, ip_state_cleared: true, cee_state_cleared: true}
  // A server that reports the count: no warning when nothing was cut, else the count.
  assert.deepEqual(renderTerminate({...t, connections_cut: 0}), {lines: ['terminated a|1.2.3.4: previous_tier=none level=normal score=0.00 cee_cleared=true']})
  assert.equal(renderTerminate({...t, connections_cut: 1}).warning, 'WARNING: terminated session a|1.2.3.4 — 1 in-flight connection was cut.')
  assert.equal(renderTerminate({...t, connections_cut: 3}).warning, 'WARNING: terminated session a|1.2.3.4 — 3 in-flight connections were cut.')
})

test('adaptive status, flush and whoami lines', () => {
  assert.deepEqual(renderAdaptiveStatus(adaptiveStatusSchema.parse(ADAPTIVE_STATUS)), ADAPTIVE_STATUS_TEXT)
  assert.deepEqual(renderAdaptiveStatus(adaptiveStatusSchema.parse({...ADAPTIVE_STATUS, top_anomalies: null}))[3], 'top_anomalies: none')
  assert.deepEqual(renderAdaptiveFlush({flushed: true, identity_sessions: 4, skipped_invocations: 1, ip_domain_state_cleared: true}), [
    'flushed adaptive state: identity_sessions=4 skipped_invocations=1 ip_domain_state_cleared=true',
  ])
  // A server that reports what the flush cleared and kept: a second line, with a word on quarantines when it kept some.
  const flushed = {flushed: true, identity_sessions: 4, skipped_invocations: 1, ip_domain_state_cleared: true, levels_reset: 2}
  assert.deepEqual(renderAdaptiveFlush({...flushed, airlock_tiers_kept: 0})[1], '  levels_reset=2 airlock_tiers_kept=0')
  assert.deepEqual(renderAdaptiveFlush({...flushed, airlock_tiers_kept: 3})[1], '  levels_reset=2 airlock_tiers_kept=3 (a flush does not release quarantines: pipelock session release does)')
  assert.deepEqual(renderWhoami(whoamiSchema.parse(WHOAMI)), [
    'client_ip=127.0.0.1 session=anonymous|127.0.0.1 classification=observe tier=soft level=elevated score=5.12 ttl_seconds=300',
  ])
  const held = {kind: 'airlock', session: 'x1|127.0.0.1', client_ip: '127.0.0.1', airlock_tier: 'drain', escalation_level: 'normal', block_all: false}
  assert.deepEqual(renderWhoami(whoamiSchema.parse({...WHOAMI, classification: 'block', held_by: held})), [
    'client_ip=127.0.0.1 session=anonymous|127.0.0.1 classification=block tier=soft level=elevated score=5.12 ttl_seconds=300 held_by=x1|127.0.0.1',
  ])
})
