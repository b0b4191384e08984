/**
 * Forward-proxy overhead on loopback (runtime spec §22): a 1 KiB GET at concurrency 50, paired
 * direct vs proxied (each worker alternates the two arms, so machine drift hits both), the
 * throughput ratio, idle RSS of the proxy process and time to first request served. The proxy
 * is the BUILT CLI (`node bin/run.js run`) with the spec's bench settings: response scanning
 * off, loopback upstream trusted by `ssrf.ip_allowlist`, a large rate limit; then again with the
 * `balanced` preset as shipped (only the loopback trust and the rate limit overridden). Two
 * peers are measured the same way in the same run: a bare Node relay (`bare-relay.ts`, the
 * floor any single-process Node proxy pays on this machine) and tinyproxy when installed.
 * No assertions.
 *
 *   node dist/bench/proxy.js [--requests N] [--seconds S] [--rates PAIRS_PER_S,…]
 */
import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import YAML from 'yaml'
import {presetConfig} from '../src/plugins/config/index.js'
import {have, repoRoot, spawnBareRelay, spawnPipelock, startTinyproxy} from './peer-processes.js'

export interface ProxyBenchRow {
  metric: string
  direct: number | string
  proxied: number | string
  /** proxied − direct for latencies; proxied ÷ direct for throughput. */
  delta: number | string
  unit: string
}

/**
 * 1 KiB of binary (buffered and sniffed by the media policy, not response-scanned) and 1 KiB of
 * text shaped like what agents read — a JSON API answer in prose — which is response-scanned.
 * (An earlier version sent '0123456789abcdef' × 64: valid hex, so every pass also decoded it.)
 */
const BINARY = Buffer.from(Array.from({length: 1024}, (_, i) => i & 0xff))
const TEXT = Buffer.from(
  JSON.stringify({
    items: Array.from({length: 8}, (_, i) => ({id: 1000 + i, title: `Issue ${i}: widget list pagination`, body: 'The list endpoint returns the next page when the cursor is set; see the docs for details.'})),
  }).slice(0, 1024).padEnd(1024, ' '),
)

/**
 * The spec's bench settings (§22): forward proxy on, response scanning and seed phrases off,
 * the loopback upstream trusted, a rate limit no run reaches, allowed requests not logged.
 * Also the config of `bench/startup.ts`.
 */
export const PROXY_BENCH_CONFIG = [
  'forward_proxy:', '  enabled: true',
  'response_scanning:', '  enabled: false',
  'seed_phrase_detection:', '  enabled: false',
  'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]',
  'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 1000000000',
  'logging:', '  include_allowed: false',
].join('\n') + '\n'

function pct(sorted: number[], p: number): number {
  // Nearest rank, as the reference's egress bench: sorted[ceil(p·N) − 1].
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0
}

