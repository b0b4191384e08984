import {test} from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {
  DEFAULT_API_ALLOWLIST,
  DEFAULT_BLOCKLIST,
  DEFAULT_DLP_PATTERNS,
  DEFAULT_RESPONSE_PATTERNS,
  topLevelKeys,
  defaultConfig,
  loadConfig,
} from '../../../src/plugins/config/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {assertRefused, load, tempDir} from './helpers.js'

test('every top-level key of §20.3 is accepted', () => {
  // §20.3 lists 60 names (`ip_allowlist` is the sub-key of `ssrf`), plus `dns` (scanners-extra §6) and
  // `exclusive_agent_binding` (issue 37, beyond).
  assert.equal(topLevelKeys().length, 61)
  for (const k of ['version', 'mode', 'airlock', 'learn_lock', 'bind_default_agent_identity', 'ssrf', 'mediation_envelope']) {
    assert.ok(topLevelKeys().includes(k), k)
  }
  // Each section, given as an empty mapping (or its default scalar), loads.
  const d = defaultConfig() as unknown as Record<string, unknown>
  for (const k of topLevelKeys()) {
    const v = d[k]
    const yaml = typeof v === 'object' && v !== null && !Array.isArray(v) ? `${k}: {}\n` : `${k}: ${JSON.stringify(v)}\n`
    assert.doesNotThrow(() => load(yaml), k)
  }
})

test('unknown keys are refused at depth 1, 2 and 3 with the dotted path and line', () => {
  assertRefused('mode: balanced\nmoed: strict\n', /unknown key "moed"/, 2)
  assertRefused('forward_proxy:\n  enabled: false\n  enabeld: true\n', /unknown key "forward_proxy\.enabeld"/, 3)
  assertRefused('fetch_proxy:\n  monitoring:\n    max_url_lenght: 10\n', /unknown key "fetch_proxy\.monitoring\.max_url_lenght"/, 3)
  // inside a list item and a map value
  assertRefused('dlp:\n  patterns:\n    - name: x\n      regex: abc\n      sevrity: high\n', /unknown key "dlp\.patterns\[0\]\.sevrity"/, 5)
  assertRefused('agents:\n  bob:\n    listenrs: []\n', /unknown key "agents\.bob\.listenrs"/, 3)
})

test('an unknown key is answered with the key it was most likely meant to be: a misspelt sibling, its snake_case, or the one mapping below that takes it', () => {
  const message = (yaml: string): string => {
    try {
      load(yaml)
    } catch (e) {
      return (e as Error).message
    }
    throw new Error('loaded')
  }
  const cases: Array<[string, string]> = [
    ['moed: strict\n', 'invalid config: unknown key "moed" (did you mean "mode"?)'],
    ['forward_proxy:\n  enabeld: true\n', 'invalid config: unknown key "forward_proxy.enabeld" (did you mean "forward_proxy.enabled"?)'],
    ['fetch_proxy:\n  monitoring:\n    max_url_lenght: 10\n', 'invalid config: unknown key "fetch_proxy.monitoring.max_url_lenght" (did you mean "fetch_proxy.monitoring.max_url_length"?)'],
    ['dlp:\n  patterns:\n    - name: x\n      regex: abc\n      sevrity: high\n', 'invalid config: unknown key "dlp.patterns[0].sevrity" (did you mean "dlp.patterns[0].severity"?)'],
    ['agents:\n  bob:\n    listenrs: []\n', 'invalid config: unknown key "agents.bob.listenrs" (did you mean "agents.bob.listeners"?)'],
    // written in another case style
    ['kill_switch:\n  apiListen: 127.0.0.1:9901\n', 'invalid config: unknown key "kill_switch.apiListen" (did you mean "kill_switch.api_listen"?)'],
    ['Response-Scanning:\n  enabled: true\n', 'invalid config: unknown key "Response-Scanning" (did you mean "response_scanning"?)'],
    // one level too high
    ['fetch_proxy:\n  max_url_length: 10\n', 'invalid config: unknown key "fetch_proxy.max_url_length" (did you mean "fetch_proxy.monitoring.max_url_length"?)'],
    // nothing near enough, or a key that several sections take: no guess
    ['aaa: 1\n', 'invalid config: unknown key "aaa"'],
    ['fetch_proxy:\n  bogus: 1\n', 'invalid config: unknown key "fetch_proxy.bogus"'],
    ['enabled: true\n', 'invalid config: unknown key "enabled"'],
  ]
  for (const [yaml, want] of cases) assert.equal(message(yaml).replace(/^.*?: (?=invalid config)/, ''), want, yaml)
})

