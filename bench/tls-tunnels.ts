/**
 * Event-loop stall under 256 concurrent intercepted tunnels (issue 16 performance; transports
 * §7.4: "no event-loop stall over 10 ms under 256 concurrent tunnels"). Against the built
 * `pipelock run` with interception on, in one run:
 *  - `256 hosts (256 leaf mints)`: 256 tunnels opened at once, each to its own IP literal
 *    (127.0.0.1 … 127.0.1.0 — all loopback on Linux), so every tunnel mints a leaf and builds its
 *    TLS server: CONNECT, TLS handshake, one inner GET (1 KiB), all held open until the last one
 *    answered;
 *  - `256 tunnels, one host (cache hit)`: the same to one host whose leaf is cached;
 *  - `256 hosts, 100-SAN origin certificates (worst case)`: as the first, to 256 other addresses
 *    whose origin certificates carry 100 names each (`--origin-sans N`), the large shared
 *    certificates of CDNs and multi-domain hosting.
 * After each burst, while its tunnels are open, every tunnel sends `--requests N` (default 8)
 * more kept-alive GETs one after another, all tunnels at once (its own row: steady traffic through
 * 256 concurrent tunnels, the pipeline and response relay of every request; 0 skips it).
 * After each arm every tunnel is closed at once (its own row: the teardown is a burst too).
 * Meanwhile a worker thread (its own event loop) probes `GET /health` every 5 ms, and the proxy's
 * own `nodejs_eventloop_lag_max_seconds` (reset per scrape) is read before and after each arm.
 * The HTTPS origin answers on every 127.0.0.x address, each with its own certificate (one SAN,
 * issued by an origin CA the proxy trusts through `SSL_CERT_FILE`) — see `originCert`.
 * Reports; no assertions.
 *
 * With `--baseline DIR` the same arms run first against the build in DIR (another checkout with
 * `bin/run.js` and a built `dist/`), against the same origin, in the same run.
 *
 * With `--turn-cpu` (Linux) the proxy also reports its main thread's longest CPU stretch between
 * two 1 ms ticks per arm (turn-cpu.ts), and its longest own stall (`own_stall_max_ms`: wall minus
 * the time other processes held the core, split into CPU, run-queue wait and time asleep inside the
 * turn; own-stall.ts): the stall a quiet machine would show, read on a loaded one. "Asleep" there
 * also holds time the loop sat idle in its poll while the tick was overdue, which is no stall, so
 * the stall proper is `busy_stall_max_ms`: wall minus the loop's idle time (strict: a preemption
 * inside a busy turn counts; `busy_own_stall_max_ms` also takes out the run-queue wait). The loop lag
 * (`proxy_loop_lag_max_ms`) is wall time and includes the run-queue wait. With `--trace-gc` the
 * proxy's V8 GC trace (`--trace-gc-nvp`) lands in DIR/gc.log.
 *
 * It also lists the GC pauses over 10 ms (a pause is a stall too). With `--cpu-prof DIR` the
 * stretches land beside the proxy's CPU profiles, on the same monotonic clock.
 *
 * With `--no-intercept` the same tunnels are plain CONNECT tunnels (interception off, the
 * client's TLS ends at the origin): the stall of the tunnels' own traffic, for comparison.
 *
 * With `--proxy-node-args "ARGS"` both builds' proxies run with these node/V8 flags (space-separated,
 * e.g. `--max-semi-space-size=4`), to measure a flag's effect on the pauses. `--node-arms "A;B"`
 * runs this build once per flag set (`""` = none) and `--rounds N` repeats all of it N times in
 * alternating order, so flag sets are compared in one run.
 *
 *   node dist/bench/tls-tunnels.js [--tunnels N] [--origin-sans N] [--requests N] [--baseline DIR] [--turn-cpu] [--cpu-prof DIR] [--proxy-node-args ARGS] [--node-arms "A;B"] [--rounds N] [--trace-gc] [--no-intercept]   (DIR: the proxy's V8 CPU profiles)
 */
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'
import {generateKeyPairSync} from 'node:crypto'
import {buildCertificate, extension, name, OID, randomSerial} from '../src/plugins/tls/certificate.js'
import {bits, implicit, oid, seq} from '../src/plugins/tls/der.js'
import {caPaths, generateCa, ipBytes, loadCa, toPem, writeCaFiles, type LoadedCa} from '../src/plugins/tls/index.js'
import {busyStalls, ownStalls, splitOf, type Stretch} from './own-stall.js'
import {freePort, nodeArmFlagSets, repoRoot, spawnPipelock} from './peer-processes.js'

