/**
 * Start-up of `pipelock run` (issue 18: first request served ≤ 300 ms, idle RSS ≤ 80 MB,
 * `pipelock --version` ≤ 90 ms). Each round spawns the built CLI with the bench
 * config below (forward proxy on, loopback upstream allowed) and measures, from spawn: the banner, the
 * first proxied 200 through it, the proxy's CPU time (all threads) at that moment, and its RSS one
 * second later; then `pipelock --version`, `pipelock verify-receipt` on the 5-receipt vector chain (a
 * command oclif loads from its bundle: scripts/bundle-run.mjs) and `node -e 0`. A second start per round and tree,
 * with request-body scanning on as well, measures the first large body a fresh proxy scans: a
 * 200 KB text POST through it, over 64 KiB so scanned on the pool, whose thread starts for it
 * (src/plugins/workers/bundled.ts), and the same POST again. With `--baseline DIR` (another built
 * checkout) the two trees alternate within each round, so machine load hits both alike; CPU time
 * is the figure that means something on a loaded machine. With `--profile DIR` one more start of
 * each tree runs under `--cpu-prof` and its main-thread samples up to the first request are summed
 * by where they ran (Node's module loader, oclif, zod, the run bundle, GC, …). No assertions.
 *
 *   node dist/bench/index.js startup [--rounds N] [--baseline DIR] [--profile DIR]
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {processCpuNs, repoRoot} from './peer-processes.js'

/**
 * The spec's bench settings (§22): forward proxy on, response scanning and seed phrases off,
 * the loopback upstream trusted, a rate limit no run reaches, allowed requests not logged.
 */
export const PROXY_BENCH_CONFIG = [
  'forward_proxy:', '  enabled: true',
  'response_scanning:', '  enabled: false',
  'seed_phrase_detection:', '  enabled: false',
  'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]',
  'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 1000000000',
  'logging:', '  include_allowed: false',
].join('\n') + '\n'

export interface Start {
  bannerMs: number
  firstMs: number
  cpuMs: number
  rssMiB: number
}

export const BODY = Buffer.alloc(1024, 7)

/** The large body of the pool arm: 200 KB of ordinary text (no finding), over the 64 KiB the event loop scans itself. */
const LARGE_BODY = Buffer.from('The quick brown fox jumps over the lazy dog again. '.repeat(4000))

/** The answer to a POST of `body` (text/plain) through the proxy at `port` to `target`: status and wall milliseconds. */
function proxiedPost(port: number, target: string, body: Buffer): Promise<{status: number; ms: number}> {
  const t0 = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path: target, method: 'POST', agent: false, headers: {'content-type': 'text/plain', 'content-length': body.length}}, (res) => {
      res.resume()
      res.on('end', () => resolve({status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - t0) / 1e6}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** One start for the pool arm: once it listens and has idled a second, two large POSTs in turn; their wall times. */
function largeBodiesOnce(root: string, config: string, upPort: number): Promise<{firstMs: number; nextMs: number}> {
  return withRun(root, config, [], async (proc) => {
    const port = await listenPort(proc)
    await new Promise((r) => setTimeout(r, 1000))
    const target = `http://127.0.0.1:${upPort}/upload`
    const first = await proxiedPost(port, target, LARGE_BODY)
    const next = await proxiedPost(port, target, LARGE_BODY)
    if (first.status !== 200 || next.status !== 200) throw new Error(`large bodies answered ${first.status}, ${next.status}`)
    return {firstMs: first.ms, nextMs: next.ms}
  })
}

/** `f` on a `<root>/bin/run.js run` started on a free loopback port with `config` (node flags `nodeArgs`), stopped with SIGTERM after it. */
async function withRun<T>(root: string, config: string, nodeArgs: readonly string[], f: (proc: ChildProcess) => Promise<T>): Promise<T> {
  const proc = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin', 'run.js'), 'run', '--config', config, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {...process.env, NO_COLOR: '1'},
  })
  try {
    return await f(proc)
  } finally {
    const exited = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    await exited
  }
}

