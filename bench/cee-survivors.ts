/**
 * What CEE leaves in the young generation (issue 15, round 9): the `cee` bench's 2 KiB loop
 * (detector pre-filled to 10,000 keys, uniform warm agents) run in a child under
 * `--trace-gc-nvp`, once per arm, alternating over `--rounds N`: `scan` = the URL scans only,
 * `admit` = the URL scan then `admit`. Per arm: scavenges in the loop, bytes each scavenge copied
 * (new_space_survived + promoted: load-independent), those bytes per iteration, and the mean and
 * max scavenge pause (load-bound). `--impl DIR` takes the cee and scanner plugins from another
 * build's `dist` (e.g. `/work/main/dist`), so old and new alternate in one run. Never asserts.
 *
 *   node dist/bench/cee-survivors.js [iterations] [--size 2048] [--rounds 2] [--impl DIR]
 */
import {execFileSync} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseGcTrace} from './gc-trace.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const MARK = 'CEE-SURVIVORS-LOOP'

/** The child: pre-fill, print the marker, run the loop, print the end marker. */
async function child(arm: string, iterations: number, size: number, dist: string): Promise<void> {
  const cee = await import(pathToFileURL(path.join(dist, 'src/plugins/cee/index.js')).href)
  const scanner = await import(pathToFileURL(path.join(dist, 'src/plugins/scanner/index.js')).href)
  const {agentKey, measuredAgents, prefilled, urlOfSize} = await import('./cee.js')
  const settings = scanner.defaultScannerSettings()
  settings.maxRequestsPerMinute = Number.MAX_SAFE_INTEGER
  const sc = scanner.createScanner(settings)
  const dlp = cee.textDlpOf(sc)
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new scanner.RateLimiter({nowNanos: () => 0n}), scanner: sc.url}
  // The cee bench's pre-fill, with the detector of the build under test.
  const p = prefilled(size, dlp, cee)
  const det = p.det
  let now = p.now
  const agents = measuredAgents(iterations)
  // Settle the pre-fill's garbage so the loop starts from a clean young generation.
  for (let i = 0; i < 3; i++) (globalThis as {gc?: () => void}).gc?.()
  console.log(MARK)
  for (let i = 0; i < iterations; i++) {
    const url = urlOfSize(size, i + 7)
    await scanner.scanUrl(url, ctx)
    if (arm === 'admit') det.admit(agentKey(agents[i]!), 'api.example.com', cee.extractPayload(url), dlp, now++, true)
  }
  console.log(`${MARK}-END`)
}

interface ArmResult {arm: string; impl: string; scavenges: number; copied_per_scavenge_kib: number; survived_kib: number; promoted_kib: number; copied_per_iteration_b: number; pause_mean_ms: number; pause_max_ms: number; mark_compacts: number}

function runArm(arm: string, iterations: number, size: number, dist: string): ArmResult {
  const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc-nvp', fileURLToPath(import.meta.url), '--child', arm, String(iterations), String(size), dist], {maxBuffer: 1 << 28}).toString()
  const loop = out.slice(out.indexOf(MARK) + MARK.length, out.indexOf(`${MARK}-END`))
  const ev = parseGcTrace(loop)
  const s = ev.filter((e) => e.f.gc === 's')
  const sum = (k: string): number => s.reduce((n, e) => n + Number(e.f[k] ?? 0), 0)
  const pauses = s.map((e) => Number(e.f.pause))
  const r1 = (x: number): number => Math.round(x * 10) / 10
  return {
    arm, impl: dist, scavenges: s.length,
    copied_per_scavenge_kib: r1((sum('new_space_survived') + sum('promoted')) / Math.max(1, s.length) / 1024),
    survived_kib: r1(sum('new_space_survived') / Math.max(1, s.length) / 1024), promoted_kib: r1(sum('promoted') / Math.max(1, s.length) / 1024),
    copied_per_iteration_b: Math.round((sum('new_space_survived') + sum('promoted')) / iterations),
    pause_mean_ms: Math.round((100 * pauses.reduce((a, b) => a + b, 0)) / Math.max(1, pauses.length)) / 100, pause_max_ms: Math.max(0, ...pauses),
    mark_compacts: ev.filter((e) => e.f.gc === 'mc' || e.f.gc === 'ms').length,
  }
}

export async function runCeeSurvivorsBench(args: string[] = []): Promise<ArmResult[]> {
  const arg = (n: string, d: string): string => (args.includes(n) ? args[args.indexOf(n) + 1]! : d)
  const iterations = Number(args[0] ?? '') > 0 ? Number(args[0]) : 6000
  const size = Number(arg('--size', '2048'))
  const rounds = Number(arg('--rounds', '2'))
  const impls = [path.resolve(here, '..'), ...(args.includes('--impl') ? [path.resolve(arg('--impl', ''))] : [])]
  const rows: ArmResult[] = []
  for (let r = 0; r < rounds; r++) for (const dist of impls) for (const arm of ['scan', 'admit']) rows.push(runArm(arm, iterations, size, dist))
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2)
  if (args[0] === '--child') await child(args[1]!, Number(args[2]), Number(args[3]), args[4]!)
  else for (const r of await runCeeSurvivorsBench(args)) console.log(JSON.stringify(r))
}
