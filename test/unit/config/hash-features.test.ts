import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {
  FEATURE_SECTION_NAMES,
  assertImplemented,
  canonicalPolicyJson,
  configHash,
  enabledFeatures,
  loadConfig,
  policyView,
  presetConfig,
  resolveConfig,
} from '../../../src/plugins/config/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {load} from './helpers.js'

test('configHash is sha256: over the canonical policy JSON', () => {
  const c = loadConfig(undefined, {env: {}}).config
  const json = canonicalPolicyJson(c)
  assert.equal(configHash(c), 'sha256:' + createHash('sha256').update(json, 'utf8').digest('hex'))
  assert.match(configHash(c), /^sha256:[0-9a-f]{64}$/)
  // canonical: sorted keys, no whitespace, excluded sections absent, floats shortest
  assert.ok(json.startsWith('{"a2a_scanning":{'))
  assert.ok(!json.includes('"health_watchdog"') && !json.includes('"learn_lock"'))
  assert.ok(json.includes('"entropy_threshold":4.5') && json.includes('"subdomain_entropy_threshold":4}'))
})

test('configHash ignores key order, health_watchdog and learn_lock; changes with policy; masks secrets', () => {
  const a = load('mode: balanced\nenforce: true\n').config
  const b = load('enforce: true\nmode: balanced\n').config
  assert.equal(configHash(a), configHash(b))
  assert.equal(configHash(a), configHash(load('health_watchdog:\n  interval_seconds: 9\nlearn_lock:\n  mode: live\n').config))
  assert.notEqual(configHash(a), configHash(load('enforce: false\n').config))
  assert.notEqual(configHash(a), configHash(load('fetch_proxy:\n  monitoring:\n    blocklist: []\n').config))
  const t1 = load('kill_switch:\n  api_token: secret-one\n').config
  const t2 = load('kill_switch:\n  api_token: secret-two\n').config
  assert.equal(configHash(t1), configHash(t2))
  assert.notEqual(configHash(t1), configHash(a))
  assert.ok(!canonicalPolicyJson(t1).includes('secret-one'))
})

test('assertImplemented refuses enabled but unimplemented sections, naming them', () => {
  const all = new Set<string>(FEATURE_SECTION_NAMES)
  const c = resolveConfig(presetConfig('hostile-model'), {env: {}}).config
  assert.doesNotThrow(() => assertImplemented(c, all))
  const without = new Set(all)
  without.delete('websocket_proxy')
  without.delete('mcp_session_binding')
  assert.throws(
    () => assertImplemented(c, without),
    (err: unknown) =>
      err instanceof PipelockError &&
      err.code === 'NOT_IMPLEMENTED' &&
      /does not implement: websocket_proxy, mcp_session_binding; refusing to start/.test(err.message),
  )
  // sections that are off do not need to be implemented
  const d = load('').config
  assert.deepEqual(enabledFeatures(d).includes('forward_proxy'), false)
  assert.doesNotThrow(() => assertImplemented(d, new Set(enabledFeatures(d))))
  assert.throws(() => assertImplemented(load('emit:\n  webhook:\n    url: https://hooks.example/x\n').config, new Set(enabledFeatures(d))), /emit\.webhook/)
  assert.throws(() => assertImplemented(load('kill_switch:\n  api_listen: 127.0.0.1:9090\n  api_token: t\n').config, new Set(enabledFeatures(d))), /kill_switch, kill_switch\.api_listen/)
})

test('the feature list covers the security defaults that are on without any config', () => {
  assert.deepEqual(enabledFeatures(load('').config), [
    'response_scanning',
    'response_scanning.sse_streaming',
    'request_body_scanning',
    'request_body_scanning.scan_headers',
    'dlp.scan_env',
    'seed_phrase_detection',
    'health_watchdog',
    'taint',
    'media_policy',
  ])
})

test('the policy view masks canary values, redaction dictionary entries, the Sentry DSN, the learn salt and the emitter URLs; the hash still tells them apart', () => {
  const yaml = (canary: string): string => [
    `canary_tokens: {enabled: true, tokens: [{name: a, value: ${canary}}, {name: b, value: canary-value-two}]}`,
    'sentry: {enabled: false, dsn: "https://dsn-key@sentry.example/1"}',
    'learn: {privacy: {salt_source: literal-salt-value}}',
    'emit: {webhook: {url: "https://hooks.example/services/webhook-path-token"}, otlp: {endpoint: "https://otel.example/?key=otlp-query-key"}}',
  ].join('\n') + '\n'
  const c = load(yaml('canary-value-one')).config
  const view = policyView(c) as {canary_tokens: unknown; sentry: {dsn: string}; learn: {privacy: {salt_source: string}}}
  assert.deepEqual(view.canary_tokens, {enabled: true, tokens: [{name: 'a', value: '<set>'}, {name: 'b', value: '<set>'}]})
  assert.deepEqual([view.sentry.dsn, view.learn.privacy.salt_source], ['<set>', '<set>'])
  for (const secret of ['canary-value-one', 'canary-value-two', 'dsn-key', 'literal-salt-value', 'webhook-path-token', 'otlp-query-key']) assert.ok(!JSON.stringify(view).includes(secret), secret)
  const dictionaries = {known: {entries: ['dictionary-secret']}, listed: {entries_file: '/x'}}
  const withDictionaries = policyView({...c, redaction: {...c.redaction, dictionaries}} as typeof c) as {redaction: {dictionaries: unknown}}
  assert.deepEqual(withDictionaries.redaction.dictionaries, {known: {entries: '<set>'}, listed: {entries_file: '/x'}})
  // A rotated canary is still a policy change: a reload applies it (same hash = ignored) and the hash shows it.
  assert.notEqual(configHash(load(yaml('canary-value-three')).config), configHash(c))
})
