import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  classifyHttpAction, classifyMcpToolCall, compilePathGlob, contaminatingSource, defaultSessionSettings, goPathMatch, matchingConfigOverride, PathClassifier,
  SessionManager, TAINT, taintMatrix, TaintState, wildcardMatch, type ActionClass, type Sensitivity, type SessionSettings, type TaintAction,
} from '../../../src/plugins/sessions/index.js'


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

const H = TAINT.external_hostile
const U = TAINT.external_untrusted
const A = TAINT.allowlisted_reference

test('matrix (policy-extra §1.6): every row, balanced/strict/permissive', () => {
  type Row = [number, ActionClass, Sensitivity, 'user_broad' | 'operator_override', string, string, string]
  // level, class, sensitivity, authority → balanced, strict (permissive = balanced)
  const rows: Row[] = [
    [H, 'read', 'protected', 'user_broad', 'allow taint_safe_read_only_action', 'allow taint_safe_read_only_action', 'row 1'],
    [H, 'browse', 'normal', 'user_broad', 'allow taint_safe_read_only_action', 'allow taint_safe_read_only_action', 'row 1 browse'],
    [A, 'publish', 'protected', 'user_broad', 'allow trusted_or_allowlisted_context', 'allow trusted_or_allowlisted_context', 'row 2'],
    [H, 'publish', 'normal', 'user_broad', 'block sensitive_action_after_hostile_external_exposure', 'block sensitive_action_after_hostile_external_exposure', 'row 3 class'],
    [H, 'network', 'elevated', 'user_broad', 'block sensitive_action_after_hostile_external_exposure', 'block sensitive_action_after_hostile_external_exposure', 'row 3 sensitivity'],
    [H, 'network', 'normal', 'user_broad', 'allow no_taint_escalation_required', 'allow no_taint_escalation_required', 'row 3 not: network normal'],
    [U, 'write', 'protected', 'user_broad', 'ask protected_write_after_untrusted_external_exposure', 'ask protected_write_after_untrusted_external_exposure', 'row 4'],
    [U, 'write', 'elevated', 'user_broad', 'allow no_taint_escalation_required', 'ask elevated_write_after_untrusted_external_exposure', 'row 5 strict only'],
    [U, 'write', 'normal', 'user_broad', 'allow no_taint_escalation_required', 'allow no_taint_escalation_required', 'write normal'],
    [U, 'exec', 'normal', 'user_broad', 'ask mutating_exec_after_untrusted_external_exposure', 'ask mutating_exec_after_untrusted_external_exposure', 'row 6'],
    [U, 'exec', 'normal', 'operator_override', 'allow no_taint_escalation_required', 'allow no_taint_escalation_required', 'row 6 approved'],
    [U, 'secret', 'protected', 'user_broad', 'ask secret_use_after_untrusted_external_exposure', 'ask secret_use_after_untrusted_external_exposure', 'row 7'],
    [U, 'publish', 'normal', 'user_broad', 'ask external_publish_after_untrusted_external_exposure', 'ask external_publish_after_untrusted_external_exposure', 'row 8'],
    [U, 'network', 'elevated', 'user_broad', 'allow no_taint_escalation_required', 'ask mutating_network_after_untrusted_external_exposure', 'row 9 strict only'],
    [U, 'network', 'normal', 'user_broad', 'allow no_taint_escalation_required', 'allow no_taint_escalation_required', 'row 10'],
  ]
  for (const [level, cls, sens, auth, balanced, strict, name] of rows) {
    const r = (p: 'strict' | 'balanced' | 'permissive'): string => {
      const m = taintMatrix(level, cls, sens, auth, p)
      return `${m.decision} ${m.reason}`
    }
    assert.equal(r('balanced'), balanced, `${name} balanced`)
    assert.equal(r('permissive'), balanced, `${name} permissive ≡ balanced`)
    assert.equal(r('strict'), strict, `${name} strict`)
  }
})

