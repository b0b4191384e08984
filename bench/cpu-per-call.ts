import {performance} from 'node:perf_hooks'

/**
 * Microseconds of CPU per call of `f`, called for about `seconds` of wall time after a short
 * warm-up: CPU time of this process (`process.cpuUsage`, every thread: GC helpers count), so a
 * shared, loaded machine slows the run down without changing the figure much. A promise `f`
 * returns is awaited; a synchronous call is not (a microtask hop per call is no part of it).
 */
export async function cpuPerCall(f: () => unknown, seconds: number): Promise<number> {
  const warm = performance.now() + Math.min(300, seconds * 200)
  while (performance.now() < warm) {
    const r = f()
    if (r instanceof Promise) await r
  }
  let n = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  while (performance.now() - t0 < seconds * 1000) {
    const r = f()
    if (r instanceof Promise) await r
    n++
  }
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / Math.max(1, n)
}
