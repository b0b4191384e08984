import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {readFileSync} from 'node:fs'
import readline from 'node:readline'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {resolveConfig} from '../src/plugins/config/index.js'
import {decideRequest, decideResponse, junctionPairs, newSessionState} from '../src/plugins/mcp/index.js'
import {buildMcpRuntime, resolveMcpRuntime} from '../src/plugins/mcp-proxy/index.js'

// `npm run bench -- mcp [calls]`: paired direct vs wrapped stdio `tools/call` latency (both
// servers alive, calls interleaved, so load affects both sides alike), plus the in-process cost
// of a 100-tool tools/list. Reports added p50/p99; never asserts.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const RAW = path.join(root, 'test/mcp/fixtures/raw-server.mjs')
const BIN = path.join(root, 'bin/run.js')

/** A JSON-RPC peer over a child's stdio: `call` resolves with the round trip in ms. */
export class Peer {
  private readonly waiting = new Map<number, () => void>()
  constructor(readonly p: ChildProcessWithoutNullStreams) {
    readline.createInterface({input: p.stdout}).on('line', (l) => {
      const id = JSON.parse(l).id as number
      this.waiting.get(id)?.()
      this.waiting.delete(id)
    })
  }
  call(id: number, line: string): Promise<number> {
    const t0 = process.hrtime.bigint()
    return new Promise((resolve) => {
      this.waiting.set(id, () => resolve(Number(process.hrtime.bigint() - t0) / 1e6))
      this.p.stdin.write(line + '\n')
    })
  }
}

export function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}

async function paired(label: string, args: Record<string, string>, calls: number, nodeFlags: readonly string[] = []): Promise<Record<string, unknown>> {
  const env = {PATH: process.env.PATH ?? ''}
  const direct = new Peer(spawn(process.execPath, [RAW, 'pad:1024'], {env}))
  const wrapped = new Peer(spawn(process.execPath, [...nodeFlags, BIN, 'mcp', 'proxy', '--', process.execPath, RAW, 'pad:1024'], {env}))
  const d: number[] = []
  const w: number[] = []
  const warm = Math.min(500, calls / 10)
  for (let i = 1; i <= calls + warm; i++) {
    const line = JSON.stringify({jsonrpc: '2.0', id: i, method: 'tools/call', params: {name: 'echo', arguments: args}})
    const a = await direct.call(i, line)
    const b = await wrapped.call(i, line)
    if (i > warm) {
      d.push(a)
      w.push(b)
    }
  }
  // RSS of the pipelock process (a Node process running the firewall) against the fixture server
  // (a bare Node process): the difference is what one wrap adds over a minimal Node process.
  const rss = (pid: number | undefined) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
  const wrappedRss = rss(wrapped.p.pid)
  const bareRss = rss(direct.p.pid)
  direct.p.kill()
  wrapped.p.kill()
  return {
    case: label, calls, direct_p50_ms: pct(d, 0.5), wrapped_p50_ms: pct(w, 0.5), added_p50_ms: pct(w, 0.5) - pct(d, 0.5),
    direct_p99_ms: pct(d, 0.99), wrapped_p99_ms: pct(w, 0.99), added_p99_ms: pct(w, 0.99) - pct(d, 0.99),
    pipelock_rss_mib: wrappedRss, bare_node_rss_mib: bareRss,
  }
}

function toolsList(): Record<string, unknown> {
  const config = resolveMcpRuntime(resolveConfig({}, {env: {}}).config, 'proxy').config
  const rt = buildMcpRuntime(config, {})
  const ctx = {settings: rt.settings, deps: rt.deps, state: newSessionState(rt.settings, 'mcp_stdio', 'default')}
  const tools = Array.from({length: 100}, (_, i) => ({
    name: `tool_${i}`,
    description: `Reads record ${i} from the inventory database and returns it as JSON. Use it for lookups by id.`,
    inputSchema: {type: 'object', properties: {id: {type: 'string', description: 'record id'}, fields: {type: 'array', items: {type: 'string'}}}},
  }))
  const runs: number[] = []
  for (let i = 1; i <= 30; i++) {
    decideRequest(ctx, JSON.stringify({jsonrpc: '2.0', id: i, method: 'tools/list'}))
    const t0 = process.hrtime.bigint()
    decideResponse(ctx, JSON.stringify({jsonrpc: '2.0', id: i, result: {tools}}))
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  const p50 = pct(runs.slice(5), 0.5)
  const p99 = pct(runs.slice(5), 0.99)
  // In-process: there is no direct counterpart, the decision cost is the added cost.
  return {case: 'tools/list 100 tools (in-process decision)', calls: 25, direct_p50_ms: 0, wrapped_p50_ms: p50, added_p50_ms: p50, direct_p99_ms: 0, wrapped_p99_ms: p99, added_p99_ms: p99, pipelock_rss_mib: 0, bare_node_rss_mib: 0}
}

/**
 * The split-secret pair pass of the 20-argument call in process, both arms interleaved in one
 * run: the reference's whole `a+b` per ordered pair (380 text-DLP scans of ~800 characters)
 * against the junction windows the port scans (mcp.md §4.2; docs/compatibility.md).
 */
function splitPass(values: readonly string[]): Record<string, unknown> {
  const rt = buildMcpRuntime(resolveMcpRuntime(resolveConfig({}, {env: {}}).config, 'proxy').config, {})
  const scan = (t: string) => rt.deps.scanner.scanTextForDlp(t)
  const whole: number[] = []
  const windows: number[] = []
  for (let r = 0; r < 12; r++) {
    let t0 = process.hrtime.bigint()
    for (let i = 0; i < values.length; i++) for (let j = i + 1; j < values.length; j++) {
      scan(values[i]! + values[j]!)
      scan(values[j]! + values[i]!)
    }
    whole.push(Number(process.hrtime.bigint() - t0) / 1e6)
    t0 = process.hrtime.bigint()
    for (const text of junctionPairs(values)) scan(text)
    windows.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  const w = whole.slice(2)
  const j = windows.slice(2)
  return {case: 'split pass of the 20-arg call: whole a+b (direct col.) vs junction windows (in process)', calls: 10, direct_p50_ms: pct(w, 0.5), wrapped_p50_ms: pct(j, 0.5), added_p50_ms: pct(j, 0.5) - pct(w, 0.5), direct_p99_ms: pct(w, 0.99), wrapped_p99_ms: pct(j, 0.99), added_p99_ms: pct(j, 0.99) - pct(w, 0.99), pipelock_rss_mib: 0, bare_node_rss_mib: 0}
}

export async function runMcpBench(argv: string[]): Promise<Record<string, unknown>[]> {
  const calls = Number(argv[0] ?? 2000)
  const small = {text: 'x'.repeat(180)}
  const twenty = Object.fromEntries(Array.from({length: 20}, (_, i) => [`field_${i}`, `value ${i} `.repeat(50)]))
  return [
    await paired('tools/call ~200 B args, ~1 KiB result', small, calls),
    // The wrap holds V8's young generation at its initial size (src/cli/young-generation.ts); an
    // operator's own young-generation flag turns the hold off, so this arm is the wrap without it
    // (V8's default sizing): the RSS and latency the hold trades.
    await paired('same, wrap without the young-generation hold (node --semi-space-growth-factor=2)', small, calls, ['--semi-space-growth-factor=2']),
    await paired('tools/call 20 string args (~10 KiB)', twenty, Math.max(200, calls / 10)),
    splitPass(Object.values(twenty)),
    toolsList(),
  ]
}
