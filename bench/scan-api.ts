/**
 * Scan API throughput (scanners-extra §1.11): `pipelock run` (the built CLI) with `scan_api`
 * on; keep-alive clients POST `kind: url` scans for a fixed time and the rate of completed scans
 * is reported, beside the same URL scanned in process (the scanner alone, no HTTP) in the same
 * run. The URL's host is pinned by `dns.host_overrides`, so no system DNS is measured. The load
 * is generated twice: by an undici client in this Node process, and by wrk (C, one thread, a Lua
 * script for the POST) — on a 2-core machine the Node client takes much of the core the server
 * needs, wrk a fraction of it. Reports numbers only; never asserts.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'
import {Pool} from 'undici'
import {ensureDebian} from './proxy-peers.js'
import {createScanner, defaultScannerSettings, RateLimiter} from '../src/plugins/scanner/index.js'

export interface ScanApiBenchRow {
  case: string
  /** The load generator: `undici` (Node, this process) or `wrk` (C). */
  client: string
  concurrency: number
  scans: number
  scans_per_s: number
  p50_ms: number
  p99_ms: number
  /** CPU time (user + system) the scanning process spent per scan: robust on a shared machine. */
  cpu_us_per_scan: number
  /** 1 / cpu_us_per_scan: the rate one fully available core sustains. */
  scans_per_cpu_s: number
}

const URL_UNDER_TEST = 'https://api.example.com/v1/repos/acme/widgets/issues?state=open&per_page=50&page=2'
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** utime + stime of a process in microseconds (Linux /proc; clock ticks of 10 ms). */
function cpuUs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[11]) + Number(rest[12])) * 10_000
}

async function startRun(dir: string): Promise<{port: number; pid: number; stop: () => void}> {
  const cfg = path.join(dir, 'pipelock.yaml')
  writeFileSync(cfg, [
    'logging:', '  include_allowed: false',
    'dns:', '  host_overrides:', '    api.example.com: ["93.184.216.34"]',
    'scan_api:', '  listen: "127.0.0.1:0"', '  auth:', '    bearer_tokens: ["bench-token"]',
    '  rate_limit:', '    requests_per_minute: 100000000', '    burst: 100000000', '  connection_limit: 256', '',
  ].join('\n'))
  const proc = spawn(process.execPath, [path.join(repo, 'bin', 'run.js'), 'run', '--config', cfg, '--listen', '127.0.0.1:0'], {stdio: ['ignore', 'ignore', 'pipe']})
  let err = ''
  const port = await new Promise<number>((resolve, reject) => {
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString()
      const m = /scan API listening on 127\.0\.0\.1:(\d+)/.exec(err)
      if (m) resolve(Number(m[1]))
    })
    proc.once('exit', () => reject(new Error(`pipelock run exited:\n${err}`)))
  })
  return {port, pid: proc.pid!, stop: () => proc.kill('SIGTERM')}
}

async function overHttp(port: number, pid: number, concurrency: number, seconds: number): Promise<ScanApiBenchRow> {
  const pool = new Pool(`http://127.0.0.1:${port}`, {connections: concurrency, pipelining: 1})
  const body = JSON.stringify({kind: 'url', input: {url: URL_UNDER_TEST}})
  const headers = {authorization: 'Bearer bench-token', 'content-type': 'application/json'}
  const one = async (): Promise<void> => {
    const r = await pool.request({path: '/api/v1/scan', method: 'POST', headers, body})
    const text = await r.body.text()
    if (r.statusCode !== 200 || !text.includes('"decision":"allow"')) throw new Error(`unexpected answer ${r.statusCode}: ${text}`)
  }
  // Warm-up (JIT, connections).
  const warmEnd = performance.now() + 1000
  await Promise.all(Array.from({length: concurrency}, async () => {
    while (performance.now() < warmEnd) await one()
  }))
  const lat: number[] = []
  const cpu0 = cpuUs(pid)
  const start = performance.now()
  const end = start + seconds * 1000
  await Promise.all(Array.from({length: concurrency}, async () => {
    while (performance.now() < end) {
      const t = performance.now()
      await one()
      lat.push(performance.now() - t)
    }
  }))
  const elapsed = (performance.now() - start) / 1000
  const cpu = cpuUs(pid) - cpu0
  await pool.close()
  lat.sort((a, b) => a - b)
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0
  const per = cpu / lat.length
  return {case: 'scan API over HTTP (url kind)', client: 'undici', concurrency, scans: lat.length, scans_per_s: Math.round(lat.length / elapsed), p50_ms: q(0.5), p99_ms: q(0.99), cpu_us_per_scan: Math.round(per), scans_per_cpu_s: Math.round(1e6 / per)}
}

