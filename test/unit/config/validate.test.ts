import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseConfigText} from '../../../src/plugins/config/index.js'
import {assertRefused, load, tempDir} from './helpers.js'

// §20.4: one failing case per rule, each with a passing neighbour. "First error wins": each
// failing text has exactly one problem.

test('mode: known value; strict needs a non-empty api_allowlist', () => {
  assertRefused('mode: paranoid\n', /mode: must be one of strict, balanced, audit, got "paranoid"/, 1)
  assertRefused('mode: strict\napi_allowlist: []\n', /api_allowlist: strict mode requires a non-empty api_allowlist/, 2)
  assert.equal(load('mode: strict\n').config.mode, 'strict') // defaults' 10-entry allowlist
  assert.equal(load('mode: audit\napi_allowlist: []\n').config.mode, 'audit')
})

test('version: only 1 (absent or 0 reads as 1)', () => {
  assertRefused('version: 2\n', /version: unsupported config version 2: this release reads version 1/, 1)
  assert.equal(load('version: 1\n').config.version, 1)
  assert.equal(load('').config.version, 1)
})

test('media_policy: concrete image types, never SVG, non-negative max_image_bytes — checked while disabled too', () => {
  assertRefused('media_policy:\n  allowed_image_types: ["image/png", "image/svg+xml"]\n', /media_policy\.allowed_image_types\[1\]: image\/svg\+xml cannot be allowed: SVG is active content/, 2)
  assertRefused('media_policy:\n  allowed_image_types: [" Image/SVG+XML "]\n', /image\/svg\+xml cannot be allowed/)
  assertRefused('media_policy:\n  enabled: false\n  allowed_image_types: ["image/*"]\n', /allowed_image_types\[0\]: must be an image\/<subtype> media type with a concrete subtype \(no wildcards\), got "image\/\*"/, 3)
  assertRefused('media_policy:\n  allowed_image_types: ["text/html"]\n', /concrete subtype/)
  assertRefused('media_policy:\n  allowed_image_types: ["image/"]\n', /concrete subtype/)
  assertRefused('media_policy:\n  max_image_bytes: -1\n', /media_policy\.max_image_bytes: must be non-negative \(0 means the 5 MiB default\), got -1/, 2)
  const ok = load('media_policy:\n  allowed_image_types: ["image/png", "image/webp", "image/vnd.microsoft.icon"]\n  max_image_bytes: 0\n')
  assert.deepEqual(ok.config.media_policy.allowed_image_types, ['image/png', 'image/webp', 'image/vnd.microsoft.icon'])
  assert.equal(ok.config.media_policy.max_image_bytes, 5 * 1024 * 1024)
})

test('health_watchdog.interval_seconds: 1..3600, 0 takes the default', () => {
  assertRefused('health_watchdog:\n  interval_seconds: -1\n', /health_watchdog\.interval_seconds: must be between 1 and 3600 seconds \(0 takes the default 2\), got -1/, 2)
  assertRefused('health_watchdog:\n  interval_seconds: 3000000\n', /got 3000000/)
  assert.equal(load('health_watchdog:\n  interval_seconds: 0\n').config.health_watchdog.interval_seconds, 2)
  assert.equal(load('health_watchdog:\n  interval_seconds: 3600\n').config.health_watchdog.interval_seconds, 3600)
})

test('redaction errors keep the reference\'s words and name the line of the entry at fault', () => {
  const text = 'request_body_scanning:\n  enabled: true\nredaction:\n  enabled: false\n  providers:\n    ok:\n      host_patterns: ["a.example"]\n    p:\n      host_patterns: ["b.example"]\n      parser: xml\n'
  assertRefused(text, /redaction: redact: provider "p" parser "xml" is not supported/, 8)
})

test('listeners of the scan API and the reverse proxy are host:port (check refuses what run could not bind)', () => {
  assertRefused('scan_api:\n  listen: "nonsense"\n  auth:\n    bearer_tokens: ["t"]\n', /scan_api\.listen: "nonsense" is not host:port/, 2)
  assertRefused('scan_api:\n  listen: "127.0.0.1:99999"\n  auth:\n    bearer_tokens: ["t"]\n', /scan_api\.listen: "127\.0\.0\.1:99999" is not host:port/)
  assertRefused('reverse_proxy:\n  enabled: true\n  listen: "nonsense"\n  upstream: "http://127.0.0.1:9"\n', /reverse_proxy\.listen: "nonsense" is not host:port/, 3)
  assert.equal(load('reverse_proxy:\n  enabled: true\n  listen: ":8890"\n  upstream: "http://127.0.0.1:9"\n').config.reverse_proxy.listen, ':8890')
})

test('logging: format, output, file for file/both', () => {
  assertRefused('logging:\n  format: xml\n', /logging\.format: must be one of json, text/, 2)
  assertRefused('logging:\n  output: syslog\n', /logging\.output: must be one of stdout, file, both/, 2)
  assertRefused('logging:\n  output: both\n', /logging\.file: required when logging\.output is "both"/, 1)
  const textToFile = load('logging:\n  format: text\n  output: file\n  file: /tmp/p.log\n')
  assert.equal(textToFile.config.logging.output, 'file')
  // Text is stdout's format (operations §7.1): a file-only log says that it stays JSON lines.
  assert.deepEqual(textToFile.warnings.map((w) => `${w.field}: ${w.message}`), ['logging.format: text applies to stdout only: with logging.output "file" the audit log is written as JSON lines'])
  assert.deepEqual(load('logging:\n  format: text\n  output: both\n  file: /tmp/p.log\n').warnings, [])
})

