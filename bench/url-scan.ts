/**
 * URL-scanner benchmark: p50/p99 of scanning a typical allowed URL end to end, a per-stage
 * breakdown of the same URL, and a few comparison cases (blocked at DLP, 20 query params,
 * 10 and 20 query values of hex identifiers, text DLP and response scanning of typical payloads). Reports numbers only; never asserts.
 * Run alone with `node dist/bench/url-scan.js [iterations]`.
 */
import {createHash} from 'node:crypto'
import {performance} from 'node:perf_hooks'
import {pathToFileURL} from 'node:url'
import {createScanner, defaultScannerSettings, RateLimiter} from '../src/plugins/scanner/index.js'

export interface UrlScanBenchRow {
  case: string
  iterations: number
  p50_us: number
  p99_us: number
  /** p50 relative to the typical allowed URL (1.00 for that row). */
  ratio: number
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

async function sample(iterations: number, f: () => unknown | Promise<unknown>): Promise<number[]> {
  // Warm-up to steady state (a proxy scans millions of URLs): 200 calls left the first case
  // measured while V8 was still optimising, about twice its steady-state p50.
  const until = performance.now() + 500
  for (let i = 0; i < 200 || performance.now() < until; i++) await f()
  const out: number[] = []
  for (let i = 0; i < iterations; i++) {
    const t = performance.now()
    await f()
    out.push((performance.now() - t) * 1000)
  }
  return out.sort((a, b) => a - b)
}

export async function runUrlScanBench(args: string[] = []): Promise<UrlScanBenchRow[]> {
  const iterations = Number(args[0] ?? '') > 0 ? Number(args[0]) : 2000
  const settings = defaultScannerSettings()
  settings.maxRequestsPerMinute = Number.MAX_SAFE_INTEGER // measure scanning, not throttling
  const sc = createScanner(settings)
  const clock = {nowNanos: () => 0n}
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter(clock)}
  const typical = 'https://api.example.com/v1/repos/acme/widgets/issues?state=open&per_page=50&page=2'
  const listed = new Set(settings.requestBodyScanning.sensitiveHeaders.map((h) => h.toLowerCase()))
  let requestNo = 0
  const typicalHeaders = (n: number): Array<[string, string]> => {
    const base: Array<[string, string]> = [
      ['Host', 'api.example.com'], ['User-Agent', 'agent-sdk/1.4.2 node/20.11'], ['Accept', 'application/json'], ['Accept-Encoding', 'gzip, br'],
      ['Content-Type', 'application/json'], ['Authorization', 'Bearer not-a-real-token-but-long-enough'], ['X-Request-Id', `req-${(requestNo++).toString(16).padStart(12, '0')}`],
      ['Connection', 'keep-alive'],
    ]
    for (let i = base.length; i < n; i++) base.push([`X-Trace-${i}`, `span-${i}-abcdef0123`])
    return base.slice(0, n)
  }
  /** A URL of `n` query values, each a 32-digit hex identifier (built once: the timed call only scans it). */
  const hexIdUrl = (n: number): string =>
    'https://api.example.com/v1/items?' + Array.from({length: n}, (_, i) => `id${i}=${createHash('md5').update(`item-${i}`).digest('hex')}`).join('&')
  const [tenIds, twentyIds] = [hexIdUrl(10), hexIdUrl(20)]
  // A key-shaped value assembled at run time (not a real credential).
  const secret = ['sk', '-ant-', 'api03', 'Q'.repeat(8), 'x7'.repeat(10)].join('')
  const cases: Array<[string, () => unknown]> = [
    ['url: typical allowed', () => sc.scanUrl(typical, ctx)],
    ['url: blocked at dlp', () => sc.scanUrl(`https://api.example.com/v1/x?key=${secret}`, ctx)],
    ['url: 20 query params', () => sc.scanUrl('https://example.com/q?' + Array.from({length: 20}, (_, i) => `k${i}=v${i}`).join('&'), ctx)],
    // Query values that are long identifiers: the §5.5 subsequence check joins every 2, 3 and 4
    // of the first 20 values, and a join in whose values or junctions some DLP pattern's core
    // matches goes through the full DLP set (src/plugins/scanner/subsequence.ts).
    ['url: 10 query params of 32-hex ids', () => sc.scanUrl(tenIds, ctx)],
    ['url: 20 query params of 32-hex ids', () => sc.scanUrl(twentyIds, ctx)],
    ['text dlp: 1 KiB prose', () => sc.scanTextForDlp('The quick brown fox jumps over the lazy dog. '.repeat(23))],
    ['response: 4 KiB prose', () => sc.scanResponse('Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(72))],
    // Header DLP (issue 37): every header is scanned; the listed ones are the fast path. Values
    // repeat across requests (User-Agent, Accept…) and are remembered clean; the request id is new each time.
    ['headers: 8 typical, all scanned', () => sc.scanRequestHeaders(typicalHeaders(8))],
    ['headers: 20 incl. 12 X-*, all scanned', () => sc.scanRequestHeaders(typicalHeaders(20))],
    ['headers: the listed ones of those 20 (the old limit)', () => sc.scanRequestHeaders(typicalHeaders(20).filter(([h]) => listed.has(h.toLowerCase())))],
  ]
  const rows: UrlScanBenchRow[] = []
  let base = 0
  for (const [name, f] of cases) {
    // The URLs of many query values cost milliseconds each: a twentieth of the iterations.
    const n = /^url: (10|20) query params/.test(name) ? Math.max(20, Math.floor(iterations / 20)) : iterations
    const s = await sample(n, f)
    const p50 = quantile(s, 0.5)
    if (base === 0) base = p50
    rows.push({case: name, iterations: n, p50_us: p50, p99_us: quantile(s, 0.99), ratio: p50 / base})
  }
  // Per-stage breakdown of the typical URL (stage timings from the scanner's own marks).
  const perStage = new Map<string, number[]>()
  for (let i = 0; i < iterations; i++) {
    const r = await sc.scanUrl(typical, {...ctx, timer: () => performance.now()})
    for (const t of r.timings ?? []) {
      const list = perStage.get(t.stage) ?? []
      list.push(t.ms * 1000)
      perStage.set(t.stage, list)
    }
  }
  for (const [stage, list] of perStage) {
    list.sort((a, b) => a - b)
    rows.push({case: `  stage ${stage}`, iterations, p50_us: quantile(list, 0.5), p99_us: quantile(list, 0.99), ratio: quantile(list, 0.5) / base})
  }
  return rows
}

function printTable(rows: UrlScanBenchRow[]): void {
  const cols = ['case', 'iterations', 'p50_us', 'p99_us', 'ratio'] as const
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 0)) : v)
  const body = rows.map((r) => cols.map((c) => cell(r[c])))
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: readonly string[]) => '| ' + cells.map((x, i) => x.padEnd(widths[i]!)).join(' | ') + ' |'
  process.stdout.write([line(cols), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n') + '\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTable(await runUrlScanBench(process.argv.slice(2)))
}
