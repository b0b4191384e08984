/**
 * Where the forward proxy's CPU per request goes: the built `pipelock run` (the `proxy` peers
 * bench's config: every request scanner on, response scanning off) under wrk at c=50 on the 1 KiB
 * binary GET, profiled with `node --cpu-prof`. Only the samples taken during the measured wrk run
 * (after a warm-up) count; each function's self and inclusive time is printed as a share of the
 * non-idle samples and as CPU µs per request (sampled main-thread time ÷ requests served), and
 * the same per subsystem (the file's plugin, undici, node internals, GC). With `--baseline DIR`
 * the same is done for another built checkout in the same run, arms alternating. Bench-only.
 *
 * `--heap`: bytes allocated per request instead (bench/heap-sampling.ts preloaded: V8's sampling heap
 * profiler with freed objects included, over the same measured window), by function, file and subsystem.
 *
 *   node dist/bench/relay-profile.js [--seconds S] [--warmup S] [--rounds N] [--top N] [--baseline DIR] [--bare] [--heap] [--out DIR]
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {SourceMap, type SourceMapPayload} from 'node:module'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {BUNDLE_WRAPPER_PREFIX} from '../src/cli/run-bundle.js'
import {processCpuNs, repoRoot, spawnBareRelay, spawnPipelock} from './peer-processes.js'
import {PEERS_CONFIG, startBinaryOrigin} from './proxy-peers.js'
import type {Profile, ProfileNode} from './turn-profile.js'

/** Source maps of the single-file run bundle (dist/run/direct.cjs.map), by the bundle's path. */
const bundleMaps = new Map<string, SourceMap>()

/**
 * The source file of a frame in dist/run/direct.cjs (compiled as a script by src/cli/run-bundle.ts,
 * inside a wrapper that shifts its first line): from the bundle's source map.
 */
function bundleSourceOf(file: string, line: number, column: number): string {
  let map = bundleMaps.get(file)
  if (map === undefined) {
    map = new SourceMap(JSON.parse(readFileSync(file + '.map', 'utf8')) as SourceMapPayload)
    bundleMaps.set(file, map)
  }
  const entry = map.findEntry(line, line === 0 ? column - BUNDLE_WRAPPER_PREFIX.length : column) as {originalSource?: string}
  return entry.originalSource === undefined ? file : path.resolve(path.dirname(file), entry.originalSource)
}

/**
 * The source file of a frame: for the esbuild bundle (dist/run/), the module whose `// path`
 * marker precedes the frame's line, or for its single-file start the source map's; otherwise the
 * frame's own URL.
 */
function sourceOf(n: ProfileNode, modules: Map<string, Array<[number, string]>>): string {
  const {url, lineNumber} = n.callFrame
  if (url.endsWith('/dist/run/direct.cjs')) return bundleSourceOf(url.startsWith('file:') ? fileURLToPath(url) : url, lineNumber, (n.callFrame as {columnNumber?: number}).columnNumber ?? 0)
  if (!url.includes('/dist/run/')) return url
  let marks = modules.get(url)
  if (marks === undefined) {
    marks = []
    const lines = readFileSync(fileURLToPath(url), 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      const m = /^\/\/ (\S+\.m?[jt]s)$/.exec(lines[i]!)
      if (m !== null) marks.push([i, m[1]!])
    }
    modules.set(url, marks)
  }
  let found = url
  for (const [line, file] of marks) {
    if (line > lineNumber) break
    found = file
  }
  return found
}

function label(n: ProfileNode, src: string): string {
  const f = n.callFrame
  const file = src === '' ? '' : ` ${src.replace(/^.*\/(src|node_modules)\//, '').replace(/^node:internal\//, 'node:')}:${f.lineNumber + 1}`
  return `${f.functionName === '' ? '(anonymous)' : f.functionName}${file}`
}

/** The subsystem a frame belongs to: the pipelock plugin of its file, undici, node, GC or native. */
function subsystem(n: ProfileNode, url: string): string {
  const {functionName} = n.callFrame
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return functionName
  const p = /\/src\/plugins\/([^/]+)\//.exec(url)
  if (p !== null) return `pipelock ${p[1]}`
  if (url.includes('/node_modules/undici/')) return 'undici'
  if (url.includes('/node_modules/')) return `npm ${/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? '?'}`
  if (url.startsWith('node:') || url === '') return url === '' ? 'native / builtin' : 'node internals'
  return 'other'
}

interface Attribution {
  samples: number
  idle: number
  sampledUs: number
  self: Map<string, number>
  incl: Map<string, number>
  sysSelf: Map<string, number>
  sysIncl: Map<string, number>
  fileSelf: Map<string, number>
}

