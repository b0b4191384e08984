/**
 * TLS interception costs (transports.md §7.4), all in one run on loopback:
 *  - leaf mint p50/p99 (fresh P-256 key + hand-built DER + ECDSA signature) and leaf-cache hit;
 *  - per request on a kept-alive connection (undici ProxyAgent with the CA, 1 KiB HTTPS origin):
 *    direct, through `pipelock run` as a plain CONNECT relay, through `pipelock run` intercepting,
 *    and through mitmproxy's `mitmdump` (Debian `mitmproxy`, installed when missing) — rounds
 *    interleaved so drift hits every arm;
 *  - per new tunnel (CONNECT + TLS + one request on a fresh connection each time), same arms.
 * Pipelock's scanners stay on for the inner requests (URL scan; body and response scanning off —
 * the immutable core injection set still scans every response): the intercept arm's added cost
 * includes that pipeline. To separate it, the same pipeline without TLS is measured too: the
 * intercepting instance as an absolute-URI forward proxy to a plain-HTTP twin of the origin, vs
 * that origin direct. `interception itself` = (intercept − CONNECT relay) − (forward − direct http).
 * Reports ratios; no assertions.
 *
 *   node dist/bench/tls-intercept.js [--requests N] [--tunnels N] [--no-install] [--cpu-prof DIR]
 *   (--cpu-prof: V8 CPU profile of the intercepting proxy into DIR)
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync, existsSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net, {type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import {fileURLToPath} from 'node:url'
import {ProxyAgent, request, Agent} from 'undici'
import {caPaths, generateCa, LeafCache, loadCa, mintLeaf, writeCaFiles} from '../src/plugins/tls/index.js'
import {freePort, repoRoot, spawnPipelock, waitForPort} from './peer-processes.js'
import {ensureDebian} from './proxy-peers.js'

const BODY = Buffer.alloc(1024, 0x61)

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}
const sortNum = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6

function mintBench(dir: string, n: number): Record<string, unknown>[] {
  const paths = caPaths(path.join(dir, 'ca-mint'))
  writeCaFiles(paths, generateCa('Pipelock', 3_600_000 * 24, Date.now()), false)
  const ca = loadCa(paths)
  for (let i = 0; i < 200; i++) mintLeaf(`warm${i}.example`, ca, 3_600_000, Date.now())
  const mint: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint()
    mintLeaf(`h${i}.example.com`, ca, 3_600_000, Date.now())
    mint.push(ms(t0))
  }
  const cache = new LeafCache({ca, ttlMs: 3_600_000, maxEntries: 10_000, nowMs: () => Date.now()})
  cache.get('hit.example.com')
  const batches: number[] = []
  for (let b = 0; b < 200; b++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < 1000; i++) cache.get('hit.example.com')
    batches.push(ms(t0) / 1000)
  }
  const m = sortNum(mint)
  const h = sortNum(batches)
  return [
    {measure: 'leaf mint (P-256 key + DER + sign + PEM)', n, p50_ms: pct(m, 50), p99_ms: pct(m, 99), budget_ms: 1},
    {measure: 'leaf cache hit', n: 200_000, p50_ms: pct(h, 50), p99_ms: pct(h, 99), budget_ms: 0.05},
  ]
}

function upstreamCert(dir: string): {key: string; cert: string; certPath: string} {
  const keyPath = path.join(dir, 'up-key.pem')
  const certPath = path.join(dir, 'up.pem')
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`)
  return {key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath}
}

interface Arm {
  name: string
  dispatcher: () => Agent | ProxyAgent
  proxyPort?: number
  ca: string
}

async function keepAlive(arm: Arm, url: string, warm: number, n: number, disp: Agent | ProxyAgent): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < warm + n; i++) {
    const t0 = process.hrtime.bigint()
    const r = await request(url, {dispatcher: disp})
    await r.body.arrayBuffer()
    if (r.statusCode !== 200) throw new Error(`${arm.name}: status ${r.statusCode}`)
    if (i >= warm) out.push(ms(t0))
  }
  return out
}

/** CONNECT (or direct TCP) + TLS + one GET on a fresh connection. */
async function freshTunnel(arm: Arm, host: string, upPort: number): Promise<number> {
  const t0 = process.hrtime.bigint()
  let raw: net.Socket
  if (arm.proxyPort === undefined) raw = net.connect(upPort, '127.0.0.1')
  else {
    raw = await new Promise<net.Socket>((resolve, reject) => {
      const req = http.request({host: '127.0.0.1', port: arm.proxyPort, method: 'CONNECT', path: `${host}:${upPort}`, agent: false})
      req.once('connect', (res, s) => (res.statusCode === 200 ? resolve(s) : reject(new Error(`CONNECT ${res.statusCode}`))))
      req.once('error', reject)
      req.end()
    })
  }
  const s = tls.connect({socket: raw, ca: arm.ca, servername: host, ALPNProtocols: ['http/1.1']})
  await new Promise<void>((resolve, reject) => (s.once('secureConnect', () => resolve()), s.once('error', reject)))
  await new Promise<void>((resolve, reject) => {
    let got = 0
    let headEnd = -1
    let buf = Buffer.alloc(0)
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c])
      if (headEnd < 0) headEnd = buf.indexOf('\r\n\r\n')
      got = headEnd < 0 ? 0 : buf.length - headEnd - 4
      if (got >= BODY.length) resolve()
    })
    s.once('error', reject)
    s.write(`GET /kib HTTP/1.1\r\nHost: ${host}:${upPort}\r\nConnection: close\r\n\r\n`)
  })
  const t = ms(t0)
  s.destroy()
  return t
}