test('HTTP classification: reads, publish with path sensitivity, other methods network; the action ref', () => {
  const d = defaultSessionSettings().taint
  const paths = new PathClassifier(d.protectedPaths, d.elevatedPaths)
  const url = {scheme: 'HTTPS', host: 'API.example.com', requestUri: '/auth/update'}
  assert.deepEqual(classifyHttpAction('POST', url, paths, ['/auth/update']), {cls: 'publish', sensitivity: 'protected', target: '/auth/update', ref: 'publish:post:https://api.example.com/auth/update'})
  assert.equal(classifyHttpAction('GET', url, paths, ['/auth/update']).cls, 'read')
  assert.equal(classifyHttpAction('options', url, paths, ['/auth/update']).cls, 'read')
  assert.deepEqual(classifyHttpAction('GET', url, paths, ['/auth/update'], true), {cls: 'publish', sensitivity: 'protected', target: '/auth/update', ref: 'publish:get:https://api.example.com/auth/update'}, 'a read that carries a body sends data out')
  const n = classifyHttpAction('PROPFIND', {scheme: 'http', host: 'h', requestUri: '/app/config/x?y=1'}, paths, ['/app/config/x'])
  assert.deepEqual([n.cls, n.sensitivity, n.ref], ['network', 'elevated', 'network:propfind:http://h/app/config/x?y=1'])
  assert.equal(classifyHttpAction('POST', {scheme: 'http', host: 'h', requestUri: ''}, paths, ['']).ref, 'publish:post:http://h/')
})

test('MCP classification: one case per rule (policy-extra §1.4), sorted keys', () => {
  const d = defaultSessionSettings().taint
  const paths = new PathClassifier(d.protectedPaths, d.elevatedPaths)
  const c = (tool: string, args: unknown, cat?: string): string => {
    const a: TaintAction = classifyMcpToolCall(tool, args, paths, cat)
    return `${a.cls}/${a.sensitivity} ${a.ref}`
  }
  assert.equal(c('read_file', {path: '/app/.env'}), 'secret/protected mcp:read_file:/app/.env', 'rule 1')
  assert.equal(c('Read_File', {path: 'C:\\Users\\u\\.ssh\\id_rsa'}), 'secret/protected mcp:read_file:c:\\users\\u\\.ssh\\id_rsa', 'rule 1 backslashes')
  assert.equal(c('run_shell', {command: 'rm -rf build'}), 'exec/protected mcp:run_shell', 'rule 2 mutating, no path')
  assert.equal(c('bash', {command: 'git push origin main'}), 'exec/elevated mcp:bash', 'rule 2 git push')
  assert.equal(c('bash', {command: 'ls'}), 'exec/protected mcp:bash', 'rule 2 non-mutating')
  assert.equal(c('prune_cache', {}), 'exec/protected mcp:prune_cache', 'rule 2: `run` in the name (Q-T8, fail closed)')
  assert.equal(c('remember', {note: 'x'}, 'persist'), 'exec/protected mcp:remember', 'rule 3')
  assert.equal(c('write_file', {path: '/srv/config/db.yaml', content: 'x'}), 'write/elevated mcp:write_file:/srv/config/db.yaml', 'rule 4 name')
  assert.equal(c('apply', {file_path: 'repo/.github/workflows/ci.yml', diff: '+x'}), 'write/protected mcp:apply:repo/.github/workflows/ci.yml', 'rule 4 write intent')
  assert.equal(c('notify', {webhook: 'https://hooks.example/x'}), 'publish/elevated mcp:notify:https://hooks.example/x', 'rule 5 key')
  assert.equal(c('call_api', {method: 'POST', url: 'https://api.example/x'}), 'publish/elevated mcp:call_api:https://api.example/x', 'rule 5 method')
  assert.equal(c('browse', {url: 'https://example.com'}), 'browse/normal mcp:browse:https://example.com', 'rule 6')
  assert.equal(c('search_docs', {q: 'x'}), 'read/normal mcp:search_docs', 'rule 7')
  assert.equal(c('do_it', {argv: ['x']}), 'exec/protected mcp:do_it', 'rule 8')
  assert.equal(c('noop', {a: 'b'}), 'read/normal mcp:noop', 'rule 9')
  // A parsed frame's arguments are Maps (canonical JSON objects).
  assert.equal(c('edit', new Map<string, unknown>([['path', '/repo/.github/workflows/ci.yml'], ['content', 'x']])), 'write/protected mcp:edit:/repo/.github/workflows/ci.yml', 'Map arguments')
  assert.equal(c('do_it', new Map<string, unknown>([['cmd', 'x']])), 'exec/protected mcp:do_it', 'rule 8 on a Map')
  // Q-T5 fixed: the first path-like string comes from sorted keys, whatever the key order sent.
  assert.equal(c('edit', {z: '/app/config/a', a: '/auth/x', content: 'c'}), c('edit', {content: 'c', a: '/auth/x', z: '/app/config/a'}))
  assert.equal(c('edit', {z: '/app/config/a', a: '/x/auth/y', content: 'c'}), 'write/protected mcp:edit:/x/auth/y')
})

