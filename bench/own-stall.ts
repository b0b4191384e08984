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
 * preempt the proxy, so lag ≥ own stall ≥ the (−4 ms) CPU stretch.
 *
 * "Asleep" also held time the loop spent *idle*, waiting in its poll for I/O while the 1 ms tick
 * was overdue: an idle proxy answering only `/health` showed 12.5 ms "own stalls" whose CPU profile
 * was all "(idle)" (measured 2026-11-23). That is not a stall — I/O
 * arriving then is served at once — so newer files carry the loop's idle time per stretch
 * (`performance.eventLoopUtilization()`, libuv's time in its poll wait) and the stall proper is
 * the loop's busy time, `busy = wall − idle` (strict: a preemption inside a busy turn counts), and
 * `busyOwn = busy − runq` (load-corrected; a wake-up's wait for a core can be inside both libuv's
 * idle and the run-queue wait, so this can read low under load: read `busy` on a quiet machine).
 * Bench-only.
 */

/** A `turn-cpu.ts` stretch: end (epoch ms), CPU ms, wall ms, start and end (monotonic µs), run-queue wait ms and the loop's idle ms (each absent in older files). */
export type Stretch = readonly [number, number, number, number, number, number?, number?]

export interface OwnStall {
  readonly endMs: number
  /** wall − run-queue wait. */
  readonly own: number
  readonly wall: number
  readonly cpu: number
  readonly runq: number
  /** The loop's idle time (its poll wait) inside the stretch; 0 in files without it. */
  readonly idle: number
  /** wall − idle: the loop busy, the stall proper (equal to `wall` in files without idle times). */
  readonly busy: number
  /** busy − runq, at least 0. */
  readonly busyOwn: number
  /** wall − cpu − runq − idle: slept inside a busy turn (can read slightly negative: the CPU field's tick granularity). */
  readonly asleep: number
}

/** Every stretch as an own stall, longest first. */
export function ownStalls(stretches: readonly Stretch[]): OwnStall[] {
  return stretches
    .map(([endMs, cpu, wall, , , q, i]) => {
      const runq = q ?? 0
      const idle = i ?? 0
      const busy = wall - idle
      return {endMs, own: wall - runq, wall, cpu, runq, idle, busy, busyOwn: Math.max(0, busy - runq), asleep: wall - cpu - runq - idle}
    })
    .sort((a, b) => b.own - a.own)
}

/** Every stretch as a stall, longest busy time first. */
export function busyStalls(stretches: readonly Stretch[]): OwnStall[] {
  return ownStalls(stretches).sort((a, b) => b.busy - a.busy)
}

/** One line for a stall: `wall W = cpu C + runq Q + idle I + asleep A`. */
export function splitOf(s: OwnStall): string {
  return `wall ${s.wall.toFixed(1)} = cpu ${s.cpu.toFixed(1)} + runq ${s.runq.toFixed(1)} + idle ${s.idle.toFixed(1)} + asleep ${s.asleep.toFixed(1)}`
}
