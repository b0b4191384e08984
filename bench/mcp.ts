import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {readFileSync} from 'node:fs'
import readline from 'node:readline'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {resolveConfig} from '../src/plugins/config/index.js'
import {decideRequest, decideResponse, junctionPairs, newSessionState, type McpContext} from '../src/plugins/mcp/index.js'
import {junctionPairsToScan} from '../src/plugins/scanner/index.js'
import {buildMcpRuntime, resolveMcpRuntime} from '../src/plugins/mcp-proxy/index.js'
import {junctionTexts} from '../test/helpers/mcp-split-oracle.js'

// `npm run bench -- mcp [calls]`: paired direct vs wrapped stdio `tools/call` latency (both
// servers alive, calls interleaved, so load affects both sides alike), plus the in-process cost
// of a 100-tool tools/list. Reports added p50/p99; never asserts.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const RAW = path.join(root, 'test/mcp/fixtures/raw-server.mjs')
const BIN = path.join(root, 'bin/run.js')

/**
 * A JSON-RPC peer over a child's stdio: `call` resolves with the round trip in ms, and fails
 * (with the child's last stderr) if the child exits first, so a wrap that cannot start ends
 * the bench instead of leaving it waiting.
 */
export class Peer {
  private readonly waiting = new Map<number, {answered: () => void; failed: (e: Error) => void}>()
  private exited: Error | undefined
  constructor(readonly p: ChildProcessWithoutNullStreams) {
    readline.createInterface({input: p.stdout}).on('line', (l) => {
      const id = JSON.parse(l).id as number
      this.waiting.get(id)?.answered()
      this.waiting.delete(id)
    })
    let stderr = ''
    p.stderr.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-2000)))
    p.on('exit', (code, signal) => {
      this.exited = new Error(`${p.spawnargs.join(' ')} exited (${signal ?? code}) with calls unanswered: ${stderr.trim()}`)
      for (const w of this.waiting.values()) w.failed(this.exited)
      this.waiting.clear()
    })
  }
  call(id: number, line: string): Promise<number> {
    const t0 = process.hrtime.bigint()
    return new Promise((resolve, reject) => {
      if (this.exited !== undefined) return reject(this.exited)
      this.waiting.set(id, {answered: () => resolve(Number(process.hrtime.bigint() - t0) / 1e6), failed: reject})
      this.p.stdin.write(line + '\n')
    })
  }
}

/**
 * Request decisions of two contexts interleaved (one message each, first then second), `n`
 * messages of `args` for tool `tool`: the two lists of times in ms.
 */
export function pairedDecisions(first: McpContext, second: McpContext, tool: string, args: unknown, n: number): [number[], number[]] {
  const a: number[] = []
  const b: number[] = []
  for (let i = 1; i <= n; i++) {
    const line = JSON.stringify({jsonrpc: '2.0', id: i, method: 'tools/call', params: {name: tool, arguments: args}})
    let t0 = process.hrtime.bigint()
    decideRequest(first, line)
    a.push(Number(process.hrtime.bigint() - t0) / 1e6)
    t0 = process.hrtime.bigint()
    decideRequest(second, line)
    b.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return [a, b]
}

export function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}

