/**
 * The URL scan's garbage and CPU (issues 15 and 18), this tree against another built checkout
 * (`--baseline DIR`) in one process, on the `cee` bench's URLs (256 B, 1 KiB, 2 KiB):
 *  - bytes allocated per `scanUrl`: new-space growth across one call, calls that overlapped a
 *    scavenge left out (deterministic: load does not change it);
 *  - scavenges per `--iterations` scans of each arm run alone (V8 `gc` entries, minor kind);
 *  - CPU per `scanUrl` (`process.cpuUsage`), both arms on every URL, alternating which goes first,
 *    and their results compared (`verdicts_equal`), on the sized URLs and on a mixed set (clean,
 *    a key-shaped value whole, base64- and hex-encoded, split across query values).
 * Without `--baseline` only this tree runs. No assertions.
 *
 *   node dist/bench/url-garbage.js [--baseline /path/to/other/checkout] [--iterations N] [--sizes 256,1024,2048]
 */
import path from 'node:path'
import {constants, PerformanceObserver} from 'node:perf_hooks'
import {fileURLToPath, pathToFileURL} from 'node:url'
import v8 from 'node:v8'
import {urlOfSize} from './cee.js'
import {repoRoot} from './peer-processes.js'

type ScannerModule = typeof import('../src/plugins/scanner/index.js')

interface Arm {
  readonly name: string
  readonly scan: (url: string) => Promise<unknown>
  readonly cpu: number[]
}

async function arm(root: string, name: string): Promise<Arm> {
  const scn = (await import(pathToFileURL(path.join(root, 'dist', 'src', 'plugins', 'scanner', 'index.js')).href)) as ScannerModule
  const settings = scn.defaultScannerSettings()
  settings.maxRequestsPerMinute = Number.MAX_SAFE_INTEGER
  const sc = scn.createScanner(settings)
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new scn.RateLimiter({nowNanos: () => 0n}), scanner: sc.url}
  return {name, cpu: [], scan: (url) => scn.scanUrl(url, ctx)}
}

const newSpace = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0
const q = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0)
}

/** Mean bytes allocated per scan of `urls` (calls during which a scavenge emptied new space are left out). */
async function bytesPerScan(a: Arm, urls: readonly string[]): Promise<number> {
  let total = 0
  let n = 0
  for (const u of urls) {
    const before = newSpace()
    await a.scan(u)
    const after = newSpace()
    if (after >= before) {
      total += after - before
      n++
    }
  }
  return n === 0 ? 0 : total / n
}

/** Scavenges during `urls.length` scans of one arm. */
async function scavenges(a: Arm, urls: readonly string[]): Promise<number> {
  let count = 0
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (((e as unknown as {detail?: {kind?: number}}).detail)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) count++
  })
  await new Promise((r) => setTimeout(r, 50))
  obs.observe({entryTypes: ['gc']})
  for (const u of urls) await a.scan(u)
  await new Promise((r) => setTimeout(r, 50))
  obs.disconnect()
  return count
}

/** Mixed URLs: clean ones and a key-shaped value (assembled at run time, not a credential) in several shapes. */
function mixedUrls(): string[] {
  const key = ['AK', 'IA', 'QWERTYUIOPASDFGH'].join('')
  const out: string[] = ['https://api.example.com/v1/repos/acme/widgets/issues?state=open&per_page=50&page=2']
  for (let i = 0; i < 40; i++) {
    const v = [`${key.slice(0, 7)}&b=${key.slice(7)}`, Buffer.from(`id=${key}`).toString('base64'), Buffer.from(key).toString('hex'), `x${i}`, encodeURIComponent(`é ${i}+ok`)][i % 5]!
    out.push(`https://api.example.com/p/${i}?a=${v}&c=${i}&d=hotel-${i * 7}`)
  }
  return out
}

export async function runUrlGarbageBench(args: readonly string[] = []): Promise<Record<string, unknown>[]> {
  const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
  const baseline = flag('--baseline')
  const iterations = Number(flag('--iterations') ?? 2000)
  const sizes = (flag('--sizes') ?? '256,1024,2048').split(',').map(Number)
  const arms = [await arm(repoRoot, 'this tree')]
  if (baseline !== undefined) arms.push(await arm(path.resolve(baseline), `baseline ${path.basename(path.resolve(baseline))}`))
  const rows: Record<string, unknown>[] = []
  const cases: Array<[string, string[]]> = sizes.map((size) => [`${size} B`, Array.from({length: iterations}, (_, i) => urlOfSize(size, i + 7))])
  cases.push(['mixed', Array.from({length: iterations}, (_, i) => mixedUrls()[i % 41]!)])
  for (const [label, urls] of cases) {
    for (const a of arms) for (const u of urls.slice(0, 300)) await a.scan(u) // warm-up
    const bytes = new Map<Arm, number>()
    const gcs = new Map<Arm, number>()
    for (const a of arms) {
      bytes.set(a, await bytesPerScan(a, urls.slice(0, 300)))
      gcs.set(a, await scavenges(a, urls))
    }
    let equal = true
    for (let i = 0; i < urls.length; i++) {
      const results: string[] = []
      for (const a of i % 2 === 0 ? arms : [...arms].reverse()) {
        const c0 = process.cpuUsage()
        const r = await a.scan(urls[i]!)
        const c = process.cpuUsage(c0)
        a.cpu.push(c.user + c.system)
        results.push(JSON.stringify(r))
      }
      if (results.some((r) => r !== results[0])) equal = false
    }
    for (const a of arms) {
      const mean = Math.round(a.cpu.reduce((s, v) => s + v, 0) / a.cpu.length)
      rows.push({
        url: label, tree: a.name, iterations, kib_per_scan: Math.round(bytes.get(a)! / 102.4) / 10, scavenges: gcs.get(a),
        cpu_mean_us: mean, cpu_p50_us: q(a.cpu, 0.5), cpu_p90_us: q(a.cpu, 0.9), cpu_p99_us: q(a.cpu, 0.99),
        ...(arms.length === 2 ? {verdicts_equal: equal} : {}),
      })
      a.cpu.length = 0
    }
  }
  return rows
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const r of await runUrlGarbageBench(process.argv.slice(2))) console.log(JSON.stringify(r))
}
