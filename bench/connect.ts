/**
 * CONNECT tunnel throughput on loopback: a 10 MiB HTTPS download direct, through the built
 * `pipelock run` (forward proxy on, SNI verification on), through a bare Node CONNECT relay
 * (`bare-relay.ts`: `pipe()` both ways, the floor of node's streams; with `--onread` the
 * download through a reused read buffer, the technique pipelock uses — 128 KiB, 512 KiB once a read
 * fills it, buffers reused across tunnels — and that relay as it was with one fixed 128 KiB buffer per
 * tunnel), through squid when it
 * is installed (the anchor) and, with `--baseline DIR`, through another built checkout (the
 * previous implementation) — interleaved round by round so machine drift hits every arm. Reports
 * each arm's throughput as a ratio to direct and the relaying process's CPU per 10 MiB (from
 * /proc/<pid>/task/<tid>/schedstat, nanosecond resolution, all threads). The CPU per 10 MiB
 * includes one tunnel's set-up (admission, dial, TLS handshake relayed); `cpu_ms_per_tunnel` is that
 * part alone: the CPU of a tunnel that downloads 1 KiB, measured in the same rounds. `--warmup N`
 * tunnels per arm before the rounds (default 1): the JIT compiles a large proxy's admission code
 * over its first few hundred tunnels, so with the default that compile work is counted. No assertions.
 *
 *   node dist/bench/connect.js [--rounds N] [--mib M] [--warmup N] [--baseline /path/to/other/checkout]
 */
