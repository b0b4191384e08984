/**
 * `pipelock check` and `pipelock run` give the same verdict on the same config (issue 38): both
 * call one refusal function (proxy/runnable.ts), and this test holds them to it through the built
 * CLI on every shipped preset (as `generate config` renders it) and on one config per feature
 * section, plus the cases that used to differ (per-agent profiles, the recorder's retention and
 * escrow, taint policies). `run` counts as accepting once its banner shows the bound address;
 * it is stopped right there.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {FEATURE_SECTION_NAMES, PRESET_NAMES, renderPresetYaml} from '../../src/plugins/config/index.js'
import {repoPath} from '../helpers/vectors.js'
import {freePort, interceptingWebSocketConfig, tempDir} from './proxy-harness.js'

type Verdict = 'accept' | 'refuse'

/** `pipelock run` on the file: accept once it listens (then SIGTERM), refuse when it exits first. */
async function runVerdict(file: string): Promise<{verdict: Verdict; stderr: string}> {
  const proc = spawn(process.execPath, [repoPath('bin', 'run.js'), 'run', '--config', file, '--listen', '127.0.0.1:0'], {
    cwd: repoPath(), env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`pipelock run neither listened nor exited within 30 s:\n${err}`))
    }, 30_000)
    let listening = false
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString('utf8')
      if (!listening && /^ {2}Listen: 127\.0\.0\.1:\d+$/m.test(err)) {
        listening = true
        proc.kill('SIGKILL') // the verdict is in; a graceful stop is tested elsewhere
      }
    })
    proc.once('exit', (code) => {
      clearTimeout(timer)
      resolve({verdict: listening ? 'accept' : code === 0 ? 'accept' : 'refuse', stderr: err})
    })
  })
}

/** `pipelock check` on the file: accept on exit 0. Asynchronous, so it runs beside `run`. */
async function checkVerdict(file: string): Promise<{verdict: Verdict; stderr: string}> {
  const proc = spawn(process.execPath, [repoPath('bin', 'run.js'), 'check', '--config', file], {
    cwd: repoPath(), env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')))
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve))
  return {verdict: code === 0 ? 'accept' : 'refuse', stderr: err}
}

const dir = tempDir('pipelock-agree-')
const secrets = path.join(dir, 'secrets.txt')
writeFileSync(secrets, 'not-a-real-secret-value-0123456789\n')

