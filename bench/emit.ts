// `npm run bench -- emit [seconds] [rounds]`: what event emission costs when every sink is stuck
// (operations.md §3.8, §10.3). Two proxies run side by side on the same upstream: emission off,
// and emission at `min_severity: info` (every allowed request is an event) to a black-holed
// webhook and OTLP endpoint (accept, never answer) and a TCP syslog peer that never reads. Rounds
// alternate between the two arms (closed loop, 50 connections, /fetch of a small page); the table
// gives throughput and p99 per arm, their ratios, RSS growth of the emitting proxy over the run,
// and its drop counters. RSS growth is given for both proxies: what the emitting one grows beyond
// the other is what emission holds.
import {writeFileSync, mkdtempSync, readFileSync} from 'node:fs'
import http from 'node:http'
import net, {type AddressInfo} from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {Pool} from 'undici'
import v8 from 'node:v8'
import vm from 'node:vm'
import {Emitter, EmitStats, QueuedSink, RateLimitedLog} from '../src/plugins/emit/index.js'
import {AuditLog, type Decision} from '../src/plugins/proxy/index.js'
import {freePort, repoRoot, spawnPipelock} from './peer-processes.js'

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

function rssMib(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1]) / 1024
}

/** A TCP listener that accepts and then neither reads nor answers. */
async function blackHole(): Promise<{port: number; close: () => void}> {
  const sockets: net.Socket[] = []
  const s = net.createServer({pauseOnConnect: true}, (c) => sockets.push(c))
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return {port: (s.address() as AddressInfo).port, close: () => {
    for (const c of sockets) c.destroy()
    s.close()
  }}
}

async function load(port: number, target: string, seconds: number, concurrency: number): Promise<{rps: number; p99: number; n: number}> {
  const pool = new Pool(`http://127.0.0.1:${port}`, {connections: concurrency})
  const p = `/fetch?url=${encodeURIComponent(target)}`
  const lat: number[] = []
  const end = Date.now() + seconds * 1000
  await Promise.all(Array.from({length: concurrency}, async () => {
    while (Date.now() < end) {
      const t = process.hrtime.bigint()
      const r = await pool.request({path: p, method: 'GET'})
      await r.body.dump()
      lat.push(Number(process.hrtime.bigint() - t) / 1e6)
    }
  }))
  await pool.close()
  lat.sort((a, b) => a - b)
  return {rps: lat.length / seconds, p99: pct(lat, 0.99), n: lat.length}
}

/**
 * Retained memory of emission itself, in process: `events` allowed decisions through the audit
 * log's tap into three sinks whose sends never complete (every queue full, every later event
 * dropped), heap measured after a full GC every 200,000 events. Flat = nothing is retained per
 * event; RSS growth of the proxy beyond that is the heap's sizing under a higher allocation rate.
 */
async function retainedHeap(events: number): Promise<Record<string, unknown>> {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const stats = new EmitStats()
  const log = new RateLimitedLog(() => undefined, () => Date.now())
  const stalled = {send: () => new Promise<never>(() => undefined), dispose: async () => undefined}
  const sinks = (['webhook', 'otlp', 'syslog'] as const).map((name) => new QueuedSink({name, minSeverity: 'info', capacity: 256, transport: stalled, stats, log}))
  const audit = new AuditLog([{write: () => undefined}], {includeAllowed: true, includeBlocked: true, now: () => new Date()})
  audit.setTap(new Emitter(sinks, {instance: 'bench', nowNanos: () => process.hrtime.bigint(), stats}))
  const d = (i: number): Decision => ({
    requestId: `req-${i}`, transport: 'fetch', method: 'GET', target: `http://127.0.0.1:1/page?i=${i}`, agent: 'a', clientIp: '127.0.0.1', sessionKey: 'a|127.0.0.1',
    verdict: 'allow', stage: 'none', layer: 'all', reason: null, severity: null, retry: null, class: null, detail: '', status: 200, warnings: [], bytes: 10, durationMs: 1.2,
  })
  const heaps: number[] = []
  for (let i = 1; i <= events; i++) {
    audit.record(d(i))
    if (i % 1000 === 0) await new Promise((r) => setImmediate(r))
    if (i % 200_000 === 0) {
      gc()
      heaps.push(process.memoryUsage().heapUsed / 2 ** 20)
    }
  }
  return {round: 'heap', arm: `retained heap after GC, ${events} events into stalled sinks (in process), every 200k`, 'req/s': heaps.map((h) => h.toFixed(1)).join(' → ') + ' MiB', 'p99 ms': `${stats.droppedCount('otlp', 'queue_full')} dropped/sink`}
}

