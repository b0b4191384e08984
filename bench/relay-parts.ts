/**
 * The forward proxy's per-request work that issue 18's profile named, measured in process as CPU
 * per call (`process.cpuUsage`, so a loaded machine inflates it less than wall time), this tree
 * against another built checkout (`--baseline DIR`) in the same run, alternating: the response
 * scan's core floor (runs on every buffered body, scanning on or off) on the proxy benchmark's
 * 1 KiB binary body and on 1 KiB of JSON text, and the per-domain rate limiter after a minute at
 * 1,000 requests/s (60,000 live entries), and the URL scan of the proxy benchmark's target
 * (`http://127.0.0.1:<port>/bin` with the bench's `ssrf.ip_allowlist` and rate limit, on the
 * system clock: its rate-limit window fills as in the proxy). No assertions.
 *
 *   node dist/bench/relay-parts.js [--baseline /path/to/other/checkout] [--rounds N]
 */
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {repoRoot} from './peer-processes.js'

const BINARY = Buffer.from(Array.from({length: 1024}, (_, i) => i & 0xff)).toString('utf8')
const TEXT = JSON.stringify({
  items: Array.from({length: 8}, (_, i) => ({id: 1000 + i, title: `Issue ${i}: widget list pagination`, body: 'The list endpoint returns the next page when the cursor is set; see the docs for details.'})),
}).slice(0, 1024)

interface Parts {
  scan(content: string): void
  limiter(): {check: () => void}
  url(): () => Promise<unknown>
}

async function load(root: string): Promise<Parts> {
  const dist = (p: string): string => pathToFileURL(path.join(root, 'dist', 'src', 'plugins', 'scanner', p)).href
  const idx = (await import(dist('index.js'))) as typeof import('../src/plugins/scanner/index.js')
  const rl = (await import(dist('rate-limit.js'))) as typeof import('../src/plugins/scanner/rate-limit.js')
  const canonical = (await import(pathToFileURL(path.join(root, 'dist', 'src', 'plugins', 'canonical', 'index.js')).href)) as typeof import('../src/plugins/canonical/index.js')
  const settings = idx.defaultScannerSettings()
  const sc = idx.createScanner({...settings, responseScanning: {...settings.responseScanning, enabled: false}})
  return {
    scan: (c) => void sc.decideResponse(c, {host: '127.0.0.1'}),
    limiter: () => {
      let now = 1n
      const l = new rl.RateLimiter({nowNanos: () => now})
      for (let i = 0; i < 120_000; i++) {
        now += 1_000_000n
        l.checkAndRecord('example.com', 1_000_000_000)
      }
      return {check: () => {
        now += 1_000_000n
        l.checkAndRecord('example.com', 1_000_000_000)
      }}
    },
    url: () => {
      // The proxy bench's config (bench/proxy-peers.ts): loopback allowed, a rate limit no run reaches.
      const urlSc = idx.createScanner({...settings, ssrfIpAllowlist: ['127.0.0.0/8'], maxRequestsPerMinute: 1_000_000_000})
      const ctx = {resolver: async (): Promise<string[]> => ['127.0.0.1'], rateLimiter: new rl.RateLimiter(canonical.systemClock)}
      return () => urlSc.scanUrl('http://127.0.0.1:40123/bin', ctx)
    },
  }
}

/** A call returning a promise is awaited (its continuations are part of its cost). */
async function cpuUsPerCall(f: () => unknown, n: number): Promise<number> {
  for (let i = 0; i < Math.min(n, 2000); i++) {
    const r = f()
    if (r instanceof Promise) await r
  }
  const c0 = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const r = f()
    if (r instanceof Promise) await r
  }
  const u = process.cpuUsage(c0)
  return (u.user + u.system) / n
}

export async function runRelayPartsBench(args: readonly string[] = []): Promise<Record<string, unknown>[]> {
  const i = args.indexOf('--baseline')
  const baseline = i >= 0 ? args[i + 1] : undefined
  const r = args.indexOf('--rounds')
  const rounds = r >= 0 ? Number(args[r + 1]) : 5
  const trees: Array<[string, Parts]> = [['this tree', await load(repoRoot)]]
  if (baseline !== undefined) trees.push([`baseline ${path.basename(path.resolve(baseline))}`, await load(path.resolve(baseline))])
  const cases: Array<[string, (p: Parts) => () => unknown, number]> = [
    ['response core scan, 1 KiB binary body', (p) => () => p.scan(BINARY), 3000],
    ['response core scan, 1 KiB JSON text', (p) => () => p.scan(TEXT), 3000],
    ['rate limiter check, 60,000 live entries', (p) => p.limiter().check, 5000],
    ['URL scan of the proxy bench target (system clock)', (p) => p.url(), 5000],
  ]
  const rows: Record<string, unknown>[] = []
  for (const [name, make, n] of cases) {
    const samples = new Map<string, number[]>(trees.map(([t]) => [t, []]))
    for (let k = 0; k < rounds; k++) {
      for (const [t, p] of k % 2 === 0 ? trees : [...trees].reverse()) samples.get(t)!.push(await cpuUsPerCall(make(p), n))
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    const row: Record<string, unknown> = {work: name}
    for (const [t] of trees) row[`${t} (µs CPU, median)`] = Number(med(samples.get(t)!).toFixed(2))
    if (trees.length === 2) row['this ÷ baseline'] = Number((med(samples.get(trees[0]![0])!) / med(samples.get(trees[1]![0])!)).toFixed(3))
    rows.push(row)
  }
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await runRelayPartsBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
