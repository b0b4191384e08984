/**
 * Forward proxy against its peers, with wrk (Debian) as the load generator: a 1 KiB binary GET
 * direct, through a bare Node relay (`bare-relay.ts`), through the built `pipelock run` (the
 * spec's bench settings: response scanning off, loopback upstream trusted, a large rate limit,
 * every request scanner on), through squid and through tinyproxy (Debian packages, installed with
 * apt-get when missing) — all in the same run, rounds interleaved so drift hits every arm.
 *
 * Per arm: throughput at c=50 (and as a ratio to direct in the same round), CPU µs per request of
 * the proxy process (all threads, /proc schedstat) and of its main thread alone (the rest is GC
 * and compiler helper threads), added p50 at c=1. The figures are compared
 * with the last recorded run (`bench/proxy-last-run.json`): a ratio more than 10% worse is
 * flagged in the output. `--record` stores this run as the new reference. No assertions.
 *
 * `--body SIZE` (e.g. `64k`) and `--type html|binary` choose the origin's response (default: the
 * 1 KiB binary body); `--preset NAME` adds an arm running that shipped preset as a user runs it,
 * with only the rate limit raised for the load test and the loopback origin allowed.
 *
 * The floor (issue 36), in the same run: per pipelock config, a checking relay
 * (`checking-relay.ts`: the bare relay that buffers the body and runs exactly the checks that arm
 * must run on the workload with its config — URL scan, header DLP, the response check: for a text
 * body the RE2 walks §7 requires) is one more arm; "floor" = its CPU per request in that round:
 * what a proxy that relays like the bare relay and runs those checks uses. Each round also
 * measures the same checks in a loop in this process (`proxy-floor.ts`; pipelock's own response
 * check beside the walks), shown for what they cost with warm caches. Beside the floor, the arm's
 * target as CPU per request: ≥ k× squid's throughput ⇒ CPU ≤ squid's / k (1 KiB: k = 0.5 for a
 * preset, 64 KiB and over: k = 0.3); the bench config on the 1 KiB body: ≤ 2× the bare relay's
 * CPU. A target below the floor is blocked on this machine.
 *
 * `--node-arms "A;B"` runs this build once per node/V8 flag set (`""`: none; e.g.
 * `--max-semi-space-size=8`), each with the bench config and the preset, in the same rounds.
 *
 *   node dist/bench/proxy-peers.js [--seconds S] [--rounds N] [--body SIZE] [--type html|binary] [--preset NAME] [--node-arms "A;B"] [--record] [--no-install] [--baseline /path/to/other/checkout]
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {isPresetName, presetConfig} from '../src/plugins/config/index.js'
import {htmlBody, parseSize} from './body-scan.js'
import {ProxyFloor, type FloorChecks} from './proxy-floor.js'
import {have, mainThreadCpuNs, nodeArmFlagSets, processCpuNs, repoRoot, spawnBareRelay, spawnCheckingRelay, spawnPipelock, startSquid, startTinyproxy} from './peer-processes.js'

const LAST_RUN = path.join(repoRoot, 'bench', 'proxy-last-run.json')
const BODY = Buffer.from(Array.from({length: 1024}, (_, i) => i & 0xff))

/** Installs missing Debian packages (root or sudo); returns the commands still missing. */
export function ensureDebian(packages: Record<string, string>, install: boolean): string[] {
  const missing = Object.entries(packages).filter(([cmd]) => !have(cmd))
  if (missing.length > 0 && install) {
    const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n']
    const run = (args: string[]): void => {
      const [cmd, ...rest] = [...sudo, ...args]
      spawnSync(cmd as string, rest, {stdio: 'ignore', env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'}})
    }
    process.stderr.write(`installing ${missing.map(([, p]) => p).join(', ')} with apt-get …\n`)
    run(['apt-get', 'update', '-qq'])
    run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing.map(([, p]) => p)])
  }
  return Object.keys(packages).filter((cmd) => !have(cmd))
}

