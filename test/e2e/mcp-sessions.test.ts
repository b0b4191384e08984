import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {request} from 'undici'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {startHttpFixture} from '../mcp/fixtures/fixture-tools.js'
import {rejection, wrapMcpProxy, type WrappedClient} from '../helpers/mcp.js'
import {repoPath} from '../helpers/vectors.js'

// Issue 13 M4: MCP sessions and adaptive enforcement, denial-of-wallet budgets and the admin API's
// invocation-session guard, with the official SDK client through the built CLI (mcp.md §10.1,
// §15.2; runtime §12, §14).

const BIN = repoPath('bin/run.js')
const FIXTURE = repoPath('dist/test/mcp/fixtures/sdk-server.js')
const ENV = {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ''}
const SECRET = 'AKIA' + 'QYLPMN5HHHFPZAM2'
const TOKEN = 'e2e-admin-token'
const SESSIONS_YAML = `session_profiling:\n  enabled: true\nadaptive_enforcement:\n  enabled: true\nkill_switch:\n  api_listen: "127.0.0.1:0"\n  api_token: ${TOKEN}\n`

let dir = ''
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-sess-'))
})
after(() => rmSync(dir, {recursive: true, force: true}))

function config(name: string, yaml: string): string {
  const f = path.join(dir, name)
  writeFileSync(f, yaml, {mode: 0o600})
  return f
}

type Wrapped = WrappedClient

const wrap = (proxyArgs: string[]): Promise<Wrapped> => wrapMcpProxy(proxyArgs, ENV, 'pipelock-sessions-e2e')

async function waitFor(stderr: () => string, re: RegExp): Promise<RegExpExecArray> {
  const deadline = Date.now() + 15_000
  let m: RegExpExecArray | null
  while ((m = re.exec(stderr())) === null) {
    if (Date.now() > deadline) assert.fail(`no ${re} in:\n${stderr()}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  return m
}

async function api(addr: string, method: string, p: string, body?: string): Promise<{status: number; body: string}> {
  const r = await request(`http://${addr}/api/v1${p}`, {method: method as 'GET', headers: {authorization: `Bearer ${TOKEN}`}, ...(body !== undefined ? {body} : {})})
  return {status: r.statusCode, body: await r.body.text()}
}

const ESCALATED = {code: -32001, message: 'MCP error -32001: pipelock: session escalation level critical', data: {block_reason: 'escalation_level'}}

describe('stdio wrap: repeated DLP blocks escalate mcp-stdio-1 to block_all; the admin API refuses to mutate it', {timeout: 120_000}, () => {
  let w: Wrapped
  let addr = ''
  before(async () => {
    w = await wrap(['--config', config('stdio.yaml', SESSIONS_YAML), '--', process.execPath, FIXTURE])
    addr = (await waitFor(w.stderr, /session admin API on (\S+)/))[1]!
  })
  after(async () => {
    await w.close()
  })

  test('seven secrets (3 points each, thresholds 5/10/20) reach critical; then a clean call gets -32001 escalation_level', async () => {
    assert.deepEqual((await w.client.callTool({name: 'echo', arguments: {text: 'hello'}})).content, [{type: 'text', text: 'hello'}])
    for (let i = 0; i < 7; i++) {
      const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: SECRET}}))
      assert.equal(e.code, -32001)
      assert.deepEqual(e.data, {block_reason: 'dlp_match'})
    }
    const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: 'hello again'}}))
    assert.deepEqual({code: e.code, message: e.message, data: e.data}, ESCALATED)
    await waitFor(w.stderr, /pipelock: session escalated high -> critical \(score=21\.0\)/)
    assert.ok(!w.stderr().includes(SECRET), 'the secret is never echoed')
  })

  test('the admin API lists the invocation session and refuses reset/terminate/task/trust (runtime §12)', async () => {
    const list = JSON.parse((await api(addr, 'GET', '/sessions')).body)
    assert.equal(list.count, 1)
    const s = list.sessions[0]
    assert.deepEqual([s.key, s.kind, s.escalation_level, s.block_all], ['mcp-stdio-1', 'invocation', 'critical', true])
    const reset = await api(addr, 'POST', '/sessions/mcp-stdio-1/reset')
    assert.equal(reset.status, 400)
    assert.deepEqual(JSON.parse(reset.body), {error: 'cannot reset invocation session; only identity sessions are resettable'})
    assert.deepEqual(JSON.parse((await api(addr, 'POST', '/sessions/mcp-stdio-1/task', '{}')).body), {error: 'cannot start a task on invocation session; only identity sessions are task-scoped'})
    assert.deepEqual(JSON.parse((await api(addr, 'POST', '/sessions/mcp-stdio-1/trust', '{}')).body), {error: 'cannot grant trust on invocation session; only identity sessions are trust-scoped'})
    // The operator CLI against it: a 400 is exit 2 with the server's reason.
    const cli = spawnSync(process.execPath, [BIN, 'session', 'terminate', 'mcp-stdio-1', '--api-url', `http://${addr}`, '--api-token', TOKEN], {encoding: 'utf8', env: ENV})
    assert.equal(cli.status, 2, cli.stderr)
    assert.match(cli.stderr, /cannot terminate invocation session; only identity sessions are terminable/)
    // Still escalated: nothing was reset.
    const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: 'x'}}))
    assert.deepEqual({code: e.code, message: e.message, data: e.data}, ESCALATED)
  })
})

