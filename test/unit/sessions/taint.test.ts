import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  authorityDecision, compilePathGlob, defaultSessionSettings, PathClassifier, SessionManager, TAINT, TaintState,
} from '../../../src/plugins/sessions/index.js'

const clock = {nowNanos: () => 1_700_000_000_000_000_000n}

test('path globs: * spans slashes, everything else literal, case-insensitive', () => {
  assert.ok(compilePathGlob('*/auth/*').test('/api/auth/login'))
  assert.ok(compilePathGlob('*/auth/*').test('/AUTH/x'))
  assert.ok(!compilePathGlob('*/auth/*').test('/author/x'))
  assert.ok(compilePathGlob('*/.env*').test('/app/.env.local'))
  assert.ok(!compilePathGlob('*/.env*').test('/app/xenv'))
  assert.ok(compilePathGlob('*/.github/workflows/*').test('/repo/.github/workflows/ci.yml'))
})

test('default protected and elevated paths classify', () => {
  const s = defaultSessionSettings().taint
  const c = new PathClassifier(s.protectedPaths, s.elevatedPaths)
  assert.equal(c.classify(['/v1/auth/token']), 'protected')
  assert.equal(c.classify(['/secrets']), 'protected')
  assert.equal(c.classify(['/app/config/x']), 'elevated')
  assert.equal(c.classify(['/api/middleware']), 'elevated')
  assert.equal(c.classify(['/docs/page']), null)
  assert.equal(c.classify(['/a%2Fauth%2Fb', '/a/auth/b']), 'protected', 'either the raw or the decoded path decides')
})

test('taint levels follow the receipts scale; contaminated from external_untrusted', () => {
  assert.deepEqual(TAINT, {trusted: 0, internal_generated: 1, allowlisted_reference: 2, external_low_risk: 3, external_untrusted: 4, external_hostile: 5})
  const t = new TaintState()
  t.record({url: 'https://docs.github.com/', kind: 'response', level: TAINT.allowlisted_reference, atMs: 1}, 10)
  assert.equal(t.contaminated, false)
  assert.equal(t.levelName, 'allowlisted_reference')
  assert.equal(t.sources.length, 0)
  t.record({url: 'http://evil.test/', kind: 'response', level: TAINT.external_untrusted, atMs: 2}, 10)
  assert.equal(t.contaminated, true)
  assert.equal(t.levelName, 'external_untrusted')
})

test('recent sources are bounded by taint.recent_sources', () => {
  const t = new TaintState()
  for (let i = 0; i < 15; i++) t.record({url: `http://h${i}.test/`, kind: 'response', level: TAINT.external_untrusted, atMs: i}, 10)
  assert.equal(t.sources.length, 10)
  assert.equal(t.sources[0]!.url, 'http://h5.test/')
})

test('authority: only mutating methods to protected/elevated paths from a contaminated session ask', () => {
  const t = new TaintState()
  assert.equal(authorityDecision('POST', 'protected', t).decision, 'allow')
  t.record({url: 'http://evil.test/', kind: 'response', level: TAINT.external_untrusted, atMs: 1}, 10)
  for (const m of ['POST', 'PUT', 'PATCH', 'DELETE', 'post']) assert.equal(authorityDecision(m, 'protected', t).decision, 'ask', m)
  assert.equal(authorityDecision('POST', 'elevated', t).decision, 'ask')
  assert.equal(authorityDecision('GET', 'protected', t).decision, 'allow')
  assert.equal(authorityDecision('HEAD', 'protected', t).decision, 'allow')
  assert.equal(authorityDecision('POST', null, t).decision, 'allow')
})

test('manager: allowlisted domains do not contaminate, others do, injection is hostile; a new task clears', () => {
  const m = new SessionManager(defaultSessionSettings(), clock)
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.recordExposure(s, 'https://docs.anthropic.com/x', 'docs.anthropic.com', 'response')
  assert.equal(m.authority(s, 'POST', ['/api/auth/x']).decision, 'allow')
  m.recordExposure(s, 'http://127.0.0.1:1/page', '127.0.0.1', 'response')
  assert.equal(m.authority(s, 'POST', ['/api/auth/x']).decision, 'ask')
  m.recordExposure(s, 'http://docs.github.com/', 'docs.github.com', 'prompt_injection')
  assert.equal(s.taint.levelName, 'external_hostile')
  const task = m.newTask(s, 'next')
  assert.equal(task.previous, 'task-1')
  assert.equal(task.current, 'task-2')
  assert.equal(s.taint.contaminated, false)
  assert.equal(m.authority(s, 'POST', ['/api/auth/x']).decision, 'allow')
})

test('manager: taint disabled never asks', () => {
  const base = defaultSessionSettings()
  const m = new SessionManager({...base, taint: {...base.taint, enabled: false}}, clock)
  const s = m.touch('k', 'anonymous', 'k')
  m.recordExposure(s, 'http://evil.test/', 'evil.test', 'response')
  assert.equal(m.authority(s, 'POST', ['/auth/x/']).decision, 'allow')
})

test('trust overrides: scoped to the task, must match, expire; a new task clears them', () => {
  let now = 1_700_000_000_000
  const m = new SessionManager(defaultSessionSettings(), {nowNanos: () => BigInt(now) * 1_000_000n})
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.recordExposure(s, 'http://wiki.internal.test/page', 'wiki.internal.test', 'response')
  const url = 'http://api.test/v1/auth/rotate'
  assert.equal(m.authority(s, 'POST', ['/v1/auth/rotate'], url).decision, 'ask')
  m.grantTrust(s, {scope: 'task', sourceMatch: 'http://other.test/*', expiresAtMs: now + 60_000})
  assert.equal(m.authority(s, 'POST', ['/v1/auth/rotate'], url).decision, 'ask', 'the sources do not match')
  m.grantTrust(s, {scope: 'task', actionMatch: 'http://api.test/v1/auth/*', sourceMatch: 'http://wiki.internal.test/*', expiresAtMs: now + 60_000, reason: 'key rotation'})
  const v = m.authority(s, 'POST', ['/v1/auth/rotate'], url)
  assert.deepEqual(v, {decision: 'allow', pathClass: 'protected', reason: 'trusted by operator override (key rotation)', overrideApplied: true})
  assert.equal(m.authority(s, 'POST', ['/v1/security/x'], 'http://api.test/v1/security/x').decision, 'ask', 'the action does not match')
  now += 60_000
  assert.equal(m.authority(s, 'POST', ['/v1/auth/rotate'], url).decision, 'ask', 'expired')
  m.grantTrust(s, {scope: 'task', actionMatch: '*/auth/*', expiresAtMs: now + 60_000})
  assert.equal(m.authority(s, 'POST', ['/v1/auth/rotate'], url).decision, 'allow')
  assert.equal(m.newTask(s, '').overridesCleared, 3)
  m.recordExposure(s, 'http://wiki.internal.test/page', 'wiki.internal.test', 'response')
  assert.equal(m.authority(s, 'POST', ['/v1/auth/rotate'], url).decision, 'ask', 'grants do not survive the task')
})