/** The pipelock config of the peer table (every request scanner on, response scanning off, loopback trusted). */
export const PEERS_CONFIG = [
  'forward_proxy:', '  enabled: true', 'response_scanning:', '  enabled: false', 'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]',
  'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 1000000000', 'logging:', '  include_allowed: false',
].join('\n') + '\n'

/**
 * A shipped preset as a user runs it (JSON is YAML), with only what the load test needs changed:
 * the rate limit raised and the loopback origin allowed.
 */
export function presetBenchConfig(name: string): string {
  if (!isPresetName(name)) throw new Error(`unknown preset ${JSON.stringify(name)}`)
  const c = presetConfig(name) as Record<string, any>
  c.forward_proxy = {...(c.forward_proxy ?? {}), enabled: true}
  c.ssrf = {...(c.ssrf ?? {}), ip_allowlist: ['127.0.0.0/8']}
  c.fetch_proxy = {...(c.fetch_proxy ?? {}), monitoring: {...(c.fetch_proxy?.monitoring ?? {}), max_requests_per_minute: 1_000_000_000}}
  return JSON.stringify(c, null, 1) + '\n'
}

/** The origin every arm fetches: the 1 KiB binary body, keep-alive, on a free loopback port. */
export async function startBinaryOrigin(body: Buffer = BODY, contentType = 'application/octet-stream'): Promise<{server: http.Server; port: number}> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, {'content-type': contentType, 'content-length': String(body.length)})
    res.end(body)
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {server, port: (server.address() as AddressInfo).port}
}

interface WrkResult {
  requests: number
  rps: number
  p50ms: number
  errors: number
}

/**
 * One wrk run; through a proxy when `proxyPort` is set (absolute-form request line). Spawned
 * asynchronously: the upstream lives in this process and must keep serving.
 */
async function wrk(dir: string, upPort: number, proxyPort: number | undefined, connections: number, seconds: number): Promise<WrkResult> {
  const target = `http://127.0.0.1:${upPort}/bin`
  const script = path.join(dir, 'wrk.lua')
  writeFileSync(script, [
    proxyPort === undefined ? '' : `wrk.path = "${target}"`,
    `wrk.headers["Host"] = "127.0.0.1:${upPort}"`,
    'done = function(summary, latency, requests)',
    '  io.write(string.format("RESULT %d %f %d %d\\n", summary.requests, latency:percentile(50) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))',
    'end',
  ].join('\n'))
  const url = proxyPort === undefined ? target : `http://127.0.0.1:${proxyPort}/`
  const threads = Math.min(2, connections)
  const r = await new Promise<{stdout: string; stderr: string}>((resolve) => {
    const p = spawn('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '-s', script, url], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    p.on('close', () => resolve({stdout, stderr}))
  })
  const m = /RESULT (\d+) ([\d.]+) (\d+) (\d+)/.exec(r.stdout)
  if (m === null) throw new Error(`wrk failed: ${r.stderr || r.stdout}`)
  const requests = Number(m[1])
  return {requests, rps: requests / seconds, p50ms: Number(m[2]), errors: Number(m[3]) + Number(m[4])}
}

interface Arm {
  name: string
  port?: number
  pid?: number
  rps: number[]
  ratio: number[]
  cpuUs: number[]
  mainUs: number[]
  addedP50: number[]
  errors: number
  /** A pipelock arm's checks (its own config) and their CPU per call in each round. */
  floor?: ProxyFloor
  /** A pipelock arm's floor: the checking relay of its config. */
  floorArm?: Arm
  checks: FloorChecks[]
  /** What the arm's CPU per request must stay under, from the round's peers; null: no target for this workload. */
  target: ((round: number) => number) | null
  targetText?: string
}

/** `lo–hi` of `xs`, each end formatted by `f`; `-` for none. */
const range = (xs: number[], f: (x: number) => string): string => (xs.length === 0 ? '-' : `${f(Math.min(...xs))}–${f(Math.max(...xs))}`)

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number)
}