describe('stdio→HTTP bridge: injected responses escalate mcp-http-1; a call budget gives -32600', {timeout: 120_000}, () => {
  let fixture: Awaited<ReturnType<typeof startHttpFixture>>
  before(async () => {
    fixture = await startHttpFixture()
  })
  after(async () => {
    await fixture.close()
  })

  test('eight blocked injections (response side) reach critical; the next call is refused with -32001 escalation_level', async () => {
    // Each round: the clean request decays 0.5 (nothing to decay in the first), the blocked response scores 3: 3, 5.5, 8, 10.5, … 20.5 → critical (thresholds 5/10/20).
    const w = await wrap(['--config', config('bridge.yaml', `${SESSIONS_YAML}response_scanning:\n  enabled: true\n  action: block\n`), '--upstream', fixture.url])
    try {
      for (let i = 0; i < 8; i++) {
        const e = await rejection(w.client.callTool({name: 'inject', arguments: {}}))
        assert.equal(e.code, -32000)
        assert.equal(e.message, 'MCP error -32000: pipelock: prompt injection detected in MCP response')
      }
      const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: 'hello'}}))
      assert.deepEqual({code: e.code, message: e.message, data: e.data}, ESCALATED)
      await waitFor(w.stderr, /pipelock: session escalated high -> critical \(score=20\.5\)/)
      const addr = (await waitFor(w.stderr, /session admin API on (\S+)/))[1]!
      const s = JSON.parse((await api(addr, 'GET', '/sessions/mcp-http-1')).body)
      assert.deepEqual([s.kind, s.escalation_level], ['invocation', 'critical'])
    } finally {
      await w.close()
    }
  })

  test('agents._default.budget.max_tool_calls_per_session: 2 → the third call gets -32600 data_budget', async () => {
    const w = await wrap(['--config', config('budget.yaml', 'agents:\n  _default:\n    budget:\n      max_tool_calls_per_session: 2\n'), '--upstream', fixture.url])
    try {
      await w.client.callTool({name: 'echo', arguments: {text: 'a'}})
      await w.client.callTool({name: 'echo', arguments: {text: 'b'}})
      const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: 'c'}}))
      assert.deepEqual({code: e.code, message: e.message, data: e.data}, {code: -32600, message: 'MCP error -32600: pipelock: tool call limit exceeded: 3/2', data: {block_reason: 'data_budget'}})
      await waitFor(w.stderr, /pipelock: input: tools\/call "echo" DoW block: tool call limit exceeded: 3\/2 \(tool_call_limit\)/)
    } finally {
      await w.close()
    }
  })
})

describe('HTTP listener: the client IP is an identity session the operator may reset', {timeout: 120_000}, () => {
  let fixture: Awaited<ReturnType<typeof startHttpFixture>>
  let proc: ChildProcessWithoutNullStreams
  let err = ''
  before(async () => {
    fixture = await startHttpFixture()
    proc = spawn(process.execPath, [BIN, 'mcp', 'proxy', '--config', config('listener.yaml', SESSIONS_YAML), '--listen', '127.0.0.1:0', '--upstream', fixture.url], {env: ENV})
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
  })
  after(async () => {
    proc.kill('SIGTERM')
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.on('exit', r)))
    await fixture.close()
  })

  test('DLP blocks escalate 127.0.0.1 to block_all; reset (allowed on identity sessions) lets the client through again', async () => {
    const listen = (await waitFor(() => err, /listening on (\S+)/))[1]!
    const addr = (await waitFor(() => err, /session admin API on (\S+)/))[1]!
    const client = new Client({name: 'listener-sessions', version: '1.0.0'}, {capabilities: {}})
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://${listen}/mcp`)))
    try {
      for (let i = 0; i < 7; i++) assert.equal((await rejection(client.callTool({name: 'echo', arguments: {text: SECRET}}))).code, -32001)
      const e = await rejection(client.callTool({name: 'echo', arguments: {text: 'hello'}}))
      // Q22 fixed: the real level label on HTTP transports too.
      assert.deepEqual({code: e.code, message: e.message, data: e.data}, ESCALATED)
      const s = JSON.parse((await api(addr, 'GET', '/sessions/127.0.0.1')).body)
      assert.deepEqual([s.kind, s.escalation_level], ['identity', 'critical'])
      const r = await api(addr, 'POST', '/sessions/127.0.0.1/reset')
      assert.equal(r.status, 200, r.body)
      assert.equal(JSON.parse(r.body).previous_level, 'critical')
      assert.deepEqual((await client.callTool({name: 'echo', arguments: {text: 'hello'}})).content, [{type: 'text', text: 'hello'}])
    } finally {
      await client.close()
    }
  })
})

