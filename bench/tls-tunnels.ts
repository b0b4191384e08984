/**
 * Event-loop stall under 256 concurrent intercepted tunnels (issue 16 performance; transports
 * §7.4: "no event-loop stall over 10 ms under 256 concurrent tunnels"). Against the built
 * `pipelock run` with interception on, in one run:
 *  - `256 hosts (256 leaf mints)`: 256 tunnels opened at once, each to its own IP literal
 *    (127.0.0.1 … 127.0.1.0 — all loopback on Linux), so every tunnel mints a leaf and builds its
 *    TLS server: CONNECT, TLS handshake, one inner GET (1 KiB), all held open until the last one
 *    answered;
 *  - `256 tunnels, one host (cache hit)`: the same to one host whose leaf is cached.
 * Meanwhile a worker thread (its own event loop) probes `GET /health` every 5 ms, and the proxy's
 * own `nodejs_eventloop_lag_max_seconds` (reset per scrape) is read before and after each arm.
 * The HTTPS origin answers on every 127.0.0.x address through one small listener per address.
 * Reports; no assertions.
 *
 * With `--baseline DIR` the same arms run first against the build in DIR (another checkout with
 * `bin/run.js` and a built `dist/`), against the same origin, in the same run.
 *
 * With `--turn-cpu` (Linux) the proxy also reports its main thread's longest CPU stretch between
 * two 1 ms ticks per arm (turn-cpu.ts): the stall a quiet machine would show, read on a loaded one.
 *
 *   node dist/bench/tls-tunnels.js [--tunnels N] [--baseline DIR] [--turn-cpu] [--cpu-prof DIR]   (DIR: the proxy's V8 CPU profiles)
 */
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'
import {caPaths, generateCa, writeCaFiles} from '../src/plugins/tls/index.js'
import {freePort, repoRoot, spawnPipelock} from './peer-processes.js'

const BODY = Buffer.alloc(1024, 0x61)

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6

/** The i-th loopback address, i ≥ 1 (127.0.0.1 … 127.0.1.0 for 1 … 256). */
const loopback = (i: number): string => `127.0.${i >> 8}.${i & 255}`

/** An origin certificate naming every address the arms use. */
function originCert(dir: string, addresses: string[]): {key: string; cert: string; certPath: string} {
  const keyPath = path.join(dir, 'up-key.pem')
  const certPath = path.join(dir, 'up.pem')
  const san = 'subjectAltName=' + addresses.map((a) => `IP:${a}`).join(',')
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=origin', '-addext', san], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`)
  return {key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath}
}

/** The /health prober: a worker thread so the bench's own TLS work cannot delay its timer. */
const PROBE = `
const {parentPort, workerData} = require('node:worker_threads')
const http = require('node:http')
const agent = new http.Agent({keepAlive: true, maxSockets: 1})
const samples = []
let stop = false
parentPort.on('message', (m) => { if (m === 'stop') stop = true; else if (m === 'mark') parentPort.postMessage({mark: samples.length}) })
function once() {
  if (stop) { agent.destroy(); parentPort.postMessage({samples}); return }
  const t0 = process.hrtime.bigint()
  http.get({host: '127.0.0.1', port: workerData.port, path: '/health', agent}, (res) => {
    res.resume()
    res.on('end', () => { samples.push(Number(process.hrtime.bigint() - t0) / 1e6); setTimeout(once, 5) })
  }).on('error', () => setTimeout(once, 5))
}
once()
`

async function scrapeLagMs(port: number): Promise<number> {
  const text = await new Promise<string>((resolve, reject) => {
    http.get({host: '127.0.0.1', port, path: '/metrics'}, (res) => {
      let b = ''
      res.on('data', (c: Buffer) => (b += c.toString()))
      res.on('end', () => resolve(b))
    }).on('error', reject)
  })
  const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)
  return m === null ? NaN : Number(m[1]) * 1000
}