test('dlp: action empty; patterns named, compilable, known severity/validator; warn only, never on a built-in; exempt hosts', () => {
  assertRefused('dlp:\n  action: block\n', /dlp\.action: is reserved and must be empty/, 2)
  assertRefused('dlp:\n  patterns:\n    - name: ""\n      regex: abc\n', /dlp\.patterns\[0\]\.name: pattern needs a name/, 3)
  assertRefused('dlp:\n  patterns:\n    - name: x\n      regex: "a(?=b)"\n', /dlp\.patterns\[0\]\.regex: pattern "x" does not compile/, 4)
  assertRefused('dlp:\n  patterns:\n    - name: x\n      regex: "(a"\n', /does not compile/)
  assertRefused('dlp:\n  patterns:\n    - name: x\n      regex: abc\n      validator: crc\n', /validator: must be one of luhn, mod97, aba, wif/, 5)
  assertRefused('dlp:\n  patterns:\n    - name: x\n      regex: abc\n      severity: urgent\n', /severity: must be one of critical, high, medium, low/)
  assertRefused('dlp:\n  patterns:\n    - name: x\n      regex: abc\n      action: block\n', /action: only "warn" is supported/)
  assertRefused('dlp:\n  patterns:\n    - name: Slack Token\n      regex: xoxb-.*\n      action: warn\n', /built-in pattern "Slack Token" cannot be demoted to warn/)
  assertRefused('dlp:\n  patterns:\n    - name: x\n      regex: abc\n      exempt_domains: ["*.com"]\n', /exempt_domains\[0\]: "\*\.com" wildcards a whole top-level domain/, 5)
  const ok = load('dlp:\n  patterns:\n    - name: Internal Key\n      regex: "(?-i:INT)_[a-z0-9]{20}"\n      severity: high\n      action: warn\n      exempt_domains: ["*.corp.example"]\n')
  assert.equal(ok.config.dlp.patterns.at(-1)?.action, 'warn')
})

test('dlp.secrets_file must exist and not be group/other accessible', () => {
  const t = tempDir()
  try {
    const loose = t.file('loose.txt', 'abcdefghijklmnopqrstuvwxyz\n', 0o644)
    const tight = t.file('tight.txt', 'abcdefghijklmnopqrstuvwxyz\n', 0o640)
    assertRefused(`dlp:\n  secrets_file: ${loose}\n`, /too permissive \(mode 0644\)/, 2)
    assertRefused(`dlp:\n  secrets_file: ${t.dir}/missing.txt\n`, /dlp\.secrets_file: .*missing\.txt cannot be read: no such file or directory/)
    assert.equal(load(`dlp:\n  secrets_file: ${tight}\n`).config.dlp.secrets_file, tight)
  } finally {
    t.cleanup()
  }
})

test('dlp.secrets_file: more secrets than are looked for is refused; lines that are no secret are named in a warning, never shown', () => {
  const t = tempDir()
  try {
    const secret = (i: number): string => `team-secret-${String(i).padStart(6, '0')}-value`
    const many = t.file('many.txt', Array.from({length: 1001}, (_, i) => secret(i)).join('\n') + '\n', 0o600)
    assertRefused(`dlp:\n  secrets_file: ${many}\n`, new RegExp(`dlp\\.secrets_file: ${many} holds 1001 secrets; at most 1000 are looked for: keep at most 1000 in the file \\(the others would pass unseen\\)`))
    // Repeats count once: 1,000 distinct secrets written twice load.
    const repeated = t.file('repeated.txt', [...Array.from({length: 1000}, (_, i) => secret(i)), secret(0)].join('\n') + '\n', 0o600)
    assert.equal(load(`dlp:\n  secrets_file: ${repeated}\n`).warnings.length, 0)
    const mixed = t.file('mixed.txt', ['# ours', 'short-one', secret(1), 'x'.repeat(5000), 'tiny', secret(2)].join('\n') + '\n', 0o600)
    const warnings = load(`dlp:\n  secrets_file: ${mixed}\n`).warnings.filter((w) => w.field === 'dlp.secrets_file').map((w) => w.message)
    assert.deepEqual(warnings, [
      `${mixed}: lines 2 and 5 are shorter than dlp.min_env_secret_length (16 bytes) and not looked for`,
      `${mixed}: line 4 is longer than 4096 bytes and not looked for`,
    ])
    assert.ok(!warnings.join('\n').includes('short-one'), 'a line is named by number, never by content')
  } finally {
    t.cleanup()
  }
})

test('monitoring: blocklist entries, subdomain_entropy_exclusions host rules, non-negative budgets', () => {
  assertRefused('fetch_proxy:\n  monitoring:\n    blocklist: ["*.x.com", ""]\n', /blocklist\[1\]: blocklist entries must not be empty/, 3)
  assertRefused('fetch_proxy:\n  monitoring:\n    subdomain_entropy_exclusions: ["https://x.com"]\n', /is a URL/)
  assertRefused('fetch_proxy:\n  monitoring:\n    subdomain_entropy_exclusions: ["*"]\n', /bare "\*"/)
  assertRefused('fetch_proxy:\n  monitoring:\n    subdomain_entropy_exclusions: ["x.com:443"]\n', /contains a port/)
  assertRefused('fetch_proxy:\n  monitoring:\n    max_data_per_minute: -1\n', /max_data_per_minute: must be >= 0/, 3)
  assert.deepEqual(load('fetch_proxy:\n  monitoring:\n    subdomain_entropy_exclusions: ["*.CDN.example.", "10.0.0.1"]\n').config.fetch_proxy.monitoring.subdomain_entropy_exclusions.length, 2)
})