/** Samples of `file` between `fromUs` and `toUs` (the profile's monotonic clock, µs). */
export function attributeWindow(file: string, fromUs: number, toUs: number): Attribution {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const modules = new Map<string, Array<[number, string]>>()
  const src = new Map(p.nodes.map((n) => [n.id, sourceOf(n, modules)]))
  const a: Attribution = {samples: 0, idle: 0, sampledUs: 0, self: new Map(), incl: new Map(), sysSelf: new Map(), sysIncl: new Map(), fileSelf: new Map()}
  const bump = (m: Map<string, number>, k: string, us: number): void => void m.set(k, (m.get(k) ?? 0) + us)
  let t = p.startTime
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0
    t += p.timeDeltas[i] ?? 0
    if (t < fromUs || t > toUs) continue
    let node = byId.get(p.samples[i]!)!
    if (node.callFrame.functionName === '(idle)') {
      a.idle += dt
      continue
    }
    a.samples++
    a.sampledUs += dt
    bump(a.self, label(node, src.get(node.id)!), dt)
    bump(a.sysSelf, subsystem(node, src.get(node.id)!), dt)
    bump(a.fileSelf, src.get(node.id)!.replace(/^.*\/(src|node_modules)\//, '') || node.callFrame.functionName, dt)
    const seen = new Set<string>()
    const seenSys = new Set<string>()
    for (;;) {
      const l = label(node, src.get(node.id)!)
      if (!seen.has(l)) (seen.add(l), bump(a.incl, l, dt))
      const s = subsystem(node, src.get(node.id)!)
      if (!seenSys.has(s)) (seenSys.add(s), bump(a.sysIncl, s, dt))
      const up = parent.get(node.id)
      if (up === undefined) break
      node = byId.get(up)!
    }
  }
  return a
}

function table(title: string, m: Map<string, number>, a: Attribution, requests: number, top: number): string {
  const rows = [...m].sort((x, y) => y[1] - x[1]).slice(0, top)
  return `  ${title}:\n` + rows.map(([k, us]) => `    ${((100 * us) / Math.max(1, a.sampledUs)).toFixed(1).padStart(5)} %  ${(us / Math.max(1, requests)).toFixed(1).padStart(6)} µs/req  ${k}`).join('\n')
}

interface HeapNode {
  readonly callFrame: {readonly functionName: string; readonly url: string; readonly lineNumber: number}
  readonly selfSize: number
  readonly children: HeapNode[]
}

/** One arm's allocation during the measured wrk run: bytes per request by function, file and subsystem. */
async function heapRound(name: string, root: string, cfg: string, dir: string, upPort: number, profDir: string, warmup: number, seconds: number, top: number, round: number): Promise<string> {
  const file = path.join(profDir, 'heap.json')
  process.env.PIPELOCK_HEAP_PROFILE = file
  const preload = ['--import', pathToFileURL(path.join(repoRoot, 'dist', 'bench', 'heap-sampling.js')).href]
  const p = root === '' ? await spawnBareRelay(preload) : await spawnPipelock(root, cfg, [], preload)
  delete process.env.PIPELOCK_HEAP_PROFILE
  try {
    await wrk(dir, upPort, p.port, warmup)
    p.proc.kill('SIGUSR2')
    const requests = await wrk(dir, upPort, p.port, seconds)
    p.proc.kill('SIGUSR2')
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100))
    const head = (JSON.parse(readFileSync(file, 'utf8')) as {head: HeapNode}).head
    const modules = new Map<string, Array<[number, string]>>()
    const self = new Map<string, number>()
    const byFile = new Map<string, number>()
    const bySys = new Map<string, number>()
    let total = 0
    const bump = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v)
    const walk = (n: HeapNode): void => {
      const node = {id: 0, callFrame: n.callFrame}
      const src = sourceOf(node, modules)
      total += n.selfSize
      bump(self, label(node, src), n.selfSize)
      bump(byFile, src.replace(/^.*\/(src|node_modules)\//, '') || n.callFrame.functionName, n.selfSize)
      bump(bySys, subsystem(node, src), n.selfSize)
      for (const c of n.children) walk(c)
    }
    walk(head)
    const rows = (m: Map<string, number>, k: number): string =>
      [...m].sort((x, y) => y[1] - x[1]).slice(0, k).map(([l, b]) => `    ${(b / requests).toFixed(0).padStart(7)} B/req  ${((100 * b) / total).toFixed(1).padStart(5)} %  ${l}`).join('\n')
    return [
      `${name} (round ${round + 1}): ${requests} requests; allocated ${(total / requests).toFixed(0)} bytes per request (sampled, freed objects included)`,
      '  by subsystem:\n' + rows(bySys, 12), '  by file:\n' + rows(byFile, top), '  by function:\n' + rows(self, top),
    ].join('\n')
  } finally {
    p.proc.kill('SIGKILL')
  }
}