const BODY = Buffer.alloc(1024, 0x61)

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6

/** The i-th loopback address, i ≥ 1 (127.0.0.1 … 127.0.1.0 for 1 … 256). */
export const loopback = (i: number): string => `127.0.${i >> 8}.${i & 255}`

/**
 * The origin's certificate for one address, issued by the origin CA (which the proxy trusts
 * through `SSL_CERT_FILE`): ECDSA P-256 with the address as an iPAddress SAN, plus `extraNames`
 * dNSNames. Real origins carry one or a few names; a large shared (CDN, multi-domain) certificate
 * carries up to ~100 (Let's Encrypt's cap), which is the worst-case arm. An earlier version of this
 * bench gave every address one shared certificate with all 273 addresses as SANs, which no real
 * origin sends and which made Node's client-side identity check (`getPeerCertificate(true)` builds
 * every SAN into a JS object, per handshake) the largest cost of the whole burst.
 */
function originCert(ca: LoadedCa, address: string, extraNames: number): {key: string; cert: string} {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'prime256v1'})
  const spki = publicKey.export({type: 'spki', format: 'der'})
  const names = Array.from({length: extraNames}, (_, k) => implicit(2, Buffer.from(`san${k}.origin-${address.replaceAll('.', '-')}.example.com`, 'ascii')))
  const now = Date.now()
  const der = buildCertificate({
    serial: randomSerial(),
    issuer: ca.subject,
    subject: name([[OID.commonName, address]]),
    notBeforeMs: now - 3_600_000,
    notAfterMs: now + 2 * 86_400_000,
    spki,
    extensions: [
      extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)),
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(OID.authorityKeyId, false, seq(implicit(0, ca.keyId))),
      extension(OID.subjectAltName, false, seq(implicit(7, ipBytes(address)!), ...names)),
    ],
    signer: ca.key,
  })
  return {key: privateKey.export({type: 'pkcs8', format: 'pem'}) as string, cert: toPem('CERTIFICATE', der)}
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
export async function tunnel(proxyPort: number, host: string, upPort: number, ca: string): Promise<{socket: tls.TLSSocket; ms: number}> {
  const t0 = process.hrtime.bigint()
  const raw = await new Promise<net.Socket>((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `${host}:${upPort}`, agent: false})
    req.once('connect', (res, s) => (res.statusCode === 200 ? resolve(s) : reject(new Error(`CONNECT ${res.statusCode}`))))
    req.once('error', reject)
    req.end()
  })
  const s = tls.connect({socket: raw, host, ca, ALPNProtocols: ['http/1.1']})
  await new Promise<void>((resolve, reject) => (s.once('secureConnect', () => resolve()), s.once('error', reject)))
  await innerGet(s, host, upPort)
  return {socket: s, ms: ms(t0)}
}

/** One kept-alive `GET /kib` inside an open intercepted tunnel; resolves once its 1 KiB body is in. */
export function innerGet(s: tls.TLSSocket, host: string, upPort: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c])
      const end = buf.indexOf('\r\n\r\n')
      if (end >= 0 && buf.length - end - 4 >= BODY.length) {
        s.off('data', onData)
        s.off('error', reject)
        if (!buf.subarray(0, 12).toString().endsWith('200')) reject(new Error(`inner status ${buf.subarray(0, 12).toString()}`))
        else resolve()
      }
    }
    s.on('data', onData)
    s.once('error', reject)
    s.write(`GET /kib HTTP/1.1\r\nHost: ${host}:${upPort}\r\n\r\n`)
  })
}

interface Fixture {
  readonly n: number
  readonly hosts: string[]
  readonly warmHosts: string[]
  readonly worstHosts: string[]
  readonly sans: number
  readonly upPort: number
  readonly ca: string
  /** Kept-alive GETs each open tunnel sends after an arm's burst (0: none). */
  readonly requests: number
}