/** One config per feature section that turns that section on (FEATURE_SECTIONS names). */
const SECTION_CONFIGS: Record<string, string> = {
  forward_proxy: 'forward_proxy:\n  enabled: true\n',
  websocket_proxy: 'websocket_proxy:\n  enabled: true\n',
  reverse_proxy: `reverse_proxy:\n  enabled: true\n  listen: 127.0.0.1:${await freePort()}\n  upstream: http://127.0.0.1:9\n`,
  tls_interception: interceptingWebSocketConfig(dir).config,
  response_scanning: 'response_scanning:\n  enabled: true\n',
  'response_scanning.sse_streaming': 'response_scanning:\n  enabled: true\n  sse_streaming:\n    enabled: true\n',
  request_body_scanning: 'request_body_scanning:\n  enabled: true\n',
  'request_body_scanning.scan_headers': 'request_body_scanning:\n  enabled: true\n  scan_headers: true\n',
  'dlp.scan_env': 'dlp:\n  scan_env: true\n',
  'dlp.secrets_file': `dlp:\n  secrets_file: ${secrets}\n`,
  canary_tokens: 'canary_tokens:\n  enabled: true\n  tokens:\n    - name: c1\n      value: AKIAZZZZZZZZZZZZZZZZ\n',
  seed_phrase_detection: 'seed_phrase_detection:\n  enabled: true\n',
  suppress: 'suppress:\n  - rule: "Credential in URL"\n    path: "*.example.com"\n',
  kill_switch: `kill_switch:\n  sentinel_file: ${path.join(dir, 'ks')}\n`,
  'kill_switch.api_listen': `kill_switch:\n  api_listen: 127.0.0.1:${await freePort()}\n  api_token: agree-test-token-0123456789\n`,
  metrics_listen: `metrics_listen: 127.0.0.1:${await freePort()}\n`,
  health_watchdog: 'health_watchdog:\n  enabled: true\n',
  session_profiling: 'session_profiling:\n  enabled: true\n',
  adaptive_enforcement: 'session_profiling:\n  enabled: true\nadaptive_enforcement:\n  enabled: true\n',
  airlock: 'session_profiling:\n  enabled: true\nadaptive_enforcement:\n  enabled: true\nairlock:\n  enabled: true\n',
  taint: 'session_profiling:\n  enabled: true\ntaint:\n  enabled: true\n',
  media_policy: 'media_policy:\n  enabled: true\n',
  cross_request_detection: 'cross_request_detection:\n  enabled: true\n',
  mcp_input_scanning: 'mcp_input_scanning:\n  enabled: true\n',
  mcp_tool_scanning: 'mcp_tool_scanning:\n  enabled: true\n',
  mcp_tool_policy: 'mcp_tool_policy:\n  enabled: true\n',
  mcp_session_binding: 'mcp_session_binding:\n  enabled: true\n',
  mcp_binary_integrity: `mcp_binary_integrity:\n  enabled: true\n  manifest_path: ${path.join(dir, 'manifest.json')}\n`,
  mcp_tool_provenance: 'mcp_tool_provenance:\n  enabled: true\n',
  tool_chain_detection: 'tool_chain_detection:\n  enabled: true\n',
  git_protection: 'git_protection:\n  enabled: true\n',
  address_protection: 'address_protection:\n  enabled: true\n',
  file_sentry: `file_sentry:\n  enabled: true\n  watch_paths: [${JSON.stringify(dir)}]\n`,
  sandbox: 'sandbox:\n  enabled: true\n',
  flight_recorder: `flight_recorder:\n  enabled: true\n  dir: ${path.join(dir, 'fr')}\n`,
  behavioral_baseline: 'behavioral_baseline:\n  enabled: true\n',
  browser_shield: 'browser_shield:\n  enabled: true\n',
  a2a_scanning: 'a2a_scanning:\n  enabled: true\n',
  mediation_envelope: 'mediation_envelope:\n  enabled: true\n',
  'mediation_envelope.verify_inbound': 'mediation_envelope:\n  verify_inbound:\n    enabled: true\n',
  redaction: 'redaction:\n  enabled: true\n',
  learn: `learn:\n  enabled: true\n  capture_dir: ${path.join(dir, 'capture')}\n`,
  learn_lock: `learn_lock:\n  enabled: true\n  store_dir: ${path.join(dir, 'store')}\n  roster_path: ${path.join(dir, 'roster.json')}\n  environment:\n    id: e1\n    tenant: t1\n    deployment_id: d1\n`,
  scan_api: `scan_api:\n  listen: 127.0.0.1:${await freePort()}\n  auth:\n    bearer_tokens: ["agree-test-token-0123456789"]\n`,
  'emit.webhook': 'emit:\n  webhook:\n    url: http://127.0.0.1:9/hook\n',
  'emit.syslog': 'emit:\n  syslog:\n    address: udp://127.0.0.1:9\n',
  'emit.otlp': 'emit:\n  otlp:\n    endpoint: http://127.0.0.1:9\n',
  sentry: 'sentry:\n  enabled: true\n  dsn: https://key@127.0.0.1:9/1\n',
  rules: `rules:\n  rules_dir: ${path.join(dir, 'rules')}\n`,
  agents: 'agents:\n  a1:\n    mode: balanced\n',
  'logging.file': `logging:\n  output: file\n  file: ${path.join(dir, 'audit.log')}\n`,
  'logging.format.text': 'logging:\n  format: text\n',
  bind_default_agent_identity: 'default_agent_identity: a1\nbind_default_agent_identity: true\n',
  license: 'license_key: not-a-licence\n',
  mcp_ws_listener: 'mcp_ws_listener:\n  allowed_origins: ["https://example.com"]\n',
}

const clashPort = await freePort()