test('path sensitivity: backslashes are separators', () => {
  const d = defaultSessionSettings().taint
  const paths = new PathClassifier(d.protectedPaths, d.elevatedPaths)
  assert.equal(paths.classify(['C:\\repo\\config\\a.yaml']), 'elevated')
  assert.equal(paths.classify(['./.env.local']), 'protected')
  assert.equal(paths.classify(['/api/auth/x']), 'protected')
})

test('wildcard matcher (§1.8) and Go path.Match', () => {
  const rows: [string, string, boolean][] = [
    ['https://evil.example/*', 'https://evil.example/issue/123', true],
    ['*/config/db.yaml', 'mcp:write_file:/srv/config/db.yaml', true],
    ['docs.example.com', 'https://docs.example.com/x', false],
    ['docs.example.com', 'docs.example.com', true],
    ['publish:post:http://127.0.0.1:*', 'publish:post:http://127.0.0.1:8080/api/auth/x', true],
    ['a*b*c', 'a/x/b/y/c', true],
    ['a*b*c', 'a/x/c/y/b', false],
    ['*', '', false],
    ['', 'x', false],
    ['mcp:?ead', 'mcp:read', true],
  ]
  for (const [p, v, want] of rows) assert.equal(wildcardMatch(p, v), want, `${p} ⊨ ${v}`)
  assert.equal(goPathMatch('a/*/c', 'a/b/c'), true)
  assert.equal(goPathMatch('a/*', 'a/b/c'), false)
  assert.equal(goPathMatch('[a-c]x', 'bx'), true)
  assert.equal(goPathMatch('[^a-c]x', 'bx'), false)
  assert.equal(goPathMatch('[', 'x'), null)
})

function manager(over: Partial<SessionSettings['taint']> = {}, nowMs = () => 1_700_000_000_000): SessionManager {
  const base = defaultSessionSettings()
  return new SessionManager({...base, taint: {...base.taint, ...over}}, {nowNanos: () => BigInt(nowMs()) * 1_000_000n})
}
const post = (host: string, path: string): TaintAction => {
  const d = defaultSessionSettings().taint
  return classifyHttpAction('POST', {scheme: 'http', host, requestUri: path}, new PathClassifier(d.protectedPaths, d.elevatedPaths), [path])
}

test('manager: allowlisted domains do not contaminate, others do, injection is hostile; a new task clears', () => {
  const m = manager()
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.recordExposure(s, 'https://docs.anthropic.com/x', 'docs.anthropic.com', 'response')
  assert.equal(m.evaluateTaint(s, post('h', '/api/auth/x')).decision, 'allow')
  m.recordExposure(s, 'http://127.0.0.1:1/page', '127.0.0.1', 'response')
  assert.deepEqual([m.evaluateTaint(s, post('h', '/api/auth/x')).decision, m.evaluateTaint(s, post('h', '/upload')).reason], ['ask', 'external_publish_after_untrusted_external_exposure'])
  m.recordExposure(s, 'http://docs.github.com/', 'docs.github.com', 'prompt_injection')
  assert.equal(s.taint.levelName, 'external_hostile')
  assert.equal(m.evaluateTaint(s, post('h', '/upload')).decision, 'block')
  const task = m.newTask(s, 'next')
  assert.equal(task.previous, 'task-1')
  assert.equal(task.current, 'task-2')
  assert.equal(s.taint.contaminated, false)
  assert.equal(m.evaluateTaint(s, post('h', '/api/auth/x')).decision, 'allow')
})