async function paired(label: string, args: Record<string, string>, calls: number, nodeFlags: readonly string[] = [], bin = BIN, wrapEnv: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const env = {PATH: process.env.PATH ?? ''}
  const direct = new Peer(spawn(process.execPath, [RAW, 'pad:1024'], {env}))
  const wrapped = new Peer(spawn(process.execPath, [...nodeFlags, bin, 'mcp', 'proxy', '--', process.execPath, RAW, 'pad:1024'], {env: {...env, ...wrapEnv}}))
  const d: number[] = []
  const w: number[] = []
  // RSS of the pipelock process (a Node process running the firewall) against the fixture server
  // (a bare Node process): the difference is what one wrap adds over a minimal Node process.
  const rss = (pid: number | undefined) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
  // One end-of-run read swings ±2–3 MiB with where V8's old space is in its collection cycle, so
  // both processes are also sampled through the steady phase (between calls, outside any timing).
  const every = rssSampleEvery(calls)
  const wSamples: number[] = []
  const dSamples: number[] = []
  const warm = Math.min(500, calls / 10)
  for (let i = 1; i <= calls + warm; i++) {
    const line = JSON.stringify({jsonrpc: '2.0', id: i, method: 'tools/call', params: {name: 'echo', arguments: args}})
    const a = await direct.call(i, line)
    const b = await wrapped.call(i, line)
    if (i > warm) {
      d.push(a)
      w.push(b)
      if ((i - warm) % every === 0) {
        wSamples.push(rss(wrapped.p.pid))
        dSamples.push(rss(direct.p.pid))
      }
    }
  }
  const wrappedRss = rss(wrapped.p.pid)
  const bareRss = rss(direct.p.pid)
  direct.p.kill()
  wrapped.p.kill()
  return {
    case: label, calls, direct_p50_ms: pct(d, 0.5), wrapped_p50_ms: pct(w, 0.5), added_p50_ms: pct(w, 0.5) - pct(d, 0.5),
    direct_p99_ms: pct(d, 0.99), wrapped_p99_ms: pct(w, 0.99), added_p99_ms: pct(w, 0.99) - pct(d, 0.99),
    pipelock_rss_mib: wrappedRss, bare_node_rss_mib: bareRss,
    ...rssColumns(wSamples, dSamples),
  }
}

/** Steady-phase RSS sampling interval: about 40 samples per run, at least every 10 calls. */
export function rssSampleEvery(calls: number): number {
  return Math.max(10, Math.floor(calls / 40))
}

/**
 * The sampled RSS columns (MiB): median and max of each process's samples, and the median of the
 * per-sample difference (wrap minus bare, read at the same point). Zero where nothing was sampled.
 */
export function rssColumns(wrap: readonly number[], bare: readonly number[]): Record<string, number> {
  const med = (xs: readonly number[]) => (xs.length === 0 ? 0 : pct([...xs], 0.5))
  const max = (xs: readonly number[]) => (xs.length === 0 ? 0 : Math.max(...xs))
  return {
    rss_samples: wrap.length,
    pipelock_rss_median_mib: med(wrap), pipelock_rss_max_mib: max(wrap),
    bare_node_rss_median_mib: med(bare), bare_node_rss_max_mib: max(bare),
    added_rss_median_mib: med(wrap.map((x, i) => x - (bare[i] ?? 0))),
  }
}

const NO_RSS = rssColumns([], [])

const GLIBC_TRIM = {MALLOC_TRIM_THRESHOLD_: '131072'}

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
  return {case: 'tools/list 100 tools (in-process decision)', calls: 25, direct_p50_ms: 0, wrapped_p50_ms: p50, added_p50_ms: p50, direct_p99_ms: 0, wrapped_p99_ms: p99, added_p99_ms: p99, pipelock_rss_mib: 0, bare_node_rss_mib: 0, ...NO_RSS}
}

/**
 * The split-secret pair pass of the 20-argument call in process, both arms interleaved in one
 * run: every junction text scanned (the pass before the joined-text screen, 380 text-DLP scans)
 * against the screened pass (`junctionPairsToScan`, then only the texts it keeps).
 */
