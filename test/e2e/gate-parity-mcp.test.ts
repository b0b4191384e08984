// Gate parity, MCP columns (docs/architecture.md, "The MCP tool-call gate"): the same trigger in a
// tools/call through MCP stdio (`mcp proxy -- SERVER`) and MCP over HTTP (`mcp proxy --listen
// --upstream`) gets the same verdict, and the JSON-RPC error's `data.block_reason` is the reason
// the HTTP transports put in X-Pipelock-Block-Reason for that trigger (test/e2e/gate-parity.test.ts
// asserts the HTTP side). Every call leaves exactly one tools/call Decision in its process's
// flight recorder (a block, an audit-mode would-block as a `warn` receipt, or an allow) and
// every chain verifies. Same table shape as the HTTP file: one `it` per trigger, one cell per
// transport. A row of mcp/pipeline/gate/transport-stages.ts that dropped a stage fails its cell here.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {McpError} from '@modelcontextprotocol/sdk/types.js'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {startHttpFixture} from '../mcp/fixtures/fixture-tools.js'
import {runCli} from '../helpers/cli.js'
import {learnLockLines} from '../helpers/lock-roster.js'
import {wrapMcpProxy, type WrappedClient} from '../helpers/mcp.js'
import {repoPath} from '../helpers/vectors.js'
import {cli, makeLab, promoteArgs, writeCandidate, type Lab} from './learn-promote-harness.js'
import {writeReceiptKeys} from './proxy-harness.js'

const AWS_KEY = 'AKIA' + 'Q3EGRZ7NXPLM4TWB'
const ALLOWED = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'
const ONE_OFF = '0x5aaeb6053f3e94c9b9b09f33669435e7ef1beaed'
const BIN = repoPath('bin/run.js')
const SDK_SERVER = repoPath('dist/test/mcp/fixtures/sdk-server.js')
const ADMIN_TOKEN = 'gate-parity-mcp-admin-token'
const TRANSPORTS = ['mcp_stdio', 'mcp_http'] as const
type Transport = (typeof TRANSPORTS)[number]

/** The block reasons the HTTP parity test asserts in X-Pipelock-Block-Reason, per trigger. */
const HTTP_REASON = {
  'kill switch': 'kill_switch_active',
  'secret in the arguments': 'dlp_match', // HTTP: a secret in the body (and URL)
  'secret in a header': 'dlp_match',
  'poisoned address': 'dlp_match', // HTTP: the address stage (test/e2e/address-protection.test.ts)
  'exhausted budget': 'data_budget',
  'cross-request fragments': 'cross_request_deny',
  'airlock hard': 'airlock_active',
  'contract default deny': 'contract_default_deny',
} as const
type Trigger = keyof typeof HTTP_REASON

/** One `mcp proxy` process with a client connected, its recorder, and what was sent through it. */
interface Peer {
  readonly call: (name: string, args: Record<string, unknown>) => Promise<{blocked: false} | {blocked: true; code: number; reason: unknown}>
  readonly recorder: string
  /** The public key its receipts verify with. */
  readonly pub: string
  readonly stderr: () => string
  readonly stop: () => Promise<void>
  calls: number
  blocks: number
  /** Calls audit mode passed: recorded as would-block (a `warn` receipt). */
  warns: number
  /** Airlock tier changes made on its sessions (each a signed receipt). */
  tierChanges: number
}

/** The tools the cells call (fixture-tools.ts): every call of one of them is one receipt. */
const TOOLS: ReadonlySet<string> = new Set(['echo', 'read_file', 'write_file'])