export async function runProxyPeersBench(args: readonly string[] = []): Promise<Record<string, unknown>[]> {
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const seconds = Number(arg('--seconds') ?? 5)
  const rounds = Number(arg('--rounds') ?? 3)
  const missing = ensureDebian({wrk: 'wrk', squid: 'squid', tinyproxy: 'tinyproxy'}, !args.includes('--no-install'))
  if (missing.includes('wrk')) throw new Error('wrk is not installed and could not be installed (apt-get install wrk)')

  const type = arg('--type') ?? 'binary'
  if (type !== 'binary' && type !== 'html') throw new Error(`--type must be binary or html, not ${JSON.stringify(type)}`)
  const size = arg('--body') === undefined ? BODY.length : parseSize(arg('--body')!)
  const body = type === 'html' ? htmlBody(size) : size === BODY.length ? BODY : Buffer.from(Array.from({length: size}, (_, i) => i & 0xff))
  const {server: upstream, port: upPort} = await startBinaryOrigin(body, type === 'html' ? 'text/html; charset=utf-8' : 'application/octet-stream')
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-bench-peers-'))
  const cfg = path.join(dir, 'bench.yaml')
  writeFileSync(cfg, PEERS_CONFIG)
  const preset = arg('--preset')
  const presetCfg = path.join(dir, 'preset.yaml')
  if (preset !== undefined) writeFileSync(presetCfg, presetBenchConfig(preset))
  const procs: ChildProcess[] = []
  const rows: Record<string, unknown>[] = []
  try {
    const arms: Arm[] = [{name: 'direct', rps: [], ratio: [], cpuUs: [], mainUs: [], addedP50: [], errors: 0, checks: [], target: null}]
    const checkingRelays = new Map<ProxyFloor, Arm>()
    const add = (name: string, p: {proc: ChildProcess; port: number}, floor?: ProxyFloor): Arm => {
      procs.push(p.proc)
      const floorArm = floor === undefined ? undefined : checkingRelays.get(floor)
      const a: Arm = {name, port: p.port, pid: p.proc.pid!, rps: [], ratio: [], cpuUs: [], mainUs: [], addedP50: [], errors: 0, checks: [], target: null, ...(floor ? {floor} : {}), ...(floorArm ? {floorArm} : {})}
      arms.push(a)
      return a
    }
    // The bench client's request as the proxy sees it: wrk sends the request line and `Host` alone.
    const workload = {url: `http://127.0.0.1:${upPort}/bin`, headers: [['Host', `127.0.0.1:${upPort}`]] as Array<[string, string]>, body, host: '127.0.0.1', markup: type === 'html'}
    const benchFloor = new ProxyFloor(cfg, workload)
    /** The config each floor's checks ran with, for its row. */
    const floorNames = new Map<ProxyFloor, string>([[benchFloor, 'bench config']])
    const bare = add('bare Node relay', await spawnBareRelay())
    // The floor of each config: the bare relay running its checks (checking-relay.ts).
    const checkingRelay = async (floor: ProxyFloor, file: string): Promise<void> => {
      checkingRelays.set(floor, add(`checking relay (${floorNames.get(floor)})`, await spawnCheckingRelay(file, workload.markup)))
    }
    await checkingRelay(benchFloor, cfg)
    // `--node-arms "A;B"`: this build once per node/V8 flag set (`""`: none), each with the bench
    // config and (with `--preset`) the preset, so flags (e.g. `--max-semi-space-size=8`) are compared in one run.
    const flagSets = nodeArmFlagSets(arg('--node-arms'))
    const label = (f: string[]): string => (f.length === 0 ? '' : ` ${f.join(' ')}`)
    const presetFloor = preset === undefined ? undefined : new ProxyFloor(presetCfg, workload)
    if (presetFloor !== undefined) {
      floorNames.set(presetFloor, preset!)
      await checkingRelay(presetFloor, presetCfg)
    }
    const owns: Arm[] = []
    const presetArms: Arm[] = []
    for (const f of flagSets) {
      owns.push(add(`pipelock${label(f)}`, await spawnPipelock(repoRoot, cfg, [], f), benchFloor))
      if (presetFloor !== undefined) presetArms.push(add(`pipelock (${preset})${label(f)}`, await spawnPipelock(repoRoot, presetCfg, [], f), presetFloor))
    }
    // `--baseline DIR`: another built checkout (the previous implementation), same config, same rounds.
    const baseline = arg('--baseline')
    const baselineArm = baseline === undefined ? undefined : add('pipelock (baseline)', await spawnPipelock(path.resolve(baseline), cfg), benchFloor)
    for (const [name, start] of [['squid', startSquid], ['tinyproxy', startTinyproxy]] as const) {
      if (missing.includes(name)) {
        rows.push({arm: name, 'req/s c=50': 'not installed'})
        continue
      }
      try {
        add(name, await start(dir))
      } catch (e) {
        rows.push({arm: name, 'req/s c=50': `did not start: ${(e as Error).message}`})
      }
    }
    // The issue's targets, as CPU per request from the same round's peers (issue 36).
    const squid = arms.find((a) => a.name === 'squid')
    const oneKib = size === BODY.length && type === 'binary'
    if (oneKib) {
      for (const a of baselineArm === undefined ? owns : [...owns, baselineArm]) {
        a.target = (r) => 2 * bare.cpuUs[r]!
        a.targetText = '≤ 2× bare relay CPU'
      }
    }
    const k = oneKib ? 0.5 : size >= 64 * 1024 ? 0.3 : undefined
    if (squid !== undefined && k !== undefined) {
      for (const presetArm of presetArms) {
        presetArm.target = (r) => squid.cpuUs[r]! / k
        presetArm.targetText = `≥ ${k}× squid req/s ⇒ ≤ squid CPU / ${k}`
      }
    }
    for (const a of arms) await wrk(dir, upPort, a.port, 10, 1) // warm-up
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? arms : [...arms].reverse()
      const direct1 = await wrk(dir, upPort, undefined, 1, Math.max(1, Math.floor(seconds / 2)))
      const directRps = (await wrk(dir, upPort, undefined, 50, seconds)).rps
      for (const a of order) {
        if (a.port === undefined) {
          a.rps.push(directRps)
          a.ratio.push(1)
          continue
        }
        const c0 = processCpuNs(a.pid!)
        const m0 = mainThreadCpuNs(a.pid!)
        const r = await wrk(dir, upPort, a.port, 50, seconds)
        const cpu = processCpuNs(a.pid!) - c0
        const main = mainThreadCpuNs(a.pid!) - m0
        a.rps.push(r.rps)
        a.ratio.push(r.rps / directRps)
        a.cpuUs.push(cpu / 1000 / Math.max(1, r.requests))
        a.mainUs.push(main / 1000 / Math.max(1, r.requests))
        a.errors += r.errors
        a.addedP50.push((await wrk(dir, upPort, a.port, 1, Math.max(1, Math.floor(seconds / 2)))).p50ms - direct1.p50ms)
      }
      // The floor's checks, between wrk runs (nothing else runs in this process then); one measure per config.
      const measured = new Map<ProxyFloor, FloorChecks>()
      for (const a of arms) {
        if (a.floor === undefined) continue
        const c = measured.get(a.floor) ?? (await a.floor.measure(Math.min(3, Math.max(1, seconds / 2))))
        measured.set(a.floor, c)
        a.checks.push(c)
      }
    }
    // The recorded reference is the default body's: another body is not compared with it.
    const comparable = arg('--body') === undefined && type === 'binary'
    const last = comparable && existsSync(LAST_RUN) ? (JSON.parse(readFileSync(LAST_RUN, 'utf8')) as Record<string, {ratio: number; cpu_us: number}>) : {}
    const record: Record<string, {ratio: number; cpu_us: number}> = {}
    const floorRows: Record<string, unknown>[] = []
    for (const a of arms) {
      const ratio = median(a.ratio)
      const cpu = median(a.cpuUs)
      record[a.name] = {ratio: Number(ratio.toFixed(3)), cpu_us: Number(cpu.toFixed(1))}
      const prev = last[a.name]
      const flags: string[] = []
      if (prev !== undefined && a.port !== undefined) {
        if (ratio < prev.ratio * 0.9) flags.push(`REGRESSION: throughput ratio ${ratio.toFixed(2)} < 0.9 × last ${prev.ratio}`)
        if (cpu > prev.cpu_us * 1.1) flags.push(`REGRESSION: CPU/request ${cpu.toFixed(1)} µs > 1.1 × last ${prev.cpu_us}`)
      }
      rows.unshift({
        arm: a.name,
        'req/s c=50': range(a.rps, (x) => String(Math.round(x))),
        'vs direct': a.port === undefined ? '1' : range(a.ratio, (x) => x.toFixed(2)),
        'CPU µs/request': range(a.cpuUs, (x) => x.toFixed(0)),
        'main thread µs': range(a.mainUs, (x) => x.toFixed(0)),
        'added p50 c=1 (ms)': range(a.addedP50, (x) => x.toFixed(3)),
        errors: a.errors,
        'vs last run': prev === undefined ? 'no record' : flags.length > 0 ? flags.join('; ') : `ok (last: ${prev.ratio}×, ${prev.cpu_us} µs)`,
        'vs squid req/s': squid === undefined || a.port === undefined ? '-' : range(a.rps.map((x, i) => x / squid.rps[i]!), (x) => x.toFixed(2)),
        ...floorColumns(a),
      })
      const checksRow = a.floor === undefined ? '' : `checks in a loop (${floorNames.get(a.floor)})`
      if (a.floor !== undefined && a.checks.length > 0 && !floorRows.some((r) => r.arm === checksRow)) {
        const part = (f: (c: FloorChecks) => number): string => range(a.checks.map(f), (x) => x.toFixed(1))
        floorRows.push({
          arm: checksRow, 'req/s c=50': '-', 'vs direct': '-', 'CPU µs/request': range(a.checks.map((c) => c.totalUs), (x) => x.toFixed(0)),
          'main thread µs': '-', 'added p50 c=1 (ms)': '-', errors: 0,
          'vs last run': `URL scan ${part((c) => c.urlUs)} + header DLP ${part((c) => c.headersUs)} + ${a.checks[0]!.walksUs === null ? `response ${part((c) => c.responseUs)}` : `response walks ${part((c) => c.walksUs!)} (pipelock's check ${part((c) => c.responseUs)})`} µs`,
          'vs squid req/s': '-', floor: '-', target: '-', status: '-',
        })
      }
    }
    rows.sort((x, y) => arms.findIndex((a) => a.name === x.arm) - arms.findIndex((a) => a.name === y.arm))
    rows.push(...floorRows)
    if (args.includes('--record') && comparable) writeFileSync(LAST_RUN, JSON.stringify(record, null, 2) + '\n')
    return rows
  } finally {
    for (const p of procs) p.kill('SIGTERM')
    await new Promise<void>((r) => upstream.close(() => r()))
    upstream.closeAllConnections()
    rmSync(dir, {recursive: true, force: true})
  }
}

/**
 * An arm's floor (its checking relay's CPU per request, per round), its target and the verdict:
 * blocked when the floor is over the target (medians of the rounds), met when the arm is under it.
 */
function floorColumns(a: Arm): {floor: string; target: string; status: string} {
  if (a.floorArm === undefined || a.floorArm.cpuUs.length === 0) return {floor: '-', target: '-', status: '-'}
  const floors = a.floorArm.cpuUs
  const floor = `${range(floors, (x) => x.toFixed(0))} µs (${a.floorArm.name})`
  if (a.target === null) return {floor, target: '-', status: '-'}
  const targets = floors.map((_, r) => a.target!(r))
  const [f, t, own] = [median(floors), median(targets), median(a.cpuUs)]
  const status = f > t ? `BLOCKED on this machine: floor ${f.toFixed(0)} > target ${t.toFixed(0)} µs` : own <= t ? 'met' : `not met (floor ${f.toFixed(0)} ≤ target ${t.toFixed(0)} µs)`
  return {floor, target: `${range(targets, (x) => x.toFixed(0))} µs (${a.targetText})`, status}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await runProxyPeersBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