async function get(agent: http.Agent, port: number, target: string): Promise<number> {
  const t0 = process.hrtime.bigint()
  await new Promise<void>((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path: target, agent}, (res) => {
      res.on('data', () => undefined)
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end()
  })
  return Number(process.hrtime.bigint() - t0) / 1e6
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

/** tinyproxy when installed; undefined otherwise. */
async function startTinyproxyIfInstalled(dir: string): Promise<{proc: ChildProcess; port: number} | undefined> {
  if (!have('tinyproxy')) return undefined
  try {
    return await startTinyproxy(dir)
  } catch {
    return undefined
  }
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000

interface ArmResult {
  rows: ProxyBenchRow[]
  addedP50: number
  addedP99: number
  rps: number
}

/**
 * One proxy arm against the direct path: c=1 sequential pairs, c=50 paired (each worker
 * alternates direct and proxied, so drift hits both), then each path alone for `seconds` at c=50.
 * `via` returns a latency, or undefined for a request the peer dropped (counted, not timed).
 */
async function measureArm(
  label: string, directAgent: http.Agent, upPort: number, upPath: string, via: () => Promise<number | undefined>, n: number, seconds: number, concurrency: number,
  openRates: readonly number[],
): Promise<ArmResult> {
  const direct1 = (): Promise<number> => get(directAgent, upPort, upPath)
  for (let i = 0; i < 100; i++) {
    await direct1()
    await via()
  }
  let dropped = 0
  const timed = async (): Promise<number | undefined> => {
    const t = await via()
    if (t === undefined) dropped++
    return t
  }
  const d1: number[] = []
  const p1: number[] = []
  for (let i = 0; i < 300; i++) {
    d1.push(await direct1())
    const t = await timed()
    if (t !== undefined) p1.push(t)
  }
  const direct: number[] = []
  const proxied: number[] = []
  let next = 0
  await Promise.all(Array.from({length: concurrency}, async (_, w) => {
    let flip = w % 2 === 0
    while (next < n) {
      next++
      let t: number | undefined
      if (flip) {
        direct.push(await direct1())
        t = await timed()
      } else {
        t = await timed()
        direct.push(await direct1())
      }
      if (t !== undefined) proxied.push(t)
      flip = !flip
    }
  }))
  for (const a of [d1, p1, direct, proxied]) a.sort((x, y) => x - y)
  const throughput = async (fn: () => Promise<number | undefined>): Promise<number> => {
    const end = Date.now() + seconds * 1000
    let count = 0
    await Promise.all(Array.from({length: concurrency}, async () => {
      while (Date.now() < end) if ((await fn()) !== undefined) count++
    }))
    return count / seconds
  }
  const directRps = await throughput(direct1)
  const rps = await throughput(timed)
  // Open loop: pairs started at a fixed rate whatever the answers do (as agents send them),
  // at most `concurrency` pairs in flight; a pair due while that many are out is skipped and
  // counted, never queued at the client. Below saturation this is the latency a proxy adds.
  const openRows: ProxyBenchRow[] = []
  for (const rate of openRates) {
    const od: number[] = []
    const op: number[] = []
    let skipped = 0
    let inFlight = 0
    const started: Array<Promise<void>> = []
    const t0 = performance.now()
    for (let i = 0; i < rate * seconds; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      if (inFlight >= concurrency) {
        skipped++
        continue
      }
      inFlight++
      started.push((async () => {
        try {
          if (i % 2 === 0) od.push(await direct1())
          const t = await timed()
          if (t !== undefined) op.push(t)
          if (i % 2 === 1) od.push(await direct1())
        } finally {
          inFlight--
        }
      })())
    }
    await Promise.all(started)
    od.sort((x, y) => x - y)
    op.sort((x, y) => x - y)
    const skips = skipped > 0 ? `, ${skipped} pairs skipped at the in-flight cap` : ''
    openRows.push({
      metric: `${label}: p50 / p99, open loop ${rate} pairs/s, ≤ ${concurrency} in flight${skips}`,
      direct: `${r3(pct(od, 0.5))} / ${r3(pct(od, 0.99))}`, proxied: `${r3(pct(op, 0.5))} / ${r3(pct(op, 0.99))}`,
      delta: `${r3(pct(op, 0.5) - pct(od, 0.5))} / ${r3(pct(op, 0.99) - pct(od, 0.99))}`, unit: 'ms',
    })
  }
  const addedP50 = pct(proxied, 0.5) - pct(direct, 0.5)
  const addedP99 = pct(proxied, 0.99) - pct(direct, 0.99)
  const drops = dropped > 0 ? ` (${dropped} connections dropped)` : ''
  return {
    addedP50, addedP99, rps,
    rows: [
      ...openRows,
      {metric: `${label}: p50, c=1, ${d1.length} pairs`, direct: r3(pct(d1, 0.5)), proxied: r3(pct(p1, 0.5)), delta: r3(pct(p1, 0.5) - pct(d1, 0.5)), unit: 'ms'},
      {metric: `${label}: p50, c=${concurrency}, ${direct.length} pairs${drops}`, direct: r3(pct(direct, 0.5)), proxied: r3(pct(proxied, 0.5)), delta: r3(addedP50), unit: 'ms'},
      {metric: `${label}: p99, c=${concurrency}`, direct: r3(pct(direct, 0.99)), proxied: r3(pct(proxied, 0.99)), delta: r3(addedP99), unit: 'ms'},
      {metric: `${label}: throughput, ${seconds} s per path`, direct: Math.round(directRps), proxied: Math.round(rps), delta: r3(rps / directRps), unit: 'req/s (delta = ratio)'},
    ],
  }
}

/** The shipped `balanced` preset, with only what a loopback benchmark needs changed. */
function balancedBenchYaml(): string {
  const c = structuredClone(presetConfig('balanced')) as Record<string, Record<string, unknown>>
  c.ssrf = {...(c.ssrf ?? {}), ip_allowlist: ['127.0.0.0/8']}
  const fp = (c.fetch_proxy ?? {}) as Record<string, unknown>
  c.fetch_proxy = {...fp, monitoring: {...((fp.monitoring ?? {}) as Record<string, unknown>), max_requests_per_minute: 1_000_000_000}}
  return YAML.stringify(c)
}

export async function runProxyBench(args: string[] = []): Promise<ProxyBenchRow[]> {
  const arg = (name: string, dflt: number): number => {
    const i = args.indexOf(name)
    return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt
  }
  const requests = arg('--requests', 4000)
  const seconds = arg('--seconds', 3)
  const rateArg = args.indexOf('--rates')
  const openRates = (rateArg >= 0 ? String(args[rateArg + 1] ?? '') : '500,2000').split(',').map(Number).filter((x) => x > 0)
  const concurrency = 50

  const upstream = http.createServer((req, res) => {
    const text = (req.url ?? '').startsWith('/text')
    const body = text ? TEXT : BINARY
    res.writeHead(200, {'content-type': text ? 'text/plain' : 'application/octet-stream', 'content-length': String(body.length)})
    res.end(body)
  })
  upstream.keepAliveTimeout = 60_000
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  const upPort = (upstream.address() as AddressInfo).port

  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-bench-'))
  const cfg = path.join(dir, 'bench.yaml')
  writeFileSync(cfg, PROXY_BENCH_CONFIG)
  const balanced = path.join(dir, 'balanced.yaml')
  writeFileSync(balanced, balancedBenchYaml())

  const directAgent = new http.Agent({keepAlive: true, maxSockets: concurrency})
  const kinds = [
    {path: '/bin', label: '1 KiB binary GET'},
    {path: '/text', label: '1 KiB text GET'},
  ]
  const rows: ProxyBenchRow[] = []
  const cleanups: Array<() => Promise<void>> = []
  try {
    // 1. The floor: a bare Node relay, no scanning at all.
    const bare = await spawnBareRelay()
    cleanups.push(async () => {
      bare.proc.kill('SIGTERM')
    })
    const bareAgent = new http.Agent({keepAlive: true, maxSockets: concurrency})
    const floor = await measureArm(`bare Node relay (floor), ${kinds[0]!.label}`, directAgent, upPort, '/bin', () => get(bareAgent, bare.port, `http://127.0.0.1:${upPort}/bin`), requests, seconds, concurrency, openRates)
    rows.push(...floor.rows)
    bareAgent.destroy()
    bare.proc.kill('SIGTERM')

    // 2. pipelock with the spec's bench settings; 3. pipelock with the balanced preset.
    let firstServedMs = NaN
    let idleRss = NaN
    let loadedRss = NaN
    let pipelockBinRps = NaN
    let balancedBinRps = NaN
    for (const [name, file] of [['pipelock (bench config)', cfg], ['pipelock (balanced preset)', balanced]] as const) {
      let started
      try {
        started = await spawnPipelock(repoRoot, file)
      } catch (err) {
        rows.push({metric: name, direct: '-', proxied: 'did not start', delta: '-', unit: String((err as Error).message).split('\n')[0]!.slice(0, 120)})
        continue
      }
      const {proc, port, spawnedAt} = started
      const agent = new http.Agent({keepAlive: true, maxSockets: concurrency})
      try {
        if (file === cfg) {
          // Time to first request served: spawn → first proxied 200.
          for (let i = 0; i < 200 && Number.isNaN(firstServedMs); i++) {
            try {
              await get(agent, port, `http://127.0.0.1:${upPort}/bin`)
              firstServedMs = Number(process.hrtime.bigint() - spawnedAt) / 1e6
            } catch {
              await new Promise((r) => setTimeout(r, 10))
            }
          }
          await new Promise((r) => setTimeout(r, 1000))
          idleRss = rssMb(proc.pid!)
        }
        for (const k of kinds) {
          const n = k.path === '/bin' ? requests : Math.max(200, Math.floor(requests / 4))
          const r = await measureArm(`${name}, ${k.label}`, directAgent, upPort, k.path, () => get(agent, port, `http://127.0.0.1:${upPort}${k.path}`), n, seconds, concurrency, openRates)
          rows.push(...r.rows)
          if (k.path === '/bin') {
            rows.push({metric: `${name}, binary: added over the Node floor, p50 / p99, c=${concurrency}`, direct: r3(floor.addedP50), proxied: r3(r.addedP50), delta: `${r3(r.addedP50 - floor.addedP50)} / ${r3(r.addedP99 - floor.addedP99)}`, unit: 'ms (direct = floor\'s added p50)'})
            if (file === cfg) pipelockBinRps = r.rps
            else balancedBinRps = r.rps
          }
        }
        if (file === cfg) loadedRss = rssMb(proc.pid!)
      } finally {
        agent.destroy()
        proc.kill('SIGTERM')
        await new Promise((r) => proc.once('exit', r))
      }
    }

    // 4. The non-scanning C peer, when installed.
    const tiny = await startTinyproxyIfInstalled(dir)
    if (tiny === undefined) {
      rows.push({metric: 'tinyproxy (non-scanning peer)', direct: '-', proxied: 'not installed', delta: '-', unit: 'apt-get install tinyproxy'})
    } else {
      // tinyproxy closes client connections after each response: no keep-alive on its arm.
      const tinyAgent = new http.Agent({keepAlive: false, maxSockets: concurrency})
      try {
        const via = async (): Promise<number | undefined> => {
          try {
            return await get(tinyAgent, tiny.port, `http://127.0.0.1:${upPort}/bin`)
          } catch {
            return undefined
          }
        }
        const t = await measureArm(`tinyproxy, ${kinds[0]!.label}`, directAgent, upPort, '/bin', via, requests, seconds, concurrency, openRates)
        rows.push(
          ...t.rows,
          {metric: 'pipelock (bench config) vs tinyproxy: binary throughput', direct: Math.round(t.rps), proxied: Math.round(pipelockBinRps), delta: r3(pipelockBinRps / t.rps), unit: 'req/s (direct = tinyproxy; delta = ratio)'},
          {metric: 'pipelock (balanced preset) vs tinyproxy: binary throughput', direct: Math.round(t.rps), proxied: Math.round(balancedBinRps), delta: r3(balancedBinRps / t.rps), unit: 'req/s (direct = tinyproxy; delta = ratio)'},
        )
      } finally {
        tinyAgent.destroy()
        tiny.proc.kill('SIGTERM')
      }
    }

    return [
      ...rows,
      {metric: 'pipelock RSS idle / after load (bench config)', direct: '-', proxied: `${idleRss.toFixed(1)} / ${loadedRss.toFixed(1)}`, delta: '-', unit: 'MiB'},
      {metric: 'time to first request served', direct: '-', proxied: Math.round(firstServedMs), delta: '-', unit: 'ms'},
    ]
  } finally {
    for (const c of cleanups) await c()
    directAgent.destroy()
    await new Promise<void>((r) => upstream.close(() => r()))
    rmSync(dir, {recursive: true, force: true})
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await runProxyBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