test('manager: MCP messages are internal from a stdio server, untrusted from an HTTP one', () => {
  const m = manager()
  const s = m.touch('mcp-stdio-1', 'a', '')
  m.recordExposure(s, '', '', 'mcp_response')
  assert.equal(s.taint.levelName, 'internal_generated')
  assert.equal(s.taint.contaminated, false)
  m.recordExposure(s, '', 'mcp.example', 'mcp_response')
  assert.equal(s.taint.levelName, 'external_untrusted')
})

test('manager: taint disabled never asks', () => {
  const m = manager({enabled: false})
  const s = m.touch('k', 'anonymous', 'k')
  m.recordExposure(s, 'http://evil.test/', 'evil.test', 'response')
  assert.deepEqual([m.evaluateTaint(s, post('h', '/auth/x/')).decision, m.evaluateTaint(s, post('h', '/auth/x/')).reason], ['allow', 'taint_disabled'])
})

test('manager: strict asks for elevated writes balanced allows', () => {
  const d = defaultSessionSettings().taint
  const paths = new PathClassifier(d.protectedPaths, d.elevatedPaths)
  const w = classifyMcpToolCall('write_file', {path: '/srv/config/db.yaml', content: 'x'}, paths)
  for (const [policy, want] of [['balanced', 'allow'], ['permissive', 'allow'], ['strict', 'ask']] as const) {
    const m = manager({policy})
    const s = m.touch('k', 'a', 'k')
    m.recordExposure(s, 'http://evil.test/', 'evil.test', 'response')
    assert.equal(m.evaluateTaint(s, w).decision, want, policy)
  }
})

test('config trust overrides: scope, expiry, attribution; they replace even a block', () => {
  let now = 1_700_000_000_000
  const o = (x: Partial<{scope: string; sourceMatch: string; actionMatch: string; expiresAtMs: number}>) => ({scope: 'action', sourceMatch: '', actionMatch: '', expiresAtMs: now + 60_000, grantedBy: 'alice', reason: 'ticket 7', ...x})
  const m = manager({trustOverrides: [o({actionMatch: 'publish:post:http://api.test/v1/*'}), o({scope: 'source', sourceMatch: 'http://wiki.test/*', actionMatch: '*/deploy'}), o({scope: 'task', actionMatch: '*'})]}, () => now)
  const s = m.touch('k', 'a', 'k')
  m.recordExposure(s, 'http://wiki.test/page', 'wiki.test', 'prompt_injection')
  const v = m.evaluateTaint(s, post('api.test', '/v1/auth/rotate'))
  assert.deepEqual([v.decision, v.reason, v.override], ['allow', 'taint_trust_override', {kind: 'config', grantedBy: 'alice', reason: 'ticket 7'}])
  assert.equal(m.evaluateTaint(s, post('other.test', '/x/deploy')).reason, 'taint_trust_override', 'scope source')
  assert.equal(m.evaluateTaint(s, post('other.test', '/x/other')).decision, 'block', 'scope task never matches in config')
  now += 60_001
  assert.equal(m.evaluateTaint(s, post('api.test', '/v1/auth/rotate')).decision, 'block', 'expired')
})

test('source_match reads the latest untrusted source: a later allowlisted read does not launder it (Q-T3 fixed)', () => {
  const t = new TaintState()
  t.record({url: 'https://evil.example/x', kind: 'response', level: U, atMs: 1}, 10)
  t.record({url: 'https://docs.github.com/y', kind: 'response', level: A, atMs: 2}, 10)
  assert.equal(contaminatingSource(t), 'https://evil.example/x')
  const ov = [{scope: 'source', sourceMatch: 'https://docs.github.com/*', actionMatch: '', expiresAtMs: 2e12, grantedBy: '', reason: ''}]
  assert.equal(matchingConfigOverride(ov, 0, 'publish:post:http://h/', contaminatingSource(t)), undefined)
})