async function startMitmdump(dir: string, upCertPath: string): Promise<{proc: ChildProcess; port: number; ca: string} | null> {
  const port = await freePort()
  const confdir = path.join(dir, 'mitm')
  const proc = spawn('mitmdump', ['-q', '--listen-host', '127.0.0.1', '--listen-port', String(port), '--set', `confdir=${confdir}`, '--set', `ssl_verify_upstream_trusted_ca=${upCertPath}`], {stdio: 'ignore'})
  try {
    await waitForPort(port, proc)
  } catch {
    proc.kill()
    return null
  }
  const caFile = path.join(confdir, 'mitmproxy-ca-cert.pem')
  for (let i = 0; i < 100 && !existsSync(caFile); i++) await new Promise((r) => setTimeout(r, 50))
  return {proc, port, ca: readFileSync(caFile, 'utf8')}
}

export async function runTlsInterceptBench(args: string[]): Promise<Record<string, unknown>[]> {
  const flag = (name: string, d: number): number => {
    const i = args.indexOf(name)
    return i >= 0 ? Number(args[i + 1]) : d
  }
  const n = flag('--requests', 2000)
  const tunnels = flag('--tunnels', 120)
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-bench-tls-'))
  const rows: Record<string, unknown>[] = mintBench(dir, 2000)

  const up = upstreamCert(dir)
  const server = https.createServer({key: up.key, cert: up.cert}, (_req, res) => {
    res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(BODY.length)})
    res.end(BODY)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const upPort = (server.address() as AddressInfo).port
  const plain = http.createServer((_req, res) => {
    res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(BODY.length)})
    res.end(BODY)
  })
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()))
  const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/kib`
  const paths = caPaths(path.join(dir, 'ca'))
  writeCaFiles(paths, generateCa('Pipelock', 3_600_000 * 24, Date.now()), false)
  const plCa = readFileSync(paths.cert, 'utf8')
  const cfg = (intercept: boolean): string => {
    const f = path.join(dir, `pl-${intercept}.yaml`)
    writeFileSync(f, [
      'forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 10000000',
      'response_scanning:', '  enabled: false',
      'tls_interception:', `  enabled: ${intercept}`, `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`,
      'logging:', '  include_allowed: false',
    ].join('\n') + '\n')
    return f
  }
  process.env.SSL_CERT_FILE = up.certPath
  const relay = await spawnPipelock(repoRoot, cfg(false))
  const prof = args.indexOf('--cpu-prof')
  const icpt = await spawnPipelock(repoRoot, cfg(true), [], prof >= 0 ? ['--cpu-prof', `--cpu-prof-dir=${args[prof + 1]}`] : [])
  const missing = ensureDebian({mitmdump: 'mitmproxy'}, !args.includes('--no-install'))
  const mitm = missing.length === 0 ? await startMitmdump(dir, up.certPath) : null

  const arms: Arm[] = [
    {name: 'direct', ca: up.cert, dispatcher: () => new Agent({connect: {ca: up.cert}})},
    {name: 'pipelock CONNECT relay', ca: up.cert, proxyPort: relay.port, dispatcher: () => new ProxyAgent({uri: `http://127.0.0.1:${relay.port}`, requestTls: {ca: up.cert}})},
    {name: 'pipelock intercept', ca: plCa, proxyPort: icpt.port, dispatcher: () => new ProxyAgent({uri: `http://127.0.0.1:${icpt.port}`, requestTls: {ca: plCa}})},
    ...(mitm !== null ? [{name: 'mitmdump (mitmproxy)', ca: mitm.ca, proxyPort: mitm.port, dispatcher: () => new ProxyAgent({uri: `http://127.0.0.1:${mitm.port}`, requestTls: {ca: mitm.ca}})}] : []),
  ]
  const url = `https://localhost:${upPort}/kib`
  const kept = new Map<string, number[]>(arms.map((a) => [a.name, []]))
  const fresh = new Map<string, number[]>(arms.map((a) => [a.name, []]))
  const disps = new Map(arms.map((a) => [a.name, a.dispatcher()]))
  // The pipeline without TLS (see the header): same instance, plain-HTTP origin.
  const pipelineArms: Arm[] = [
    {name: 'direct (http origin)', ca: '', dispatcher: () => new Agent()},
    {name: 'pipelock forward proxy (http origin)', ca: '', proxyPort: icpt.port, dispatcher: () => new ProxyAgent({uri: `http://127.0.0.1:${icpt.port}`, proxyTunnel: false})},
  ]
  for (const a of pipelineArms) {
    kept.set(a.name, [])
    disps.set(a.name, a.dispatcher())
  }
  const rounds = 4
  for (let r = 0; r < rounds; r++) {
    for (const a of arms) kept.get(a.name)!.push(...(await keepAlive(a, url, r === 0 ? 300 : 50, Math.ceil(n / rounds), disps.get(a.name)!)))
    for (const a of pipelineArms) kept.get(a.name)!.push(...(await keepAlive(a, plainUrl, r === 0 ? 300 : 50, Math.ceil(n / rounds), disps.get(a.name)!)))
    for (const a of arms) {
      for (let i = 0; i < Math.ceil(tunnels / rounds) + (r === 0 ? 5 : 0); i++) {
        const t = await freshTunnel(a, 'localhost', upPort)
        if (!(r === 0 && i < 5)) fresh.get(a.name)!.push(t)
      }
    }
  }
  for (const d of disps.values()) await d.close()
  const base = pct(sortNum(kept.get('direct')!), 50)
  const relayP50 = pct(sortNum(kept.get('pipelock CONNECT relay')!), 50)
  const relayTunnel = pct(sortNum(fresh.get('pipelock CONNECT relay')!), 50)
  for (const a of arms) {
    const k = sortNum(kept.get(a.name)!)
    const f = sortNum(fresh.get(a.name)!)
    rows.push({
      measure: a.name,
      n: k.length,
      p50_ms: pct(k, 50),
      p99_ms: pct(k, 99),
      added_p50_vs_direct_ms: pct(k, 50) - base,
      added_p50_vs_relay_ms: a.proxyPort === undefined ? '' : pct(k, 50) - relayP50,
      new_tunnel_p50_ms: pct(f, 50),
      new_tunnel_added_vs_relay_ms: a.proxyPort === undefined ? '' : pct(f, 50) - relayTunnel,
    })
  }
  const p50 = (name: string): number => pct(sortNum(kept.get(name)!), 50)
  const p99 = (name: string): number => pct(sortNum(kept.get(name)!), 99)
  for (const a of pipelineArms) rows.push({measure: a.name, n: kept.get(a.name)!.length, p50_ms: p50(a.name), p99_ms: p99(a.name)})
  const pipeline = p50('pipelock forward proxy (http origin)') - p50('direct (http origin)')
  const intercept = p50('pipelock intercept') - relayP50
  // Derived rows: the p50 column holds the added p50 (the table takes its columns from the first row).
  rows.push({measure: 'pipeline without TLS (forward − direct, http origin), added p50', n: '-', p50_ms: pipeline, p99_ms: '-', budget_ms: '-'})
  rows.push({measure: 'interception itself ((intercept − relay) − pipeline), added p50', n: '-', p50_ms: intercept - pipeline, p99_ms: '-', budget_ms: 0.3})
  if (mitm === null) rows.push({measure: 'mitmdump (mitmproxy)', n: 0, p50_ms: 'not run', p99_ms: missing.length > 0 ? 'not installed' : 'did not start'})
  relay.proc.kill()
  icpt.proc.kill('SIGINT')
  await new Promise((r) => icpt.proc.once('exit', r))
  mitm?.proc.kill()
  server.close()
  plain.close()
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await runTlsInterceptBench(process.argv.slice(2))
  for (const r of rows) console.log(JSON.stringify(r))
  process.exit(0)
}
