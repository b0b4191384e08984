/**
 * §5.5 subsequence check cost: the URL scan of the same URL with the junction screen (as
 * shipped) and without it (every 2-, 3- and 4-value concatenation of the first 20 query values
 * scanned, as before), interleaved in one run. Per-scan CPU time (process.cpuUsage over a
 * batch) is reported beside wall-clock p50, since the machine may be loaded. Never asserts.
 * Run alone with `node dist/bench/subsequence.js [iterations]`.
 */
import {performance} from 'node:perf_hooks'
import {pathToFileURL} from 'node:url'
import {createDlpEngine, createUrlScanner, defaultScannerSettings, RateLimiter, scanUrl, type UrlScanner} from '../src/plugins/scanner/index.js'
import {urlOfSize} from './cee.js'

export interface SubsequenceBenchRow {
  case: string
  values: number
  iterations: number
  old_cpu_us: number
  new_cpu_us: number
  old_p50_us: number
  new_p50_us: number
  /** old CPU per scan / new CPU per scan. */
  speedup: number
}

function randomValues(n: number, len: number, seed: number): string {
  let x = seed
  const ch = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  const vals: string[] = []
  for (let i = 0; i < n; i++) {
    let v = ''
    for (let k = 0; k < len; k++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff
      v += ch[x % ch.length]
    }
    vals.push(`f${i}=${v}`)
  }
  return `https://api.example.com/v1/upload?${vals.join('&')}`
}

export async function runSubsequenceBench(args: string[] = []): Promise<SubsequenceBenchRow[]> {
  const iterations = Number(args[0] ?? '') > 0 ? Number(args[0]) : 300
  const settings = defaultScannerSettings()
  settings.maxRequestsPerMinute = Number.MAX_SAFE_INTEGER
  const engine = createDlpEngine(settings)
  const screened = createUrlScanner(settings, engine)
  const unscreened = createUrlScanner(settings, {...engine, junctionScreen: null})
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
  const cases: Array<[string, string]> = [
    ['cee-bench url 256 B', urlOfSize(256, 7)],
    ['cee-bench url 1 KiB', urlOfSize(1024, 7)],
    ['cee-bench url 2 KiB', urlOfSize(2048, 7)],
    ['20 tiny values (k=vN)', 'https://example.com/q?' + Array.from({length: 20}, (_, i) => `k${i}=v${i}`).join('&')],
    ['20 random 48-char values', randomValues(20, 48, 11)],
    ['20 random 100-char values', randomValues(20, 100, 12)],
  ]
  const rows: SubsequenceBenchRow[] = []
  for (const [name, url] of cases) {
    const values = url.slice(url.indexOf('?') + 1).split('&').length
    const measure = async (sc: UrlScanner, n: number): Promise<{cpu: number; wall: number[]}> => {
      const wall: number[] = []
      const c0 = process.cpuUsage()
      for (let i = 0; i < n; i++) {
        const t = performance.now()
        await scanUrl(url, {...ctx, scanner: sc})
        wall.push((performance.now() - t) * 1000)
      }
      const c = process.cpuUsage(c0)
      return {cpu: (c.user + c.system) / n, wall}
    }
    await measure(screened, 30)
    await measure(unscreened, 30)
    // Interleaved rounds: both sides see the same machine load.
    const old = {cpu: 0, wall: [] as number[]}
    const neu = {cpu: 0, wall: [] as number[]}
    const rounds = 5
    for (let r = 0; r < rounds; r++) {
      const a = await measure(unscreened, Math.max(1, Math.floor(iterations / rounds / 4)))
      const b = await measure(screened, Math.floor(iterations / rounds))
      old.cpu += a.cpu / rounds
      neu.cpu += b.cpu / rounds
      old.wall.push(...a.wall)
      neu.wall.push(...b.wall)
    }
    const p50 = (w: number[]) => w.sort((x, y) => x - y)[Math.floor(w.length / 2)]!
    rows.push({case: name, values, iterations, old_cpu_us: old.cpu, new_cpu_us: neu.cpu, old_p50_us: p50(old.wall), new_p50_us: p50(neu.wall), speedup: old.cpu / neu.cpu})
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await runSubsequenceBench(process.argv.slice(2))) console.log(JSON.stringify(r))
}