test('wrong types are refused with the path and line', () => {
  assertRefused('fetch_proxy:\n  timeout_seconds: soon\n', /fetch_proxy\.timeout_seconds: expected a number/, 2)
  assertRefused('enforce: "yes"\n', /enforce: expected a boolean/, 1)
  assertRefused('api_allowlist: github.com\n', /api_allowlist: expected a list/, 1)
  assertRefused('fetch_proxy:\n  timeout_seconds: 1.5\n', /fetch_proxy\.timeout_seconds/, 2)
  assertRefused('forward_proxy: true\n', /forward_proxy: expected a mapping/, 1)
  assertRefused('emit:\n  otlp:\n    headers: [a]\n', /emit\.otlp\.headers: expected a mapping/, 3)
  assertRefused('- a\n- b\n', /top level/)
})

test('a second YAML document is refused', () => {
  assertRefused('mode: balanced\n---\nmode: strict\n', /multiple YAML documents not supported \(pipelock config must be a single document\)/, 2)
  assertRefused('---\nmode: balanced\n---\n', /multiple YAML documents/)
})

test('duplicate keys are refused with the key and line', () => {
  assertRefused('mode: balanced\nenforce: true\nmode: strict\n', /duplicate key "mode"/, 3)
  assertRefused('fetch_proxy:\n  listen: 127.0.0.1:1\n  listen: 127.0.0.1:2\n', /duplicate key "listen"/, 3)
})

