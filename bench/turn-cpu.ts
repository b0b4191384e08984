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
 * the stretches include when it ran on the main thread. Bench-only; never shipped.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {performance, PerformanceObserver, constants} from 'node:perf_hooks'

const file = process.env.PL_TURN_CPU_FILE
if (file !== undefined && file !== '') {
  const cpuNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0])
  const stretches: Array<[number, number, number, number, number]> = []
  const mono = (): number => Number(process.hrtime.bigint() / 1000n)
  let lastCpu = cpuNs()
  let lastWall = performance.now()
  let lastMono = mono()
  const start = lastCpu
  const series: Array<[number, number]> = []
  let lastSeries = 0
  const tick = setInterval(() => {
    const c = cpuNs()
    const w = performance.now()
    const m = mono()
    const cpuMs = (c - lastCpu) / 1e6
    if (cpuMs >= 2) stretches.push([Date.now(), cpuMs, w - lastWall, lastMono, m])
    if (w - lastSeries >= 10) {
      series.push([Date.now(), (c - start) / 1e6])
      lastSeries = w
    }
    lastCpu = c
    lastWall = w
    lastMono = m
  }, 1)
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
  process.on('exit', () => writeFileSync(file, JSON.stringify({stretches, gc, cpu: series})))
}
