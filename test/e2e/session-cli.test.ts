import {before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {
  ADAPTIVE_STATUS,
  ADAPTIVE_STATUS_TEXT,
  DETAIL_HELD,
  EXPLAIN_HELD,
  FakeAdminApi,
  HELD_DETAIL_TEXT,
  HELD_EXPLAIN_TEXT,
  NOW,
  SNAPSHOT_CALM,
  SNAPSHOT_HELD,
  WHOAMI,
  cleanEnv,
  runCliAsync,
} from '../helpers/fake-admin-api.js'
import {repoPath} from '../helpers/vectors.js'

// The built CLI (`node bin/run.js session|adaptive …`) against a fake §12 server on 127.0.0.1:
// exact stdout, stderr and exit status, and what the server received.

const TOKEN = 'e2e-token'
const KEY = 'shop-agent|10.0.0.5'
const ENC = '/api/v1/sessions/shop-agent%7C10.0.0.5'
const lines = (ls: readonly string[]): string => ls.join('\n') + '\n'

let home: string
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => cleanEnv({HOME: home, PIPELOCK_CLI_NOW: NOW, ...extra})

/** One fake server per test: each test's request log and replies are its own. */
async function withApi(fn: (api: FakeAdminApi, run: (args: string[], extraEnv?: NodeJS.ProcessEnv) => ReturnType<typeof runCliAsync>) => Promise<void>): Promise<void> {
  const api = await FakeAdminApi.start(TOKEN)
  try {
    await fn(api, async (args, extraEnv) => await runCliAsync([...args, '--api-url', `127.0.0.1:${api.port}/`], {env: env({PIPELOCK_KILLSWITCH_API_TOKEN: TOKEN, ...extraEnv})}))
  } finally {
    await api.close()
  }
}

before(() => {
  home = mkdtempSync(path.join(tmpdir(), 'pipelock-session-e2e-'))
})

describe('pipelock session / adaptive against a fake admin API', {concurrency: 3}, () => {
  test('session list: table, --tier sent as a query, Bearer token from PIPELOCK_KILLSWITCH_API_TOKEN', async () => {
    await withApi(async (api, run) => {
      api.on('GET /api/v1/sessions', {body: {sessions: [SNAPSHOT_HELD, SNAPSHOT_CALM], count: 2}})
      api.on('GET /api/v1/sessions?tier=hard', {body: {sessions: [], count: 0}})
      const r = await run(['session', 'list'])
      assert.deepEqual(r, {
        status: 0,
        stderr: '',
        stdout: lines([
          'KEY                  AGENT       IP         TIER  ESCALATION  SCORE  LAST-ACTIVE',
          'shop-agent|10.0.0.5  shop-agent  10.0.0.5   hard  high        12.62  45s ago',
          'mcp-stdio-42         mcp         127.0.0.1  none  normal      0.00   1h2m0s ago',
        ]),
      })
      assert.deepEqual(await run(['session', 'list', '--tier', 'hard']), {status: 0, stderr: '', stdout: 'No sessions match.\n'})
      assert.deepEqual(
        api.requests.map((q) => [q.method, q.path, q.authorization]),
        [
          ['GET', '/api/v1/sessions', `Bearer ${TOKEN}`],
          ['GET', '/api/v1/sessions?tier=hard', `Bearer ${TOKEN}`],
        ],
      )
    })
  })

  test('--json prints the server answer re-encoded with two-space indentation (newer fields kept)', async () => {
    await withApi(async (api, run) => {
      const body = {sessions: [{...SNAPSHOT_CALM, future_field: true}], count: 1, server: {version: '9'}}
      api.on('GET /api/v1/sessions', {body})
      assert.deepEqual(await run(['session', 'list', '--json']), {status: 0, stderr: '', stdout: JSON.stringify(body, null, 2) + '\n'})
      api.on('GET /api/v1/adaptive/whoami', {body: WHOAMI})
      assert.deepEqual(await run(['adaptive', 'whoami', '--json']), {status: 0, stderr: '', stdout: JSON.stringify(WHOAMI, null, 2) + '\n'})
    })
  })

  test('session inspect and explain: %7C-encoded key, exact blocks', async () => {
    await withApi(async (api, run) => {
      api.on(`GET ${ENC}`, {body: DETAIL_HELD}).on(`GET ${ENC}/explain`, {body: EXPLAIN_HELD})
      assert.deepEqual(await run(['session', 'inspect', KEY]), {status: 0, stderr: '', stdout: lines(HELD_DETAIL_TEXT)})
      assert.deepEqual(await run(['session', 'explain', KEY]), {status: 0, stderr: '', stdout: lines(HELD_EXPLAIN_TEXT)})
      assert.deepEqual(api.requests.map((q) => q.path), [ENC, `${ENC}/explain`])
    })
  })

  test('session release: POST …/airlock; --to soft reads the tier from the session list first, and an upward move is refused with exit 2 and no POST', async () => {
    await withApi(async (api, run) => {
      api.on(`POST ${ENC}/airlock`, {body: {key: KEY, previous_tier: 'hard', new_tier: 'none', changed: true}})
      assert.deepEqual(await run(['session', 'release', KEY]), {status: 0, stderr: '', stdout: 'released shop-agent|10.0.0.5: hard -> none (changed=true)\n'})
      // none is the lowest tier: no move to it can raise one, so nothing is read first
      assert.deepEqual(api.requests.map((q) => [q.method, q.path, q.body]), [['POST', `${ENC}/airlock`, '{"tier":"none"}']])
      api.reset()
      api.on('GET /api/v1/sessions', {body: {sessions: [SNAPSHOT_CALM, SNAPSHOT_HELD], count: 2}})
      api.on(`POST ${ENC}/airlock`, {body: {key: KEY, previous_tier: 'hard', new_tier: 'soft', changed: true}})
      assert.deepEqual(await run(['session', 'release', KEY, '--to', 'soft']), {status: 0, stderr: '', stdout: 'released shop-agent|10.0.0.5: hard -> soft (changed=true)\n'})
      assert.deepEqual(
        api.requests.map((q) => [q.method, q.path, q.body]),
        [
          ['GET', '/api/v1/sessions', ''],
          ['POST', `${ENC}/airlock`, '{"tier":"soft"}'],
        ],
      )
      api.reset()
      api.on('GET /api/v1/sessions', {body: {sessions: [{...SNAPSHOT_HELD, airlock_tier: 'none'}], count: 1}})
      assert.deepEqual(await run(['session', 'release', KEY, '--to', 'soft']), {
        status: 2,
        stdout: '',
        stderr: 'refusing to escalate session shop-agent|10.0.0.5 from none to soft: release only lowers the airlock tier [SESSION_RELEASE_REFUSED]; hint: to raise a tier, POST /api/v1/sessions/<key>/airlock on the admin API\n',
      })
      assert.deepEqual(api.requests.map((q) => q.method), ['GET'])
      // a key the list does not hold is the server's own 404
      api.on('GET /api/v1/sessions', {body: {sessions: [SNAPSHOT_CALM], count: 1}})
      assert.deepEqual(await run(['session', 'release', KEY, '--to', 'soft']), {
        status: 1,
        stdout: '',
        stderr: 'session not found: shop-agent|10.0.0.5 [SESSION_NOT_FOUND]; hint: identity keys are agent|client-ip (quote them); a terminated or idle-evicted session is gone; list the live ones with: pipelock session list\n',
      })
      const bad = await run(['session', 'release', KEY, '--to', 'hard'])
      assert.equal(bad.status, 2)
      assert.equal(bad.stdout, '')
      assert.match(bad.stderr, /^Expected --to=hard to be one of: none, normal, soft \[USAGE\]; hint: /)
    })
  })

  test('session release and recover --choice are not locked out when inspect and explain are rate limited', async () => {
    await withApi(async (api, run) => {
      const limited = {status: 429, headers: {'retry-after': '60'}, body: 'rate limit exceeded\n'}
      api.on(`GET ${ENC}`, limited).on(`GET ${ENC}/explain`, limited)
      api.on('GET /api/v1/sessions', {body: {sessions: [SNAPSHOT_HELD], count: 1}})
      api.on(`POST ${ENC}/airlock`, {body: {key: KEY, previous_tier: 'hard', new_tier: 'soft', changed: true}})
      assert.deepEqual(await run(['session', 'release', KEY, '--to', 'soft']), {status: 0, stderr: '', stdout: 'released shop-agent|10.0.0.5: hard -> soft (changed=true)\n'})
      assert.deepEqual(await run(['session', 'recover', KEY, '--choice', 'release-soft']), {
        status: 0,
        stderr:
          'inspect not shown: rate limited; retry after 60 seconds; the action below is not affected\n' +
          'explain not shown: rate limited; retry after 60 seconds; the action below is not affected\n',
        stdout: '== inspect ==\n\n== explain ==\n\nreleased shop-agent|10.0.0.5: hard -> soft (changed=true)\n',
      })
      assert.equal(api.requests.filter((q) => q.method === 'POST').length, 2)
    })
  })

  test('session terminate: WARNING on stderr, result on stdout; --json keeps stdout pure JSON', async () => {
    await withApi(async (api, run) => {
      const body = {key: KEY, terminated: true, previous_tier: 'hard', previous_level: 'high', previous_score: 12.625, ip_state_cleared: true, cee_state_cleared: true}
      api.on(`POST ${ENC}/terminate`, {body})
      assert.deepEqual(await run(['session', 'terminate', KEY]), {
        status: 0,
        stderr: 'WARNING: terminated session shop-agent|10.0.0.5 — in-flight connections were cut.\n',
        stdout: 'terminated shop-agent|10.0.0.5: previous_tier=hard level=high score=12.62 cee_cleared=true\n',
      })
      // A server that reports how many connections it cut: no warning for none.
      api.on(`POST ${ENC}/terminate`, {body: {...body, connections_cut: 0}})
      assert.deepEqual(await run(['session', 'terminate', KEY]), {
        status: 0,
        stderr: '',
        stdout: 'terminated shop-agent|10.0.0.5: previous_tier=hard level=high score=12.62 cee_cleared=true\n',
      })
      api.on(`POST ${ENC}/terminate`, {body})
      const j = await run(['session', 'terminate', KEY, '--json'])
      assert.equal(j.status, 0)
      assert.equal(j.stdout, JSON.stringify(body, null, 2) + '\n')
      assert.deepEqual(api.requests.map((q) => [q.method, q.path, q.body]), [
        ['POST', `${ENC}/terminate`, ''],
        ['POST', `${ENC}/terminate`, ''],
        ['POST', `${ENC}/terminate`, ''],
      ])
    })
  })

  test('session recover without a TTY or with --no-prompt: report, no action, nothing POSTed', async () => {
    await withApi(async (api, run) => {
      api.on(`GET ${ENC}`, {body: DETAIL_HELD}).on(`GET ${ENC}/explain`, {body: EXPLAIN_HELD})
      const expected = {
        status: 0,
        stderr: '',
        stdout: lines(['== inspect ==', ...HELD_DETAIL_TEXT, '', '== explain ==', ...HELD_EXPLAIN_TEXT, '', 'no action selected; leaving shop-agent|10.0.0.5 unchanged']),
      }
      assert.deepEqual(await run(['session', 'recover', KEY, '--no-prompt']), expected)
      assert.deepEqual(await run(['session', 'recover', KEY]), expected)
      assert.ok(api.requests.every((q) => q.method === 'GET'))
    })
  })

  test('session recover --choice applies the action after the report', async () => {
    await withApi(async (api, run) => {
      api.on(`GET ${ENC}`, {body: DETAIL_HELD}).on(`GET ${ENC}/explain`, {body: EXPLAIN_HELD})
      api.on('GET /api/v1/sessions', {body: {sessions: [SNAPSHOT_HELD], count: 1}})
      api.on(`POST ${ENC}/airlock`, {body: {key: KEY, previous_tier: 'hard', new_tier: 'soft', changed: true}})
      const r = await run(['session', 'recover', KEY, '--choice', 'release-soft'])
      assert.equal(r.status, 0)
      assert.equal(r.stderr, '')
      assert.ok(r.stdout.endsWith(`${HELD_EXPLAIN_TEXT.at(-1)}\n\nreleased shop-agent|10.0.0.5: hard -> soft (changed=true)\n`), r.stdout)
      assert.deepEqual(api.requests.at(-1), {method: 'POST', path: `${ENC}/airlock`, authorization: `Bearer ${TOKEN}`, contentType: 'application/json', body: '{"tier":"soft"}'})
      const leave = await run(['session', 'recover', KEY, '--choice', 'leave'])
      assert.ok(leave.stdout.endsWith('\n\nleaving shop-agent|10.0.0.5 unchanged\n'))
    })
  })

  test('adaptive status, flush, whoami', async () => {
    await withApi(async (api, run) => {
      api.on('GET /api/v1/adaptive/status', {body: ADAPTIVE_STATUS})
      api.on('POST /api/v1/adaptive/flush', {body: {flushed: true, identity_sessions: 4, skipped_invocations: 1, ip_domain_state_cleared: true}})
      api.on('GET /api/v1/adaptive/whoami', {body: WHOAMI})
      assert.deepEqual(await run(['adaptive', 'status']), {
        status: 0,
        stderr: '',
        stdout: lines(ADAPTIVE_STATUS_TEXT),
      })
      assert.deepEqual(await run(['adaptive', 'flush']), {status: 0, stderr: '', stdout: 'flushed adaptive state: identity_sessions=4 skipped_invocations=1 ip_domain_state_cleared=true\n'})
      assert.deepEqual(await run(['adaptive', 'whoami']), {
        status: 0,
        stderr: '',
        stdout: 'client_ip=127.0.0.1 session=anonymous|127.0.0.1 classification=observe tier=soft level=elevated score=5.12 ttl_seconds=300\n',
      })
      assert.deepEqual(api.requests.map((q) => `${q.method} ${q.path} ${q.body}`.trim()), ['GET /api/v1/adaptive/status', 'POST /api/v1/adaptive/flush', 'GET /api/v1/adaptive/whoami'])
    })
  })

  test('HTTP failures: 401 → 2, 404 → 1, 429 + Retry-After → 1, 5xx → 1, 400 → 2', async () => {
    await withApi(async (api, run) => {
      assert.deepEqual(await run(['session', 'list'], {PIPELOCK_KILLSWITCH_API_TOKEN: 'wrong'}), {
        status: 2,
        stdout: '',
        stderr: 'admin API rejected the token (HTTP 401 unauthorized) [ADMIN_API_UNAUTHORIZED]; hint: check --api-token, PIPELOCK_KILLSWITCH_API_TOKEN or kill_switch.api_token against the running proxy\n',
      })
      api.on(`GET ${ENC}`, {status: 404, body: 'session not found\n'})
      assert.deepEqual(await run(['session', 'inspect', KEY]), {status: 1, stdout: '', stderr: 'session not found: shop-agent|10.0.0.5 [SESSION_NOT_FOUND]; hint: identity keys are agent|client-ip (quote them); a terminated or idle-evicted session is gone; list the live ones with: pipelock session list\n'})
      api.on(`GET ${ENC}/explain`, {status: 429, headers: {'retry-after': '60'}, body: 'rate limit exceeded\n'})
      assert.deepEqual(await run(['session', 'explain', KEY]), {
        status: 1,
        stdout: '',
        stderr: 'rate limited; retry after 60 seconds [ADMIN_API_RATE_LIMITED]; hint: the proxy limits each admin action per minute; the limited call was GET /api/v1/sessions/shop-agent%7C10.0.0.5/explain\n',
      })
      // The release's own call limited: the hint names it.
      api.on(`POST ${ENC}/airlock`, {status: 429, headers: {'retry-after': '60'}, body: 'rate limit exceeded\n'})
      assert.deepEqual(await run(['session', 'release', KEY]), {
        status: 1,
        stdout: '',
        stderr: 'rate limited; retry after 60 seconds [ADMIN_API_RATE_LIMITED]; hint: the proxy limits each admin action per minute; the limited call was POST /api/v1/sessions/shop-agent%7C10.0.0.5/airlock\n',
      })
      api.on('GET /api/v1/adaptive/status', {status: 503, body: 'session profiling disabled\n'})
      assert.deepEqual(await run(['adaptive', 'status', '--json']), {
        status: 1,
        stdout: '{"error":{"code":"ADMIN_API_HTTP_ERROR","message":"admin API error on GET /api/v1/adaptive/status (HTTP 503): session profiling disabled","exit":1}}\n',
        stderr: '',
      })
      api.on('POST /api/v1/sessions/mcp-stdio-42/terminate', {status: 400, body: {error: 'cannot terminate invocation session; only identity sessions are terminable'}})
      assert.deepEqual(await run(['session', 'terminate', 'mcp-stdio-42']), {
        status: 2,
        stdout: '',
        stderr: 'admin API refused POST /api/v1/sessions/mcp-stdio-42/terminate (HTTP 400): cannot terminate invocation session; only identity sessions are terminable [ADMIN_API_BAD_REQUEST]\n',
      })
    })
  })
})

describe('pipelock session: where the URL and token come from', {concurrency: 3}, () => {
  test('network error → exit 1', async () => {
    const s = createServer()
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    const port = (s.address() as {port: number}).port
    await new Promise<void>((r) => s.close(() => r()))
    assert.deepEqual(await runCliAsync(['adaptive', 'flush', '--api-url', `http://127.0.0.1:${port}`, '--api-token', 't'], {env: env()}), {
      status: 1,
      stdout: '',
      stderr: `cannot reach the admin API at http://127.0.0.1:${port}: ECONNREFUSED [ADMIN_API_UNREACHABLE]; hint: is pipelock run up, and does --api-url (or PIPELOCK_API_URL, kill_switch.api_listen) name its API listener?\n`,
    })
  })

  test('missing token, then missing URL → exit 2 (no config file anywhere)', async () => {
    const where = 'a config file (--config, $PIPELOCK_CONFIG, $PIPELOCK_HOME/pipelock.yaml (default ~/.pipelock/pipelock.yaml), ~/.config/pipelock/pipelock.yaml, /etc/pipelock/pipelock.yaml)'
    assert.deepEqual(await runCliAsync(['session', 'list'], {env: env()}), {
      status: 2,
      stdout: '',
      stderr: `admin API token is required: set --api-token or PIPELOCK_KILLSWITCH_API_TOKEN, or kill_switch.api_token in ${where} [ADMIN_API_UNCONFIGURED]\n`,
    })
    assert.deepEqual(await runCliAsync(['session', 'list', '--api-token', 't'], {env: env()}), {
      status: 2,
      stdout: '',
      stderr: `admin API URL is required: set --api-url or PIPELOCK_API_URL, or kill_switch.api_listen (else fetch_proxy.listen) in ${where} [ADMIN_API_UNCONFIGURED]\n`,
    })
  })

  test('URL and token from the config file (0600), PIPELOCK_API_URL from the environment; a 0644 file holding the token is refused', async () => {
    const api = await FakeAdminApi.start(TOKEN)
    try {
      api.on('GET /api/v1/adaptive/whoami', {body: WHOAMI})
      const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-session-cfg-'))
      const cfg = path.join(dir, 'pipelock.yaml')
      writeFileSync(cfg, `kill_switch:\n  api_listen: "0.0.0.0:${api.port}"\n  api_token: "${TOKEN}"\n`)
      chmodSync(cfg, 0o600)
      const ok = await runCliAsync(['adaptive', 'whoami', '--config', cfg], {env: env()})
      assert.equal(ok.status, 0, ok.stderr)
      assert.equal(api.requests.at(-1)!.authorization, `Bearer ${TOKEN}`)
      const viaEnv = await runCliAsync(['adaptive', 'whoami'], {env: env({PIPELOCK_CONFIG: cfg, PIPELOCK_API_URL: `127.0.0.1:${api.port}`})})
      assert.equal(viaEnv.status, 0, viaEnv.stderr)
      chmodSync(cfg, 0o644)
      assert.deepEqual(await runCliAsync(['adaptive', 'whoami', '--config', cfg], {env: env()}), {
        status: 2,
        stdout: '',
        stderr: `${cfg}: config file holds the admin API token but has mode 0644; it must not be accessible by group or others [ADMIN_API_CONFIG_INVALID]; hint: chmod 600 ${cfg}\n`,
      })
      assert.equal(api.requests.length, 2)
    } finally {
      await api.close()
    }
  })

  test('invalid flags and arguments → exit 2', async () => {
    const r = await runCliAsync(['session', 'list', '--tier', 'sideways', '--api-url', 'x', '--api-token', 't'], {env: env()})
    assert.deepEqual(r, {status: 2, stdout: '', stderr: 'Expected --tier=sideways to be one of: none, soft, hard, drain, normal [USAGE]; hint: see pipelock session list --help\n'})
    const k = await runCliAsync(['session', 'inspect', '..', '--api-url', 'x', '--api-token', 't'], {env: env()})
    assert.equal(k.status, 2)
    assert.match(k.stderr, /^invalid session key "\.\." \[ADMIN_ARGUMENT_INVALID\]; hint: /)
    const u = await runCliAsync(['adaptive', 'status', '--api-url', 'ftp://h:1', '--api-token', 't'], {env: env()})
    assert.deepEqual(u, {status: 2, stdout: '', stderr: 'admin API URL "ftp://h:1" must use http or https [ADMIN_ARGUMENT_INVALID]\n'})
  })
})


// The inquirer menu of `session recover` on a real pseudo-terminal (util-linux `script`).
const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0

test('session recover on a terminal: numbered menu, 3 terminates', {skip: hasScript ? false : 'script(1) not available', timeout: 30_000}, async () => {
  const api = await FakeAdminApi.start(TOKEN)
  try {
    api.on(`GET ${ENC}`, {body: DETAIL_HELD}).on(`GET ${ENC}/explain`, {body: EXPLAIN_HELD})
    api.on(`POST ${ENC}/terminate`, {body: {key: KEY, terminated: true, previous_tier: 'hard', previous_level: 'high', previous_score: 12.625, ip_state_cleared: true, cee_state_cleared: true}})
    const cmd = [process.execPath, repoPath('bin', 'run.js'), 'session', 'recover', KEY, '--api-url', api.url]
    const child = spawn('script', ['-qfec', cmd.map((a) => `'${a}'`).join(' '), '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: env({TERM: 'dumb', PIPELOCK_KILLSWITCH_API_TOKEN: TOKEN}),
    })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    for (let i = 0; i < 300 && !output.includes('4) leave as-is'); i++) await new Promise((r) => setTimeout(r, 50))
    assert.match(output, /Choose recovery action:/)
    for (const item of ['1) release to none', '2) release to soft', '3) terminate (destructive)', '4) leave as-is']) assert.ok(output.includes(item), output)
    child.stdin.write('3\r')
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
    assert.equal(status, 0, output)
    assert.match(output, /WARNING: terminated session shop-agent\|10\.0\.0\.5 — in-flight connections were cut\./)
    assert.match(output, /terminated shop-agent\|10\.0\.0\.5: previous_tier=hard level=high score=12\.62 cee_cleared=true/)
    assert.deepEqual(api.requests.map((q) => `${q.method} ${q.path}`), [`GET ${ENC}`, `GET ${ENC}/explain`, `POST ${ENC}/terminate`])
  } finally {
    await api.close()
  }
})
