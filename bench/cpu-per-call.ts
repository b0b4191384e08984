import {performance} from 'node:perf_hooks'

/**
 * Microseconds of CPU per call of `f`, called for about `seconds` of wall time after a short
 * warm-up: CPU time of this process (`process.cpuUsage`, every thread: GC helpers count), so a
 * shared, loaded machine slows the run down without changing the figure much.
 */
export function cpuPerCall(f: () => unknown, seconds: number): number {
  const warm = performance.now() + Math.min(300, seconds * 200)
  while (performance.now() < warm) f()
  let n = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  while (performance.now() - t0 < seconds * 1000) {
    f()
    n++
  }
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / Math.max(1, n)
}

/** `cpuPerCall` for a check that answers with a promise: each call is awaited before the next. */
export async function cpuPerCallAsync(f: () => Promise<unknown>, seconds: number): Promise<number> {
  const warm = performance.now() + Math.min(300, seconds * 200)
  while (performance.now() < warm) await f()
  let n = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  while (performance.now() - t0 < seconds * 1000) {
    await f()
    n++
  }
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / Math.max(1, n)
}
