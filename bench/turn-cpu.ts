/**
 * Preloaded into the proxy by `tls-tunnels --turn-cpu` (`node --import`): a 1 ms timer reads the
 * main thread's own CPU time (`/proc/thread-self/schedstat`, Linux) and records every stretch
 * between two ticks in which the main thread ran ≥ 2 ms. A stall measured in the thread's CPU
 * time does not grow when other processes take the cores — on a loaded machine it is what the
 * wall-clock stall would be on a quiet one (within the scheduler's accounting step, ≤ 4 ms at
 * HZ=250; GC on the main thread counts, helper threads do not). Written as JSON
 * `{stretches: [[endEpochMs, cpuMs, wallMs, startMonoUs, endMonoUs], …], gc: [[endEpochMs, pauseMs, kind], …],
 * cpu: [[epochMs, cumulativeCpuMs], …]}` (`cpu` every ≥ 10 ms: a window's total main-thread CPU)
 * (monotonic µs, the clock of a V8 `--cpu-prof` profile) to `$PL_TURN_CPU_FILE` at exit; `gc`
 * lists every GC pause ≥ 1 ms (kind: scavenge, mark-compact, incremental, weak-callbacks), which
 * the stretches include when it ran on the main thread.
 *
 * A stretch also carries, as its seventh element, the loop's idle time inside it (ms in libuv's
 * poll wait, from `performance.eventLoopUtilization()`): `wall − idle` is the time the loop was
 * busy, the stall proper (own-stall.ts).
 *
 * A stretch also carries its run-queue wait (schedstat's second field: time the thread was ready
 * but another thread had the core) as its sixth element. The CPU field is only advanced at the
 * scheduler's events (ticks: HZ=250 here, so a reading can lag by up to 4 ms, and a stretch's CPU
 * figure is ±4 ms), while the run-queue wait is complete whenever the running thread reads it; so
 * `wall − runqueue wait` is exact: the loop's own stall (its CPU plus time it slept inside the turn,
 * e.g. waiting for GC helper threads), what the loop lag would show without other processes on
 * the cores. Stretches are kept when CPU ≥ 2 ms or wall ≥ 5 ms. Bench-only; never shipped.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {performance, PerformanceObserver, constants} from 'node:perf_hooks'
import {StretchRecorder, type TickReading} from './stretch-recorder.js'

const file = process.env.PL_TURN_CPU_FILE
if (file !== undefined && file !== '') {
  // The loop's idle time (libuv's time in its poll's wait, as `eventLoopUtilization` reads it):
  // a stretch between two ticks can hold idle time — the loop waiting for I/O while the 1 ms
  // timer was overdue (seen here: 12 ms between ticks of an idle proxy, its CPU profile all
  // "(idle)") — and such time is not a stall: I/O arriving then is served at once.
  const read = (): TickReading => {
    // [on-CPU ns, run-queue wait ns] of this (the main) thread.
    const f = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 2)
    return {
      cpuNs: Number(f[0]), runqNs: Number(f[1]), wallMs: performance.now(), monoUs: Number(process.hrtime.bigint() / 1000n),
      idleMs: performance.eventLoopUtilization().idle, epochMs: Date.now(),
    }
  }
  const rec = new StretchRecorder(read())
  const tick = setInterval(() => rec.tick(read()), 1)
  tick.unref()
  const gc: Array<[number, number, string]> = []
  const kinds: Record<number, string> = {[constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks'}
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = ((e as unknown as {detail?: {kind?: number}}).detail)?.kind ?? -1
      if (e.duration >= 1) gc.push([performance.timeOrigin + e.startTime + e.duration, e.duration, kinds[kind] ?? String(kind)])
    }
  })
  obs.observe({entryTypes: ['gc']})
  process.on('exit', () => writeFileSync(file, JSON.stringify({stretches: rec.stretches, gc, cpu: rec.series})))
}
