import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {rejection, wrapMcpProxy, type WrappedClient, WARN_MCP_CONFIG} from '../helpers/mcp.js'
import {buildLockRoster, learnLockLines} from '../helpers/lock-roster.js'
import {repoPath} from '../helpers/vectors.js'

// MCP II end to end (issue 13; mcp.md §15.3–§15.6.1, §18.2 case 15), through the built CLI with
// the official MCP SDK client and an SDK fixture server: `mcp proxy --capture-output` observes
// tool calls → `learn compile --include-mcp` → ratify → a live wrap starts with nothing promoted →
// promote while it runs → an allowed call passes with contract fields on its receipt, an unknown
// tool is -32006 contract_default_deny, a secret in the arguments of an allowed tool is blocked
// by the scanner (-32001), a shadow-mode wrap never blocks; every receipt chain verifies and no
// capture or evidence file holds the secret.

const SECRET = 'AKIA' + 'QYLPMN5HHHFPZAM2'
const BIN = repoPath('bin/run.js')
const FIXTURE = repoPath('dist/test/mcp/fixtures/sdk-server.js')
const dir = process.env.PL_KEEP ?? mkdtempSync(path.join(tmpdir(), 'pl-mcp-lock-'))
const home = path.join(dir, 'home')
mkdirSync(home)
const ks = path.join(dir, 'ks')
const store = path.join(dir, 'store')
const capture = path.join(dir, 'capture')
const rosterFile = path.join(dir, 'roster.json')
const rootFile = path.join(dir, 'root.json')
const env = {HOME: home, PIPELOCK_HOME: path.join(home, '.pipelock'), NO_COLOR: '1'}
const pubKey = (): string => path.join(ks, 'agents', 'receipt-signing', 'id_ed25519.pub')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function pipelock(args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', env: {...process.env, ...env}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

function ok(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}): ${r.stdout}${r.stderr}`)
  return r
}

let fp = ''

function config(name: string, recorder: string, lockMode?: 'live' | 'shadow'): string {
  const file = path.join(dir, `${name}.yaml`)
  const lines = [
    'learn:',
    '  inference:',
    '    floors: {min_sessions: 1, min_events: 1, min_windows: 1}',
    'flight_recorder:',
    '  enabled: true',
    `  dir: ${recorder}`,
    `  signing_key_path: ${path.join(ks, 'agents', 'receipt-signing', 'id_ed25519')}`,
  ]
  if (lockMode !== undefined) {
    lines.push(...learnLockLines(store, rosterFile, fp, lockMode))
  }
  // The fixture lists a poisoned tool: relay it (warn, explicit) so the contract steps see every call.
  lines.push(...WARN_MCP_CONFIG.trimEnd().split('\n'))
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

const wrap = (cfg: string, extra: string[] = []): Promise<WrappedClient> =>
  wrapMcpProxy(['--config', cfg, ...extra, '--', process.execPath, FIXTURE], {PATH: process.env.PATH ?? '', ...env})

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

interface Receipt {
  action_type: string
  target: string
  verdict: string
  transport: string
  layer?: string
  pattern?: string
  contract_winning_source?: string
  contract_hash?: string
  contract_rule_id?: string
  active_manifest_hash?: string
  contract_generation?: number
}

function receiptsIn(recorder: string): Receipt[] {
  const out: Receipt[] = []
  for (const f of readdirSync(recorder).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const l of readFileSync(path.join(recorder, f), 'utf8').trim().split('\n')) {
      const e = JSON.parse(l) as {type: string; detail: {action_record?: Receipt}}
      if (e.type === 'action_receipt' && e.detail.action_record?.transport === 'mcp_stdio') out.push(e.detail.action_record)
    }
  }
  return out
}

function verifyChain(recorder: string): void {
  const v = pipelock(['verify-receipt', '--chain', recorder, '--key', pubKey()])
  assert.equal(v.code, 0, `${v.stdout}${v.stderr}`)
  assert.match(v.stdout, /CHAIN VALID/)
}

describe('MCP learn-and-lock: observe → compile → ratify → promote live while the wrap runs', {timeout: 240_000}, () => {
  let live: WrappedClient | undefined
  after(async () => {
    await live?.close()
  })

  it('set-up: keys and roster', () => {
    fp = buildLockRoster(pipelock, ks, rootFile, rosterFile)
  })

  it('observe: every tools/call is captured (clean ones included), argument values never in clear', async () => {
    const recorder = path.join(dir, 'observe-recorder')
    const w = await wrap(config('observe', recorder), ['--capture-output', capture])
    await w.client.listTools()
    for (let i = 0; i < 3; i++) assert.deepEqual((await w.client.callTool({name: 'echo', arguments: {text: `hello ${i}`}})).content, [{type: 'text', text: `hello ${i}`}])
    for (let i = 0; i < 2; i++) await w.client.callTool({name: 'read_file', arguments: {path: `/srv/data/${i}.txt`}})
    const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: SECRET}}))
    assert.equal(e.code, -32001)
    await w.close()
    const sdir = path.join(capture, '_default|mcp-stdio-1')
    assert.ok(await until(() => existsSync(sdir) && readdirSync(sdir).length > 0, 10_000), `capture dir: ${existsSync(capture) ? readdirSync(capture).join(', ') : 'missing'}`)
    const lines = readdirSync(sdir).flatMap((f) => readFileSync(path.join(sdir, f), 'utf8').trim().split('\n'))
    const caps = lines.map((l) => JSON.parse(l) as {type: string; detail: {subsurface: string; effective_action: string; request: Record<string, string>; agent: string}}).filter((x) => x.type === 'capture')
    assert.equal(caps.length, 6, 'one record per tools/call, clean and blocked')
    assert.ok(caps.every((c) => c.detail.subsurface === 'mcp_tool_call' && c.detail.agent === '_default' && c.detail.request.mcp_server === 'node'))
    assert.deepEqual(caps.map((c) => c.detail.request.tool_name), ['echo', 'echo', 'echo', 'read_file', 'read_file', 'echo'])
    assert.deepEqual(caps.map((c) => c.detail.effective_action), ['allow', 'allow', 'allow', 'allow', 'allow', 'block'])
    // No salt configured: values are replaced by their type; the secret's record is redacted whole.
    assert.equal(caps[0]!.detail.request.tool_args_json, '{"text":"\\u003cstring\\u003e"}')
    assert.equal(caps[5]!.detail.request.tool_args_json, '[REDACTED]')
    const receipts = receiptsIn(recorder)
    assert.equal(receipts.length, 6, 'one signed receipt per tools/call decision')
    assert.deepEqual(receipts.map((r) => [r.target, r.verdict, r.action_type]), [
      ['echo', 'allow', 'unclassified'], ['echo', 'allow', 'unclassified'], ['echo', 'allow', 'unclassified'],
      ['read_file', 'allow', 'read'], ['read_file', 'allow', 'read'], ['echo', 'block', 'unclassified'],
    ])
    assert.equal(receipts[5]!.layer, 'mcp_input_scanning')
    assert.equal(receipts[5]!.pattern, 'AWS Access ID')
    verifyChain(recorder)
  })

  let ratified = ''
  it('compile --include-mcp emits mcp_tool_call rules; review shows them; ratify accepts them', () => {
    const cand = path.join(dir, 'cand.yaml')
    const c = ok(pipelock(['learn', 'compile', '--agent', '_default', '--include-mcp', '--config', path.join(dir, 'observe.yaml'), '--input', path.join(capture, '_default|mcp-stdio-1', '*.jsonl'), '--keystore', ks, '--compile-key-agent', 'ci-compile', '--output', cand]), 'compile')
    assert.match(c.stdout, /^compile: 6 events, 2 rules, written to /)
    const yaml = readFileSync(cand, 'utf8')
    assert.match(yaml, /rule_kind: mcp_tool_call/)
    assert.match(yaml, /display_name: mcp_node_echo/)
    const review = ok(pipelock(['learn', 'review', cand]), 'review')
    assert.match(review.stdout, /## MCP Tool Calls\n\n- r-[0-9a-f]{20}: server "node" tool "echo" \(4\/6 calls to the server, [a-z_]+\); any arguments\n- r-[0-9a-f]{20}: server "node" tool "read_file" \(2\/6/)
    ratified = path.join(dir, 'ratified.yaml')
    ok(pipelock(['learn', 'ratify', '--candidate', cand, '--out', ratified, '--keystore', ks, '--compile-key-agent', 'ci-compile', '--receipt-key-agent', 'receipt-signing', '--accept-low-confidence']), 'ratify')
    assert.match(readFileSync(ratified, 'utf8'), /lifecycle_state: enforce/)
    // learn shadow replays the tool calls with the evaluator the live gate uses: no deltas (the
    // scanner's block of the secret call stands although capture kept no argument values).
    const json = path.join(dir, 'shadow.json')
    ok(pipelock(['learn', 'shadow', '--contract', ratified, '--sessions', capture, '--agent', '_default', '--contract-key', path.join(ks, 'agents', 'ci-compile', 'id_ed25519.pub'), '--config', path.join(dir, 'observe.yaml'), '--out', path.join(dir, 'shadow.md'), '--out-json', json]), 'shadow')
    const report = JSON.parse(readFileSync(json, 'utf8')) as {total_records: number; replayed: number; changed: number; rules: Array<{evaluations: number}>}
    assert.deepEqual([report.total_records, report.replayed, report.changed], [6, 6, 0])
    assert.deepEqual(report.rules.map((r) => r.evaluations).sort(), [2, 3]) // the scanner-blocked call names no rule
  })

  const recorderLive = path.join(dir, 'live-recorder')
  it('live wrap starts with nothing promoted (scanner only); a promote applies to the next call', async () => {
    live = await wrap(config('live', recorderLive, 'live'))
    assert.match(live.stderr(), /learn_lock: mode=live store=.* no contract promoted yet \(server "node", agent "_default"\)/)
    assert.ok((await live.client.callTool({name: 'write_file', arguments: {path: '/tmp/x'}})).content, 'nothing promoted: scanner verdict')
    ok(pipelock(['learn', 'promote', '--contract-store', store, '--roster', rosterFile, '--keystore', ks, '--roster-root-fingerprint', fp, '--activation-key', 'ops-alice', '--candidate', ratified, '--selector', 'default', '--environment-id', 'prod']), 'promote')
    assert.ok(await until(() => /learn_lock: generation 1 active/.test(live!.stderr()), 15_000), live.stderr())
  })

  it('live: allowed tool passes, unknown tool is -32006 contract_default_deny, a secret is blocked by the scanner', async () => {
    assert.deepEqual((await live!.client.callTool({name: 'echo', arguments: {text: 'still fine'}})).content, [{type: 'text', text: 'still fine'}])
    const d = await rejection(live!.client.callTool({name: 'write_file', arguments: {path: '/tmp/x'}}))
    assert.equal(d.code, -32006)
    assert.equal(d.message, 'MCP error -32006: pipelock: request blocked by live-lock contract')
    const data = d.data as Record<string, unknown>
    assert.deepEqual(Object.keys(data), ['block_reason', 'contract_hash', 'contract_reason', 'contract_selector', 'live_verdict', 'policy_sources', 'rule_id', 'winning_source'])
    assert.equal(data.block_reason, 'contract_default_deny')
    assert.equal(data.contract_reason, 'contract_mcp_default_deny')
    assert.equal(data.winning_source, 'contract')
    assert.equal(data.live_verdict, 'block')
    assert.deepEqual(data.policy_sources, ['scanner', 'contract'])
    assert.match(String(data.contract_hash), /^sha256:[0-9a-f]{64}$/)
    const s = await rejection(live!.client.callTool({name: 'echo', arguments: {text: SECRET}}))
    assert.equal(s.code, -32001, 'a scanner block always wins')
    assert.deepEqual(s.data, {block_reason: 'dlp_match'})
    await live!.close()
    live = undefined
    const receipts = receiptsIn(recorderLive)
    const [before, allowed, denied, secret] = receipts
    assert.equal(receipts.length, 4)
    assert.equal(before!.contract_hash, undefined, 'before the promote no contract was resolved')
    assert.equal(allowed!.verdict, 'allow')
    assert.equal(allowed!.contract_winning_source, 'contract')
    assert.match(allowed!.contract_rule_id ?? '', /^r-[0-9a-f]{20}$/)
    assert.equal(allowed!.contract_generation, 1)
    assert.match(allowed!.active_manifest_hash ?? '', /^sha256:[0-9a-f]{64}$/)
    assert.deepEqual([denied!.target, denied!.verdict, denied!.layer, denied!.pattern], ['write_file', 'block', 'contract', 'contract_default_deny'])
    assert.deepEqual([secret!.verdict, secret!.layer], ['block', 'mcp_input_scanning'])
    assert.equal(secret!.contract_hash, undefined, 'the contract is never consulted after a scanner block')
    verifyChain(recorderLive)
  })

  it('shadow mode never blocks: the unknown tool passes, the receipt keeps what live would have done', async () => {
    const recorder = path.join(dir, 'shadow-recorder')
    const w = await wrap(config('shadow', recorder, 'shadow'))
    const r = await w.client.callTool({name: 'write_file', arguments: {path: '/tmp/x'}})
    assert.deepEqual(r.content, [{type: 'text', text: 'write_file {"path":"/tmp/x"}'}])
    await w.close()
    const [rec] = receiptsIn(recorder)
    assert.equal(rec!.verdict, 'allow')
    assert.equal(rec!.contract_winning_source, 'scanner')
    verifyChain(recorder)
  })

  it('no capture or evidence file holds the secret', () => {
    const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : [path.join(d, n)]))
    for (const f of [...walk(capture), ...walk(path.join(dir, 'observe-recorder')), ...walk(recorderLive)]) {
      assert.ok(!readFileSync(f, 'utf8').includes(SECRET), `${f} holds the secret`)
    }
  })
})
