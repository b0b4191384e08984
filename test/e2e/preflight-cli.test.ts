/**
 * `pipelock check`, `pipelock doctor` and `pipelock audit score` (operations.md §7.3–7.5),
 * spawned as a user runs them: exact stdout, exact stderr, exit codes.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, existsSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {rawHttp, startProxy, tempDir} from './proxy-harness.js'

const dir = tempDir('pl-preflight-')
function cfg(name: string, yaml: string): string {
  const f = path.join(dir, name)
  writeFileSync(f, yaml, {mode: 0o600})
  return f
}
const bad = cfg('bad.yaml', 'mode: bogus\n')

const DEFAULT_REPORT = `Config validation: OK
  Mode:           balanced
  Listen:         127.0.0.1:8888
  API allowlist:  10 domains
  Blocklist:      6 patterns
  DLP patterns:   48 rules
  Entropy thresh: 4.5 bits
  Max URL length: 2048 chars
  Enabled:        response_scanning, response_scanning.sse_streaming, request_body_scanning, request_body_scanning.scan_headers, dlp.scan_env, seed_phrase_detection, health_watchdog, taint, media_policy
  Refused:        (none)
`

test('check: built-in defaults — report on stdout, the note on stderr, exit 0', () => {
  const r = runCli(['check'])
  assert.equal(r.stdout, DEFAULT_REPORT)
  assert.equal(r.stderr, 'Using default config (no --config specified)\n')
  assert.equal(r.status, 0)
})

test('check: a file with overrides; an invalid file exits 1 with one line', () => {
  const f = cfg('ok.yaml', 'mode: strict\napi_allowlist: [a.example, b.example]\nfetch_proxy:\n  listen: 127.0.0.1:9999\n  monitoring: {entropy_threshold: 3.25, max_url_length: 500, blocklist: []}\n')
  const r = runCli(['check', '--config', f])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '')
  assert.match(r.stdout, /^Config validation: OK\n  Mode:           strict\n  Listen:         127\.0\.0\.1:9999\n  API allowlist:  2 domains\n  Blocklist:      0 patterns\n  DLP patterns:   48 rules\n  Entropy thresh: 3\.2 bits\n  Max URL length: 500 chars\n/)
  const b = runCli(['check', '-c', bad])
  assert.equal(b.status, 1)
  assert.equal(b.stdout, '')
  assert.equal(b.stderr, `Config validation FAILED: ${bad}:1: invalid config: mode: must be one of strict, balanced, audit, got "bogus" [CONFIG_INVALID]\n`)
})

test('check and run: a config that contains itself through a YAML alias is refused with the alias line (it was a stack overflow)', () => {
  const f = cfg('self.yaml', 'mode: balanced\nforward_proxy: &fp\n  enabled: true\n  <<: *fp\n')
  const message = `${f}:4: parsing config: alias *fp is inside the node its anchor &fp names: a config cannot contain itself [CONFIG_INVALID]\n`
  const c = runCli(['check', '--config', f])
  assert.deepEqual([c.status, c.stdout, c.stderr], [1, '', `Config validation FAILED: ${message}`])
  const r = runCli(['run', '--config', f, '--listen', '127.0.0.1:0'])
  assert.deepEqual([r.status, r.stdout, r.stderr], [2, '', message]) // docs/run.md: 2 for an invalid config
})

test('check, doctor, audit score: a config that cannot be loaded is reported as docs/errors.md says (code, hint; --json: the error object alone)', () => {
  const message = `${bad}:1: invalid config: mode: must be one of strict, balanced, audit, got "bogus"`
  // the line pipelock run prints for the same file, after each command's own prefix
  const run = runCli(['run', '--config', bad, '--listen', '127.0.0.1:0'])
  assert.equal(run.stderr, `${message} [CONFIG_INVALID]\n`)
  for (const [args, prefix, exit] of [[['check'], 'Config validation FAILED: ', 1], [['audit', 'score'], 'loading config: ', 1], [['doctor'], 'config load error: ', 2]] as const) {
    const t = runCli([...args, '-c', bad])
    assert.deepEqual([t.status, t.stdout, t.stderr], [exit, '', `${prefix}${message} [CONFIG_INVALID]\n`])
    const j = runCli([...args, '-c', bad, '--json'])
    assert.deepEqual([j.status, j.stderr], [exit, ''])
    assert.equal(j.stdout, JSON.stringify({error: {code: 'CONFIG_INVALID', message, exit, file: bad, line: 1}}) + '\n')
  }
  const missing = path.join(dir, 'missing.yaml')
  const m = runCli(['check', '-c', missing])
  assert.deepEqual([m.status, m.stdout], [1, ''])
  assert.equal(m.stderr, `Config validation FAILED: reading config ${missing}: ENOENT (no such file) [FILE_NOT_FOUND]; hint: pass an existing YAML file to --config, or create one with: pipelock generate config --preset balanced --out pipelock.yaml\n`)
})

test('check: features this build refuses are listed and fail the check (run would not start)', () => {
  const f = cfg('refused.yaml', 'behavioral_baseline:\n  enabled: true\n')
  const r = runCli(['check', '--config', f])
  assert.equal(r.status, 1)
  assert.match(r.stdout, /^Config validation: OK as written, but pipelock run refuses to start with it \(see Refused\)\n/)
  assert.match(r.stdout, /\n  Refused:        behavioral_baseline \(not implemented in this build; pipelock run refuses to start\)\n$/)
  assert.equal(r.stderr, 'config enables a feature this version does not implement: behavioral_baseline; refusing to start\n')
  const j = runCli(['check', '--config', f, '--json'])
  const doc = JSON.parse(j.stdout) as {refused: string[]; enabled: string[]; valid: boolean}
  assert.equal(doc.valid, true)
  assert.deepEqual(doc.refused, ['behavioral_baseline'])
  assert.ok(doc.enabled.includes('behavioral_baseline'))
})

test('check: a value run refuses as an invalid config (an address no enabled chain accepts) is reported as run reports it, not as a valid config', () => {
  const f = cfg('bad-address.yaml', 'address_protection:\n  enabled: true\n  allowed_addresses: ["0xnotanaddress"]\n')
  const line = 'invalid config: address_protection.allowed_addresses[0] "0xnotanaddress" is not a valid address for any enabled chain'
  const r = runCli(['check', '--config', f])
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, `Config validation FAILED: ${line} [CONFIG_INVALID]\n`)
  const j = runCli(['check', '--config', f, '--json'])
  assert.equal(j.status, 1)
  assert.deepEqual(JSON.parse(j.stdout), {error: {code: 'CONFIG_INVALID', message: line, exit: 1}})
  const run = runCli(['run', '--config', f, '--listen', '127.0.0.1:0'])
  assert.equal(run.status, 2)
  assert.ok(run.stderr.endsWith(`${line} [CONFIG_INVALID]\n`), run.stderr)
})

test('check: a kill switch turned on in the config is a warning; one only armed (token, sentinel) is not', () => {
  const on = runCli(['check', '--config', cfg('ks-on.yaml', 'kill_switch: {enabled: true}\n')])
  assert.equal(on.status, 0, on.stderr)
  assert.equal(
    on.stderr,
    'WARNING: kill_switch.enabled: the kill switch is ON in this config: pipelock run will refuse every request from the start (except the exempt paths and kill_switch.allowlist_ips clients); set enabled: false to let traffic through (api_token or sentinel_file arm it without turning it on)\n',
  )
  const armed = runCli(['check', '--config', cfg('ks-armed.yaml', 'kill_switch: {api_token: check-fixture-token-of-24-chars, sentinel_file: /tmp/pl-ks}\n')])
  assert.equal(armed.status, 0, armed.stderr)
  assert.equal(armed.stderr, '')
  assert.equal(armed.stdout.split('\n').find((l) => l.startsWith('  Enabled:')), on.stdout.split('\n').find((l) => l.startsWith('  Enabled:')))
})

test('run: a kill switch turned on in the config is the warning check prints, before the banner; every request is refused', async () => {
  const check = runCli(['check', '--config', cfg('ks-on-2.yaml', 'kill_switch: {enabled: true}\n')])
  const proxy = await startProxy('kill_switch: {enabled: true}\n')
  try {
    const stderr = proxy.stderr()
    assert.ok(stderr.includes(check.stderr), stderr)
    assert.ok(stderr.indexOf(check.stderr) < stderr.indexOf(' starting\n'), 'the warning comes before the banner')
    const r = await rawHttp(proxy.port, {path: '/fetch?url=http%3A%2F%2Fexample.com%2F'})
    assert.equal(r.status, 503)
  } finally {
    await proxy.stop()
  }
})

const WEAK_TOKEN = "WARNING: the admin API token is shorter than 24 characters: ten wrong guesses from an address lock that address out, the operator's right token included; a longer token (openssl rand -hex 16) always passes\n"

test('check: an admin API token under 24 characters is the warning pipelock run prints; the env token wins, as run reads it', () => {
  const weak = cfg('weak-token.yaml', 'kill_switch: {api_token: change-me}\n')
  const r = runCli(['check', '--config', weak])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, WEAK_TOKEN)
  assert.deepEqual(JSON.parse(runCli(['check', '--config', weak, '--json']).stdout).warnings, [WEAK_TOKEN.replace(/^WARNING: /, '').trimEnd()])
  // a strong token in the environment is the one the admin API uses
  assert.equal(runCli(['check', '--config', weak], {env: {PIPELOCK_KILLSWITCH_API_TOKEN: 'a'.repeat(24)}}).stderr, '')
  assert.equal(runCli(['check', '--config', cfg('strong-token.yaml', `kill_switch: {api_token: ${'b'.repeat(24)}}\n`)], {env: {PIPELOCK_KILLSWITCH_API_TOKEN: 'short'}}).stderr, WEAK_TOKEN)
})

test('check and run: a config file others can read that holds the admin token in clear is a warning, as is one others can write', async () => {
  const yaml = `kill_switch: {api_token: ${'c'.repeat(24)}}\n`
  const shared = cfg('shared-token.yaml', yaml)
  chmodSync(shared, 0o644)
  const line = `WARNING: config file ${shared} holds kill_switch.api_token in clear and is readable by group or others (mode 0644): chmod 600 ${shared}, or move the admin token to PIPELOCK_KILLSWITCH_API_TOKEN (session commands refuse to read it from this file)\n`
  const r = runCli(['check', '--config', shared])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, line)
  assert.deepEqual(JSON.parse(runCli(['check', '--config', shared, '--json']).stdout).warnings, [line.replace(/^WARNING: /, '').trimEnd()])
  // pipelock run prints the same line before its banner.
  const proxy = await startProxy(null, {args: ['--config', shared]})
  try {
    const stderr = proxy.stderr()
    assert.ok(stderr.includes(line), stderr)
    assert.ok(stderr.indexOf(line) < stderr.indexOf(' starting\n'), 'the warning comes before the banner')
  } finally {
    await proxy.stop()
  }
  // Private again: nothing to say.
  chmodSync(shared, 0o600)
  assert.equal(runCli(['check', '--config', shared]).stderr, '')
  const writable = cfg('group-writable.yaml', 'mode: balanced\n')
  chmodSync(writable, 0o664)
  assert.equal(runCli(['check', '--config', writable]).stderr, `WARNING: config file ${writable} is writable by group or others (mode 0664): whoever can write it sets this proxy's policy (a reload applies an edit); chmod go-w ${writable}\n`)
})

test('check: an enabled sandbox section is accepted, as pipelock run accepts it (it configures pipelock sandbox and mcp proxy)', () => {
  const f = cfg('sandbox.yaml', 'sandbox:\n  enabled: true\n')
  const r = runCli(['check', '--config', f, '--json'])
  assert.equal(r.status, 0, r.stderr)
  const doc = JSON.parse(r.stdout) as {refused: string[]; enabled: string[]}
  assert.deepEqual(doc.refused, [])
  assert.ok(doc.enabled.includes('sandbox'))
})

test('check, doctor and run: the interception CA is read as run reads it (the pipelock home when ca_cert/ca_key are empty); a damaged one refuses all three alike', async () => {
  const home = tempDir('pipelock-ca-home-')
  const env = {PIPELOCK_HOME: home}
  assert.equal(runCli(['tls', 'init'], {env}).status, 0)
  const f = cfg('tls-home.yaml', 'forward_proxy: {enabled: true}\ntls_interception: {enabled: true}\n')
  // doctor read only ca_cert/ca_key and failed a CA run loads from the home ("not readable: <empty>, <empty>").
  const d = runCli(['doctor', '--config', f], {env})
  assert.ok(d.stdout.includes('[OK] tls_interception         [http]\n  CA material is readable; clients still need to trust the CA\n'), d.stdout)
  assert.equal(runCli(['check', '--config', f], {env}).status, 0)
  // The certificate's public key damaged (a byte of its EC point): check said OK, run refused
  // (with an internal error, before ca.ts decoded the key at parse).
  const pem = path.join(home, 'ca.pem')
  const {X509Certificate} = await import('node:crypto')
  const {readFileSync} = await import('node:fs')
  const der = Buffer.from(new X509Certificate(readFileSync(pem)).raw)
  const spki = new X509Certificate(der).publicKey.export({type: 'spki', format: 'der'})
  der[der.indexOf(spki.subarray(spki.length - 65)) + 10] ^= 0x55
  writeFileSync(pem, `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`)
  const c = runCli(['check', '--config', f], {env})
  assert.equal(c.status, 1)
  const why = c.stderr.split('\n').find((l) => l.startsWith('load TLS CA: parse CA cert: '))
  assert.ok(why !== undefined && why.endsWith("(run 'pipelock tls init' to generate)"), c.stderr)
  assert.ok(runCli(['doctor', '--config', f], {env}).stdout.includes(`[FAIL] tls_interception         [http]\n  configured, but pipelock run refuses its CA: ${why}\n`))
  const r = runCli(['run', '--config', f, '--listen', '127.0.0.1:0'], {env})
  assert.equal(r.status, 1)
  assert.ok(r.stderr.endsWith(`${why} [TLS_CA_INVALID]\n`), r.stderr)
})

test('check and run: a recorder or capture directory that cannot be created is refused by both; one not there yet is accepted and not created by check', () => {
  const dir = tempDir('pipelock-check-dirs-')
  const file = path.join(dir, 'a-file')
  writeFileSync(file, 'x')
  for (const [yaml, line] of [
    [`flight_recorder:\n  enabled: true\n  dir: ${file}\n`, `flight recorder: directory ${file}: is not a directory`],
    [`learn:\n  enabled: true\n  capture_dir: ${path.join(file, 'sub')}\n`, `capture directory ${path.join(file, 'sub')}: cannot be created: not a directory`],
  ] as const) {
    const f = cfg('dirs.yaml', yaml)
    const c = runCli(['check', '--config', f])
    assert.equal(c.status, 1, c.stdout)
    assert.ok(c.stderr.split('\n').includes(line), c.stderr)
    const r = runCli(['run', '--config', f, '--listen', '127.0.0.1:0'])
    assert.equal(r.status, 1, r.stderr)
  }
  const later = path.join(dir, 'later', 'evidence')
  const ok = runCli(['check', '--config', cfg('dirs-later.yaml', `flight_recorder:\n  enabled: true\n  dir: ${later}\n`)])
  assert.equal(ok.status, 0, ok.stderr)
  assert.equal(existsSync(path.join(dir, 'later')), false)
})

test('check --url: blocked exits 1 with "url blocked"; an allowed IP literal exits 0', () => {
  const b = runCli(['check', '--url', 'https://pastebin.com/raw/x'])
  assert.equal(b.stdout, DEFAULT_REPORT + '\nScanning URL: https://pastebin.com/raw/x\n  Result:  BLOCKED\n  Scanner: blocklist\n  Reason:  domain blocked: pastebin.com matches *.pastebin.com\n')
  assert.equal(b.stderr, 'Using default config (no --config specified)\nurl blocked\n')
  assert.equal(b.status, 1)
  const a = runCli(['check', '--url', 'https://93.184.215.14/index.html'])
  assert.equal(a.stdout, DEFAULT_REPORT + '\nScanning URL: https://93.184.215.14/index.html\n  Result:  ALLOWED\n')
  assert.equal(a.status, 0)
  const j = JSON.parse(runCli(['check', '--json', '--url', 'http://127.0.0.1:1/']).stdout) as {url: {allowed: boolean; scanner: string}}
  assert.deepEqual([j.url.allowed, j.url.scanner], [false, 'ssrf'])
})

const root = process.geteuid?.() === 0
const ROOT = root ? "\n[WARN] running as root: readability checks reflect root's view, not pipelock-proxy's. Re-run as the service user for an accurate readability report.\n" : ''

test('doctor: built-in defaults — exact report, one warning, exit 1', () => {
  const r = runCli(['doctor'])
  assert.equal(r.stdout, `Pipelock Enforcement Doctor
===========================
Config: defaults
Mode:   balanced
${ROOT}
[OK] http_proxy               [http]
  proxy listener is configured; OS/container policy must still force agents to use it
  next: pair this with containment (pipelock sandbox) or network policy so direct raw egress is blocked
[INFO] tls_interception         [http]
  disabled; HTTPS bodies are not visible unless traffic is plaintext or otherwise terminated
  next: enable TLS interception and install the Pipelock CA for Browser Shield/body scanning on HTTPS
[WARN] request_body_scanning    [http]
  enabled with action=warn; this is not blocking enforcement
  next: set request_body_scanning.action=block before claiming enforcement
[INFO] browser_shield           [http]
  disabled
  next: enable browser_shield where agent browser responses should be rewritten
[INFO] mcp_wrapper_scanning     [mcp]
  MCP wrapper-dependent scanning features are disabled
  next: enable MCP scanning where tools are launched through pipelock mcp proxy or an MCP listener
[INFO] mcp_binary_integrity     [mcp]
  disabled
  next: enable after generating a real manifest for wrapped MCP server binaries
[INFO] mcp_tool_provenance      [mcp]
  disabled
  next: enable where signed tools/list provenance should be required
[INFO] file_sentry              [mcp]
  disabled
  next: enable with reachable watch_paths where workspace drift should be detected
[INFO] sentry                   [host]
  not supported in this build
  next: use the audit log, /metrics and event emission (emit.webhook/syslog/otlp) for alerting
[INFO] direct_egress_boundary   [host]
  proxy env vars only steer cooperative clients; launch agents with pipelock sandbox or behind cluster network policy so raw egress is blocked
  next: run pipelock sandbox --dry-run -- AGENT to see which containment layers this host provides, or cluster topology smoke tests; agents launched outside that boundary can still use the operator's normal network

Summary: 1 ok, 1 warning, 0 failure, 8 info
`)
  assert.equal(r.stderr, '1 doctor warning(s)\n')
  assert.equal(r.status, 1)
})

test('doctor: failures exit 2; enforce off warns; a clean config exits 0; --json; load error exits 2', () => {
  const f = cfg('doctor-fail.yaml', [
    'tls_interception: {enabled: true, ca_cert: /nonexistent/ca.pem, ca_key: /nonexistent/key.pem}',
    // An enabled file_sentry without watch_paths is a config error since issue 39: a missing path is doctor's.
    'file_sentry: {enabled: true, watch_paths: [/nonexistent/dir]}',
    'mcp_binary_integrity: {enabled: true, manifest_path: /nonexistent/manifest.json}',
  ].join('\n') + '\n')
  const r = runCli(['doctor', '--config', f])
  assert.equal(r.status, 2)
  assert.equal(r.stderr, '3 doctor failure(s)\n')
  assert.ok(r.stdout.includes("[FAIL] tls_interception         [http]\n  configured, but pipelock run refuses its CA: CA cert not found at /nonexistent/ca.pem (run 'pipelock tls init'): stat /nonexistent/ca.pem: no such file or directory\n  next: fix ca_cert/ca_key paths or rerun pipelock tls init\n"), r.stdout)
  assert.ok(r.stdout.includes('[FAIL] file_sentry              [mcp]\n  watch path(s) not readable: /nonexistent/dir\n'))
  assert.ok(r.stdout.includes('[FAIL] mcp_binary_integrity     [mcp]\n  enabled but manifest is not readable: /nonexistent/manifest.json\n'))
  assert.ok(r.stdout.includes(`Config: ${f}\n`))
  const clean = cfg('doctor-clean.yaml', 'request_body_scanning: {enabled: true, action: block}\n')
  const c = runCli(['doctor', '-c', clean])
  assert.equal(c.status, 0, c.stdout)
  assert.equal(c.stderr, '')
  assert.ok(c.stdout.endsWith('Summary: 2 ok, 0 warning, 0 failure, 8 info\n'))
  const off = cfg('doctor-off.yaml', 'enforce: false\n')
  const o = runCli(['doctor', '-c', off, '--json'])
  assert.equal(o.status, 1)
  const doc = JSON.parse(o.stdout) as {config_file: string; mode: string; root_run_banner?: string; summary: Record<string, number>; checks: Array<Record<string, unknown>>}
  assert.equal(doc.config_file, off)
  assert.equal(doc.root_run_banner !== undefined, root)
  assert.deepEqual(doc.summary, {ok: 0, warnings: 2, failures: 0, info: 8})
  assert.deepEqual(doc.checks[0], {
    name: 'http_proxy', surface: 'http', status: 'warn', configured: true, reachable: true, enforcing: false,
    detail: 'proxy listener is configured, but global enforce=false means observation/audit mode', next: 'set enforce=true before claiming blocking enforcement',
  })
  assert.deepEqual(Object.keys(doc), ['config_file', 'mode', 'version', ...(root ? ['root_run_banner'] : []), 'summary', 'checks'])
  const l = runCli(['doctor', '-c', bad])
  assert.equal(l.status, 2)
  assert.equal(l.stdout, '')
  assert.equal(l.stderr, `config load error: ${bad}:1: invalid config: mode: must be one of strict, balanced, audit, got "bogus" [CONFIG_INVALID]\n`)
})

test('doctor: an enabled flight recorder is checked — a directory it cannot write fails, no signing key warns, a readable key is ok', () => {
  // Under a regular file: no user, root included, can create the directory there.
  const blocked = path.join(cfg('doctor-fr-file.txt', 'a file\n'), 'evidence')
  const unwritable = cfg('doctor-fr-ro.yaml', `flight_recorder: {enabled: true, dir: ${JSON.stringify(blocked)}}\n`)
  const u = runCli(['doctor', '-c', unwritable])
  assert.equal(u.status, 2)
  assert.ok(u.stdout.includes(`[FAIL] flight_recorder          [host]\n  dir is not writable by this user: ${blocked}\n  next: create the directory for the proxy user (mode 0700), or point flight_recorder.dir elsewhere\n`), u.stdout)
  const evidence = path.join(dir, 'not-yet', 'evidence')
  const unsigned = cfg('doctor-fr-unsigned.yaml', `flight_recorder: {enabled: true, dir: ${JSON.stringify(evidence)}}\n`)
  const w = runCli(['doctor', '-c', unsigned])
  assert.equal(w.status, 1)
  const hint = 'make one with pipelock keygen NAME and point signing_key_path at its id_ed25519 (a JSON key from pipelock signing key generate is not a recorder key)'
  assert.ok(w.stdout.includes(`[WARN] flight_recorder          [host]\n  evidence goes to ${evidence}, unsigned: without signing_key_path neither receipts nor checkpoints are signed, so the chain proves order but not who wrote it\n  next: ${hint}\n`), w.stdout)
  const keystore = path.join(dir, 'doctor-keystore')
  assert.equal(runCli(['keygen', 'recorder', '--keystore', keystore]).status, 0)
  const key = path.join(keystore, 'agents', 'recorder', 'id_ed25519')
  const signed = cfg('doctor-fr-signed.yaml', `flight_recorder: {enabled: true, dir: ${JSON.stringify(evidence)}, signing_key_path: ${JSON.stringify(key)}}\n`)
  const k = runCli(['doctor', '-c', signed])
  assert.ok(k.stdout.includes(`[OK] flight_recorder          [host]\n  evidence goes to ${evidence}, receipts and checkpoints signed with ${key}\n`), k.stdout)
  // A JSON deployment key is not a recorder key: refused as pipelock run refuses it.
  const json = path.join(dir, 'doctor-receipt.json')
  assert.equal(runCli(['signing', 'key', 'generate', '--purpose', 'receipt-signing', '--out', json]).status, 0)
  const wrong = cfg('doctor-fr-json.yaml', `flight_recorder: {enabled: true, dir: ${JSON.stringify(evidence)}, signing_key_path: ${JSON.stringify(json)}}\n`)
  const j = runCli(['doctor', '-c', wrong])
  assert.equal(j.status, 2)
  assert.match(j.stdout, new RegExp(`\\[FAIL\\] flight_recorder {10}\\[host\\]\\n  flight_recorder\\.signing_key_path: ${json.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `))
})

const SCORE_DEFAULTS = `Pipelock Config Security Score
==============================
Config: (built-in defaults)

  DLP                       [##########] 15/15 (48 patterns)
  Response Scanning         [#######---] 7/10 (29 patterns, action=warn)
  MCP Tool Scanning         [----------] 0/10 (off; MCP proxy modes enable it, action=block)
  MCP Tool Policy           [----------] 0/15 (0 rules)
  MCP Input Scanning        [----------] 0/5
  MCP Session Binding       [----------] 0/5
  Kill Switch               [----------] 0/10 (0 sources)
  Enforcement               [########--] 8/10 (mode=balanced, enforce=true)
  Domain Blocklist          [##########] 5/5 (6 entries)
  Adaptive Enforcement      [----------] 0/5
  Tool Chain Detection      [----------] 0/5
  Sandbox                   [----------] 0/5
  Live-Lock Contracts       [----------] 0/10
  Redaction                 [----------] 0/10
  Browser Shield            [----------] 0/5
  Mediation Envelope        [----------] 0/5
  Flight Recorder           [----------] 0/5
  Request Body Scanning     [#######---] 7/10
  Cross-Request Detection   [----------] 0/5
  Address Protection        [----------] 0/5
  Seed-Phrase Detection     [##########] 5/5
  Git Protection            [----------] 0/5
  File Sentry               [----------] 0/5

Overall: 47/170 (27%) Grade: F

Recommendations:
  [WARNING]  Response scanning action is "warn" — consider 'block' or 'ask' for enforcement
  [CRITICAL] MCP tool scanning is disabled — tool poisoning and rug-pull attacks won't be detected
  [WARNING]  MCP tool policy is disabled — no pre-execution rules on tool calls
  [INFO]     MCP input scanning is disabled — agent-to-server DLP and injection checks are off
  [INFO]     MCP session binding is disabled — tool inventory changes mid-session won't be detected
  [WARNING]  No kill switch API token or sentinel file configured — only SIGUSR1 on the proxy host can stop traffic in an emergency
  [INFO]     Adaptive enforcement is disabled — no automatic escalation on suspicious patterns
  [INFO]     Tool chain detection is disabled — multi-step attack sequences won't trigger alerts
  [INFO]     Sandbox is not enabled — agent processes run without containment
  [INFO]     Live-lock contracts are disabled — agent behavior drift is not gated
  [WARNING]  Redaction is disabled — provider request/response bodies are not class-preserved
  [INFO]     Browser shield is disabled — fetch responses are not stripped of DOM traps or tracking pixels
  [INFO]     Mediation envelope is disabled — no federation verification of inbound or signed receipts on outbound
  [INFO]     Flight recorder is disabled — no replayable per-decision evidence is produced
  [WARNING]  Request body scanning action is "warn" — consider 'block' for enforcement
  [INFO]     Cross-request detection is disabled — secrets split across multiple requests will not be reassembled
  [INFO]     Address protection is disabled — blockchain address poisoning is not detected
  [INFO]     Git protection is disabled — pre-push secret scans and command gating are inactive
  [INFO]     File sentry is disabled — filesystem-watch DLP is inactive
`

test('audit score: built-in defaults — exact report on stdout, exit 0', () => {
  const r = runCli(['audit', 'score'])
  assert.equal(r.stdout, SCORE_DEFAULTS)
  assert.equal(r.stderr, '')
  assert.equal(r.status, 0)
})

test('audit score: an API token is a kill switch source (on the main listener or api_listen); a disabled tool scan names its effective action', () => {
  const line = (f: string, name: string): string | undefined => runCli(['audit', 'score', '-c', f]).stdout.split('\n').find((l) => l.startsWith(`  ${name} `))
  const token = cfg('score-token.yaml', 'kill_switch: {api_token: score-fixture-token}\n')
  assert.equal(line(token, 'Kill Switch'), '  Kill Switch               [###-------] 3/10 (1 sources)')
  assert.doesNotMatch(runCli(['audit', 'score', '-c', token]).stdout, /kill switch API token or sentinel/)
  const both = cfg('score-token-sentinel.yaml', 'kill_switch: {api_token: score-fixture-token, sentinel_file: /tmp/pl-ks}\n')
  assert.equal(line(both, 'Kill Switch'), '  Kill Switch               [######----] 6/10 (2 sources)')
  const listen = cfg('score-api-listen.yaml', 'kill_switch: {api_token: score-fixture-token, api_listen: "127.0.0.1:19411"}\n')
  assert.equal(line(listen, 'Kill Switch'), '  Kill Switch               [###-------] 3/10 (1 sources)')
  const off = cfg('score-tool-scan-off.yaml', 'mcp_tool_scanning: {enabled: false, action: warn}\n')
  assert.equal(line(off, 'MCP Tool Scanning'), '  MCP Tool Scanning         [----------] 0/10 (off)')
})

test('audit score: tool policy findings, capped categories, grade; --json shape; load failure exits 1', () => {
  const f = cfg('score.yaml', [
    'kill_switch: {enabled: true, sentinel_file: /tmp/pl-ks}',
    'mcp_tool_scanning: {enabled: true, action: block}',
    'mcp_tool_policy:',
    '  enabled: true',
    '  action: warn',
    '  rules:',
    '    - {name: shell-any, tool_pattern: "Bash", arg_pattern: "^.*$"}',
    '    - {name: rm-block, tool_pattern: "rm", action: block}',
    'request_body_scanning: {enabled: true, action: block, scan_headers: true}',
  ].join('\n') + '\n')
  const r = runCli(['audit', 'score', '--config', f, '--json'])
  assert.equal(r.status, 0, r.stderr)
  const doc = JSON.parse(r.stdout) as {total_score: number; max_score: number; percentage: number; grade: string; categories: Array<{name: string; score: number; max_score: number; detail?: string}>; findings: Array<{severity: string; category: string; message: string}>; config_file: string}
  assert.deepEqual(Object.keys(doc), ['total_score', 'max_score', 'percentage', 'grade', 'categories', 'findings', 'config_file'])
  assert.equal(doc.max_score, 170)
  assert.equal(doc.categories.length, 23)
  const byName = Object.fromEntries(doc.categories.map((c) => [c.name, c]))
  assert.deepEqual(byName['MCP Tool Policy'], {name: 'MCP Tool Policy', score: 11, max_score: 15, detail: '2 rules'})
  assert.deepEqual(byName['Kill Switch'], {name: 'Kill Switch', score: 7, max_score: 10, detail: '2 sources'})
  assert.deepEqual(byName['MCP Tool Scanning'], {name: 'MCP Tool Scanning', score: 10, max_score: 10, detail: 'action=block'})
  assert.deepEqual(byName['Request Body Scanning'], {name: 'Request Body Scanning', score: 10, max_score: 10})
  assert.deepEqual(doc.findings.filter((x) => x.category === 'MCP Tool Policy'), [
    {severity: 'warning', category: 'MCP Tool Policy', message: 'Rule "shell-any" has wildcard arg_pattern "^.*$" — matches all arguments, consider narrowing'},
    {severity: 'warning', category: 'MCP Tool Policy', message: 'Rule "shell-any" matches high-risk tools but effective action is "warn" — consider \'block\''},
  ])
  assert.equal(doc.total_score, doc.categories.reduce((a, c) => a + c.score, 0))
  assert.equal(doc.percentage, Math.floor((doc.total_score * 100) / 170))
  assert.equal(doc.config_file, f)
  const t = runCli(['audit', 'score', '-c', f])
  assert.ok(t.stdout.includes(`Config: ${f}\n`))
  assert.ok(t.stdout.includes('  MCP Tool Policy           [#######---] 11/15 (2 rules)\n'))
  assert.ok(t.stdout.includes(`\nOverall: ${doc.total_score}/170 (${doc.percentage}%) Grade: ${doc.grade}\n`))
  const l = runCli(['audit', 'score', '-c', bad])
  assert.equal(l.status, 1)
  assert.equal(l.stdout, '')
  assert.equal(l.stderr, `loading config: ${bad}:1: invalid config: mode: must be one of strict, balanced, audit, got "bogus" [CONFIG_INVALID]\n`)
})

test('check: a config file that sets nothing (zero bytes, comments only, null, {}) runs as the defaults, and says so', () => {
  for (const [name, text] of [['empty.yaml', ''], ['comments.yaml', '# nothing yet\n'], ['null.yaml', 'null\n'], ['braces.yaml', '{}\n']] as const) {
    const f = cfg(name, text)
    const r = runCli(['check', '--config', f])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, DEFAULT_REPORT, name)
    assert.equal(r.stderr, `WARNING: ${f}: the file sets nothing (empty, comments only, null or {}): the built-in defaults are used\n`, name)
  }
  // one key is a config: no warning
  assert.equal(runCli(['check', '--config', cfg('one-key.yaml', 'mode: balanced\n')]).stderr, '')
})