test('response scanning: action, patterns, sse action and size; exempt_domains while disabled warns', () => {
  assertRefused('response_scanning:\n  action: redact\n', /response_scanning\.action: must be one of strip, warn, block, ask/, 2)
  assertRefused('response_scanning:\n  patterns:\n    - name: x\n      regex: "(?<=a)b"\n', /response_scanning\.patterns\[0\]\.regex/, 4)
  assertRefused('response_scanning:\n  sse_streaming:\n    action: strip\n', /sse_streaming\.action: must be one of "", block, warn/)
  assertRefused('response_scanning:\n  sse_streaming:\n    max_event_bytes: -5\n', /max_event_bytes: must be >= 0/)
  const w = load('response_scanning:\n  enabled: false\n  exempt_domains: [docs.example.com]\n')
  assert.deepEqual(w.warnings.map((x) => x.field), ['response_scanning.exempt_domains'])
  assert.equal(load('response_scanning:\n  action: ask\n  sse_streaming: {action: ""}\n').config.response_scanning.action, 'ask')
})

test('forward proxy (when enabled): positive tunnel and idle timeouts', () => {
  assertRefused('forward_proxy:\n  enabled: true\n  max_tunnel_seconds: -1\n', /forward_proxy\.max_tunnel_seconds: must be > 0/, 3)
  assertRefused('forward_proxy:\n  enabled: true\n  idle_timeout_seconds: -3\n', /forward_proxy\.idle_timeout_seconds: must be > 0/)
  assert.equal(load('forward_proxy:\n  enabled: false\n  max_tunnel_seconds: -1\n').config.forward_proxy.enabled, false)
  assert.equal(load('forward_proxy:\n  enabled: true\n').config.forward_proxy.max_tunnel_seconds, 300)
})

test('websocket proxy (when enabled): sizes, origin_policy, strip_compression, memory warning', () => {
  assertRefused('websocket_proxy:\n  enabled: true\n  max_message_bytes: -1\n', /websocket_proxy\.max_message_bytes: must be > 0/)
  assertRefused('websocket_proxy:\n  enabled: true\n  origin_policy: allow\n', /origin_policy: must be one of rewrite, forward, strip/)
  assertRefused('websocket_proxy:\n  enabled: true\n  strip_compression: false\n', /strip_compression: must be true/)
  const big = load('websocket_proxy:\n  enabled: true\n  max_concurrent_connections: 1024\n  max_message_bytes: 1048576\n')
  assert.match(big.warnings.find((w) => w.field === 'websocket_proxy')?.message ?? '', /exceeds 1 GiB/)
  assert.deepEqual(load('websocket_proxy:\n  enabled: true\n').warnings, [])
})

test('session profiling: action and positive values when enabled; sizes always positive', () => {
  assertRefused('session_profiling:\n  enabled: true\n  anomaly_action: strip\n', /anomaly_action: must be one of warn, block/)
  assertRefused('session_profiling:\n  enabled: true\n  volume_spike_ratio: -1\n', /volume_spike_ratio: must be > 0/)
  assertRefused('session_profiling:\n  max_sessions: -1\n', /session_profiling\.max_sessions: must be > 0/)
  assert.equal(load('session_profiling:\n  enabled: true\n  anomaly_action: block\n').config.session_profiling.anomaly_action, 'block')
})

test('adaptive enforcement: needs profiling, positive threshold/decay, valid monotonic levels, host rules', () => {
  const on = 'session_profiling:\n  enabled: true\nadaptive_enforcement:\n  enabled: true\n'
  assertRefused('adaptive_enforcement:\n  enabled: true\n', /adaptive_enforcement\.enabled: requires session_profiling\.enabled/, 2)
  assertRefused(on + '  escalation_threshold: -2\n', /escalation_threshold: must be > 0/)
  assertRefused(on + '  decay_per_clean_request: -1\n', /decay_per_clean_request: must be > 0/)
  assertRefused(on + '  levels:\n    high:\n      upgrade_ask: strip\n', /levels\.high\.upgrade_ask: must be one of "", block/)
  assertRefused(on + '  levels:\n    high:\n      upgrade_warn: ""\n', /levels\.high\.upgrade_warn: must be "block" because levels\.elevated\.upgrade_warn is/)
  assertRefused(on + '  levels:\n    critical:\n      block_all: false\n    high:\n      block_all: true\n', /levels\.critical\.block_all: must be true/)
  assertRefused(on + '  exempt_domains: ["a.*.com"]\n', /glob characters/)
  const ok = load(on + '  levels:\n    elevated:\n      upgrade_warn: ""\n')
  assert.equal(ok.config.adaptive_enforcement.levels.elevated.upgrade_warn, '')
  assert.equal(ok.config.adaptive_enforcement.levels.high.upgrade_warn, 'block')
})

test('request body: action and header_mode', () => {
  assertRefused('request_body_scanning:\n  action: strip\n', /request_body_scanning\.action: must be one of warn, block/)
  assertRefused('request_body_scanning:\n  header_mode: some\n', /header_mode: must be one of sensitive, all/)
  assertRefused('request_body_scanning:\n  max_body_bytes: -1\n', /max_body_bytes: must be >= 0/)
  assert.equal(load('request_body_scanning:\n  action: block\n  header_mode: all\n').config.request_body_scanning.header_mode, 'all')
})

test('seed phrase min_words is a BIP-39 length', () => {
  assertRefused('seed_phrase_detection:\n  min_words: 13\n', /min_words: must be one of 12, 15, 18, 21, 24, got 13/, 2)
  assert.equal(load('seed_phrase_detection:\n  min_words: 24\n').config.seed_phrase_detection.min_words, 24)
})