/** The port a starting `pipelock run` reports in its banner (rejects when it exits first). */
function listenPort(proc: ChildProcess): Promise<number> {
  let err = ''
  return new Promise<number>((resolve, reject) => {
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString()
      const m = /Listen: 127\.0\.0\.1:(\d+)/.exec(err)
      if (m) {
        proc.stderr!.removeAllListeners('data')
        proc.stderr!.resume()
        resolve(Number(m[1]))
      }
    })
    proc.once('exit', () => reject(new Error(`proxy exited: ${err}`)))
  })
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

/** The status a proxy at `port` answers for `GET target` (a fresh connection; also used by startup-laziness.test). */
export function proxiedStatus(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path: target, agent: false}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

/** One start of `<root>/bin/run.js run`: banner, first 200, CPU at that moment, RSS 1 s later. */
export function startOnce(root: string, config: string, upPort: number, nodeArgs: readonly string[] = []): Promise<Start> {
  const t0 = process.hrtime.bigint()
  const ms = (): number => Number(process.hrtime.bigint() - t0) / 1e6
  return withRun(root, config, nodeArgs, async (proc) => {
    const port = await listenPort(proc)
    const bannerMs = ms()
    const status = await proxiedStatus(port, `http://127.0.0.1:${upPort}/bin`)
    const firstMs = ms()
    const cpuMs = processCpuNs(proc.pid!) / 1e6
    if (status !== 200) throw new Error(`first request answered ${status}`)
    await new Promise((r) => setTimeout(r, 1000))
    return {bannerMs, firstMs, cpuMs, rssMiB: rssMiB(proc.pid!)}
  })
}

function wallMs(args: readonly string[]): number {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, {stdio: 'ignore'})
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`)
  return Number(process.hrtime.bigint() - t0) / 1e6
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
export const range = (xs: number[], digits = 0): string => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`
/** `median (range)` of whole milliseconds, as the table shows them. */
const medianRange = (xs: number[]): string => `${median(xs).toFixed(0)} (${range(xs)})`

/** Packages the run bundle holds (scripts/bundle-run.mjs bundles all but oclif and re2). */
const BUNDLED = new Set(['zod', 'yaml', 'undici', 'chokidar', 'readdirp', 'ws', '@scure/bip39', '@noble/hashes'])

/**
 * Where a profile sample ran, in groups that mean the same with and without the run bundle:
 * pipelock's code and the packages the bundle holds; oclif (and its dependencies, re2);
 * Node's module loader and built-ins; native work (file system, compile); GC; idle.
 */
function category(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : 'native (file system, compile, …)'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm) return BUNDLED.has(nm[1]!) ? 'pipelock code + zod, yaml, undici, chokidar' : 'oclif and its dependencies, re2'
  if (url.includes('/dist/run/') || url.includes('/dist/src/') || url.includes('/bin/run.js')) return 'pipelock code + zod, yaml, undici, chokidar'
  if (url.startsWith('node:')) return 'node (module loader, built-ins)'
  return url
}

interface CpuProfile {
  nodes: {id: number; callFrame: {functionName: string; url: string}}[]
  samples: number[]
  timeDeltas: number[]
}

/** Self time per category of a `--cpu-prof` profile, summed over samples up to `untilMs`. */
export function profileCategories(profile: CpuProfile, untilMs: number): {category: string; ms: number}[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const sums = new Map<string, number>()
  let t = 0
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]! / 1000
    if (t > untilMs) break
    const f = byId.get(profile.samples[i]!)
    const c = f === undefined ? '?' : category(f.url, f.functionName)
    sums.set(c, (sums.get(c) ?? 0) + profile.timeDeltas[i]! / 1000)
  }
  return [...sums].map(([category, ms]) => ({category, ms})).sort((a, b) => b.ms - a.ms)
}