function splitPass(values: readonly string[]): Record<string, unknown> {
  const rt = buildMcpRuntime(resolveMcpRuntime(resolveConfig({}, {env: {}}).config, 'proxy').config, {})
  const scanner = rt.deps.scanner
  const scan = (t: string) => scanner.scanTextForDlp(t)
  const all: number[] = []
  const screened: number[] = []
  for (let r = 0; r < 40; r++) {
    let t0 = process.hrtime.bigint()
    for (const {text} of junctionTexts(values)) scan(text)
    all.push(Number(process.hrtime.bigint() - t0) / 1e6)
    t0 = process.hrtime.bigint()
    const pairs = [...junctionPairs(values)]
    const keep = junctionPairsToScan(scanner.dlp, pairs)
    for (let k = 0; k < pairs.length; k++) if (keep[k]) scan(pairs[k]!.x + pairs[k]!.y)
    screened.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  const w = all.slice(5)
  const j = screened.slice(5)
  return {case: 'split pass of the 20-arg call: every junction text (direct col.) vs screened (in process)', calls: w.length, direct_p50_ms: pct(w, 0.5), wrapped_p50_ms: pct(j, 0.5), added_p50_ms: pct(j, 0.5) - pct(w, 0.5), direct_p99_ms: pct(w, 0.99), wrapped_p99_ms: pct(j, 0.99), added_p99_ms: pct(j, 0.99) - pct(w, 0.99), pipelock_rss_mib: 0, bare_node_rss_mib: 0, ...NO_RSS}
}

/**
 * The whole request decision of the 20-argument call in process, interleaved: without the
 * joined-text screen (an engine copy whose `joinedTextScreens` gives null, so every junction text is
 * scanned: the decision before the screen) vs as built.
 */
function requestDecision(args: Record<string, string>): Record<string, unknown> {
  const rt = buildMcpRuntime(resolveMcpRuntime(resolveConfig({}, {env: {}}).config, 'proxy').config, {})
  const ctx = {settings: rt.settings, deps: rt.deps, state: newSessionState(rt.settings, 'mcp_stdio', 'default')}
  const scanner = rt.deps.scanner
  const unscreened = {...scanner, dlp: {...scanner.dlp, joinedTextScreens: () => null}}
  const before = {...ctx, deps: {...rt.deps, scanner: unscreened}, state: newSessionState(rt.settings, 'mcp_stdio', 'default')}
  const [a, b] = pairedDecisions(before, ctx, 'echo', args, 60)
  const x = a.slice(10)
  const y = b.slice(10)
  return {case: 'request decision of the 20-arg call (in process): unscreened (direct col.) vs screened', calls: y.length, direct_p50_ms: pct(x, 0.5), wrapped_p50_ms: pct(y, 0.5), added_p50_ms: pct(y, 0.5) - pct(x, 0.5), direct_p99_ms: pct(x, 0.99), wrapped_p99_ms: pct(y, 0.99), added_p99_ms: pct(y, 0.99) - pct(x, 0.99), pipelock_rss_mib: 0, bare_node_rss_mib: 0, ...NO_RSS}
}

/**
 * `mcp [calls] [--baseline DIR]`: DIR is another built checkout (e.g. the previous head); its wrap
 * runs the small-call case right after this build's, so the RSS and latency rows compare in one run.
 */
export async function runMcpBench(argv: string[]): Promise<Record<string, unknown>[]> {
  const b = argv.indexOf('--baseline')
  const baseline = b === -1 ? undefined : argv.splice(b, 2)[1]
  const calls = Number(argv[0] ?? 2000)
  const small = {text: 'x'.repeat(180)}
  const twenty = Object.fromEntries(Array.from({length: 20}, (_, i) => [`field_${i}`, `value ${i} `.repeat(50)]))
  return [
    await paired('tools/call ~200 B args, ~1 KiB result', small, calls),
    // The wrap holds V8's young generation at its initial size (src/cli/v8-flags.ts); an
    // operator's own young-generation flag turns the hold off, so this arm is the wrap without it
    // (V8's default sizing): the RSS and latency the hold trades.
    await paired('same, wrap without the young-generation hold (node --semi-space-growth-factor=2)', small, calls, ['--semi-space-growth-factor=2']),
    // The wrap sizes V8's heap for memory (src/cli/mcp-proxy-run.ts); an operator's own flag turns that off.
    await paired('same, wrap without the small-heap sizing (node --no-optimize-for-size)', small, calls, ['--no-optimize-for-size']),
    ...(baseline === undefined ? [] : [await paired(`same, baseline wrap (${baseline})`, small, calls, [], path.join(path.resolve(baseline), 'bin/run.js'))]),
    // glibc's trim threshold fixed at its default in the wrap's environment (docs/mcp.md "Memory
    // per wrap": an operator's setting, read by glibc only at process start).
    await paired('same, MALLOC_TRIM_THRESHOLD_=131072 in the wrap\'s environment', small, calls, [], BIN, GLIBC_TRIM),
    await paired('tools/call 20 string args (~10 KiB)', twenty, Math.max(200, calls / 10)),
    await paired('same, MALLOC_TRIM_THRESHOLD_=131072 in the wrap\'s environment', twenty, Math.max(200, calls / 10), [], BIN, GLIBC_TRIM),
    splitPass(Object.values(twenty)),
    requestDecision(twenty),
    toolsList(),
  ]
}