test('kill switch: CIDR allowlist, api_listen host:port on another port with a token', () => {
  assertRefused('kill_switch:\n  allowlist_ips: ["10.0.0.1"]\n', /allowlist_ips\[0\]: "10\.0\.0\.1" is not a CIDR/, 2)
  assertRefused('kill_switch:\n  api_listen: localhost\n  api_token: t\n', /kill_switch\.api_listen: "localhost" is not host:port/)
  assertRefused('kill_switch:\n  api_listen: 127.0.0.1:8888\n  api_token: t\n', /port 8888 is the fetch_proxy\.listen port/)
  assertRefused('kill_switch:\n  api_listen: 127.0.0.1:9090\n', /kill_switch\.api_token: required when kill_switch\.api_listen is set/)
  assert.equal(load('kill_switch:\n  api_listen: 127.0.0.1:9090\n  api_token: t\n  allowlist_ips: ["10.0.0.1/32"]\n').config.kill_switch.api_listen, '127.0.0.1:9090')
  // a token from the environment satisfies the rule
  const viaEnv = parseConfigText('kill_switch:\n  api_listen: 127.0.0.1:9090\n', 't.yaml', {env: {PIPELOCK_KILLSWITCH_API_TOKEN: 'x'}})
  assert.equal(viaEnv.config.kill_switch.api_token, '')
})

test('metrics_listen: host:port, not the main or API port', () => {
  assertRefused('metrics_listen: "9100"\n', /metrics_listen: "9100" is not host:port/, 1)
  assertRefused('metrics_listen: 127.0.0.1:8888\n', /metrics_listen: port 8888 is the fetch_proxy\.listen port/)
  assertRefused('metrics_listen: 127.0.0.1:9090\nkill_switch:\n  api_listen: 127.0.0.1:9090\n  api_token: t\n', /metrics_listen: port 9090 is the kill_switch\.api_listen port/)
  assert.equal(load('metrics_listen: 127.0.0.1:9100\n').config.metrics_listen, '127.0.0.1:9100')
})

test('internal CIDRs, trusted_domains host rules, canonical non-/0 ssrf.ip_allowlist', () => {
  assertRefused('internal: ["10.0.0.0/8", "banana"]\n', /internal\[1\]: "banana" is not a valid CIDR/, 1)
  assertRefused('trusted_domains: ["*.com"]\n', /trusted_domains\[0\]/)
  assertRefused('ssrf:\n  ip_allowlist: ["10.1.2.3/8"]\n', /ssrf\.ip_allowlist\[0\]: "10\.1\.2\.3\/8" has host bits set/, 2)
  assertRefused('ssrf:\n  ip_allowlist: ["0.0.0.0/0"]\n', /would exempt every address/)
  assertRefused('ssrf:\n  ip_allowlist: ["::/0"]\n', /would exempt every address/)
  const ok = load('internal: ["10.0.0.0/8", "fd00::/8"]\ntrusted_domains: ["*.corp.example"]\nssrf:\n  ip_allowlist: ["10.5.0.0/16", "fd00:1::/32"]\n')
  assert.equal(ok.config.ssrf.ip_allowlist.length, 2)
})

test('airlock (when enabled): needs profiling, valid tiers, monotonic triggers, on_severity, timers', () => {
  const on = 'session_profiling:\n  enabled: true\nairlock:\n  enabled: true\n'
  assertRefused('airlock:\n  enabled: true\n', /airlock\.enabled: requires session_profiling\.enabled/)
  assertRefused(on + '  triggers:\n    on_high: lockdown\n', /airlock\.triggers\.on_high: must be one of none, soft, hard, drain/)
  assertRefused(on + '  triggers:\n    on_elevated: hard\n    on_high: soft\n', /on_high: must not be a lower tier than on_elevated/)
  assertRefused(on + '  triggers:\n    on_severity: medium\n', /on_severity: must be one of "", high, critical/)
  assertRefused(on + '  timers:\n    hard_minutes: -1\n', /airlock\.timers\.hard_minutes: must be >= 0/)
  const ok = load(on + '  triggers:\n    on_elevated: ""\n')
  assert.equal(ok.config.airlock.triggers.on_elevated, 'none')
  const inert = load(on + '  triggers:\n    on_severity: critical\n')
  assert.deepEqual(inert.warnings.map((w) => w.field), ['airlock.triggers'])
})

test('taint.allowlisted_domains: the trusted_domains host rules, by path and line', () => {
  assertRefused('taint:\n  allowlisted_domains:\n    - docs.github.com\n    - https://docs.example.com\n', /taint\.allowlisted_domains\[1\]: "https:\/\/docs\.example\.com" is a URL; use a bare hostname/, 4)
  assertRefused('taint:\n  allowlisted_domains: ["docs.example.com:443"]\n', /taint\.allowlisted_domains\[0\]: "docs\.example\.com:443" contains a port/)
  assertRefused('taint:\n  allowlisted_domains: ["*"]\n', /taint\.allowlisted_domains\[0\]: bare "\*" would match every host/)
  assertRefused('taint:\n  allowlisted_domains: ["*.com"]\n', /taint\.allowlisted_domains\[0\]: "\*\.com" wildcards a whole top-level domain/)
  assert.deepEqual(load('taint:\n  allowlisted_domains: ["*.example.com", "Docs.GitHub.com."]\n').config.taint.allowlisted_domains, ['*.example.com', 'Docs.GitHub.com.'])
  assert.deepEqual(load('taint:\n  allowlisted_domains: []\n').config.taint.allowlisted_domains, [])
})

test('bind_default_agent_identity requires default_agent_identity', () => {
  assertRefused('bind_default_agent_identity: true\n', /default_agent_identity: bind_default_agent_identity requires default_agent_identity/)
  assert.equal(load('bind_default_agent_identity: true\ndefault_agent_identity: claude\n').config.default_agent_identity, 'claude')
})