test('runtime (task) overrides: scoped to the task, must match, expire; a new task clears them', () => {
  let now = 1_700_000_000_000
  const m = manager({}, () => now)
  const s = m.touch('a|1.1.1.1', 'a', '1.1.1.1')
  m.recordExposure(s, 'http://wiki.internal.test/page', 'wiki.internal.test', 'response')
  const a = post('api.test', '/v1/auth/rotate')
  assert.equal(m.evaluateTaint(s, a).decision, 'ask')
  m.grantTrust(s, {scope: 'task', sourceMatch: 'http://other.test/*', expiresAtMs: now + 60_000})
  assert.equal(m.evaluateTaint(s, a).decision, 'ask', 'the source does not match')
  m.grantTrust(s, {scope: 'task', actionMatch: 'publish:post:http://api.test/v1/auth/*', sourceMatch: 'http://wiki.internal.test/*', expiresAtMs: now + 60_000, grantedBy: 'ops', reason: 'key rotation'})
  const v = m.evaluateTaint(s, a)
  assert.deepEqual([v.decision, v.reason, v.override], ['allow', 'taint_runtime_task_override', {kind: 'runtime', grantedBy: 'ops', reason: 'key rotation'}])
  assert.equal(m.evaluateTaint(s, post('api.test', '/v1/security/x')).decision, 'ask', 'the action does not match')
  now += 60_000
  assert.equal(m.evaluateTaint(s, a).decision, 'ask', 'expired')
  m.grantTrust(s, {scope: 'task', actionMatch: '*/auth/*', expiresAtMs: now + 60_000})
  assert.equal(m.evaluateTaint(s, a).decision, 'allow')
  assert.equal(m.newTask(s, '').overridesCleared, 3)
  m.recordExposure(s, 'http://wiki.internal.test/page', 'wiki.internal.test', 'response')
  assert.equal(m.evaluateTaint(s, a).decision, 'ask', 'grants do not survive the task')
})

// Issue 37 item 1 for taint: what a client address read judges its unbound identities' writes.
test('taintHolder: the most tainted live session of the same address; another address, no address or a new task frees it', () => {
  const m = manager()
  const reader = m.touch('reader|10.0.0.7', 'reader', '10.0.0.7')
  const renamed = m.touch('renamed|10.0.0.7', 'renamed', '10.0.0.7')
  const elsewhere = m.touch('renamed|10.0.0.8', 'renamed', '10.0.0.8')
  assert.equal(m.taintHolder(renamed), renamed, 'nothing read yet')
  m.recordExposure(reader, 'http://evil.test/', 'evil.test', 'prompt_injection')
  assert.equal(m.taintHolder(renamed), reader)
  assert.equal(m.evaluateTaint(m.taintHolder(renamed), post('h', '/upload')).decision, 'block')
  assert.equal(renamed.taint.levelName, 'trusted', 'nothing is copied')
  assert.equal(m.taintHolder(elsewhere), elsewhere, 'another address is its own')
  m.recordExposure(renamed, 'http://other.test/', 'other.test', 'response')
  assert.equal(m.taintHolder(renamed), reader, 'the highest level judges')
  assert.equal(m.taintHolder(reader), reader, 'a session at least as tainted judges itself')
  const s1 = m.touch('mcp-stdio-1', 'a', '')
  const s2 = m.touch('mcp-stdio-2', 'a', '')
  m.recordExposure(s1, 'http://evil.test/', 'evil.test', 'prompt_injection')
  assert.equal(m.taintHolder(s2), s2, 'sessions without a client address hold nothing for each other')
  m.newTask(reader, '')
  assert.equal(m.taintHolder(renamed), renamed, 'a new task on the reader frees every name')
  m.terminate(renamed)
  const back = m.touch('renamed|10.0.0.7', 'renamed', '10.0.0.7')
  assert.equal(m.taintHolder(back), back, 'a terminated session holds nothing')
})

test('taintHolder: what one loopback address read judges a write from another (all of 127.0.0.0/8 and ::1 one host)', () => {
  const m = manager()
  const reader = m.touch('reader|127.0.0.1', 'reader', '127.0.0.1')
  const alias = m.touch('writer|127.0.0.2', 'writer', '127.0.0.2')
  const v6 = m.touch('::1', 'anonymous', '::1')
  m.recordExposure(reader, 'http://evil.test/', 'evil.test', 'prompt_injection')
  assert.equal(m.taintHolder(alias), reader)
  assert.equal(m.taintHolder(v6), reader)
})