/** The same POSTs from wrk: one thread, `concurrency` keep-alive connections; non-2xx answers count as errors. */
async function overWrk(dir: string, port: number, pid: number, concurrency: number, seconds: number): Promise<ScanApiBenchRow> {
  const body = JSON.stringify({kind: 'url', input: {url: URL_UNDER_TEST}})
  const script = path.join(dir, 'scan.lua')
  writeFileSync(script, [
    'wrk.method = "POST"',
    `wrk.body = ${JSON.stringify(body)}`,
    'wrk.headers["Authorization"] = "Bearer bench-token"',
    'wrk.headers["Content-Type"] = "application/json"',
    'done = function(summary, latency, requests)',
    '  io.write(string.format("RESULT %d %f %f %d\\n", summary.requests, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))',
    'end',
  ].join('\n'))
  const once = async (secs: number): Promise<{stdout: string; stderr: string}> =>
    await new Promise((resolve) => {
      const p = spawn('wrk', ['-t', '1', '-c', String(concurrency), '-d', `${secs}s`, '-s', script, `http://127.0.0.1:${port}/api/v1/scan`], {stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      p.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      p.on('close', () => resolve({stdout, stderr}))
    })
  await once(1) // warm-up
  const cpu0 = cpuUs(pid)
  const r = await once(seconds)
  const cpu = cpuUs(pid) - cpu0
  const m = /RESULT (\d+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stdout)
  if (m === null) throw new Error(`wrk failed: ${r.stderr || r.stdout}`)
  const scans = Number(m[1])
  if (Number(m[4]) > 0) throw new Error(`wrk: ${m[4]} errors or non-2xx answers`)
  const per = cpu / scans
  return {case: 'scan API over HTTP (url kind)', client: 'wrk', concurrency, scans, scans_per_s: Math.round(scans / seconds), p50_ms: Number(m[2]), p99_ms: Number(m[3]), cpu_us_per_scan: Math.round(per), scans_per_cpu_s: Math.round(1e6 / per)}
}

async function inProcess(seconds: number): Promise<ScanApiBenchRow> {
  const settings = defaultScannerSettings()
  settings.hostOverrides = new Map([['api.example.com', ['93.184.216.34']]])
  const sc = createScanner(settings)
  const clock = {nowNanos: () => 0n}
  const resolver = async (): Promise<string[]> => ['93.184.216.34']
  const scan = () => sc.scanUrl(URL_UNDER_TEST, {resolver, rateLimiter: new RateLimiter(clock)})
  const warmEnd = performance.now() + 500
  while (performance.now() < warmEnd) await scan()
  const lat: number[] = []
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  const end = start + seconds * 1000
  while (performance.now() < end) {
    const t = performance.now()
    await scan()
    lat.push(performance.now() - t)
  }
  const elapsed = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu0)
  lat.sort((a, b) => a - b)
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0
  const per = (used.user + used.system) / lat.length
  return {case: 'URL scanner in process (no HTTP)', client: '-', concurrency: 1, scans: lat.length, scans_per_s: Math.round(lat.length / elapsed), p50_ms: q(0.5), p99_ms: q(0.99), cpu_us_per_scan: Math.round(per), scans_per_cpu_s: Math.round(1e6 / per)}
}

export async function runScanApiBench(args: string[] = []): Promise<ScanApiBenchRow[]> {
  const seconds = Number(args[0] ?? '') > 0 ? Number(args[0]) : 5
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-bench-scan-api-'))
  const run = await startRun(dir)
  try {
    const rows: ScanApiBenchRow[] = []
    for (const c of [1, 16, 64]) rows.push(await overHttp(run.port, run.pid, c, seconds))
    if (ensureDebian({wrk: 'wrk'}, !args.includes('--no-install')).length === 0) {
      for (const c of [16, 64]) rows.push(await overWrk(dir, run.port, run.pid, c, seconds))
    }
    rows.push(await inProcess(seconds))
    return rows
  } finally {
    run.stop()
  }
}