test('listen warnings: non-loopback and all-interfaces binds are warnings, not errors', () => {
  assert.deepEqual(load('fetch_proxy:\n  listen: 127.0.0.1:8888\n').warnings, [])
  assert.deepEqual(load('fetch_proxy:\n  listen: "[::1]:8888"\n').warnings, [])
  assert.match(load('fetch_proxy:\n  listen: 0.0.0.0:8888\n').warnings[0]?.message ?? '', /all interfaces/)
  assert.match(load('fetch_proxy:\n  listen: ":8888"\n').warnings[0]?.message ?? '', /all interfaces/)
  assert.match(load('fetch_proxy:\n  listen: 10.1.2.3:8888\n').warnings[0]?.message ?? '', /not a loopback address/)
  assertRefused('fetch_proxy:\n  listen: "8888"\n', /fetch_proxy\.listen: "8888" is not host:port/)
  // Each warning names what it exposes.
  assert.deepEqual(load('fetch_proxy:\n  listen: ":8888"\nkill_switch:\n  api_listen: ":9090"\n  api_token: t0123456789abcdef0123456789abcdef\n').warnings.map((w) => `${w.field}: ${w.message}`), [
    'fetch_proxy.listen: ":8888" listens on all interfaces; anything that can reach this host can use the proxy',
    'kill_switch.api_listen: ":9090" listens on all interfaces; anything that can reach this host can use the admin API (kill switch, sessions; token-protected)',
  ])
})

test('feature sections: flight recorder, TLS interception, learn, learn_lock', () => {
  assertRefused('flight_recorder:\n  enabled: true\n', /flight_recorder\.dir: required/)
  assertRefused('flight_recorder:\n  file_mode: 0644\n', /flight_recorder\.file_mode: must be 0600, 0640 or 0660/)
  // Empty CA paths mean the pipelock home's ca.pem / ca-key.pem (transports §2.1), checked at start-up.
  assert.equal(load('tls_interception:\n  enabled: true\n').config.tls_interception.ca_cert, '')
  assertRefused('learn:\n  inference:\n    floors:\n      min_sessions: -1\n', /learn\.inference\.floors\.min_sessions: -1: must be non-negative/)
  assertRefused('learn:\n  inference:\n    normalization:\n      algorithm: other\n', /algorithm: must be frequency_weighted_entropy_v1/)
  assertRefused('learn_lock:\n  enabled: true\n', /learn_lock\.store_dir: required when learn_lock\.enabled is true/)
  assertRefused('learn_lock:\n  enabled: true\n  store_dir: rel\n', /learn_lock\.store_dir: must be an absolute path, got "rel"/)
  const base = 'learn_lock:\n  enabled: true\n  store_dir: /s\n  roster_path: /r.json\n  environment: {id: prod, tenant: "", deployment_id: ""}\n'
  assertRefused(base + '  mode: enforce\n  pinned_root_fingerprint: sha256:' + 'a'.repeat(64) + '\n', /learn_lock\.mode: must be one of live\/shadow\/capture, got "enforce"/)
  assertRefused(base + '  pinned_root_fingerprint: sha256:' + 'A'.repeat(64) + '\n', /must be lowercase canonical fingerprint/)
  assert.equal(load(base + '  mode: live\n  pinned_root_fingerprint: sha256:' + 'a'.repeat(64) + '\n').config.learn_lock.mode, 'live')
})

test('sandbox: best_effort and strict exclusive; empty filesystem entries; checked while disabled', () => {
  assertRefused('sandbox:\n  strict: true\n  best_effort: true\n', /sandbox: best_effort and strict are mutually exclusive/)
  assertRefused('sandbox:\n  filesystem:\n    allow_read: ["/srv", ""]\n', /sandbox filesystem allow_read contains empty path/)
  // What pipelock sandbox refuses whatever the host is, check refuses too.
  assertRefused('sandbox:\n  filesystem:\n    allow_read: [relative/dir]\n', /sandbox allow_read "relative\/dir" must be an absolute path/, 3)
  assertRefused('file_sentry:\n  enabled: true\n  watch_paths: ["a/../../x"]\n', /file_sentry: watch_paths\[0\] "a\/\.\.\/\.\.\/x" escapes config directory \(use absolute path instead\)/)
  assert.deepEqual(load('file_sentry:\n  enabled: true\n  watch_paths: ["work/../src", "/srv/x"]\n').config.file_sentry.watch_paths, ['work/../src', '/srv/x'])
  const ok = load('sandbox:\n  best_effort: true\n  filesystem:\n    allow_write: [/srv/out]\n')
  assert.equal(ok.config.sandbox.best_effort, true)
  assert.deepEqual(ok.config.sandbox.filesystem?.allow_write, ['/srv/out'])
})

test('canary_tokens (containment.md §5.2): every message, always checked', () => {
  const tok = (body: string): string => `canary_tokens:\n  tokens:\n${body}`
  assertRefused('canary_tokens:\n  enabled: true\n  tokens: []\n', /canary_tokens\.enabled is true but canary_tokens\.tokens is empty/)
  assertRefused(tok('    - name: ""\n      value: abcdefgh12\n'), /canary_tokens\.tokens\[0\]\.name is required/)
  assertRefused(tok('    - name: a\n      value: ""\n'), /canary_tokens\.tokens\[0\]\.value is required/)
  assertRefused(tok('    - name: a\n      value: short\n'), /canary_tokens\.tokens\[0\]\.value must be at least 8 characters/)
  assertRefused(tok('    - name: Aws\n      value: abcdefgh12\n    - name: aws\n      value: abcdefgh13\n'), /canary_tokens\.tokens\[1\]\.name "aws" is duplicated/)
  assertRefused(tok('    - name: a\n      value: abcdefgh12\n    - name: b\n      value: abcdefgh12\n'), /canary_tokens\.tokens\[1\]\.value is duplicated/)
  assertRefused(tok('    - name: a\n      value: abcdefgh12\n      env_var: 9BAD-NAME\n'), /canary_tokens\.tokens\[0\]\.env_var "9BAD-NAME" is invalid/)
  assert.equal(load(tok('    - name: a\n      value: abcdefgh12\n      env_var: AWS_ACCESS_KEY_ID\n')).config.canary_tokens.tokens[0]?.env_var, 'AWS_ACCESS_KEY_ID')
})