/** The arms against one build (`root`: a checkout with `bin/run.js` and a built `dist/`). */
async function armsAgainst(build: string, root: string, cfg: string, nodeArgs: string[], f: Fixture, turnCpuFile: string | null): Promise<Record<string, unknown>[]> {
  const {n, hosts, warmHosts, worstHosts, sans, upPort, ca, requests} = f
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
    const open = settled.flatMap((r, k) => (r.status === 'fulfilled' ? [{...r.value, host: targets[k]!}] : []))
    const failed = settled.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []))
    const to = await mark()
    const lag = await scrapeLagMs(pl.port)
    const endMs = Date.now()
    windows.push({name, from, to, lag, wall, failed: failed.length === 0 ? 0 : `${failed.length} (${[...new Set(failed)].join('; ')})`, per: open.map((o) => o.ms).sort((a, b) => a - b), startMs, endMs})
    // Steady traffic: every open tunnel sends `requests` kept-alive GETs, one after another, all
    // tunnels at once (the "under 256 concurrent tunnels" reading of the budget, beside the bursts).
    if (requests > 0 && open.length > 0) {
      await scrapeLagMs(pl.port)
      const tFrom = await mark()
      const tStart = Date.now()
      const t1 = process.hrtime.bigint()
      const perRequest: number[] = []
      const done = await Promise.allSettled(open.map(async (o) => {
        for (let i = 0; i < requests; i++) {
          const r0 = process.hrtime.bigint()
          await innerGet(o.socket, o.host, upPort)
          perRequest.push(ms(r0))
        }
      }))
      const tWall = ms(t1)
      const tFailed = done.filter((r) => r.status === 'rejected').length
      const tTo = await mark()
      const tLag = await scrapeLagMs(pl.port)
      windows.push({name: `${name}: ${requests} requests in each, all tunnels at once`, from: tFrom, to: tTo, lag: tLag, wall: tWall, failed: tFailed, per: perRequest.sort((a, b) => a - b), startMs: tStart, endMs: Date.now()})
    }
    // The agents go away together: every tunnel closes at once (its teardown is a burst too).
    const closeFrom = await mark()
    const closeStart = Date.now()
    for (const o of open) o.socket.destroy()
    await new Promise((r) => setTimeout(r, 500))
    const closeTo = await mark()
    const closeLag = await scrapeLagMs(pl.port)
    windows.push({name: `${name}: all closed at once`, from: closeFrom, to: closeTo, lag: closeLag, wall: 500, failed: '', per: [], startMs: closeStart, endMs: Date.now()})
  }
  await arm(`${n} hosts (${n} leaf mints)`, hosts)
  await arm(`${n} tunnels, one host (cache hit)`, Array.from({length: n}, () => '127.0.0.1'))
  await arm(`${n} hosts, ${sans}-SAN origin certificates (worst case)`, worstHosts)
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
  const turns = turnCpuFile !== null ? (JSON.parse(readFileSync(turnCpuFile, 'utf8')) as {stretches: Stretch[]; gc: Array<[number, number, string]>; cpu: Array<[number, number]>}) : null
  /** Cumulative main-thread CPU ms at the last sample at or before `atMs`. */
  const cpuAt = (atMs: number): number => turns!.cpu.filter(([at]) => at <= atMs).at(-1)?.[1] ?? 0
  const cpu = (startMs: number, endMs: number): Record<string, unknown> => {
    if (turns === null) return {}
    const stretches = turns.stretches.filter(([at]) => at >= startMs && at <= endMs)
    const inside = stretches.map(([, c]) => c)
    // The loop's own stall between two ticks: wall minus the time the thread sat in the run queue
    // while other processes had the cores (own-stall.ts).
    const own = ownStalls(stretches)
    const top = own[0]
    // The stall proper: the loop busy between two ticks, its idle time in the poll taken out (own-stall.ts).
    const busy = busyStalls(stretches)
    const topBusy = busy[0]
    const gc = turns.gc.filter(([at]) => at >= startMs && at <= endMs)
    return {
      main_thread_cpu_ms: Number((cpuAt(endMs) - cpuAt(startMs)).toFixed(1)),
      main_thread_cpu_stretch_max_ms: Math.max(0, ...inside),
      cpu_stretches_over_10ms: inside.filter((c) => c > 10).length,
      own_stall_max_ms: top === undefined ? 0 : Number(top.own.toFixed(1)),
      own_stalls_over_10ms: own.filter((o) => o.own > 10).length,
      // The longest own stall: its wall time, CPU and run-queue wait (wall − CPU − wait: asleep inside the turn).
      own_stall_max_split: top === undefined ? '' : splitOf(top),
      busy_stall_max_ms: topBusy === undefined ? 0 : Number(topBusy.busy.toFixed(1)),
      busy_stalls_over_10ms: busy.filter((o) => o.busy > 10).length,
      busy_own_stall_max_ms: Number(Math.max(0, ...busy.map((o) => o.busyOwn)).toFixed(1)),
      busy_stall_max_split: topBusy === undefined ? '' : splitOf(topBusy),
      wall_stretch_max_ms: Number(Math.max(0, ...stretches.map(([, , w]) => w)).toFixed(1)),
      gc_pause_max_ms: Math.max(0, ...gc.map(([, d]) => d)),
      gc_pauses_over_10ms: gc.filter(([, d]) => d > 10).map(([, d, k]) => `${k} ${d.toFixed(1)}`).join(', '),
    }
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
  for (const w of windows) row(w.name, w.from, w.to, w.lag, {wall_ms: w.wall, failed: w.failed, tunnel_p50_ms: w.per.length > 0 ? pct(w.per, 50) : '', tunnel_p99_ms: w.per.length > 0 ? pct(w.per, 99) : '', ...cpu(w.startMs, w.endMs)})
  // Beside the profile and the stretches: which window a stretch fell in.
  if (turnCpuFile !== null) writeFileSync(path.join(path.dirname(turnCpuFile), 'windows.json'), JSON.stringify([...windows.map((w) => [w.name, w.startMs, w.endMs]), ['idle (1 s, no tunnels)', idleStart, idleEnd]]))
  row('idle (1 s, no tunnels)', idleFrom, idleTo, idleLag, {wall_ms: 1000, failed: '', tunnel_p50_ms: '', tunnel_p99_ms: '', ...cpu(idleStart, idleEnd)})
  return rows
}

