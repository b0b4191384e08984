/**
 * V8's `--trace-gc --trace-gc-nvp` lines (the proxy's stdout under `tls-tunnels --trace-gc`),
 * parsed and placed on the epoch clock of `turn-cpu.ts`, so a long stretch can say which GC it
 * held and what that GC did: a scavenge's bytes copied (survivors kept in the young generation
 * plus those promoted: a scavenge's pause grows with them), a mark-compact's phases (marking,
 * clearing, evacuation) and its incremental marking before the pause. Bench-only.
 */

export interface GcEvent {
  /** When the GC ended, in ms since the isolate started (V8's clock in the trace, whole ms). */
  readonly t: number
  /** The name=value fields of the line. */
  readonly f: Readonly<Record<string, string>>
}

export function parseGcTrace(text: string): GcEvent[] {
  const out: GcEvent[] = []
  for (const line of text.split('\n')) {
    const m = /\s(\d+(?:\.\d+)?) ms: pause=/.exec(line)
    if (m === null) continue
    out.push({t: Number(m[1]), f: Object.fromEntries([...line.matchAll(/(\S+)=(\S+)/g)].map((x) => [x[1]!, x[2]!]))})
  }
  return out
}

/**
 * The epoch ms of the trace's 0: the median over pairs of a trace line and a `turn-cpu.ts` GC entry
 * (`[endEpochMs, pauseMs, kind]`) taken in order, a pair being the next trace line of the same kind
 * whose pause is within 10 % (or 1 ms) of the entry's. V8 prints a line when its GC ends, so a
 * line's time is the GC's end. NaN when nothing pairs.
 */
export function traceOrigin(events: readonly GcEvent[], observed: ReadonlyArray<readonly [number, number, string]>): number {
  const kinds: Record<string, string> = {scavenge: 's', 'mark-compact': 'mc'}
  const offsets: number[] = []
  let j = 0
  for (const [end, pause, kind] of observed) {
    const k = kinds[kind]
    if (k === undefined) continue
    while (j < events.length && (events[j]!.f.gc !== k || Math.abs(Number(events[j]!.f.pause) - pause) > Math.max(1, pause * 0.1))) j++
    if (j >= events.length) break
    offsets.push(end - events[j]!.t)
    j++
  }
  offsets.sort((a, b) => a - b)
  return offsets.length === 0 ? NaN : offsets[offsets.length >> 1]!
}

const kib = (v: string | undefined): string => `${(Number(v ?? 0) / 1024).toFixed(0)} KiB`
const mib = (v: string | undefined): string => `${(Number(v ?? 0) / 1048576).toFixed(1)} MiB`

/** One line for a GC: its kind, pause and what it spent it on. */
export function describeGc(e: GcEvent): string {
  const f = e.f
  if (f.gc === 's') {
    const copied = Number(f.new_space_survived ?? 0) + Number(f.promoted ?? 0)
    return `scavenge ${f.pause} ms (main thread ${f['scavenge.parallel']}, helpers ${f['background.scavenge.parallel']}; copied ${kib(String(copied))}: ${kib(f.new_space_survived)} kept young, ${kib(f.promoted)} promoted; heap ${mib(f.total_size_before)})`
  }
  if (f.gc === 'mc') {
    return `mark-compact ${f.pause} ms (mark ${f.mark}, clear ${f.clear}, evacuate ${f.evacuate} [copy ${f['evacuate.copy']}, update pointers ${f['evacuate.update_pointers']}]; incremental marking before it ${f.incremental} ms in ${f.incremental_steps_count} steps, longest ${f.incremental_longest_step}; heap ${mib(f.total_size_before)} → ${mib(f.total_size_after)})`
  }
  return `${f.gc} ${f.pause} ms`
}
