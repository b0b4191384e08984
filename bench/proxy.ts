/**
 * Forward-proxy overhead on loopback (runtime spec §22): a 1 KiB GET at concurrency 50, paired
 * direct vs proxied (each worker alternates the two arms, so machine drift hits both), the
 * throughput ratio, idle RSS of the proxy process and time to first request served. The proxy
 * is the BUILT CLI (`node bin/run.js run`) with the spec's bench settings: response scanning
 * off, loopback upstream trusted by `ssrf.ip_allowlist`, a large rate limit. No assertions.
 *
 *   node dist/bench/proxy.js [--requests N] [--seconds S]
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import net from 'node:net'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export interface ProxyBenchRow {
  metric: string
  direct: number | string
  proxied: number | string
  /** proxied − direct for latencies; proxied ÷ direct for throughput. */
  delta: number | string
  unit: string
}

/** 1 KiB of binary (not response-scanned: no agent reads it as text) and 1 KiB of text (scanned). */
const BINARY = Buffer.from(Array.from({length: 1024}, (_, i) => i & 0xff))
const TEXT = Buffer.from('0123456789abcdef'.repeat(64))
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

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

async function startProxy(configFile: string): Promise<{proc: ChildProcess; port: number; spawnedAt: bigint}> {
  const spawnedAt = process.hrtime.bigint()
  const proc = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), 'run', '--config', configFile, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {...process.env, NO_COLOR: '1'},
  })
  let err = ''
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`proxy did not start: ${err}`)), 20_000)
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString()
      const m = /Listen: 127\.0\.0\.1:(\d+)/.exec(err)
      if (m) {
        clearTimeout(t)
        resolve(Number(m[1]))
      }
    })
    proc.once('exit', () => reject(new Error(`proxy exited: ${err}`)))
  })
  return {proc, port, spawnedAt}
}

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