describe('gate parity, MCP: one trigger, one verdict, one block reason on every MCP transport', {timeout: 180_000}, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-parity-mcp-'))
  const sentinel = path.join(dir, 'kill-switch')
  const env = {PATH: process.env.PATH ?? '', HOME: dir, PIPELOCK_HOME: path.join(dir, '.pipelock'), NO_COLOR: '1'}
  let upstream: Awaited<ReturnType<typeof startHttpFixture>>
  const peers = new Map<string, Peer>()

  let lab: Lab

  /**
   * One config per peer. Agent `held` adds session profiling, the airlock and the session admin
   * API; agent `stranger` runs under live contracts (the lab's store, where only shop-agent has a
   * contract) with the lab's roster receipt key, as the HTTP file's locked proxy does.
   */
  function config(name: string, agent: string): {file: string; pub: string} {
    const file = path.join(dir, `${name}.yaml`)
    const locked = agent === 'stranger'
    const key = locked ? path.join(lab.ks, 'agents', 'receipt-signing', 'id_ed25519') : path.join(dir, 'receipt.key')
    writeFileSync(file, [
      'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, `evidence-${name}`))}`, `  signing_key_path: ${JSON.stringify(key)}`,
      'kill_switch:', `  sentinel_file: ${JSON.stringify(sentinel)}`,
      ...(agent === 'held' ? ['  api_listen: 127.0.0.1:0', `  api_token: ${ADMIN_TOKEN}`, 'session_profiling:', '  enabled: true', 'airlock:', '  enabled: true'] : []),
      'address_protection:', '  enabled: true', '  action: block', '  allowed_addresses:', `    - "${ALLOWED}"`,
      'cross_request_detection:', '  enabled: true', '  action: block', '  fragment_reassembly:', '    enabled: true', '    max_buffer_bytes: 65536', '    window_minutes: 5',
      // auditor: audit mode, as the HTTP file's agent of that name.
      'agents:', '  capped:', '    budget: {max_tool_calls_per_session: 1}', '  auditor:', '    enforce: false', '  held:', '    enforce: true', '  stranger:', '    enforce: true',
      ...(locked ? [...learnLockLines(lab.store, lab.roster, lab.fp), '  unlocked_agents: [someone-else]'] : []),
      '',
    ].join('\n'))
    return {file, pub: locked ? `${key}.pub` : path.join(dir, 'receipt.pub')}
  }

  async function outcome(p: Promise<unknown>): Promise<{blocked: false} | {blocked: true; code: number; reason: unknown}> {
    try {
      await p
      return {blocked: false}
    } catch (e) {
      if (!(e instanceof McpError)) throw e
      return {blocked: true, code: e.code, reason: (e.data as Record<string, unknown> | undefined)?.block_reason}
    }
  }

  async function stdioPeer(name: string, agent: string): Promise<Peer> {
    const c = config(name, agent)
    const w: WrappedClient = await wrapMcpProxy(['--config', c.file, '--agent', agent, '--', process.execPath, SDK_SERVER], env)
    return {
      recorder: path.join(dir, `evidence-${name}`), pub: c.pub, stderr: w.stderr, calls: 0, blocks: 0, warns: 0, tierChanges: 0,
      call: (n, a) => outcome(w.client.callTool({name: n, arguments: a})), stop: () => w.close(),
    }
  }

  /**
   * `secretHeader`: every tools/call request carries a secret in its Authorization header (the
   * session's initialize does not, so the client connects) — the listener's header DLP cell.
   */
  async function httpPeer(name: string, agent: string, secretHeader = false): Promise<Peer> {
    const c = config(name, agent)
    const proc: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'mcp', 'proxy', '--config', c.file, '--agent', agent, '--listen', '127.0.0.1:0', '--upstream', upstream.url], {env})
    let err = ''
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const deadline = Date.now() + 20_000
    let m: RegExpExecArray | null = null
    while ((m = /listening on (\S+)/.exec(err)) === null) {
      if (Date.now() > deadline || proc.exitCode !== null) assert.fail(`listener did not start: ${err}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const client = new Client({name: 'parity', version: '1.0.0'})
    const withSecret: typeof fetch = async (url, init) => {
      if (typeof init?.body !== 'string' || !init.body.includes('"tools/call"')) return await fetch(url, init)
      const headers = new Headers(init.headers)
      headers.set('Authorization', `Bearer ${AWS_KEY}`)
      return await fetch(url, {...init, headers})
    }
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://${m[1]}/mcp`), secretHeader ? {fetch: withSecret} : {}))
    return {
      recorder: path.join(dir, `evidence-${name}`), pub: c.pub, stderr: () => err, calls: 0, blocks: 0, warns: 0, tierChanges: 0,
      call: (n, a) => outcome(client.callTool({name: n, arguments: a})),
      stop: async () => {
        await client.close().catch(() => undefined)
        if (proc.exitCode === null) {
          const exited = new Promise((r) => proc.once('exit', r))
          proc.kill('SIGTERM')
          await exited
        }
      },
    }
  }

  async function peer(t: Transport, agent = '_default'): Promise<Peer> {
    const name = `${t}-${agent}`
    let p = peers.get(name)
    if (p === undefined) {
      p = t === 'mcp_stdio' ? await stdioPeer(name, agent) : await httpPeer(name, agent)
      peers.set(name, p)
    }
    return p
  }

  /** A call that must pass. */
  async function pass(t: Transport, args: Record<string, unknown>, agent?: string, tool = 'echo'): Promise<void> {
    const p = await peer(t, agent)
    p.calls++
    assert.deepEqual(await p.call(tool, args), {blocked: false}, `clean call of ${tool} through ${t}`)
  }

  /** A cell: the call is refused, and its error's block_reason is the HTTP block header's reason. */
  async function cell(trigger: Trigger, t: Transport, args: Record<string, unknown>, agent?: string, tool = 'echo'): Promise<void> {
    const p = await peer(t, agent)
    p.calls++
    const got = await p.call(tool, args)
    assert.equal(got.blocked, true, `${trigger} through ${t} passed`)
    assert.equal(got.blocked && got.reason, HTTP_REASON[trigger], `${trigger} through ${t}`)
    p.blocks++
  }

  /** The session admin API of a peer (mcp proxy serves it on kill_switch.api_listen). */
  async function admin(p: Peer, method: string, route: string, body?: string): Promise<{status: number; json: Record<string, unknown>}> {
    const at = /session admin API on (\S+)/.exec(p.stderr())
    assert.ok(at !== null, `no session admin API: ${p.stderr()}`)
    const r = await fetch(`http://${at[1]}${route}`, {method, headers: {Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json'}, ...(body !== undefined ? {body} : {})})
    return {status: r.status, json: (await r.json()) as Record<string, unknown>}
  }

  before(async () => {
    writeReceiptKeys(dir, keyPairFromSeed(createHash('sha256').update('pipelock-e2e-gate-parity-mcp').digest()))
    upstream = await startHttpFixture()
    // Live contracts: shop-agent has a promoted contract, `stranger` none (the HTTP file's lab).
    lab = makeLab()
    const promoted = cli(promoteArgs(lab, writeCandidate(lab, 'cand', 1, 'ci-compile', 'enforce').file, ['--environment-id', 'prod']))
    assert.equal(promoted.code, 0, promoted.stderr)
  })

  after(async () => {
    await Promise.allSettled([...peers.values()].map((p) => p.stop()))
    await upstream?.close()
    rmSync(dir, {recursive: true, force: true})
    if (lab !== undefined) rmSync(lab.dir, {recursive: true, force: true})
  })

  it('a secret in the arguments is dlp_match on every MCP transport', async () => {
    for (const t of TRANSPORTS) {
      await pass(t, {text: 'hello'})
      await cell('secret in the arguments', t, {text: `key ${AWS_KEY}`})
    }
  })

  it('a secret in a request header is dlp_match on the MCP HTTP listener (stdio carries no headers)', async () => {
    const name = 'mcp_http-header'
    const p = await httpPeer(name, '_default', true)
    peers.set(name, p)
    p.calls++
    const got = await p.call('echo', {text: 'hello'})
    assert.equal(got.blocked, true, 'a header secret through the listener passed')
    assert.equal(got.blocked && got.reason, HTTP_REASON['secret in a header'], 'a header secret through the listener')
    p.blocks++
  })

  it('a poisoned wallet address in the arguments is dlp_match on every MCP transport', async () => {
    for (const t of TRANSPORTS) {
      await pass(t, {text: `pay ${ALLOWED}`})
      await cell('poisoned address', t, {text: `pay ${ONE_OFF}`})
    }
  })

  it('cross-request fragments: a secret split over two calls is cross_request_deny on every MCP transport', async () => {
    for (const t of TRANSPORTS) {
      await pass(t, {text: AWS_KEY.slice(0, 4)})
      await cell('cross-request fragments', t, {text: AWS_KEY.slice(4)})
    }
  })

  it('an exhausted budget is data_budget on every MCP transport', async () => {
    for (const t of TRANSPORTS) {
      await pass(t, {text: 'first'}, 'capped')
      await cell('exhausted budget', t, {text: 'second'}, 'capped')
    }
  })

  it('a session the airlock holds at hard: a write tool call is airlock_active on every MCP transport, a read passes', async () => {
    for (const t of TRANSPORTS) {
      await pass(t, {path: '/tmp/parity'}, 'held', 'write_file')
      const p = await peer(t, 'held')
      // The session exists once it sent a message; the operator moves it to hard.
      const list = await admin(p, 'GET', '/api/v1/sessions')
      const sessions = list.json.sessions as Array<{key: string}>
      assert.equal(sessions.length, 1, JSON.stringify(list.json))
      const key = encodeURIComponent(sessions[0]!.key)
      assert.equal((await admin(p, 'POST', `/api/v1/sessions/${key}/airlock`, '{"tier":"hard"}')).status, 200)
      p.tierChanges++
      try {
        await cell('airlock hard', t, {path: '/tmp/parity'}, 'held', 'write_file')
        // What receipts classify as a read goes through at hard, as /fetch does on HTTP.
        await pass(t, {path: '/tmp/parity'}, 'held', 'read_file')
      } finally {
        assert.equal((await admin(p, 'POST', `/api/v1/sessions/${key}/airlock`, '{"tier":"none"}')).status, 200)
        p.tierChanges++
      }
      await pass(t, {path: '/tmp/parity'}, 'held', 'write_file')
    }
  })

  it('audit mode (enforce: false): a secret in the arguments passes every MCP transport, recorded as would-block', async () => {
    for (const t of TRANSPORTS) {
      const p = await peer(t, 'auditor')
      p.calls++
      assert.deepEqual(await p.call('echo', {text: `key ${AWS_KEY}`}), {blocked: false}, `audit mode through ${t}`)
      p.warns++
    }
  })

  it('a contract default deny (live contracts, an agent with none) is contract_default_deny on every MCP transport', async () => {
    for (const t of TRANSPORTS) await cell('contract default deny', t, {text: 'hello'}, 'stranger')
  })

  it('kill switch on: every MCP transport refuses with kill_switch_active', async () => {
    writeFileSync(sentinel, '')
    try {
      for (const t of TRANSPORTS) {
        const p = await peer(t)
        // The sentinel is polled: the first refusal may take a moment.
        const deadline = Date.now() + 5000
        let got = await p.call('echo', {text: 'probe'})
        p.calls++
        while (!got.blocked && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100))
          got = await p.call('echo', {text: 'probe'})
          p.calls++
        }
        if (got.blocked) p.blocks++
        await cell('kill switch', t, {text: 'hello'})
      }
    } finally {
      rmSync(sentinel, {force: true})
    }
  })

  it('each call left exactly one tools/call Decision in a chain that verifies; blocks as sent', async () => {
    for (const [name, p] of peers) {
      await p.stop()
      const deadline = Date.now() + 10_000
      const records = (): Array<Record<string, string>> => existsSync(p.recorder)
        ? readdirSync(p.recorder).filter((f) => f.endsWith('.jsonl'))
          .flatMap((f) => readFileSync(path.join(p.recorder, f), 'utf8').split('\n').filter((l) => l.trim() !== ''))
          .map((l) => JSON.parse(l) as {type: string; detail: {action_record?: Record<string, string>}})
          .filter((e) => e.type === 'action_receipt' && e.detail.action_record !== undefined)
          .map((e) => e.detail.action_record!)
        : []
      const calls = (): Array<Record<string, string>> => records().filter((r) => r.transport !== 'airlock' && TOOLS.has(r.target!))
      while (calls().length < p.calls && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      const rs = calls()
      assert.equal(rs.length, p.calls, `${name}: one Decision per tools/call`)
      assert.equal(rs.filter((r) => r.verdict === 'block').length, p.blocks, `${name}: one block Decision per refused call`)
      assert.equal(rs.filter((r) => r.verdict === 'warn').length, p.warns, `${name}: one would-block Decision per audit-mode call`)
      // Each airlock tier change is signed in the same chain (target: the session).
      assert.equal(records().filter((r) => r.transport === 'airlock' && r.layer === 'airlock').length, p.tierChanges, `${name}: one receipt per tier change`)
      const v = runCli(['verify-receipt', '--chain', p.recorder, '--key', p.pub, '--json'])
      assert.equal(v.status, 0, v.stdout + v.stderr)
      assert.equal(JSON.parse(v.stdout).valid, true, name)
    }
    peers.clear()
  })
})
