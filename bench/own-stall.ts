/**
 * The event loop's own stalls, from the stretches `turn-cpu.ts` records between two of its 1 ms
 * ticks (issue 16: "no event-loop stall over 10 ms"). A stretch's wall time is its CPU, plus the
 * time the thread sat in the run queue while other processes had the cores, plus the time it slept
 * inside the turn (waiting for V8's GC helper threads, a lock): `wall = cpu + runq + asleep`. The
 * run-queue wait is the load's, not the proxy's, and is exact (schedstat's second field is complete
 * whenever the running thread reads it); the CPU field advances only at scheduler events (±4 ms at
 * HZ=250). So `own = wall − runq` (= cpu + asleep) is the exact stall a machine with nothing else on
 * the cores would show, and what `nodejs_eventloop_lag_max_seconds` reports minus other processes'
 * share. The loop lag itself is wall time: on this 2-core machine the bench's own client and origin
 * preempt the proxy, so lag ≥ own stall ≥ the (−4 ms) CPU stretch. Bench-only.
 */

/** A `turn-cpu.ts` stretch: end (epoch ms), CPU ms, wall ms, start and end (monotonic µs), run-queue wait ms (absent in older files). */
export type Stretch = readonly [number, number, number, number, number, number?]

export interface OwnStall {
  readonly endMs: number
  /** wall − run-queue wait. */
  readonly own: number
  readonly wall: number
  readonly cpu: number
  readonly runq: number
  /** wall − cpu − runq: slept inside the turn (can read slightly negative: the CPU field's tick granularity). */
  readonly asleep: number
}

/** Every stretch as an own stall, longest first. */
export function ownStalls(stretches: readonly Stretch[]): OwnStall[] {
  return stretches
    .map(([endMs, cpu, wall, , , q]) => {
      const runq = q ?? 0
      return {endMs, own: wall - runq, wall, cpu, runq, asleep: wall - cpu - runq}
    })
    .sort((a, b) => b.own - a.own)
}

/** One line for a stall: `wall W = cpu C + runq Q + asleep A`. */
export function splitOf(s: OwnStall): string {
  return `wall ${s.wall.toFixed(1)} = cpu ${s.cpu.toFixed(1)} + runq ${s.runq.toFixed(1)} + asleep ${s.asleep.toFixed(1)}`
}
