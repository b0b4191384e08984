import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, it} from 'node:test'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {startHttpFixture} from '../mcp/fixtures/fixture-tools.js'
import {rejection, wrapMcpProxy, type WrappedClient} from '../helpers/mcp.js'
import {buildLockRoster, learnLockLines} from '../helpers/lock-roster.js'
import {cliIn, succeeded} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// Issue 34: `mcp proxy --agent NAME` selects the agent's profile (agents.NAME merged over the
// base, as pipelock run does for that agent's requests), its budget, the capture and receipt
// agent, and its live contract — through the built CLI with the MCP SDK client.

const FIXTURE = repoPath('dist/test/mcp/fixtures/sdk-server.js')
const dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-agent-'))
const home = path.join(dir, 'home')
mkdirSync(home)
const ks = path.join(dir, 'ks')
const store = path.join(dir, 'store')
const capture = path.join(dir, 'capture')
const rosterFile = path.join(dir, 'roster.json')
const env = {HOME: home, PIPELOCK_HOME: path.join(home, '.pipelock'), NO_COLOR: '1'}

const pipelock = cliIn(env)
const ok = succeeded

let fp = ''

/** A profile `billing` with its own DLP pattern and tool-call budget; `_default` has neither. */
function config(name: string, recorder: string, lock: boolean): string {
  const file = path.join(dir, `${name}.yaml`)
  const lines = [
    'learn:',
    '  inference:',
    '    floors: {min_sessions: 1, min_events: 1, min_windows: 1}',
    'flight_recorder:',
    '  enabled: true',
    `  dir: ${recorder}`,
    `  signing_key_path: ${path.join(ks, 'agents', 'receipt-signing', 'id_ed25519')}`,
    'agents:',
    '  billing:',
    '    dlp:',
    '      patterns: [{name: billing-ref, regex: "BILLREF-[0-9]{6}", severity: high}]',
    '    budget: {max_tool_calls_per_session: 4}',
  ]
  if (lock) lines.push(...learnLockLines(store, rosterFile, fp, 'live'))
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

/** Every wrap a test opened; closed after each test whether its assertions passed or not. */
const opened = new Set<WrappedClient>()

async function wrap(cfg: string, extra: string[]): Promise<WrappedClient> {
  const w = await wrapMcpProxy(['--config', cfg, ...extra, '--', process.execPath, FIXTURE], {PATH: process.env.PATH ?? '', ...env})
  const tracked: WrappedClient = {
    ...w,
    close: async () => {
      opened.delete(tracked)
      await w.close()
    },
  }
  opened.add(tracked)
  return tracked
}

/** Closes every wrap still open (a close after a failed assertion must not hide that failure). */
async function closeAll(): Promise<void> {
  const all = [...opened]
  opened.clear()
  await Promise.allSettled(all.map((w) => w.close()))
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

function actionRecords(recorder: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const f of readdirSync(recorder).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const l of readFileSync(path.join(recorder, f), 'utf8').trim().split('\n')) {
      const e = JSON.parse(l) as {type: string; detail: {action_record?: Record<string, unknown>}}
      if (e.type === 'action_receipt' && e.detail.action_record !== undefined && e.detail.action_record.transport === 'mcp_stdio') out.push(e.detail.action_record)
    }
  }
  return out
}