export async function runStartupBench(args: string[]): Promise<Record<string, unknown>[]> {
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const rounds = Number(flag('--rounds') ?? 5)
  const baseline = flag('--baseline')
  const profileDir = flag('--profile')
  const upstream = http.createServer((req, res) => {
    req.resume()
    res.writeHead(200, {'content-type': 'application/octet-stream'})
    res.end(BODY)
  })
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  const upPort = (upstream.address() as AddressInfo).port
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-startup-'))
  // The bench config above.
  const config = path.join(dir, 'bench.yaml')
  writeFileSync(config, PROXY_BENCH_CONFIG)
  const poolConfig = path.join(dir, 'bench-bodies.yaml')
  writeFileSync(poolConfig, PROXY_BENCH_CONFIG + 'request_body_scanning:\n  enabled: true\n')
  const arms = [{name: 'this tree', root: repoRoot}, ...(baseline ? [{name: `baseline ${baseline}`, root: path.resolve(baseline)}] : [])]
  const starts = new Map<string, Start[]>(arms.map((a) => [a.name, []]))
  const version = new Map<string, number[]>(arms.map((a) => [a.name, []]))
  const verify = new Map<string, number[]>(arms.map((a) => [a.name, []]))
  const large = new Map<string, Array<{firstMs: number; nextMs: number}>>(arms.map((a) => [a.name, []]))
  const bare: number[] = []
  const rows: Record<string, unknown>[] = []
  try {
    for (let r = 0; r < rounds; r++) {
      for (const a of r % 2 === 0 ? arms : [...arms].reverse()) {
        starts.get(a.name)!.push(await startOnce(a.root, config, upPort))
        version.get(a.name)!.push(wallMs([path.join(a.root, 'bin', 'run.js'), '--version']))
        verify.get(a.name)!.push(wallMs([path.join(a.root, 'bin', 'run.js'), 'verify-receipt', path.join(repoRoot, 'test', 'vectors', 'receipts', 'valid-chain.jsonl')]))
        large.get(a.name)!.push(await largeBodiesOnce(a.root, poolConfig, upPort))
      }
      bare.push(wallMs(['-e', '0']))
    }
    for (const a of arms) {
      const s = starts.get(a.name)!
      const m = (f: (x: Start) => number, digits = 0): string => `${median(s.map(f)).toFixed(digits)} (${range(s.map(f), digits)})`
      rows.push({tree: a.name, measure: 'spawn → banner', 'median (range)': m((x) => x.bannerMs), unit: 'ms'})
      rows.push({tree: a.name, measure: 'spawn → first request served', 'median (range)': m((x) => x.firstMs), unit: 'ms'})
      rows.push({tree: a.name, measure: 'proxy CPU at the first request (all threads)', 'median (range)': m((x) => x.cpuMs), unit: 'ms'})
      rows.push({tree: a.name, measure: 'RSS 1 s after the first request', 'median (range)': m((x) => x.rssMiB, 1), unit: 'MiB'})
      const v = version.get(a.name)!
      rows.push({tree: a.name, measure: 'pipelock --version', 'median (range)': medianRange(v), unit: 'ms'})
      rows.push({tree: a.name, measure: 'pipelock verify-receipt (5-receipt chain)', 'median (range)': medianRange(verify.get(a.name)!), unit: 'ms'})
      const lb = large.get(a.name)!
      rows.push({tree: a.name, measure: 'first 200 KB body (scan pool starts), request-body scanning on', 'median (range)': medianRange(lb.map((x) => x.firstMs)), unit: 'ms'})
      rows.push({tree: a.name, measure: 'the next 200 KB body, request-body scanning on', 'median (range)': medianRange(lb.map((x) => x.nextMs)), unit: 'ms'})
    }
    rows.push({tree: '-', measure: 'node -e 0', 'median (range)': medianRange(bare), unit: 'ms'})
    if (profileDir !== undefined) {
      rmSync(profileDir, {recursive: true, force: true})
      for (const [i, a] of arms.entries()) {
        const d = path.join(profileDir, String(i))
        mkdirSync(d, {recursive: true})
        const s = await startOnce(a.root, config, upPort, ['--cpu-prof', `--cpu-prof-dir=${d}`, '--cpu-prof-interval=250'])
        const file = readdirSync(d).find((f) => f.endsWith('.cpuprofile'))
        if (file === undefined) continue
        const profile = JSON.parse(readFileSync(path.join(d, file), 'utf8')) as CpuProfile
        for (const c of profileCategories(profile, s.firstMs)) {
          if (c.ms >= 2) rows.push({tree: `profile of ${a.name}, main thread up to the first request`, measure: c.category, 'median (range)': c.ms.toFixed(1), unit: 'ms self'})
        }
      }
    }
  } finally {
    upstream.close()
    rmSync(dir, {recursive: true, force: true})
  }
  return rows
}
