/**
 * The bookkeeping of `turn-cpu.ts`, apart from its clocks: each tick hands in one reading of the
 * main thread's counters, and a stretch between two ticks is kept when the thread ran ≥ 2 ms in it
 * or it lasted ≥ 5 ms. The preload feeds it /proc/thread-self/schedstat, performance.now(), the
 * monotonic clock, the loop's idle time and Date.now(); a test feeds it readings of its own, so
 * what a loaded machine does to the figures can be checked exactly. Bench-only.
 */

/** One reading of the counters, taken at a tick. */
export interface TickReading {
  /** schedstat's first field: the thread's time on a CPU (ns). */
  readonly cpuNs: number
  /** schedstat's second field: the thread's time ready in the run queue (ns). */
  readonly runqNs: number
  /** performance.now() (ms). */
  readonly wallMs: number
  /** The monotonic clock of a V8 CPU profile (µs). */
  readonly monoUs: number
  /** The loop's idle time so far: libuv's time in its poll wait (ms). */
  readonly idleMs: number
  /** Date.now() (ms). */
  readonly epochMs: number
}

/** [endEpochMs, cpuMs, wallMs, startMonoUs, endMonoUs, runqMs, idleMs] (own-stall.ts's Stretch). */
export type StretchRow = [number, number, number, number, number, number, number]

export class StretchRecorder {
  readonly stretches: StretchRow[] = []
  /** [epochMs, cumulative CPU ms] every ≥ 10 ms. */
  readonly series: Array<[number, number]> = []
  private last: TickReading
  private readonly startCpuNs: number
  private lastSeriesMs = 0

  constructor(first: TickReading) {
    this.last = first
    this.startCpuNs = first.cpuNs
  }

  tick(r: TickReading): void {
    const last = this.last
    const cpuMs = (r.cpuNs - last.cpuNs) / 1e6
    const wallMs = r.wallMs - last.wallMs
    if (cpuMs >= 2 || wallMs >= 5) this.stretches.push([r.epochMs, cpuMs, wallMs, last.monoUs, r.monoUs, (r.runqNs - last.runqNs) / 1e6, r.idleMs - last.idleMs])
    if (r.wallMs - this.lastSeriesMs >= 10) {
      this.series.push([r.epochMs, (r.cpuNs - this.startCpuNs) / 1e6])
      this.lastSeriesMs = r.wallMs
    }
    this.last = r
  }
}