/**
 * The HTTPS origin on one port of every address in `hosts` and `worstHosts` (each its own
 * certificate; `worstHosts`' carry `sans` names), the Pipelock CA, and a `pipelock run` config
 * intercepting everything; sets `SSL_CERT_FILE` to the origin CA for the proxies spawned after.
 */
export async function tunnelFixture(hosts: readonly string[], worstHosts: readonly string[], sans: number, intercept = true): Promise<{dir: string; upPort: number; ca: string; cfg: string; listeners: net.Server[]}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-bench-tunnels-'))
  // The origin CA (trusted by the proxy through SSL_CERT_FILE) and one certificate per address.
  const originCaPaths = caPaths(path.join(dir, 'origin-ca'))
  writeCaFiles(originCaPaths, generateCa('Bench origin', 3_600_000 * 48, Date.now()), false)
  const originCa = loadCa(originCaPaths)
  const handler: http.RequestListener = (_req, res) => {
    res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(BODY.length)})
    res.end(BODY)
  }
  // One port, one listener per loopback address, each with its own HTTPS server (its own certificate).
  const upPort = await freePort()
  const listeners: net.Server[] = []
  const worst = new Set(worstHosts)
  for (const a of new Set([...hosts, ...worstHosts])) {
    const l = https.createServer(originCert(originCa, a, worst.has(a) ? sans - 1 : 0), handler)
    await new Promise<void>((resolve, reject) => (l.once('error', reject), l.listen(upPort, a, () => resolve())))
    listeners.push(l)
  }
  const paths = caPaths(path.join(dir, 'ca'))
  writeCaFiles(paths, generateCa('Pipelock', 3_600_000 * 24, Date.now()), false)
  // Without interception the client's TLS ends at the origin: it trusts the origin CA.
  const ca = readFileSync(intercept ? paths.cert : originCaPaths.cert, 'utf8')
  const cfg = path.join(dir, 'pl.yaml')
  writeFileSync(cfg, [
    'forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]',
    'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 10000000',
    'response_scanning:', '  enabled: false',
    ...(intercept ? ['tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`] : []),
    'logging:', '  include_allowed: false', '  include_blocked: false',
  ].join('\n') + '\n')
  process.env.SSL_CERT_FILE = originCaPaths.cert
  return {dir, upPort, ca, cfg, listeners}
}

export async function runTlsTunnelsBench(args: string[]): Promise<Record<string, unknown>[]> {
  const i = args.indexOf('--tunnels')
  const n = i >= 0 ? Number(args[i + 1]) : 256
  const warmHosts = Array.from({length: 16}, (_, k) => loopback(512 + k + 1))
  const hosts = Array.from({length: n}, (_, k) => loopback(k + 1))
  // The worst case: a fresh set of hosts (fresh mints too) whose origin certificates carry `--origin-sans` names.
  const o = args.indexOf('--origin-sans')
  const sans = o >= 0 ? Number(args[o + 1]) : 100
  const worstHosts = Array.from({length: n}, (_, k) => loopback(768 + k + 1))
  const q = args.indexOf('--requests')
  const requests = q >= 0 ? Number(args[q + 1]) : 8
  const {dir, upPort, ca, cfg, listeners} = await tunnelFixture([...hosts, ...warmHosts, '127.0.0.1'], worstHosts, sans, !args.includes('--no-intercept'))
  const prof = args.indexOf('--cpu-prof')
  const base = args.indexOf('--baseline')
  const flags = args.indexOf('--proxy-node-args')
  const common = flags >= 0 ? args[flags + 1]!.split(' ').filter((a) => a !== '') : []
  // --node-arms "A;B;…": this build once per flag set (an empty set: no extra flags), to compare
  // node/V8 flags in one run; --rounds N repeats every build/arm N times, the order reversed every
  // other round (the load drifts within a run).
  const na = args.indexOf('--node-arms')
  const flagSets = nodeArmFlagSets(na >= 0 ? args[na + 1]! : undefined)
  const builds: Array<[string, string, string[]]> = flagSets.map((f) => [f.length === 0 ? 'this build' : `this build ${f.join(' ')}`, repoRoot, f])
  if (base >= 0) builds.unshift(['baseline', path.resolve(args[base + 1]!), []])
  const r = args.indexOf('--rounds')
  const rounds = r >= 0 ? Number(args[r + 1]) : 1
  const rows: Record<string, unknown>[] = []
  for (let round = 0; round < rounds; round++) {
    for (const [k, [build, root, extra]] of (round % 2 === 0 ? builds : [...builds].reverse()).entries()) {
      // With --cpu-prof, the turn-cpu stretches land beside the profile (same monotonic clock) to attribute them.
      const sub = build === 'baseline' ? 'baseline' : builds.length - (base >= 0 ? 1 : 0) > 1 ? `this-${round % 2 === 0 ? k : builds.length - 1 - k}` : 'this'
      const outDir = path.join(prof >= 0 ? args[prof + 1]! : dir, rounds > 1 ? `round${round + 1}` : '', sub)
      mkdirSync(outDir, {recursive: true})
      const nodeArgs = [...common, ...extra, ...(prof >= 0 ? ['--cpu-prof', '--cpu-prof-interval=250', `--cpu-prof-dir=${outDir}`] : [])]
      // --trace-gc: V8's per-GC lines (name=value) into DIR/gc.log.
      if (args.includes('--trace-gc')) (nodeArgs.push('--trace-gc', '--trace-gc-nvp'), (process.env.PL_BENCH_PROXY_STDOUT = path.join(outDir, 'gc.log')))
      const armRows = await armsAgainst(build, root, cfg, nodeArgs, {n, hosts, warmHosts, worstHosts, sans, upPort, ca, requests}, args.includes('--turn-cpu') ? path.join(outDir, 'turn-cpu.json') : null)
      rows.push(...armRows.map((row) => (rounds > 1 ? {round: round + 1, ...row} : row)))
    }
  }
  for (const l of listeners) l.close()
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await runTlsTunnelsBench(process.argv.slice(2))
  for (const r of rows) console.log(JSON.stringify(r))
  process.exit(0)
}