/** The places the two used to disagree (issue 38), and neighbours of them. */
const EDGE_CONFIGS: Record<string, string> = {
  'flight_recorder.retention_days': `flight_recorder:\n  enabled: true\n  dir: ${path.join(dir, 'fr-ret')}\n  retention_days: 7\n`,
  'flight_recorder.raw_escrow': `flight_recorder:\n  enabled: true\n  dir: ${path.join(dir, 'fr-esc')}\n  raw_escrow: true\n`,
  'agents.*.sandbox': 'agents:\n  a1:\n    sandbox:\n      enabled: true\n',
  'agents.*.sandbox strict+best_effort': 'agents:\n  a1:\n    sandbox:\n      enabled: true\n      strict: true\n      best_effort: true\n',
  'agents.*.mcp_tool_policy redirect': 'agents:\n  a1:\n    mcp_tool_policy:\n      enabled: true\n      action: redirect\n',
  // The interceptor's certificate lifetime: run refused it, check said OK.
  'tls_interception.cert_ttl 1d': interceptingWebSocketConfig(path.join(dir, 'ttl')).config + '  cert_ttl: 1d\n',
  'tls_interception.cert_ttl -1h': interceptingWebSocketConfig(path.join(dir, 'ttl-neg')).config + '  cert_ttl: -1h\n',
  'taint.policy strict': 'session_profiling:\n  enabled: true\ntaint:\n  enabled: true\n  policy: strict\n',
  'taint.policy strict, profiling off': 'session_profiling:\n  enabled: false\ntaint:\n  enabled: true\n  policy: strict\n',
  // Two of pipelock's own listeners on one address: run failed with EADDRINUSE, check said OK.
  'reverse_proxy.listen = metrics_listen': `metrics_listen: 127.0.0.1:${clashPort}\nreverse_proxy:\n  enabled: true\n  listen: 127.0.0.1:${clashPort}\n  upstream: http://127.0.0.1:9\n`,
  'logging.file a directory': `logging:\n  output: file\n  file: ${dir}\n`,
  // Under a path that is a file: run failed with ENOTDIR, check said OK. In a directory not yet
  // there: run failed with ENOENT, check said OK; run now creates it.
  'logging.file under a file': `logging:\n  output: file\n  file: ${path.join(secrets, 'x', 'audit.log')}\n`,
  'logging.file in a missing directory': `logging:\n  output: file\n  file: ${path.join(dir, 'new-log-dir', 'sub', 'audit.log')}\n`,
  // A header value the HTTP client refuses: both accepted it, then every /fetch failed.
  'fetch_proxy.user_agent with CRLF': 'fetch_proxy:\n  user_agent: "bot\\r\\nX-Injected: 1"\n',
}

function configs(): Array<[string, string]> {
  const out: Array<[string, string]> = []
  // The presets as `generate config` writes them (its own output is tested in generate-config).
  for (const p of PRESET_NAMES) out.push([`preset ${p}`, renderPresetYaml(p)])
  for (const s of FEATURE_SECTION_NAMES) {
    assert.ok(SECTION_CONFIGS[s] !== undefined, `no agreement config for feature section ${s}: add one`)
    out.push([`section ${s}`, SECTION_CONFIGS[s]!])
  }
  for (const [k, v] of Object.entries(EDGE_CONFIGS)) out.push([k, v])
  return out
}

describe('pipelock check and pipelock run agree', {timeout: 600_000}, () => {
  it('the same accept/refuse verdict on every preset, every feature section and the former disagreements', async () => {
    const rows: string[] = []
    const disagree: string[] = []
    const cases = configs()
    for (const [i, [name, yaml]] of cases.entries()) {
      const file = path.join(dir, `c${i}.yaml`)
      writeFileSync(file, yaml)
      const [c, r] = await Promise.all([checkVerdict(file), runVerdict(file)])
      rows.push(`${name}: ${c.verdict}`)
      if (c.verdict !== r.verdict) disagree.push(`${name}: check ${c.verdict}, run ${r.verdict}\n  check: ${c.stderr.trim()}\n  run: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`)
    }
    assert.deepEqual(disagree, [], disagree.join('\n'))
    // Both verdicts occur (a harness that always says "accept" would agree trivially).
    assert.ok(rows.some((r) => r.endsWith(': accept')) && rows.some((r) => r.endsWith(': refuse')), rows.join('\n'))
    for (const p of PRESET_NAMES) assert.ok(rows.includes(`preset ${p}: accept`), `preset ${p} must start:\n${rows.join('\n')}`)
  })
})
