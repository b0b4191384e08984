/**
 * Cross-request detection per request, this tree against another built checkout
 * (`--baseline DIR`) in one process (issue 15): both detectors pre-filled alike as in the `cee`
 * bench (10,000 agents × two requests, strict section, measured agents with warm windows), then
 * every request is admitted by both, alternating which goes first, and timed as CPU
 * (`process.cpuUsage`: a loaded machine inflates it less than wall time) and wall. The two
 * detectors' results are compared request by request (`verdicts_equal`). Without `--baseline`
 * only this tree runs. No assertions.
 *
 *   node dist/bench/cee-baseline.js [--baseline /path/to/other/checkout] [--iterations N] [--sizes 256,1024,2048]
 */
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {measuredAgents, urlOfSize} from './cee.js'
import {repoRoot} from './peer-processes.js'

type CeeModule = typeof import('../src/plugins/cee/index.js')
type ScannerModule = typeof import('../src/plugins/scanner/index.js')

interface Arm {
  readonly name: string
  readonly cee: CeeModule
  readonly admit: (key: string, url: string) => unknown
  readonly cpu: number[]
  readonly wall: number[]
}

const SETTINGS = {
  enabled: true, action: 'block' as const,
  entropy: {enabled: true, bitsPerWindow: 4096, windowMs: 300_000, action: 'warn' as const, exemptDomains: []},
  fragments: {enabled: true, maxBufferBytes: 65536, windowMs: 300_000},
}
const agentKey = (k: number): string => `agent-${k}|10.0.${k >> 8}.${k & 255}`

async function arm(root: string, name: string, size: number): Promise<Arm> {
  const dist = (p: string): string => pathToFileURL(path.join(root, 'dist', 'src', 'plugins', p)).href
  const cee = (await import(dist('cee/index.js'))) as CeeModule
  const scn = (await import(dist('scanner/index.js'))) as ScannerModule
  const dlp = cee.textDlpOf(scn.createScanner(scn.defaultScannerSettings()))
  const det = new cee.CrossRequestDetector(SETTINGS)
  let now = 0
  for (let k = 0; k < cee.CEE_MAX_KEYS; k++) for (let r = 0; r < 2; r++) det.admit(agentKey(k), 'api.example.com', cee.extractPayload(urlOfSize(size, k + r)), dlp, now++, true)
  return {name, cee, cpu: [], wall: [], admit: (key, url) => det.admit(key, 'api.example.com', cee.extractPayload(url), dlp, now++, true)}
}

const q = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0)
}

export async function runCeeBaselineBench(args: readonly string[] = []): Promise<Record<string, unknown>[]> {
  const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
  const baseline = flag('--baseline')
  const iterations = Number(flag('--iterations') ?? 2000)
  const sizes = (flag('--sizes') ?? '256,1024,2048').split(',').map(Number)
  const rows: Record<string, unknown>[] = []
  for (const size of sizes) {
    const arms = [await arm(repoRoot, 'this tree', size)]
    if (baseline !== undefined) arms.push(await arm(path.resolve(baseline), `baseline ${path.basename(path.resolve(baseline))}`, size))
    let equal = true
    const agents = measuredAgents(iterations)
    for (let i = 0; i < iterations; i++) {
      const key = agentKey(agents[i]!)
      const url = urlOfSize(size, i + 7)
      const results: string[] = []
      for (const a of i % 2 === 0 ? arms : [...arms].reverse()) {
        const c0 = process.cpuUsage()
        const t0 = performance.now()
        results.push(JSON.stringify(a.admit(key, url)))
        const t1 = performance.now()
        const c = process.cpuUsage(c0)
        a.cpu.push(c.user + c.system)
        a.wall.push((t1 - t0) * 1000)
      }
      if (results.some((r) => r !== results[0])) equal = false
    }
    for (const a of arms) {
      const mean = Math.round(a.cpu.reduce((s, v) => s + v, 0) / a.cpu.length)
      rows.push({url: `${size} B`, tree: a.name, iterations, cpu_mean_us: mean, cpu_p50_us: q(a.cpu, 0.5), cpu_p90_us: q(a.cpu, 0.9), cpu_p99_us: q(a.cpu, 0.99), wall_p50_us: q(a.wall, 0.5), wall_p99_us: q(a.wall, 0.99), ...(arms.length === 2 ? {verdicts_equal: equal} : {})})
    }
  }
  return rows
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const r of await runCeeBaselineBench(process.argv.slice(2))) console.log(JSON.stringify(r))
}
