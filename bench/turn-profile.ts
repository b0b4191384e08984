/**
 * Attributes the long main-thread CPU stretches of a `tls-tunnels --turn-cpu --cpu-prof DIR` run
 * to what ran in them: for every stretch of at least `--min` ms (default 8) in `DIR/this` (or
 * `DIR/baseline`), the profile samples inside it (same monotonic clock), their top functions by
 * self time and by inclusive time, and the GC pauses that ended inside it; with the bench's
 * `windows.json` beside them, only stretches inside an arm (`--all`: every one). With `--own`, a
 * stretch is selected by its own stall (wall − run-queue wait, own-stall.ts) instead of its CPU,
 * with `--busy` by its busy time (wall − the loop's idle time in its poll, own-stall.ts);
 * with the proxy's `--trace-gc-nvp` output beside them (`gc.log`, `tls-tunnels --trace-gc`), each
 * GC in a stretch is described (gc-trace.ts: bytes a scavenge copied, a mark-compact's phases).
 * Bench-only.
 *
 *   node dist/bench/turn-profile.js DIR/this [--min 8] [--top 12] [--all] [--own | --busy]
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {describeGc, parseGcTrace, traceOrigin} from './gc-trace.js'
import {splitOf, ownStalls, type Stretch} from './own-stall.js'

export interface ProfileNode {
  readonly id: number
  readonly callFrame: {readonly functionName: string; readonly url: string; readonly lineNumber: number}
  readonly children?: number[]
}
export interface Profile {
  readonly nodes: ProfileNode[]
  readonly startTime: number
  readonly samples: number[]
  readonly timeDeltas: number[]
}

function label(n: ProfileNode): string {
  const f = n.callFrame
  const file = f.url === '' ? '' : ` ${path.basename(f.url)}:${f.lineNumber + 1}`
  return `${f.functionName === '' ? '(anonymous)' : f.functionName}${file}`
}

function share(m: Map<string, number>, n: number, top: number): string {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `    ${((100 * v) / Math.max(1, n)).toFixed(0).padStart(3)} %  ${k}`).join('\n')
}

export function attribute(dir: string, minMs: number, top: number, all: boolean, by: 'cpu' | 'own' | 'busy' = 'cpu'): string[] {
  const out: string[] = []
  const turns = JSON.parse(readFileSync(path.join(dir, 'turn-cpu.json'), 'utf8')) as {stretches: Stretch[]; gc: Array<[number, number, string]>}
  const gcFile = [path.join(dir, 'gc.log'), path.join(dir, '..', 'gc.log')].find((f) => existsSync(f))
  const trace = gcFile === undefined ? [] : parseGcTrace(readFileSync(gcFile, 'utf8'))
  const origin = traceOrigin(trace, turns.gc)
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`)
  const p = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const wf = path.join(dir, 'windows.json')
  const windows = existsSync(wf) ? (JSON.parse(readFileSync(wf, 'utf8')) as Array<[string, number, number]>) : []
  const times: number[] = []
  let t = p.startTime
  for (const d of p.timeDeltas) times.push((t += d))
  const totalSelf = new Map<string, number>()
  const totalIncl = new Map<string, number>()
  let total = 0
  let count = 0
  for (const stretch of turns.stretches) {
    const [endMs, cpuMs, wallMs, startUs, endUs] = stretch
    const own = ownStalls([stretch])[0]!
    if ((by === 'own' ? own.own : by === 'busy' ? own.busy : cpuMs) < minMs) continue
    const w = windows.find(([, a, b]) => endMs >= a && endMs <= b)?.[0] ?? (windows.length > 0 ? 'outside the arms' : '')
    if (windows.length > 0 && w === 'outside the arms' && !all) continue
    const self = new Map<string, number>()
    const incl = new Map<string, number>()
    let n = 0
    for (let i = 0; i < p.samples.length; i++) {
      if (times[i]! < startUs || times[i]! > endUs) continue
      n++
      let node = byId.get(p.samples[i]!)!
      self.set(label(node), (self.get(label(node)) ?? 0) + 1)
      const seen = new Set<string>()
      for (;;) {
        const l = label(node)
        if (!seen.has(l)) (seen.add(l), incl.set(l, (incl.get(l) ?? 0) + 1))
        const up = parent.get(node.id)
        if (up === undefined) break
        node = byId.get(up)!
      }
    }
    const gc = turns.gc.filter(([at]) => at >= endMs - wallMs - 1 && at <= endMs + 1)
    for (const [k, v] of self) totalSelf.set(k, (totalSelf.get(k) ?? 0) + v)
    for (const [k, v] of incl) totalIncl.set(k, (totalIncl.get(k) ?? 0) + v)
    total += n
    count++
    out.push(`[${w}] stretch ${cpuMs.toFixed(1)} ms CPU (${wallMs.toFixed(1)} ms wall; own stall ${own.own.toFixed(1)} ms, busy ${own.busy.toFixed(1)} ms: ${splitOf(own)}) ending ${new Date(endMs).toISOString()}: ${n} samples; GC ${gc.map(([, d, k]) => `${k} ${d.toFixed(1)} ms`).join(', ') || 'none ≥ 1 ms'}`)
    // The traced GCs that ended inside the stretch (± 1 ms: the trace prints whole ms, and its clock is paired with this one by pause).
    for (const e of trace) if (e.t + origin >= endMs - wallMs - 1 && e.t + origin <= endMs + 1 && Number(e.f.pause) >= 1) out.push(`  traced: ${describeGc(e)}`)
    out.push('  self:\n' + share(self, n, top), '  inclusive:\n' + share(incl, n, top))
  }
  out.push(`all ${count} stretches (${total} samples)`, '  self:\n' + share(totalSelf, total, top * 3), '  inclusive:\n' + share(totalIncl, total, top * 3))
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const a = process.argv.slice(2)
  const opt = (k: string, d: number): number => (a.includes(k) ? Number(a[a.indexOf(k) + 1]) : d)
  console.log(attribute(a[0]!, opt('--min', 8), opt('--top', 12), a.includes('--all'), a.includes('--busy') ? 'busy' : a.includes('--own') ? 'own' : 'cpu').join('\n'))
}
