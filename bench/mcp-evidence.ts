import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {fromPlain, type JsonObject} from '../src/plugins/canonical/index.js'
import {resolveConfig} from '../src/plugins/config/index.js'
import {withIndex, type ResolvedContract} from '../src/plugins/enforcement/index.js'
import {newSessionState} from '../src/plugins/mcp/index.js'
import {buildMcpRuntime, mcpContractGate, resolveMcpRuntime} from '../src/plugins/mcp-proxy/index.js'
import {Peer, pairedDecisions, pct} from './mcp.js'

// `npm run bench -- mcp-evidence [calls]` (issue 13, Performance): what MCP II costs.
// * The contract gate per tools/call, in process: `gate.toolCall` alone against a 200-rule
//   contract (allowed tool near the end, unknown tool), and the request decision with the gate
//   against the same decision without it, interleaved.
// * Wrap throughput with signed receipts + tool-call capture on against the same wrap with them
//   off: two `pipelock mcp proxy` processes around the same fixture server, calls interleaved
//   one by one (closed loop), so load hits both arms alike. Reports ratios; never asserts.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const RAW = path.join(root, 'test/mcp/fixtures/raw-server.mjs')
const BIN = path.join(root, 'bin/run.js')

function contract(): ResolvedContract {
  const rules = Array.from({length: 200}, (_, i) => ({rule_id: `r-${i}`, rule_kind: 'mcp_tool_call', lifecycle_state: 'enforce', selector: {server: {value: 'node'}, tool: {value: `tool_${i}`}}}))
  return withIndex({contractHash: 'sha256:' + '0'.repeat(64), body: fromPlain({rules}) as JsonObject, activeManifestHash: 'sha256:' + '1'.repeat(64), selectorId: 's', generation: 1n})
}

function gateRows(iterations: number): Record<string, unknown>[] {
  const c = contract()
  const gate = mcpContractGate({runtime: {mode: 'live', resolve: () => c, current: () => undefined}, agent: '_default', server: 'node'})
  const rows: Record<string, unknown>[] = []
  for (const [label, tool] of [['gate only: allowed (rule 191 of 200)', 'tool_190'], ['gate only: unknown tool (default deny)', 'nope']] as const) {
    const us: number[] = []
    for (let i = 0; i < iterations; i++) {
      const t0 = process.hrtime.bigint()
      gate.toolCall({tool, args: new Map(), scannerVerdict: 'allow', scannerMatched: false})
      us.push(Number(process.hrtime.bigint() - t0) / 1000)
    }
    rows.push({case: label, n: iterations, off: 0, on: pct(us, 0.5), delta: pct(us, 0.5), delta_p99: pct(us, 0.99), unit: 'µs p50 (p99)'})
  }
  // The whole request decision (scanners included) with and without the gate, interleaved.
  const cfg = resolveMcpRuntime(resolveConfig({}, {env: {}}).config, 'proxy').config
  const rt = buildMcpRuntime(cfg, {})
  const off = {settings: rt.settings, deps: rt.deps, state: newSessionState(rt.settings, 'mcp_stdio', 'default')}
  const on = {settings: rt.settings, deps: {...rt.deps, contract: gate}, state: newSessionState(rt.settings, 'mcp_stdio', 'default')}
  // µs, as the rows above.
  const [ms0, ms1] = pairedDecisions(off, on, 'tool_190', {text: 'x'.repeat(180)}, iterations)
  const a = ms0.map((ms) => ms * 1000)
  const b = ms1.map((ms) => ms * 1000)
  rows.push({case: 'request decision ~200 B args, gate off vs on', n: iterations, off: pct(a, 0.5), on: pct(b, 0.5), delta: pct(b, 0.5) - pct(a, 0.5), delta_p99: pct(b, 0.99) - pct(a, 0.99), unit: 'µs p50 (p99)'})
  return rows
}

async function throughputRow(calls: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-bench-mcp-'))
  const ks = path.join(dir, 'ks')
  const kg = spawnSync(process.execPath, [BIN, 'keygen', 'receipt-signing', '--keystore', ks], {encoding: 'utf8'})
  if (kg.status !== 0) throw new Error(`keygen: ${kg.stderr}`)
  const cfg = path.join(dir, 'on.yaml')
  writeFileSync(cfg, ['flight_recorder:', '  enabled: true', `  dir: ${path.join(dir, 'recorder')}`, `  signing_key_path: ${path.join(ks, 'agents', 'receipt-signing', 'id_ed25519')}`, 'learn:', '  privacy:', '    salt_source: bench-salt', ''].join('\n'))
  const env = {PATH: process.env.PATH ?? ''}
  const off = new Peer(spawn(process.execPath, [BIN, 'mcp', 'proxy', '--', process.execPath, RAW, 'pad:1024'], {env}))
  const on = new Peer(spawn(process.execPath, [BIN, 'mcp', 'proxy', '--config', cfg, '--capture-output', path.join(dir, 'capture'), '--', process.execPath, RAW, 'pad:1024'], {env}))
  const a: number[] = []
  const b: number[] = []
  const warm = Math.min(300, Math.floor(calls / 10))
  for (let i = 1; i <= calls + warm; i++) {
    const line = JSON.stringify({jsonrpc: '2.0', id: i, method: 'tools/call', params: {name: 'echo', arguments: {text: 'x'.repeat(180)}}})
    const x = await off.call(i, line)
    const y = await on.call(i, line)
    if (i > warm) {
      a.push(x)
      b.push(y)
    }
  }
  off.p.kill()
  on.p.kill()
  const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0)
  const offRate = (1000 * a.length) / sum(a)
  const onRate = (1000 * b.length) / sum(b)
  return {case: 'wrap throughput: receipts + capture on vs off', n: calls, off: offRate, on: onRate, delta: 100 * (1 - onRate / offRate), delta_p99: pct(b, 0.99) - pct(a, 0.99), unit: 'calls/s; delta = % cost (p99 ms added)'}
}

export async function runMcpEvidenceBench(argv: string[]): Promise<Record<string, unknown>[]> {
  const calls = Number(argv[0] ?? 2000)
  return [...gateRows(20_000), await throughputRow(calls)]
}