describe('presets that enable session profiling start under mcp proxy', {timeout: 180_000}, () => {
  for (const preset of ['balanced', 'strict', 'audit', 'claude-code', 'cursor', 'generic-agent', 'hostile-model']) {
    test(preset, async () => {
      const g = spawnSync(process.execPath, [BIN, 'generate', 'config', '--preset', preset], {encoding: 'utf8', env: ENV})
      assert.equal(g.status, 0, g.stderr)
      assert.match(g.stdout, /session_profiling:\n {2}enabled: true/)
      const w = await wrap(['--config', config(`${preset}.yaml`, g.stdout), '--', process.execPath, FIXTURE])
      try {
        assert.deepEqual((await w.client.callTool({name: 'echo', arguments: {text: 'hello'}})).content, [{type: 'text', text: 'hello'}])
        assert.doesNotMatch(w.stderr(), /taint is not applied to MCP traffic/, 'taint applies to MCP (policy-extra §1.10)')
      } finally {
        await w.close()
      }
    })
  }
})

describe('stdio wrap: the session admin API throttles wrong tokens as pipelock run does', {timeout: 120_000}, () => {
  const STRONG = 'mcp-admin-token-of-32-characters'
  const yaml = (token: string): string => `session_profiling:\n  enabled: true\nkill_switch:\n  api_listen: "127.0.0.1:0"\n  api_token: ${token}\n`
  const get = async (addr: string, token: string): Promise<{status: number; retryAfter: unknown}> => {
    const r = await request(`http://${addr}/api/v1/sessions`, {headers: {authorization: `Bearer ${token}`}})
    await r.body.dump()
    return {status: r.statusCode, retryAfter: r.headers['retry-after']}
  }

  test('ten wrong tokens from an address → the eleventh is 429 with Retry-After; the right strong token still passes; each failure is one stderr line', async () => {
    const w = await wrap(['--config', config('throttle.yaml', yaml(STRONG)), '--', process.execPath, FIXTURE])
    try {
      const addr = (await waitFor(w.stderr, /session admin API on (\S+)/))[1]!
      assert.doesNotMatch(w.stderr(), /admin API token is shorter/)
      for (let i = 0; i < 10; i++) assert.equal((await get(addr, `guess-${i}`)).status, 401)
      const throttled = await get(addr, 'guess-10')
      assert.equal(throttled.status, 429)
      const wait = Number(throttled.retryAfter)
      assert.ok(wait >= 1 && wait <= 60, String(throttled.retryAfter))
      assert.equal((await get(addr, STRONG)).status, 200, 'the operator holding the strong token is not locked out')
      const lines = w.stderr().split('\n').filter((l) => l.includes('session admin API: missing or wrong bearer token from 127.0.0.1 (/api/v1/sessions)'))
      assert.equal(lines.length, 10)
      assert.match(lines[9]!, /; its requests are refused \(429\) for \d+ s$/)
      assert.doesNotMatch(lines[8]!, /429/)
      assert.ok(!w.stderr().includes('guess-'), 'a guessed token is never logged')
    } finally {
      await w.close()
    }
  })

  test('a weak token: start-up warns as pipelock run does, and ten wrong guesses lock the address out, the right token included', async () => {
    const w = await wrap(['--config', config('throttle-weak.yaml', yaml('short-token')), '--', process.execPath, FIXTURE])
    try {
      const addr = (await waitFor(w.stderr, /session admin API on (\S+)/))[1]!
      assert.match(w.stderr(), /^WARNING: the admin API token is shorter than 24 characters: ten wrong guesses from an address lock that address out, the operator's right token included; a longer token \(openssl rand -hex 16\) always passes$/m)
      for (let i = 0; i < 10; i++) assert.equal((await get(addr, `guess-${i}`)).status, 401)
      assert.equal((await get(addr, 'short-token')).status, 429)
    } finally {
      await w.close()
    }
  })
})