import {spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import https from 'node:https'
import net, {type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import {fileURLToPath} from 'node:url'
import {have, processCpuNs, repoRoot, spawnBareRelay, spawnPipelock, startSquid} from './peer-processes.js'


/** Downloads `/` over TLS (through a CONNECT tunnel when `proxyPort` is set); resolves with ms. */
async function download(upPort: number, ca: string, bytes: number, proxyPort?: number, target = '/'): Promise<number> {
  const t0 = process.hrtime.bigint()
  let raw: net.Socket
  if (proxyPort === undefined) raw = net.connect(upPort, '127.0.0.1')
  else {
    raw = net.connect(proxyPort, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      let head = ''
      const onData = (c: Buffer): void => {
        head += c.toString('latin1')
        if (!head.includes('\r\n\r\n')) return
        raw.off('data', onData)
        if (head.startsWith('HTTP/1.1 200')) resolve()
        else reject(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`))
      }
      raw.on('data', onData)
      raw.once('error', reject)
      raw.write(`CONNECT localhost:${upPort} HTTP/1.1\r\nHost: localhost:${upPort}\r\n\r\n`)
    })
  }
  const s = tls.connect({socket: raw, ca, servername: 'localhost'})
  await new Promise<void>((resolve, reject) => {
    let got = 0
    let headerDone = false
    let buf = ''
    s.on('data', (c: Buffer) => {
      if (!headerDone) {
        buf += c.toString('latin1')
        const i = buf.indexOf('\r\n\r\n')
        if (i < 0) return
        headerDone = true
        got = Buffer.byteLength(buf, 'latin1') - i - 4
      } else got += c.length
      if (got >= bytes) {
        s.destroy()
        resolve()
      }
    })
    s.once('error', reject)
    s.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`)
  })
  return Number(process.hrtime.bigint() - t0) / 1e6
}

interface Arm {
  name: string
  port?: number
  pid?: number
  ms: number[]
  cpuNs: number
  /** CPU of the 1 KiB tunnels. */
  tunnelNs: number
}

export async function runConnectBench(args: string[] = []): Promise<Record<string, unknown>[]> {
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const rounds = Number(arg('--rounds') ?? 10)
  const mib = Number(arg('--mib') ?? 10)
  const baseline = arg('--baseline')
  const warmup = Number(arg('--warmup') ?? 1)
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-bench-connect-'))
  const key = path.join(dir, 'key.pem')
  const cert = path.join(dir, 'cert.pem')
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`)
  const ca = readFileSync(cert, 'utf8')
  const body = Buffer.alloc(mib * 1024 * 1024, 0x61)
  const small = Buffer.alloc(1024, 0x61)
  const upstream = https.createServer({key: readFileSync(key), cert: ca}, (req, res) => {
    const b = req.url === '/small' ? small : body
    res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(b.length)})
    res.end(b)
  })
  await new Promise<void>((res) => upstream.listen(0, '127.0.0.1', res))
  const upPort = (upstream.address() as AddressInfo).port
  const cfg = path.join(dir, 'connect.yaml')
  // The rate limit raised (as in the proxy bench): every round opens two tunnels per arm to one host.
  writeFileSync(cfg, ['forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]', 'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 1000000000', 'logging:', '  include_allowed: false'].join('\n') + '\n')
  const procs: ChildProcess[] = []
  try {
    const arms: Arm[] = [{name: 'direct', ms: [], cpuNs: 0, tunnelNs: 0}]
    const bare = await spawnBareRelay()
    procs.push(bare.proc)
    arms.push({name: 'bare Node relay (pipe)', port: bare.port, pid: bare.proc.pid!, ms: [], cpuNs: 0, tunnelNs: 0})
    const bareOnread = await spawnBareRelay([], ['--onread'])
    procs.push(bareOnread.proc)
    arms.push({name: 'bare Node relay (onread buffer)', port: bareOnread.port, pid: bareOnread.proc.pid!, ms: [], cpuNs: 0, tunnelNs: 0})
    // The same relay as it was before the bulk buffer and the pool (one fixed 128 KiB buffer per tunnel).
    const bareFixed = await spawnBareRelay([], ['--onread', '--bulk-kib', '128', '--no-pool'])
    procs.push(bareFixed.proc)
    arms.push({name: 'bare Node relay (onread, fixed 128 KiB)', port: bareFixed.port, pid: bareFixed.proc.pid!, ms: [], cpuNs: 0, tunnelNs: 0})
    if (have('squid')) {
      const squid = await startSquid(dir)
      procs.push(squid.proc)
      arms.push({name: 'squid', port: squid.port, pid: squid.proc.pid!, ms: [], cpuNs: 0, tunnelNs: 0})
    }
    const pl = await spawnPipelock(repoRoot, cfg)
    procs.push(pl.proc)
    arms.push({name: 'pipelock', port: pl.port, pid: pl.proc.pid!, ms: [], cpuNs: 0, tunnelNs: 0})
    if (baseline !== undefined) {
      const b = await spawnPipelock(path.resolve(baseline), cfg)
      procs.push(b.proc)
      arms.push({name: `pipelock at ${path.basename(path.resolve(baseline))} (baseline)`, port: b.port, pid: b.proc.pid!, ms: [], cpuNs: 0, tunnelNs: 0})
    }
    for (const a of arms) {
      await download(upPort, ca, body.length, a.port) // warm-up
      for (let i = 1; i < warmup; i++) await download(upPort, ca, small.length, a.port, '/small')
    }
    for (let i = 0; i < rounds; i++) {
      for (const a of i % 2 === 0 ? arms : [...arms].reverse()) {
        const c0 = a.pid === undefined ? 0 : processCpuNs(a.pid)
        a.ms.push(await download(upPort, ca, body.length, a.port))
        if (a.pid === undefined) continue
        const c1 = processCpuNs(a.pid)
        a.cpuNs += c1 - c0
        await download(upPort, ca, small.length, a.port, '/small')
        a.tunnelNs += processCpuNs(a.pid) - c1
      }
    }
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN
    const direct = median(arms[0]!.ms)
    return arms.map((a) => ({
      arm: a.name,
      median_ms: Number(median(a.ms).toFixed(1)),
      throughput_vs_direct: Number((direct / median(a.ms)).toFixed(3)),
      // Strings with two decimals: the table prints numbers ≥ 10 as whole ones, and 10 vs 11 ms is the difference measured here.
      cpu_ms_per_10MiB: a.pid === undefined ? '-' : ((a.cpuNs / 1e6 / rounds) * (10 / mib)).toFixed(2),
      cpu_ms_per_tunnel: a.pid === undefined ? '-' : (a.tunnelNs / 1e6 / rounds).toFixed(2),
    }))
  } finally {
    for (const p of procs) p.kill('SIGTERM')
    await new Promise<void>((res) => upstream.close(() => res()))
    upstream.closeAllConnections()
    rmSync(dir, {recursive: true, force: true})
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await runConnectBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