describe('mcp proxy --agent: profile, budget, capture and contract of that agent', {timeout: 240_000}, () => {
  afterEach(closeAll)

  it('an unknown agent is refused with one line naming the profiles there are', () => {
    fp = buildLockRoster(pipelock, ks, path.join(dir, 'root.json'), rosterFile)
    const r = pipelock(['mcp', 'proxy', '--config', config('plain', path.join(dir, 'r0'), false), '--agent', 'nobody', '--', 'true'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr, 'unknown agent profile "nobody" [USAGE]; hint: profiles in this config: billing\n')
  })

  it("observe as billing: the profile's DLP pattern blocks, capture and receipts name the agent", async () => {
    const recorder = path.join(dir, 'observe-recorder')
    const w = await wrap(config('observe', recorder, false), ['--agent', 'billing', '--capture-output', capture])
    for (let i = 0; i < 2; i++) await w.client.callTool({name: 'echo', arguments: {text: `hello ${i}`}})
    await w.client.callTool({name: 'read_file', arguments: {path: '/srv/a.txt'}})
    const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: 'ref BILLREF-123456'}}))
    assert.equal(e.code, -32001, 'the pattern of the billing profile applies')
    await w.close()
    const sdir = path.join(capture, 'billing|mcp-stdio-1')
    assert.ok(await until(() => existsSync(sdir) && readdirSync(sdir).length > 0, 10_000), `capture dir: ${existsSync(capture) ? readdirSync(capture).join(', ') : 'missing'}`)
    const caps = readdirSync(sdir)
      .flatMap((f) => readFileSync(path.join(sdir, f), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as {type: string; detail: {agent: string; request: {tool_name: string}}})
      .filter((x) => x.type === 'capture')
    assert.equal(caps.length, 4)
    assert.ok(caps.every((c) => c.detail.agent === 'billing'))
    const receipts = actionRecords(recorder)
    assert.equal(receipts.length, 4, JSON.stringify(receipts))
    assert.ok(receipts.every((r) => r.actor === 'billing'), JSON.stringify(receipts[0]))
    // the same call under the default profile: the billing pattern is not the default's
    const d = await wrap(config('observe-default', path.join(dir, 'default-recorder'), false), [])
    assert.deepEqual((await d.client.callTool({name: 'echo', arguments: {text: 'ref BILLREF-123456'}})).content, [{type: 'text', text: 'ref BILLREF-123456'}])
    await d.close()
  })

  it("the billing profile's budget: the 5th tool call of a wrap is refused", async () => {
    const w = await wrap(config('budget', path.join(dir, 'budget-recorder'), false), ['--agent', 'billing'])
    for (let i = 0; i < 4; i++) await w.client.callTool({name: 'echo', arguments: {text: `n${i}`}})
    const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: 'n4'}}))
    assert.equal(e.code, -32600)
    assert.equal(e.message, 'MCP error -32600: pipelock: tool call limit exceeded: 5/4')
    await w.close()
  })

  it("billing's promoted contract is enforced for --agent billing only: -32006 for a tool it does not allow", async () => {
    const cand = path.join(dir, 'cand.yaml')
    ok(pipelock(['learn', 'compile', '--agent', 'billing', '--include-mcp', '--config', path.join(dir, 'observe.yaml'), '--keystore', ks, '--compile-key-agent', 'ci-compile', '--input', path.join(capture, 'billing|mcp-stdio-1', '*.jsonl'), '--output', cand]), 'compile')
    const ratified = path.join(dir, 'ratified.yaml')
    ok(pipelock(['learn', 'ratify', '--candidate', cand, '--out', ratified, '--keystore', ks, '--compile-key-agent', 'ci-compile', '--receipt-key-agent', 'receipt-signing', '--accept-low-confidence']), 'ratify')
    ok(pipelock(['learn', 'promote', '--contract-store', store, '--roster', rosterFile, '--keystore', ks, '--roster-root-fingerprint', fp, '--activation-key', 'ops-alice', '--candidate', ratified, '--selector', 'billing', '--environment-id', 'prod']), 'promote')
    const recorder = path.join(dir, 'live-recorder')
    const live = await wrap(config('live', recorder, true), ['--agent', 'billing'])
    assert.match(live.stderr(), /learn_lock: mode=live store=\S+ generation=1 manifest=sha256:[0-9a-f]{64} \(server "node", agent "billing"\)/)
    assert.deepEqual((await live.client.callTool({name: 'echo', arguments: {text: 'in contract'}})).content, [{type: 'text', text: 'in contract'}])
    const d = await rejection(live.client.callTool({name: 'write_file', arguments: {path: '/tmp/x'}}))
    assert.equal(d.code, -32006)
    assert.equal((d.data as Record<string, unknown>).block_reason, 'contract_default_deny')
    await live.close()
    const receipts = actionRecords(recorder)
    assert.deepEqual(receipts.map((r) => [r.target, r.verdict, r.actor]), [['echo', 'allow', 'billing'], ['write_file', 'block', 'billing']])
    // the default agent has no contract selected: while contracts are live it is denied (issue 37)…
    const other = await wrap(config('live-default', path.join(dir, 'live-default-recorder'), true), [])
    assert.match(other.stderr(), /learn_lock: mode=live store=\S+ generation=1 manifest=sha256:[0-9a-f]{64} \(server "node", agent "_default"\)/)
    const denied = await other.client.callTool({name: 'write_file', arguments: {path: '/tmp/x'}}).then(() => null, (e: unknown) => e as {code: number; data: Record<string, unknown>})
    assert.equal(denied?.code, -32006)
    assert.deepEqual(denied?.data, {block_reason: 'contract_default_deny', contract_agent: '_default'})
    await other.close()
    // …unless listed as unlocked: then the same call passes on the scanner's verdict.
    const unlockedFile = config('live-unlocked', path.join(dir, 'live-unlocked-recorder'), true)
    appendFileSync(unlockedFile, '  unlocked_agents: [_default]\n')
    const unlocked = await wrap(unlockedFile, [])
    assert.deepEqual((await unlocked.client.callTool({name: 'write_file', arguments: {path: '/tmp/x'}})).content, [{type: 'text', text: 'write_file {"path":"/tmp/x"}'}])
    await unlocked.close()
  })

  it('no contract under live contracts: the handshake and ping pass, listing and reading the server are -32006 (stdio and --listen)', async () => {
    const denial = 'MCP error -32006: pipelock: contract_default_deny: agent "_default" has no active contract and is not listed in learn_lock.unlocked_agents'
    const refused = async (client: Client, via: string): Promise<void> => {
      await client.ping()
      const asks: Array<[string, () => Promise<unknown>]> = [
        ['tools/list', () => client.listTools()],
        ['resources/list', () => client.listResources()],
        ['resources/read', () => client.readResource({uri: 'file:///srv/notes.txt'})],
        ['prompts/get', () => client.getPrompt({name: 'summarize'})],
      ]
      for (const [method, ask] of asks) {
        const e = await rejection(ask())
        assert.deepEqual([e.code, e.message, e.data], [-32006, denial, {block_reason: 'contract_default_deny', contract_agent: '_default'}], `${method} via ${via}`)
      }
    }
    // The billing contract is the store's only selector (previous test): _default has none.
    const cfg = path.join(dir, 'live-default.yaml')
    const w = await wrap(cfg, [])
    await refused(w.client, 'stdio')
    await w.close()

    const fixture = await startHttpFixture()
    const proc = spawn(process.execPath, [repoPath('bin/run.js'), 'mcp', 'proxy', '--config', cfg, '--listen', '127.0.0.1:0', '--upstream', fixture.url], {env: {PATH: process.env.PATH ?? '', ...env}})
    let err = ''
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
    try {
      let m: RegExpExecArray | null = null
      assert.ok(await until(() => (m = /listening on (\S+)/.exec(err)) !== null || proc.exitCode !== null, 20_000), err)
      assert.ok(m !== null, err)
      const client = new Client({name: 'no-contract', version: '1.0.0'})
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://${(m as RegExpExecArray)[1]}/mcp`)))
      await refused(client, '--listen')
      await client.close()
    } finally {
      proc.kill('SIGTERM')
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.on('exit', r)))
      await fixture.close()
    }

    // Listed as unlocked, the same agent reads the server on the scanners' verdict.
    const u = await wrap(path.join(dir, 'live-unlocked.yaml'), [])
    assert.deepEqual((await u.client.readResource({uri: 'file:///srv/notes.txt'})).contents, [{uri: 'file:///srv/notes.txt', text: 'internal notes'}])
    await u.close()
  })
})