export async function runEmitBench(args: string[] = []): Promise<Record<string, unknown>[]> {
  const seconds = Number(args[0] ?? 10)
  const rounds = Number(args[1] ?? 3)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pl-bench-emit-'))
  const page = Buffer.from('<html><body><p>ok</p></body></html>')
  const up = http.createServer((_q, res) => res.writeHead(200, {'content-type': 'text/html', 'content-length': String(page.length)}).end(page))
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r))
  const upPort = (up.address() as AddressInfo).port
  const [hook, otlp, syslog] = [await blackHole(), await blackHole(), await blackHole()]
  const base = ['logging: {output: file, file: /dev/null}', 'fetch_proxy:', '  monitoring: {max_requests_per_minute: 100000000}']
  const metricsPort = await freePort()
  const offCfg = path.join(dir, 'off.yaml')
  const onCfg = path.join(dir, 'on.yaml')
  writeFileSync(offCfg, base.join('\n') + '\n')
  writeFileSync(onCfg, [...base, `metrics_listen: 127.0.0.1:${metricsPort}`, 'emit:',
    `  webhook: {url: "http://127.0.0.1:${hook.port}/", min_severity: info}`,
    `  otlp: {endpoint: "http://127.0.0.1:${otlp.port}", min_severity: info}`,
    `  syslog: {address: "tcp://127.0.0.1:${syslog.port}", min_severity: info}`].join('\n') + '\n')
  const off = await spawnPipelock(repoRoot, offCfg)
  const on = await spawnPipelock(repoRoot, onCfg)
  const target = `http://127.0.0.1:${upPort}/page`
  try {
    for (const s of [off, on]) await load(s.port, target, 2, 10) // warm-up
    const rssStart = rssMib(on.proc.pid!)
    const rssOffStart = rssMib(off.proc.pid!)
    const rows: Record<string, unknown>[] = []
    const sum = {off: {rps: 0, p99: 0, n: 0}, on: {rps: 0, p99: 0, n: 0}}
    for (let i = 0; i < rounds; i++) {
      // alternate which arm goes first, so drift in machine load hits both alike
      const order = i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)
      for (const arm of order) {
        const r = await load(arm === 'off' ? off.port : on.port, target, seconds, 50)
        sum[arm].rps += r.rps / rounds
        sum[arm].p99 += r.p99 / rounds
        sum[arm].n += r.n
        rows.push({round: i + 1, arm: arm === 'off' ? 'emission off' : 'emission on, sinks stalled', 'req/s': Math.round(r.rps), 'p99 ms': r.p99})
      }
    }
    const rssEnd = rssMib(on.proc.pid!)
    const rssOffEnd = rssMib(off.proc.pid!)
    const metrics = await new Promise<string>((resolve, reject) => {
      http.get(`http://127.0.0.1:${metricsPort}/metrics`, (res) => {
        let b = ''
        res.on('data', (c: Buffer) => (b += c.toString()))
        res.on('end', () => resolve(b))
      }).on('error', reject)
    })
    const drops = metrics.split('\n').filter((l) => l.startsWith('pipelock_emit_events_dropped_total') && !l.endsWith(' 0')).map((l) => l.replace('pipelock_emit_events_dropped_total', '')).join(' ')
    rows.push({round: 'mean', arm: 'ratio on/off', 'req/s': (sum.on.rps / sum.off.rps).toFixed(3), 'p99 ms': (sum.on.p99 / sum.off.p99).toFixed(3)})
    rows.push({round: 'rss', arm: `emitting proxy after ${sum.on.n} requests`, 'req/s': `+${(rssEnd - rssStart).toFixed(1)} MiB`, 'p99 ms': `${rssEnd.toFixed(0)} MiB`})
    rows.push({round: 'rss', arm: `non-emitting proxy after ${sum.off.n} requests`, 'req/s': `+${(rssOffEnd - rssOffStart).toFixed(1)} MiB`, 'p99 ms': `${rssOffEnd.toFixed(0)} MiB`})
    rows.push(await retainedHeap(1_000_000))
    rows.push({round: 'drops', arm: drops, 'req/s': '', 'p99 ms': `load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`})
    return rows
  } finally {
    off.proc.kill('SIGKILL')
    on.proc.kill('SIGKILL')
    for (const s of [hook, otlp, syslog]) s.close()
    up.close()
  }
}