test('response_scanning.mcp_action: optional, strip|warn|block|ask; mcp_tool_scanning enabled without an action blocks', () => {
  assertRefused('response_scanning:\n  mcp_action: allow\n', /response_scanning\.mcp_action: must be one of strip, warn, block, ask/)
  assert.equal(load('response_scanning:\n  mcp_action: warn\n').config.response_scanning.mcp_action, 'warn')
  assert.equal(load('').config.response_scanning.mcp_action, undefined)
  assert.equal(load('mcp_tool_scanning:\n  enabled: true\n').config.mcp_tool_scanning.action, 'block')
  assert.equal(load('mcp_tool_scanning:\n  enabled: true\n  action: warn\n').config.mcp_tool_scanning.action, 'warn')
})

test('tls_interception.cert_ttl: a positive Go duration while interception is on (check refuses what run refuses)', () => {
  assertRefused('tls_interception:\n  enabled: true\n  cert_ttl: 1d\n', /tls_interception\.cert_ttl: time: invalid duration "1d" \(a Go duration such as 24h or 90m\)/, 3)
  assertRefused('tls_interception:\n  enabled: true\n  cert_ttl: -1h\n', /tls_interception\.cert_ttl: must be positive, got "-1h"/, 3)
  // Beyond Go's int64 of nanoseconds (about 292 years): refused as Go refuses it, so no leaf ends after 9999.
  assertRefused('tls_interception:\n  enabled: true\n  cert_ttl: 99999999h\n', /tls_interception\.cert_ttl: time: invalid duration "99999999h"/, 3)
  assert.equal(load('tls_interception:\n  enabled: true\n  cert_ttl: 90m\n').config.tls_interception.cert_ttl, '90m')
  assert.equal(load('tls_interception:\n  enabled: true\n').config.tls_interception.cert_ttl, '24h')
  // Off: not read, as in the reference (transports §2.1 validates only when enabled).
  assert.equal(load('tls_interception:\n  cert_ttl: 1d\n').config.tls_interception.cert_ttl, '1d')
})

test('api_allowlist and the blocklist hold hostnames: an entry that could match no host is refused', () => {
  // Before, each of these loaded and then matched nothing: strict mode denied the host the
  // operator listed, and the blocklist let the paste site through.
  assertRefused('api_allowlist: ["https://github.com/"]\n', /api_allowlist\[0\]: "https:\/\/github\.com\/" is a URL; use a bare hostname/, 1)
  assertRefused('api_allowlist: ["github.com:443"]\n', /api_allowlist\[0\]: "github\.com:443" contains a port/, 1)
  assertRefused('mode: strict\napi_allowlist: ["*"]\n', /api_allowlist\[0\]: bare "\*"/, 2)
  assertRefused('api_allowlist: ["*.com"]\n', /api_allowlist\[0\]: "\*\.com" wildcards a whole top-level domain/, 1)
  assertRefused('fetch_proxy:\n  monitoring:\n    blocklist: ["pastebin.com/raw"]\n', /fetch_proxy\.monitoring\.blocklist\[0\]: "pastebin\.com\/raw" contains a path/, 3)
  assertRefused('fetch_proxy:\n  monitoring:\n    blocklist: ["*.ru", "*pastebin.com"]\n', /blocklist\[1\]: "\*pastebin\.com" contains glob characters; only a leading "\*\." is allowed/, 3)
  // What matches stays accepted: wildcards, IP literals, a trailing dot, and (a deny list) a whole TLD.
  assert.deepEqual(load('api_allowlist: ["*.example.com", "GitHub.com.", "10.0.0.1"]\n').config.api_allowlist, ['*.example.com', 'GitHub.com.', '10.0.0.1'])
  assert.deepEqual(load('fetch_proxy:\n  monitoring:\n    blocklist: ["*.ru", "file.io"]\n').config.fetch_proxy.monitoring.blocklist, ['*.ru', 'file.io'])
})

test('mode: audit with enforce on is told that it still blocks (the reference\'s docs say audit blocks nothing)', () => {
  assert.deepEqual(load('mode: audit\n').warnings, [{field: 'mode', message: 'audit does not stop blocking by itself; set enforce: false to log without blocking'}])
  assert.deepEqual(load('mode: audit\nenforce: false\n').warnings, [])
  assert.deepEqual(load('mode: balanced\n').warnings, [])
})