/** CONNECT + TLS (trusting the Pipelock CA) + one GET; resolves with the open socket once the body is in. */
async function tunnel(proxyPort: number, host: string, upPort: number, ca: string): Promise<{socket: tls.TLSSocket; ms: number}> {
  const t0 = process.hrtime.bigint()
  const raw = await new Promise<net.Socket>((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `${host}:${upPort}`, agent: false})
    req.once('connect', (res, s) => (res.statusCode === 200 ? resolve(s) : reject(new Error(`CONNECT ${res.statusCode}`))))
    req.once('error', reject)
    req.end()
  })
  const s = tls.connect({socket: raw, host, ca, ALPNProtocols: ['http/1.1']})
  await new Promise<void>((resolve, reject) => (s.once('secureConnect', () => resolve()), s.once('error', reject)))
  await new Promise<void>((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c])
      const end = buf.indexOf('\r\n\r\n')
      if (end >= 0 && buf.length - end - 4 >= BODY.length) {
        s.off('data', onData)
        if (!buf.subarray(0, 12).toString().endsWith('200')) reject(new Error(`inner status ${buf.subarray(0, 12).toString()}`))
        else resolve()
      }
    }
    s.on('data', onData)
    s.once('error', reject)
    s.write(`GET /kib HTTP/1.1\r\nHost: ${host}:${upPort}\r\n\r\n`)
  })
  return {socket: s, ms: ms(t0)}
}

interface Fixture {
  readonly n: number
  readonly hosts: string[]
  readonly warmHosts: string[]
  readonly upPort: number
  readonly ca: string
}

/** The arms against one build (`root`: a checkout with `bin/run.js` and a built `dist/`). */
async function armsAgainst(build: string, root: string, cfg: string, nodeArgs: string[], f: Fixture, turnCpuFile: string | null): Promise<Record<string, unknown>[]> {
  const {n, hosts, warmHosts, upPort, ca} = f
  if (turnCpuFile !== null) process.env.PL_TURN_CPU_FILE = turnCpuFile
  const pl = await spawnPipelock(root, cfg, [], turnCpuFile !== null ? ['--import', pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'turn-cpu.js')).href, ...nodeArgs] : nodeArgs)
  // Warm-up: JIT, the upstream pool, a few mints.
  for (const h of warmHosts) (await tunnel(pl.port, h, upPort, ca)).socket.destroy()

  const probe = new Worker(PROBE, {eval: true, workerData: {port: pl.port}})
  const mark = (): Promise<number> => new Promise((resolve) => {
    probe.once('message', (m: {mark: number}) => resolve(m.mark))
    probe.postMessage('mark')
  })
  await new Promise((r) => setTimeout(r, 300))
  const rows: Record<string, unknown>[] = []
  const windows: Array<{name: string; from: number; to: number; lag: number; wall: number; failed: number | string; per: number[]; startMs: number; endMs: number}> = []
  const arm = async (name: string, targets: string[]): Promise<void> => {
    await scrapeLagMs(pl.port) // resets the proxy's lag gauge
    const from = await mark()
    const startMs = Date.now()
    const t0 = process.hrtime.bigint()
    const settled = await Promise.allSettled(targets.map((h) => tunnel(pl.port, h, upPort, ca)))
    const wall = ms(t0)
    const open = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const failed = settled.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []))
    const to = await mark()
    const lag = await scrapeLagMs(pl.port)
    const endMs = Date.now()
    for (const o of open) o.socket.destroy()
    windows.push({name, from, to, lag, wall, failed: failed.length === 0 ? 0 : `${failed.length} (${[...new Set(failed)].join('; ')})`, per: open.map((o) => o.ms).sort((a, b) => a - b), startMs, endMs})
    await new Promise((r) => setTimeout(r, 500))
  }
  await arm(`${n} hosts (${n} leaf mints)`, hosts)
  await arm(`${n} tunnels, one host (cache hit)`, Array.from({length: n}, () => '127.0.0.1'))
  const idleFrom = await mark()
  const idleStart = Date.now()
  await new Promise((r) => setTimeout(r, 1000))
  const idleTo = await mark()
  const idleLag = await scrapeLagMs(pl.port)
  const idleEnd = Date.now()
  const samples = await new Promise<number[]>((resolve) => {
    probe.once('message', (m: {samples: number[]}) => resolve(m.samples))
    probe.postMessage('stop')
  })
  await probe.terminate()
  pl.proc.kill('SIGINT')
  await new Promise((r) => pl.proc.once('exit', r))
  const stretches = turnCpuFile !== null ? (JSON.parse(readFileSync(turnCpuFile, 'utf8')) as Array<[number, number, number]>) : null
  const cpu = (startMs: number, endMs: number): Record<string, unknown> => {
    if (stretches === null) return {}
    const inside = stretches.filter(([at]) => at >= startMs && at <= endMs).map(([, c]) => c)
    return {main_thread_cpu_stretch_max_ms: Math.max(0, ...inside), cpu_stretches_over_10ms: inside.filter((c) => c > 10).length}
  }
  const row = (name: string, from: number, to: number, lag: number, extra: Record<string, unknown>): void => {
    const s = samples.slice(from, to).sort((a, b) => a - b)
    rows.push({
      build, measure: name, ...extra,
      proxy_loop_lag_max_ms: lag,
      health_probes: s.length, health_p50_ms: pct(s, 50), health_p99_ms: pct(s, 99), health_max_ms: s[s.length - 1] ?? NaN,
      health_over_10ms: s.filter((x) => x > 10).length,
      budget: 'no stall > 10 ms',
    })
  }
  for (const w of windows) row(w.name, w.from, w.to, w.lag, {wall_ms: w.wall, failed: w.failed, tunnel_p50_ms: pct(w.per, 50), tunnel_p99_ms: pct(w.per, 99), ...cpu(w.startMs, w.endMs)})
  row('idle (1 s, no tunnels)', idleFrom, idleTo, idleLag, {wall_ms: 1000, failed: '', tunnel_p50_ms: '', tunnel_p99_ms: '', ...cpu(idleStart, idleEnd)})
  return rows
}