/** tinyproxy (Debian package) as a non-scanning peer, when it is installed; undefined otherwise. */
async function startTinyproxy(dir: string): Promise<{proc: ChildProcess; port: number} | undefined> {
  if (spawnSync('sh', ['-c', 'command -v tinyproxy'], {encoding: 'utf8'}).status !== 0) return undefined
  const port = await freePort()
  const conf = path.join(dir, 'tinyproxy.conf')
  writeFileSync(conf, [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 600', 'MaxClients 200', 'LogLevel Critical', 'DisableViaHeader Yes'].join('\n') + '\n')
  const proc = spawn('tinyproxy', ['-d', '-c', conf], {stdio: 'ignore'})
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (up) return {proc, port}
    await new Promise((r) => setTimeout(r, 20))
  }
  proc.kill('SIGTERM')
  return undefined
}

export async function runProxyBench(args: string[] = []): Promise<ProxyBenchRow[]> {
  const arg = (name: string, dflt: number): number => {
    const i = args.indexOf(name)
    return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt
  }
  const requests = arg('--requests', 4000)
  const seconds = arg('--seconds', 3)
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
  writeFileSync(cfg, [
    'forward_proxy:', '  enabled: true',
    'response_scanning:', '  enabled: false',
    'seed_phrase_detection:', '  enabled: false',
    'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]',
    'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 1000000000',
    'logging:', '  include_allowed: false',
  ].join('\n') + '\n')

  const {proc, port, spawnedAt} = await startProxy(cfg)
  const directAgent = new http.Agent({keepAlive: true, maxSockets: concurrency})
  const proxyAgent = new http.Agent({keepAlive: true, maxSockets: concurrency})
  try {
    // Time to first request served: spawn → first proxied 200.
    let firstServedMs = NaN
    for (let i = 0; i < 200 && Number.isNaN(firstServedMs); i++) {
      try {
        await get(proxyAgent, port, `http://127.0.0.1:${upPort}/bin`)
        firstServedMs = Number(process.hrtime.bigint() - spawnedAt) / 1e6
      } catch {
        await new Promise((r) => setTimeout(r, 10))
      }
    }
    await new Promise((r) => setTimeout(r, 1000))
    const idleRss = rssMb(proc.pid!)

    const r3 = (x: number): number => Math.round(x * 1000) / 1000
    const rows: ProxyBenchRow[] = []
    for (const kind of ['bin', 'text'] as const) {
      const upPath = `/${kind}`
      const viaProxy = `http://127.0.0.1:${upPort}${upPath}`
      const label = kind === 'bin' ? '1 KiB binary GET (URL scan, streamed)' : '1 KiB text GET (URL scan + core response scan)'
      // Warm-up, then paired latency: each worker alternates direct and proxied.
      for (let i = 0; i < 100; i++) {
        await get(directAgent, upPort, upPath)
        await get(proxyAgent, port, viaProxy)
      }
      const direct: number[] = []
      const proxied: number[] = []
      let next = 0
      const n = kind === 'bin' ? requests : Math.max(200, Math.floor(requests / 4))
      const worker = async (w: number): Promise<void> => {
        let flip = w % 2 === 0
        while (next < n) {
          next++
          if (flip) {
            direct.push(await get(directAgent, upPort, upPath))
            proxied.push(await get(proxyAgent, port, viaProxy))
          } else {
            proxied.push(await get(proxyAgent, port, viaProxy))
            direct.push(await get(directAgent, upPort, upPath))
          }
          flip = !flip
        }
      }
      await Promise.all(Array.from({length: concurrency}, (_, w) => worker(w)))
      direct.sort((a, b) => a - b)
      proxied.sort((a, b) => a - b)
      // Throughput: each arm alone for a fixed time at the same concurrency.
      const throughput = async (fn: () => Promise<number>): Promise<number> => {
        const end = Date.now() + seconds * 1000
        let count = 0
        await Promise.all(Array.from({length: concurrency}, async () => {
          while (Date.now() < end) {
            await fn()
            count++
          }
        }))
        return count / seconds
      }
      // Sequential pairs (c=1): the added per-request cost without queueing on a shared box.
      const d1: number[] = []
      const p1: number[] = []
      for (let i = 0; i < 300; i++) {
        d1.push(await get(directAgent, upPort, upPath))
        p1.push(await get(proxyAgent, port, viaProxy))
      }
      d1.sort((a, b) => a - b)
      p1.sort((a, b) => a - b)
      rows.push({metric: `${label}: p50, c=1, ${d1.length} pairs`, direct: r3(pct(d1, 0.5)), proxied: r3(pct(p1, 0.5)), delta: r3(pct(p1, 0.5) - pct(d1, 0.5)), unit: 'ms'})
      const directRps = await throughput(() => get(directAgent, upPort, upPath))
      const proxiedRps = await throughput(() => get(proxyAgent, port, viaProxy))
      rows.push(
        {metric: `${label}: p50, c=${concurrency}, ${direct.length} pairs`, direct: r3(pct(direct, 0.5)), proxied: r3(pct(proxied, 0.5)), delta: r3(pct(proxied, 0.5) - pct(direct, 0.5)), unit: 'ms'},
        {metric: `${label}: p99`, direct: r3(pct(direct, 0.99)), proxied: r3(pct(proxied, 0.99)), delta: r3(pct(proxied, 0.99) - pct(direct, 0.99)), unit: 'ms'},
        {metric: `${label}: throughput, ${seconds} s per arm`, direct: Math.round(directRps), proxied: Math.round(proxiedRps), delta: r3(proxiedRps / directRps), unit: 'req/s (delta = ratio)'},
      )
    }
    const loadedRss = rssMb(proc.pid!)

    // The non-scanning peer: the same paired c=50 measurement and throughput through tinyproxy.
    const tiny = await startTinyproxy(dir)
    if (tiny === undefined) {
      rows.push({metric: 'tinyproxy (non-scanning peer)', direct: '-', proxied: 'not installed', delta: '-', unit: 'apt-get install tinyproxy'})
    } else {
      // tinyproxy closes client connections after each response: no keep-alive on its arm.
      const tinyAgent = new http.Agent({keepAlive: false, maxSockets: concurrency})
      try {
        const viaProxy = `http://127.0.0.1:${upPort}/bin`
        // tinyproxy drops some connections at c=50 on this machine; those are counted, not timed.
        let dropped = 0
        const peerGet = async (): Promise<number | undefined> => {
          try {
            return await get(tinyAgent, tiny.port, viaProxy)
          } catch {
            dropped++
            return undefined
          }
        }
        for (let i = 0; i < 100; i++) await peerGet()
        dropped = 0
        const direct: number[] = []
        const peer: number[] = []
        let next = 0
        await Promise.all(Array.from({length: concurrency}, async (_, w) => {
          let flip = w % 2 === 0
          while (next < requests) {
            next++
            let t: number | undefined
            if (flip) {
              direct.push(await get(directAgent, upPort, '/bin'))
              t = await peerGet()
            } else {
              t = await peerGet()
              direct.push(await get(directAgent, upPort, '/bin'))
            }
            if (t !== undefined) peer.push(t)
            flip = !flip
          }
        }))
        direct.sort((a, b) => a - b)
        peer.sort((a, b) => a - b)
        const end = Date.now() + seconds * 1000
        let count = 0
        await Promise.all(Array.from({length: concurrency}, async () => {
          while (Date.now() < end) if ((await peerGet()) !== undefined) count++
        }))
        const pipelockRps = rows.find((r) => r.metric.startsWith('1 KiB binary') && r.metric.includes('throughput'))?.proxied as number
        rows.push(
          {metric: `tinyproxy 1 KiB binary GET: p50, c=${concurrency} (${dropped} connections dropped)`, direct: r3(pct(direct, 0.5)), proxied: r3(pct(peer, 0.5)), delta: r3(pct(peer, 0.5) - pct(direct, 0.5)), unit: 'ms'},
          {metric: 'tinyproxy 1 KiB binary GET: p99', direct: r3(pct(direct, 0.99)), proxied: r3(pct(peer, 0.99)), delta: r3(pct(peer, 0.99) - pct(direct, 0.99)), unit: 'ms'},
          {metric: 'pipelock vs tinyproxy: binary throughput', direct: Math.round(count / seconds), proxied: pipelockRps, delta: r3(pipelockRps / (count / seconds)), unit: 'req/s (direct = tinyproxy; delta = ratio)'},
        )
      } finally {
        tinyAgent.destroy()
        tiny.proc.kill('SIGTERM')
      }
    }

    return [
      ...rows,
      {metric: 'proxy RSS idle / after load', direct: '-', proxied: `${idleRss.toFixed(1)} / ${loadedRss.toFixed(1)}`, delta: '-', unit: 'MiB'},
      {metric: 'time to first request served', direct: '-', proxied: Math.round(firstServedMs), delta: '-', unit: 'ms'},
    ]
  } finally {
    directAgent.destroy()
    proxyAgent.destroy()
    proc.kill('SIGTERM')
    await new Promise((r) => proc.once('exit', r))
    await new Promise<void>((r) => upstream.close(() => r()))
    rmSync(dir, {recursive: true, force: true})
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await runProxyBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