test('tool_chain_detection: an override naming no pattern is refused; action block says which built-ins still warn', () => {
  assert.throws(() => load('tool_chain_detection:\n  enabled: true\n  pattern_overrides:\n    env_then_network: block\n'), /tool_chain_detection\.pattern_overrides\["env_then_network"\]: no built-in or custom pattern has this name \(built-ins: read-then-exec, read-write-send, env-then-network,/)
  assert.doesNotThrow(() => load('tool_chain_detection:\n  enabled: true\n  pattern_overrides:\n    env-then-network: block\n'))
  assert.doesNotThrow(() => load('tool_chain_detection:\n  enabled: true\n  custom_patterns:\n    - {name: mine, sequence: [read, network], severity: high}\n  pattern_overrides:\n    mine: block\n'))
  const w = load('tool_chain_detection:\n  enabled: true\n  action: block\n  pattern_overrides:\n    read-then-exec: block\n').warnings.filter((x) => x.field === 'tool_chain_detection.action')
  assert.equal(w.length, 1)
  assert.equal(w[0]!.message, 'block applies to custom_patterns; the built-in patterns keep warn unless pattern_overrides names them (still warn: read-write-send, env-then-network, directory-scan, write-execute, write-chmod-execute, read-sensitive-write, shell-burst, write-persist, persist-callback)')
  assert.deepEqual(load('tool_chain_detection:\n  enabled: true\n  action: warn\n').warnings.filter((x) => x.field === 'tool_chain_detection.action'), [])
})

test('a logging.file that stdout output never writes, and two patterns of the file under one name, are named at start', () => {
  assert.deepEqual(load('logging:\n  output: stdout\n  file: /var/log/pipelock.log\n').warnings.filter((w) => w.field === 'logging.file'), [
    {field: 'logging.file', message: 'set while logging.output is "stdout": nothing is written to /var/log/pipelock.log; set logging.output to "file" or "both" to write it'},
  ])
  assert.deepEqual(load('logging:\n  output: both\n  file: /var/log/pipelock.log\n').warnings.filter((w) => w.field === 'logging.file'), [])
  const dup = load('dlp:\n  patterns:\n    - {name: Team Token, regex: "tt_[a-z0-9]{20}", severity: high}\n    - {name: Team Token, regex: "tk_[a-z0-9]{20}", severity: high}\n')
  assert.deepEqual(dup.warnings.filter((w) => w.field.startsWith('dlp.patterns')), [
    {field: 'dlp.patterns[1]', message: 'name "Team Token" is also the name of dlp.patterns[0]: merged over the defaults (include_defaults) the later replaces the earlier, and a finding names only its pattern; give each its own name'},
  ])
})

test('tls_interception.passthrough_domains and forward_proxy.redirect_websocket_hosts: the hostname rules, by path and line; "*" and "*.tld" warn', () => {
  // Before, each of these loaded and matched no host: the tunnel was intercepted (or the hint never given).
  assertRefused('tls_interception:\n  passthrough_domains:\n    - registry.npmjs.org\n    - https://pypi.org\n', /tls_interception\.passthrough_domains\[1\]: "https:\/\/pypi\.org" is a URL; use a bare hostname/, 4)
  assertRefused('tls_interception:\n  passthrough_domains: ["proxy.golang.org:443"]\n', /passthrough_domains\[0\]: "proxy\.golang\.org:443" contains a port/, 2)
  assertRefused('tls_interception:\n  passthrough_domains: ["files.pythonhosted.org/packages"]\n', /passthrough_domains\[0\]: .* contains a path/)
  assertRefused('tls_interception:\n  passthrough_domains: [" pypi.org"]\n', /passthrough_domains\[0\]: " pypi\.org" has leading or trailing whitespace/)
  assertRefused('tls_interception:\n  passthrough_domains: ["*anthropic.com"]\n', /passthrough_domains\[0\]: "\*anthropic\.com" contains glob characters/)
  // Checked with interception off too: the entry is wrong either way.
  assertRefused('tls_interception:\n  enabled: false\n  passthrough_domains: ["https://x.com"]\n', /passthrough_domains\[0\]: "https:\/\/x\.com" is a URL/, 3)
  assertRefused('forward_proxy:\n  redirect_websocket_hosts: ["wss://gateway.discord.gg"]\n', /forward_proxy\.redirect_websocket_hosts\[0\]: "wss:\/\/gateway\.discord\.gg" is a URL; use a bare hostname/, 2)
  assertRefused('forward_proxy:\n  redirect_websocket_hosts: ["*.slack.com", "slack.com:443"]\n', /redirect_websocket_hosts\[1\]: "slack\.com:443" contains a port/, 2)
  // transports §2.6: warn, do not reject.
  const broad = load('tls_interception:\n  passthrough_domains: ["*", "*.com", "*.googlevideo.com"]\nforward_proxy:\n  redirect_websocket_hosts: ["*"]\n')
  assert.deepEqual(broad.warnings.map((w) => `${w.field}: ${w.message}`), [
    'tls_interception.passthrough_domains[0]: bare "*" matches no host: only a leading "*." is a wildcard',
    'tls_interception.passthrough_domains[1]: "*.com" wildcards a whole top-level domain: every .com host matches',
    'forward_proxy.redirect_websocket_hosts[0]: bare "*" matches no host: only a leading "*." is a wildcard',
  ])
  const ok = load('tls_interception:\n  passthrough_domains: ["registry.npmjs.org", "*.pypi.org", "Proxy.Golang.org.", "127.0.0.1"]\nforward_proxy:\n  redirect_websocket_hosts: ["*.slack.com", "gateway.discord.gg"]\n')
  assert.deepEqual(ok.warnings, [])
  assert.equal(ok.config.tls_interception.passthrough_domains.length, 4)
  assert.deepEqual(load('').config.tls_interception.passthrough_domains, ['*.googlevideo.com'])
})

test('request_body_scanning.sensitive_headers and ignore_headers: RFC 9110 header names, by path and line', () => {
  assertRefused('request_body_scanning:\n  sensitive_headers:\n    - Authorization\n    - "X-Api-Key: sk-test-value"\n', /request_body_scanning\.sensitive_headers\[1\]: "X-Api-Key: …" contains ":"; list the header name alone \("X-Api-Key"\)/, 4)
  // The value after the colon (perhaps a credential) is not echoed.
  assert.ok(!assertRefused('request_body_scanning:\n  sensitive_headers: ["X-Token: sk-test-value"]\n', /sensitive_headers\[0\]/).message.includes('sk-test-value'))
  assertRefused('request_body_scanning:\n  sensitive_headers: ["X Api Key"]\n', /sensitive_headers\[0\]: "X Api Key" is not a header name: " " is not allowed \(RFC 9110 token characters only\)/, 2)
  assertRefused('request_body_scanning:\n  sensitive_headers: [""]\n', /sensitive_headers\[0\]: empty header name/, 2)
  assertRefused('request_body_scanning:\n  ignore_headers: ["Accept ", "Host"]\n', /request_body_scanning\.ignore_headers\[0\]: "Accept " has leading or trailing whitespace, so it matches no header/, 2)
  assertRefused('request_body_scanning:\n  ignore_headers: ["User-Agent", "Content/Type"]\n', /ignore_headers\[1\]: "Content\/Type" is not a header name: "\/" is not allowed/, 2)
  // Checked with body scanning off too (a reload may turn it on).
  assertRefused('request_body_scanning:\n  enabled: false\n  sensitive_headers: ["X-Api-Key:"]\n', /sensitive_headers\[0\]: "X-Api-Key: …" contains ":"/, 3)
  const ok = load('request_body_scanning:\n  sensitive_headers: [authorization, X-Custom_Token, X-Goog-Api-Key]\n  ignore_headers: [Connection, Accept-Encoding]\n')
  assert.deepEqual(ok.config.request_body_scanning.sensitive_headers, ['authorization', 'X-Custom_Token', 'X-Goog-Api-Key'])
  assert.equal(load('').config.request_body_scanning.ignore_headers.length, 13)
})

test('entropy thresholds above 8 bits per character are a warning: the check is off in practice', () => {
  assert.deepEqual(load('fetch_proxy:\n  monitoring:\n    entropy_threshold: 99\n    subdomain_entropy_threshold: 8.5\n').warnings.map((w) => `${w.field}: ${w.message}`), [
    'fetch_proxy.monitoring.entropy_threshold: 99 is above 8 bits per character: only a value of more than 256 distinct characters can reach it, so this check is off in practice (the default is 4.5)',
    'fetch_proxy.monitoring.subdomain_entropy_threshold: 8.5 is above 8 bits per character: only a value of more than 256 distinct characters can reach it, so this check is off in practice (the default is 4.0)',
  ])
  assert.deepEqual(load('fetch_proxy:\n  monitoring:\n    entropy_threshold: 8\n').warnings, [])
})

test('fields whose 0 takes the default refuse a negative value in words that say so, and warn about 0 as 0', () => {
  const on = 'session_profiling:\n  enabled: true\nadaptive_enforcement:\n  enabled: true\n'
  assertRefused(on + '  decay_per_clean_request: -1\n', /adaptive_enforcement\.decay_per_clean_request: must be > 0 \(0 takes the default 0\.5\), got -1/, 5)
  assertRefused('session_profiling:\n  enabled: true\n  domain_burst: -2\n', /session_profiling\.domain_burst: must be > 0 \(0 takes the default 5\), got -2/)
  assertRefused('session_profiling:\n  max_sessions: -1\n', /session_profiling\.max_sessions: must be > 0 \(0 takes the default 1000\), got -1/)
  assertRefused('websocket_proxy:\n  enabled: true\n  idle_timeout_seconds: -1\n', /websocket_proxy\.idle_timeout_seconds: must be > 0 \(0 takes the default 300\), got -1/)
  const zero = load(on + '  decay_per_clean_request: 0\n')
  assert.equal(zero.config.adaptive_enforcement.decay_per_clean_request, 0.5)
  assert.deepEqual(zero.warnings.map((w) => `${w.field}: ${w.message}`), ['adaptive_enforcement.decay_per_clean_request: 0 is read as 0.5 (0 takes the default)'])
  assert.deepEqual(load('session_profiling:\n  max_sessions: 0\n').warnings.map((w) => w.message), ['0 is read as 1000 (0 takes the default)'])
  // Where every value ≤ 0 takes the default, the warning keeps saying so.
  assert.deepEqual(load('fetch_proxy:\n  timeout_seconds: -5\n').warnings.map((w) => w.message), ['-5 is read as 30 (a value ≤ 0 takes the default)'])
  // In an agent profile 0 replaces the base value as written, so it is refused there.
  assertRefused('session_profiling:\n  enabled: true\nagents:\n  a:\n    session_profiling:\n      domain_burst: 0\n', /agent "a": session_profiling\.domain_burst: must be > 0 \(in a profile 0 is not read as the default\), got 0/)
})

test('a required field left out of a list item is named as missing, not as a wrong type', () => {
  assertRefused('suppress:\n  - rule: "Credential in URL"\n', /invalid config: suppress\[0\]: missing required field "path"/, 2)
  assertRefused('suppress:\n  - path: "*.example.com"\n', /invalid config: suppress\[0\]: missing required field "rule"/, 2)
  assertRefused('suppress:\n  - rule: "Credential in URL"\n    path: ~\n', /suppress\[0\]: missing required field "path"/)
  assertRefused('dlp:\n  patterns:\n    - name: mine\n', /dlp\.patterns\[0\]: missing required field "regex"/, 3)
  // Present with the wrong type keeps its own words.
  assertRefused('suppress:\n  - rule: "Credential in URL"\n    path: 5\n', /suppress\[0\]\.path: expected a string/, 3)
})
