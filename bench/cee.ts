/**
 * Cross-request detection benchmark (operations §10.3): the per-request overhead CEE adds to the
 * fetch/forward path — `admit` (payload extraction, entropy budget, fragment append + reassembly
 * scan, both streams) — with 10,000 active keys pre-filled in both structures (the LRU cap), for
 * URLs of 256 B, 1 KiB and 2 KiB. Each measured request comes from a random one of the keys, so
 * it pays a reassembly scan over that key's fragments. Reported beside the URL scan of the same
 * URL (the work every request does anyway) as a ratio. Each size runs twice: with the URL scanner
 * as shipped and with its §5.5 subsequence screen off (every 2–4 value concatenation scanned,
 * as before), since the garbage of that scan lands in the CEE samples as GC pauses. Per-request
 * CPU time (process.cpuUsage around each admit) is reported beside wall clock for loaded
 * machines. Never asserts.
 * Run alone with `node dist/bench/cee.js [iterations]`.
 */
import {performance} from 'node:perf_hooks'
import {pathToFileURL} from 'node:url'
import {CEE_MAX_KEYS, CrossRequestDetector, extractPayload, type CeeSettings} from '../src/plugins/cee/index.js'
import {createScanner, createUrlScanner, defaultScannerSettings, RateLimiter, scanUrl} from '../src/plugins/scanner/index.js'

export interface CeeBenchRow {
  case: string
  /** `screened`: the URL scanner as shipped; `unscreened`: its §5.5 subsequence screen off. */
  url_scan: string
  keys: number
  iterations: number
  cee_p50_us: number
  cee_p99_us: number
  cee_cpu_p50_us: number
  cee_cpu_p99_us: number
  url_scan_p50_us: number
  /** CEE p50 relative to the URL scan of the same URL. */
  ratio: number
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** Deterministic, text-like query values (no secrets, moderate entropy), `bytes` long in all. */
export function urlOfSize(bytes: number, seed: number): string {
  const base = `https://api.example.com/v1/search?`
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet']
  let q = ''
  let i = seed
  while (base.length + q.length < bytes) {
    q += `${q === '' ? '' : '&'}p${i % 97}=${words[i % 10]}-${(i * 7919) % 100000}`
    i++
  }
  return (base + q).slice(0, bytes)
}

/** The strict preset's section (§5.7): both sub-features on, 4096 bits / 5 min, 64 KiB buffer. */
const SETTINGS: CeeSettings = {
  enabled: true,
  action: 'block',
  entropy: {enabled: true, bitsPerWindow: 4096, windowMs: 5 * 60_000, action: 'warn', exemptDomains: []},
  fragments: {enabled: true, maxBufferBytes: 65536, windowMs: 5 * 60_000},
}

export async function runCeeBench(args: string[] = []): Promise<CeeBenchRow[]> {
  const iterations = Number(args[0] ?? '') > 0 ? Number(args[0]) : 5000
  const settings = defaultScannerSettings()
  settings.maxRequestsPerMinute = Number.MAX_SAFE_INTEGER
  const sc = createScanner(settings)
  const dlp = (t: string) => sc.scanTextForDlp(t)
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
  const rows: CeeBenchRow[] = []
  const unscreened = createUrlScanner(settings, {...sc.dlp, junctionScreen: null})
  for (const size of [256, 1024, 2048]) {
    for (const [variant, urlScanner] of [['unscreened', unscreened], ['screened', sc.url]] as const) {
      const det = new CrossRequestDetector(SETTINGS)
      let now = 0
      // Pre-fill: every key holds two earlier requests of this size (both structures at the cap).
      for (let round = 0; round < 2; round++) {
        for (let k = 0; k < CEE_MAX_KEYS; k++) det.admit(`agent-${k}|10.0.${k >> 8}.${k & 255}`, 'api.example.com', extractPayload(urlOfSize(size, k + round)), dlp, now++, true)
      }
      const keys = det.stats().entropy_tracker_active
      const samples: number[] = []
      const cpu: number[] = []
      const scans: number[] = []
      let x = 12345
      for (let i = 0; i < iterations; i++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff
        const k = x % CEE_MAX_KEYS
        const url = urlOfSize(size, i + 7)
        const c0 = process.cpuUsage()
        const t0 = performance.now()
        det.admit(`agent-${k}|10.0.${k >> 8}.${k & 255}`, 'api.example.com', extractPayload(url), dlp, now++, true)
        const t1 = performance.now()
        const c = process.cpuUsage(c0)
        await scanUrl(url, {...ctx, scanner: urlScanner})
        scans.push((performance.now() - t1) * 1000)
        samples.push((t1 - t0) * 1000)
        cpu.push(c.user + c.system)
      }
      samples.sort((a, b) => a - b)
      cpu.sort((a, b) => a - b)
      scans.sort((a, b) => a - b)
      const p50 = quantile(samples, 0.5)
      const scan50 = quantile(scans, 0.5)
      rows.push({
        case: `url ${size} B, random key`, url_scan: variant, keys, iterations, cee_p50_us: p50, cee_p99_us: quantile(samples, 0.99),
        cee_cpu_p50_us: quantile(cpu, 0.5), cee_cpu_p99_us: quantile(cpu, 0.99), url_scan_p50_us: scan50, ratio: p50 / scan50,
      })
    }
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await runCeeBench(process.argv.slice(2))) console.log(JSON.stringify(r))
}