export async function runTlsTunnelsBench(args: string[]): Promise<Record<string, unknown>[]> {
  const i = args.indexOf('--tunnels')
  const n = i >= 0 ? Number(args[i + 1]) : 256
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-bench-tunnels-'))
  const warmHosts = Array.from({length: 16}, (_, k) => loopback(512 + k + 1))
  const hosts = Array.from({length: n}, (_, k) => loopback(k + 1))
  const up = originCert(dir, [...new Set([...hosts, ...warmHosts, '127.0.0.1'])])
  const origin = https.createServer({key: up.key, cert: up.cert}, (_req, res) => {
    res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(BODY.length)})
    res.end(BODY)
  })
  // One port, one tiny listener per loopback address, all feeding the one HTTPS server.
  const upPort = await freePort()
  const listeners: net.Server[] = []
  for (const a of new Set([...hosts, ...warmHosts, '127.0.0.1'])) {
    const l = net.createServer((s) => origin.emit('connection', s))
    await new Promise<void>((resolve, reject) => (l.once('error', reject), l.listen(upPort, a, () => resolve())))
    listeners.push(l)
  }
  const paths = caPaths(path.join(dir, 'ca'))
  writeCaFiles(paths, generateCa('Pipelock', 3_600_000 * 24, Date.now()), false)
  const ca = readFileSync(paths.cert, 'utf8')
  const cfg = path.join(dir, 'pl.yaml')
  writeFileSync(cfg, [
    'forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]',
    'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 10000000',
    'response_scanning:', '  enabled: false',
    'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`,
    'logging:', '  include_allowed: false', '  include_blocked: false',
  ].join('\n') + '\n')
  process.env.SSL_CERT_FILE = up.certPath
  const prof = args.indexOf('--cpu-prof')
  const base = args.indexOf('--baseline')
  const builds: Array<[string, string]> = [['this build', repoRoot]]
  if (base >= 0) builds.unshift(['baseline', path.resolve(args[base + 1]!)])
  const rows: Record<string, unknown>[] = []
  for (const [build, root] of builds) {
    // With --cpu-prof, the turn-cpu stretches land beside the profile (same monotonic clock) to attribute them.
    const outDir = prof >= 0 ? path.join(args[prof + 1]!, build === 'baseline' ? 'baseline' : 'this') : path.join(dir, build === 'baseline' ? 'baseline' : 'this')
    mkdirSync(outDir, {recursive: true})
    const nodeArgs = prof >= 0 ? ['--cpu-prof', '--cpu-prof-interval=250', `--cpu-prof-dir=${outDir}`] : []
    rows.push(...(await armsAgainst(build, root, cfg, nodeArgs, {n, hosts, warmHosts, upPort, ca}, args.includes('--turn-cpu') ? path.join(outDir, 'turn-cpu.json') : null)))
  }
  for (const l of listeners) l.close()
  origin.close()
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await runTlsTunnelsBench(process.argv.slice(2))
  for (const r of rows) console.log(JSON.stringify(r))
  process.exit(0)
}