async function wrk(dir: string, upPort: number, proxyPort: number, seconds: number): Promise<number> {
  const script = path.join(dir, 'wrk.lua')
  writeFileSync(script, [
    `wrk.path = "http://127.0.0.1:${upPort}/bin"`, `wrk.headers["Host"] = "127.0.0.1:${upPort}"`,
    'done = function(summary) io.write(string.format("RESULT %d\\n", summary.requests)) end',
  ].join('\n'))
  const out = await new Promise<string>((resolve) => {
    const p = spawn('wrk', ['-t', '2', '-c', '50', '-d', `${seconds}s`, '-s', script, `http://127.0.0.1:${proxyPort}/`], {stdio: ['ignore', 'pipe', 'ignore']})
    let s = ''
    p.stdout.on('data', (c: Buffer) => (s += c.toString()))
    p.on('close', () => resolve(s))
  })
  const m = /RESULT (\d+)/.exec(out)
  if (m === null) throw new Error(`wrk failed: ${out}`)
  return Number(m[1])
}

export async function runRelayProfileBench(args: readonly string[] = []): Promise<string[]> {
  const arg = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
  const seconds = Number(arg('--seconds') ?? 6)
  const warmup = Number(arg('--warmup') ?? 3)
  const rounds = Number(arg('--rounds') ?? 1)
  const top = Number(arg('--top') ?? 25)
  const {server: upstream, port: upPort} = await startBinaryOrigin()
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-relay-profile-'))
  const keep = arg('--out')
  const cfg = path.join(dir, 'bench.yaml')
  writeFileSync(cfg, PEERS_CONFIG)
  const arms: Array<[string, string]> = [['this tree', repoRoot]]
  const baseline = arg('--baseline')
  if (baseline !== undefined) arms.push(['baseline', path.resolve(baseline)])
  // `--bare`: the bare Node relay (bare-relay.ts) profiled the same way: the floor of the comparison.
  if (args.includes('--bare')) arms.push(['bare relay', ''])
  // `--heap`: bytes allocated per request (V8's sampling heap profiler, freed objects included) instead of CPU.
  const heap = args.includes('--heap')
  const out: string[] = []
  const perArm = new Map<string, {cpu: number[]; sampled: number[]; rps: number[]}>(arms.map(([n]) => [n, {cpu: [], sampled: [], rps: []}]))
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [name, root] of round % 2 === 0 ? arms : [...arms].reverse()) {
        const profDir = path.join(keep ?? dir, `${name.replace(/ /g, '-')}-${round}`)
        mkdirSync(profDir, {recursive: true})
        if (heap) {
          out.push(await heapRound(name, root, cfg, dir, upPort, profDir, warmup, seconds, top, round))
          continue
        }
        const prof = ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '250']
        const p = root === '' ? await spawnBareRelay(prof) : await spawnPipelock(root, cfg, [], prof)
        try {
          await wrk(dir, upPort, p.port, warmup)
          const c0 = processCpuNs(p.proc.pid!)
          const from = Number(process.hrtime.bigint() / 1000n)
          const requests = await wrk(dir, upPort, p.port, seconds)
          const to = Number(process.hrtime.bigint() / 1000n)
          const cpuUs = (processCpuNs(p.proc.pid!) - c0) / 1000
          const exited = new Promise<void>((r) => p.proc.once('exit', () => r()))
          p.proc.kill('SIGTERM')
          await exited
          const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
          if (file === undefined) throw new Error(`no profile written in ${profDir}`)
          const a = attributeWindow(path.join(profDir, file), from, to)
          // The measured window beside the profile, so kept profiles (--out) can be attributed again.
          writeFileSync(path.join(profDir, 'window.json'), JSON.stringify({from, to, requests, cpuUs}) + '\n')
          const m = perArm.get(name)!
          m.cpu.push(cpuUs / requests)
          m.sampled.push(a.sampledUs / requests)
          m.rps.push(requests / seconds)
          out.push(
            `${name} (round ${round + 1}): ${requests} requests in ${seconds} s (${Math.round(requests / seconds)} req/s); process CPU ${(cpuUs / requests).toFixed(1)} µs/req (all threads); ` +
              `main thread sampled ${(a.sampledUs / requests).toFixed(1)} µs/req non-idle, idle ${((100 * a.idle) / Math.max(1, a.idle + a.sampledUs)).toFixed(1)} %`,
            table('self time by subsystem', a.sysSelf, a, requests, 20),
            table('inclusive time by subsystem', a.sysIncl, a, requests, 20),
            table('self time by file', a.fileSelf, a, requests, top),
            table('self time', a.self, a, requests, top),
            table('inclusive time', a.incl, a, requests, top * 2),
          )
        } finally {
          if (p.proc.exitCode === null) p.proc.kill('SIGKILL')
        }
      }
    }
    const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)] ?? NaN
    const range = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`
    for (const [name, m] of heap ? [] : perArm) {
      out.push(`summary ${name}: process CPU µs/req median ${med(m.cpu).toFixed(1)} (${range(m.cpu)}); main-thread sampled µs/req median ${med(m.sampled).toFixed(1)} (${range(m.sampled)}); req/s ${range(m.rps)}`)
    }
    return out
  } finally {
    upstream.closeAllConnections()
    await new Promise<void>((r) => upstream.close(() => r()))
    rmSync(dir, {recursive: true, force: true})
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of await runRelayProfileBench(process.argv.slice(2))) process.stdout.write(line + '\n')
}