test('anchors, aliases and merge keys are allowed (config is not a signed artifact)', () => {
  const {config} = load('api_allowlist: &hosts\n  - a.example.com\ntrusted_domains: *hosts\n')
  assert.deepEqual(config.trusted_domains, ['a.example.com'])
  const merged = load('forward_proxy: &b {enabled: true}\nwebsocket_proxy:\n  <<: *b\n')
  assert.equal(merged.config.websocket_proxy.enabled, true)
  // alias expansion is capped (billion laughs)
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
  for (let i = 1; i < 8; i++) bomb.push(`${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10).fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`).join(',')}]`)
  assertRefused(bomb.join('\n'), /alias|Excessive/i)
})

test('nesting deeper than 64 collections is refused at the first collection too deep, flow or block, however deep', () => {
  const deep = /nested more than 64 levels deep \(mappings and lists; no config section nests more than a few\)/
  const flow = (n: number): string => `api_allowlist: ${'['.repeat(n)}${']'.repeat(n)}\n`
  // 63 levels of list under the top-level mapping: read (and refused later for what it holds)
  assertRefused(flow(63), /api_allowlist\[0\]: expected a string/, 1)
  // 64, a few hundred (the reader's stack ran out near 800), a hundred thousand: refused up front
  for (const n of [64, 800, 100_000]) assertRefused(flow(n), deep, 1)
  // list items indented one step further on each line: the 64th list opens on line 65
  const block = (n: number): string => `api_allowlist:\n${Array.from({length: n}, (_, i) => `${' '.repeat(2 * i + 2)}- `).join('\n')}x\n`
  assertRefused(block(63), /expected a string/)
  assertRefused(block(64), deep, 65)
  assertRefused(block(3000), deep, 65)
  // a collection as a mapping key counts as nesting too
  assertRefused(`? ${'['.repeat(100)}${']'.repeat(100)}\n: v\n`, deep, 1)
})

test('a config file is UTF-8, or UTF-16 with its byte-order mark; other bytes are refused at their line', () => {
  const t = tempDir()
  try {
    const text = 'mode: strict\napi_allowlist:\n  - a.example\n'
    const want = loadConfig(t.file('utf8.yaml', text), {env: {}})
    const bom = loadConfig(t.file('bom.yaml', '\ufeff' + text), {env: {}})
    const le = loadConfig(t.file('le.yaml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])), {env: {}})
    const be = Buffer.from(text, 'utf16le').swap16()
    const big = loadConfig(t.file('be.yaml', Buffer.concat([Buffer.from([0xfe, 0xff]), be])), {env: {}})
    for (const got of [bom, le, big]) {
      assert.deepEqual(got.config, want.config)
      assert.equal(got.hash, want.hash)
    }
    const refused = (name: string, bytes: Buffer): PipelockError => {
      const file = t.file(name, bytes)
      try {
        loadConfig(file, {env: {}})
      } catch (err) {
        assert.ok(err instanceof PipelockError)
        assert.equal(err.code, 'CONFIG_INVALID')
        assert.equal(err.location?.file, file)
        return err
      }
      assert.fail(`${name} loaded`)
    }
    // Latin-1 in a comment on line 2 and in a value on line 3: the first is named
    const latin = refused('latin.yaml', Buffer.from('mode: strict\n# caf\xe9\napi_allowlist: [a.ex\xe9mple]\n', 'latin1'))
    assert.equal(latin.message, 'reading config: not UTF-8 (bytes that form no UTF-8 character, as Latin-1 or Windows-1252 text has): save the file as UTF-8')
    assert.equal(latin.location?.line, 2)
    // a UTF-8 sequence cut short at the end of the file
    assert.equal(refused('cut.yaml', Buffer.from([...Buffer.from('mode: strict\n'), 0xe2, 0x82])).location?.line, 2)
    const lone = refused('lone.yaml', Buffer.from([0xff, 0xfe, 0x00, 0xd8, 0x61, 0x00]))
    assert.equal(lone.message, 'reading config: the file starts with a UTF-16LE byte-order mark but is not well-formed UTF-16LE: save it as UTF-8')
  } finally {
    t.cleanup()
  }
})

test('an alias inside the node its own anchor names is refused with its line, not followed forever', () => {
  const inside = /alias \*(\w+) is inside the node its anchor &\1 names: a config cannot contain itself/
  // a sequence, a mapping, a merge key and a nest two levels deep, each containing itself
  assertRefused('mode: balanced\napi_allowlist: &x [a.example.com, *x]\n', inside, 2)
  assertRefused('forward_proxy: &fp\n  enabled: true\n  again: *fp\n', inside, 3)
  assertRefused('forward_proxy: &fp\n  enabled: true\n  <<: *fp\n', inside, 3)
  assertRefused('dlp: &d\n  patterns:\n    - name: x\n      regex: abc\n      nested: [[*d]]\n', inside, 5)
  // the same anchors used outside their own nodes stay accepted (a shared list, a merged base)
  const {config} = load('api_allowlist: &x [a.example.com]\ntrusted_domains: *x\n')
  assert.deepEqual(config.trusted_domains, ['a.example.com'])
  const merged = load('forward_proxy: &fp {enabled: true}\nwebsocket_proxy: {<<: *fp}\n')
  assert.equal(merged.config.websocket_proxy.enabled, true)
})

test('an empty file and no file give the same effective config (single merge base, §24 #5)', () => {
  const t = tempDir()
  try {
    const none = loadConfig(undefined, {env: {}})
    for (const text of ['', '\n', '# only a comment\n', '---\n', '{}\n', '~\n']) {
      const empty = loadConfig(t.file('empty.yaml', text), {env: {}})
      assert.deepEqual(empty.config, none.config, JSON.stringify(text))
      assert.equal(empty.hash, none.hash)
    }
    assert.deepEqual(none.config.api_allowlist, DEFAULT_API_ALLOWLIST)
    assert.deepEqual(none.config.fetch_proxy.monitoring.blocklist, DEFAULT_BLOCKLIST)
    assert.deepEqual(none.config.airlock.timers, {soft_minutes: 10, hard_minutes: 5, drain_minutes: 2, drain_timeout_seconds: 30})
    assert.equal(none.config.seed_phrase_detection.min_words, 12)
    assert.equal(none.config.dlp.patterns.length, DEFAULT_DLP_PATTERNS.length)
    assert.equal(none.config.response_scanning.patterns.length, DEFAULT_RESPONSE_PATTERNS.length)
  } finally {
    t.cleanup()
  }
})

test('a file is merged over the defaults: mappings merge, lists and scalars replace', () => {
  const {config} = load('fetch_proxy:\n  monitoring:\n    max_url_length: 100\n')
  assert.equal(config.fetch_proxy.monitoring.max_url_length, 100)
  assert.deepEqual(config.fetch_proxy.monitoring.blocklist, DEFAULT_BLOCKLIST)
  assert.equal(config.fetch_proxy.listen, '127.0.0.1:8888')
  assert.deepEqual(load('api_allowlist: []\nmode: balanced\n').config.api_allowlist, [])
  assert.deepEqual(load('internal: []\n').config.internal, [])
  assert.deepEqual(load('airlock:\n  enabled: true\nsession_profiling:\n  enabled: true\n').config.airlock.timers.soft_minutes, 10)
  assert.equal(load('airlock:\n  timers:\n    soft_minutes: 0\n').config.airlock.timers.soft_minutes, 0)
})

test('security booleans default to true when absent, null or blank; explicit false is kept', () => {
  const fields: [string, string, (c: ReturnType<typeof load>['config']) => boolean][] = [
    ['dlp', 'scan_env', (c) => c.dlp.scan_env],
    ['response_scanning', 'enabled', (c) => c.response_scanning.enabled],
    ['request_body_scanning', 'scan_headers', (c) => c.request_body_scanning.scan_headers],
    ['logging', 'include_blocked', (c) => c.logging.include_blocked],
    ['taint', 'enabled', (c) => c.taint.enabled],
    ['health_watchdog', 'enabled', (c) => c.health_watchdog.enabled],
    ['flight_recorder', 'redact', (c) => c.flight_recorder.redact],
    ['behavioral_baseline', 'poison_resistance', (c) => c.behavioral_baseline.poison_resistance],
    ['kill_switch', 'health_exempt', (c) => c.kill_switch.health_exempt],
    ['seed_phrase_detection', 'verify_checksum', (c) => c.seed_phrase_detection.verify_checksum],
  ]
  for (const [section, key, read] of fields) {
    assert.equal(read(load('').config), true, `${section}.${key} absent`)
    assert.equal(read(load(`${section}:\n  ${key}:\n`).config), true, `${section}.${key} blank`)
    assert.equal(read(load(`${section}:\n  ${key}: null\n`).config), true, `${section}.${key} null`)
    assert.equal(read(load(`${section}:\n`).config), true, `${section} null section`)
    assert.equal(read(load(`${section}:\n  ${key}: false\n`).config), false, `${section}.${key} false`)
  }
  assert.equal(load('scan_api:\n  kinds:\n    dlp:\n').config.scan_api.kinds.dlp, true)
  assert.equal(load('learn:\n  privacy: {}\n').config.learn.privacy.public_allowlist_default, true)
  assert.equal(load('enforce:\n').config.enforce, true)
  assert.equal(load('').config.explain_blocks, false)
})

test('zero values take their defaults like ApplyDefaults, and every number read as another is named in a warning', () => {
  const r = load('fetch_proxy:\n  timeout_seconds: 0\n  monitoring:\n    max_requests_per_minute: 0\n    entropy_threshold: -1\nredaction:\n  limits:\n    max_depth: 100000\n')
  assert.equal(r.config.fetch_proxy.timeout_seconds, 30)
  assert.equal(r.config.fetch_proxy.monitoring.max_requests_per_minute, 60)
  assert.equal(r.config.fetch_proxy.monitoring.entropy_threshold, 4.5)
  assert.deepEqual(r.warnings.map((w) => `${w.field}: ${w.message}`), [
    // §24 #6: its own words.
    'fetch_proxy.monitoring.max_requests_per_minute: 0 is rewritten to 60: the per-domain rate limit cannot be disabled',
    'fetch_proxy.timeout_seconds: 0 is read as 30 (a value ≤ 0 takes the default)',
    'fetch_proxy.monitoring.entropy_threshold: -1 is read as 4.5 (a value ≤ 0 takes the default)',
    'redaction.limits.max_depth: 100000 is read as 256 (the largest value allowed)',
  ])
  // A value kept as written, or left out, says nothing.
  assert.deepEqual(load('fetch_proxy:\n  timeout_seconds: 12\n').warnings, [])
  assert.equal(load('seed_phrase_detection:\n  min_words: 0\n').config.seed_phrase_detection.min_words, 12)
  assert.equal(load('flight_recorder:\n  file_mode: 0640\n').config.flight_recorder.file_mode, '0640')
})

test('a negative flight_recorder.checkpoint_interval or max_entries_per_file takes the default, with a warning', () => {
  // The reference's recorder reads ≤ 0 as 1000 / 10000; -1 used to checkpoint after every entry.
  const r = load('flight_recorder:\n  checkpoint_interval: -1\n  max_entries_per_file: -5\n')
  assert.equal(r.config.flight_recorder.checkpoint_interval, 1000)
  assert.equal(r.config.flight_recorder.max_entries_per_file, 10000)
  assert.deepEqual(r.warnings.map((w) => `${w.field}: ${w.message}`), [
    'flight_recorder.checkpoint_interval: -1 is read as 1000 (a value ≤ 0 takes the default)',
    'flight_recorder.max_entries_per_file: -5 is read as 10000 (a value ≤ 0 takes the default)',
  ])
})

test('a taint section without session profiling is named as having no effect (taint is tracked per session)', () => {
  const msg = 'taint: has no effect while session_profiling.enabled is false (taint is tracked per session); enable session_profiling'
  assert.deepEqual(load('taint:\n  policy: strict\n').warnings.map((w) => `${w.field}: ${w.message}`), [msg])
  // Not when profiling is on, taint is off, or the file never mentions taint (it is on by default).
  assert.deepEqual(load('taint:\n  policy: strict\nsession_profiling:\n  enabled: true\n').warnings, [])
  assert.deepEqual(load('taint:\n  enabled: false\n').warnings, [])
  assert.deepEqual(load('mode: balanced\n').warnings, [])
})

test('DLP and response patterns merge by name with include_defaults', () => {
  const replaced = load('dlp:\n  patterns:\n    - name: GitHub Token\n      regex: ghp_x+\n      severity: high\n    - name: Mine\n      regex: mine-[0-9]+\n')
  assert.equal(replaced.config.dlp.patterns.length, DEFAULT_DLP_PATTERNS.length + 1)
  assert.equal(replaced.config.dlp.patterns.find((p) => p.name === 'GitHub Token')?.regex, 'ghp_x+')
  assert.equal(replaced.config.dlp.patterns.at(-1)?.name, 'Mine')
  const only = load('dlp:\n  include_defaults: false\n  patterns:\n    - name: Mine\n      regex: mine\n')
  assert.deepEqual(only.config.dlp.patterns, [{name: 'Mine', regex: 'mine'}])
  // default response patterns only while response scanning is enabled
  assert.equal(load('response_scanning:\n  enabled: false\n').config.response_scanning.patterns.length, 0)
})

test('relative dlp.secrets_file and TLS CA paths resolve against the config file directory', () => {
  const t = tempDir()
  try {
    t.file('secrets.txt', 'abcdefghijklmnopqrstuvwxyz\n', 0o600)
    const cfg = t.file('p.yaml', 'dlp:\n  secrets_file: secrets.txt\ntls_interception:\n  ca_cert: ca/ca.pem\n')
    const {config} = loadConfig(cfg, {env: {}})
    assert.equal(config.dlp.secrets_file, path.join(t.dir, 'secrets.txt'))
    assert.equal(config.tls_interception.ca_cert, path.join(t.dir, 'ca/ca.pem'))
  } finally {
    t.cleanup()
  }
})

test('a missing config file is a one-line error, not a stack', () => {
  assert.throws(
    () => loadConfig('/nonexistent/pipelock.yaml'),
    (err: unknown) => err instanceof PipelockError && err.code === 'FILE_NOT_FOUND' && err.message === 'reading config /nonexistent/pipelock.yaml: ENOENT (no such file)',
  )
  // A directory is named as one, with a hint to pass the file itself (not to create one).
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-cfgdir-'))
  try {
    assert.throws(() => loadConfig(dir), (err: unknown) => err instanceof PipelockError && err.code === 'FILE_UNREADABLE' &&
      err.message === `reading config ${dir}: EISDIR (a directory, not a YAML file)` && err.hint === 'pass the YAML file itself to --config, e.g. --config /etc/pipelock/pipelock.yaml')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('YAML syntax errors carry the line', () => {
  assertRefused('mode: balanced\nfetch_proxy:\n  listen: [unclosed\n', /parsing config/)
  const err = assertRefused('mode: balanced\n  bad: indent\n', /parsing config/)
  assert.equal(typeof err.location?.line, 'number')
})

test('learn_lock.environment must be a full mapping of strings (learn-lifecycle §7.1)', () => {
  assertRefused('learn_lock:\n  environment: production\n', /must be a mapping with id, tenant, and deployment_id/, 2)
  assertRefused('learn_lock:\n  environment: {id: p, tenant: ""}\n', /learn_lock\.environment\.deployment_id required; use an explicit empty string/)
  assertRefused('learn_lock:\n  environment: {id: p, tenant: "", deployment_id: "", zone: x}\n', /learn_lock\.environment\.zone is not supported/)
  assertRefused('learn_lock:\n  environment: {id: 1, tenant: "", deployment_id: ""}\n', /learn_lock\.environment\.id must be a string/)
  assert.deepEqual(load('learn_lock:\n  environment: {id: p, tenant: "", deployment_id: ""}\n').config.learn_lock.environment, {id: 'p', tenant: '', deployment_id: ''})
})

test('run flags --mode/--listen override the file and are validated again (§1.1, §1.2)', async () => {
  const {applyRunOverrides} = await import('../../../src/plugins/config/index.js')
  const t = tempDir()
  try {
    const file = t.file('p.yaml', 'mode: audit\nenforce: false\napi_allowlist: []\nfetch_proxy:\n  listen: 0.0.0.0:8888\n')
    const loaded = loadConfig(file, {env: {}})
    assert.equal(loaded.warnings.length, 1)
    const moved = applyRunOverrides(loaded, {listen: '127.0.0.1:9999'}, {env: {}})
    assert.equal(moved.config.fetch_proxy.listen, '127.0.0.1:9999')
    assert.deepEqual(moved.warnings, [])
    assert.notEqual(moved.hash, loaded.hash)
    assert.equal(loaded.config.fetch_proxy.listen, '0.0.0.0:8888') // input untouched
    assert.throws(
      () => applyRunOverrides(loaded, {mode: 'strict'}, {env: {}}),
      (err: unknown) => err instanceof PipelockError && err.code === 'CONFIG_INVALID' && /api_allowlist: strict mode requires a non-empty api_allowlist/.test(err.message),
    )
    assert.equal(applyRunOverrides(loaded, {}, {env: {}}), loaded)
  } finally {
    t.cleanup()
  }
})

test('with several schema problems, the one earliest in the file is reported', () => {
  assertRefused('fetch_proxy:\n  timeout_seconds: x\nzzz: 1\n', /fetch_proxy\.timeout_seconds/, 2)
  assertRefused('aaa: 1\nfetch_proxy:\n  timeout_seconds: x\n', /unknown key "aaa"/, 1)
})
