/**
 * Preloaded into the proxy by `tls-tunnel-heap` (`node --expose-gc --import` this file): every
 * SIGUSR2 is one step of a fixed cycle, answered by appending one JSON line to
 * `$PL_HEAP_PROBE_FILE`:
 *  - odd signals (1st, 3rd, …): two full collections, then the live heap (`used_heap_size`,
 *    external memory, malloc'd), and V8's sampling heap profiler starts with the objects the
 *    young and old collections free included (so it counts what is allocated, not what survives),
 *    and `v8.GCProfiler` starts (every collection's before/after space sizes);
 *  - even signals: the profiler stops; the line carries the bytes allocated since the odd signal
 *    (sum of the samples), the top allocating functions, and per collection kind the count, the
 *    main-thread pause and the bytes that survived (young space after a scavenge plus what it
 *    promoted; what a scavenge copies is what it costs), then the live heap after two full
 *    collections.
 * With `$PL_HEAP_SNAPSHOT_DIR`, each odd signal also writes a heap snapshot there. Bench-only.
 */
import {appendFileSync} from 'node:fs'
import {Session} from 'node:inspector'
import path from 'node:path'
import v8 from 'node:v8'

interface SampleNode {
  callFrame: {functionName: string; url: string; lineNumber: number}
  selfSize: number
  children: SampleNode[]
}
interface SpaceStats {spaceName: string; spaceUsedSize: number}
interface GcEntry {gcType: string; cost: number; beforeGC: {heapSpaceStatistics: SpaceStats[]}; afterGC: {heapSpaceStatistics: SpaceStats[]}}

const file = process.env.PL_HEAP_PROBE_FILE
const snapshots = process.env.PL_HEAP_SNAPSHOT_DIR
const gc = (globalThis as {gc?: () => void}).gc
if (file !== undefined && file !== '' && gc !== undefined) {
  const session = new Session()
  session.connect()
  let step = 0
  let profiler: v8.GCProfiler | null = null
  const live = (): Record<string, number> => {
    gc()
    gc()
    const h = v8.getHeapStatistics()
    return {used_heap_bytes: h.used_heap_size, external_bytes: h.external_memory, malloced_bytes: h.malloced_memory}
  }
  const used = (s: SpaceStats[], name: string): number => s.find((x) => x.spaceName === name)?.spaceUsedSize ?? 0
  process.on('SIGUSR2', () => {
    step++
    if (step % 2 === 1) {
      const line: Record<string, unknown> = {step, ...live()}
      if (snapshots !== undefined && snapshots !== '') line.snapshot = v8.writeHeapSnapshot(path.join(snapshots, `step${step}.heapsnapshot`))
      appendFileSync(file, JSON.stringify(line) + '\n')
      session.post('HeapProfiler.startSampling', {samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true})
      profiler = new v8.GCProfiler()
      profiler.start()
      return
    }
    const gcs = (profiler?.stop() as {statistics?: GcEntry[]} | undefined)?.statistics ?? []
    profiler = null
    const kinds: Record<string, {count: number; pause_ms: number; survived_bytes: number}> = {}
    for (const g of gcs) {
      const k = (kinds[g.gcType] ??= {count: 0, pause_ms: 0, survived_bytes: 0})
      k.count++
      k.pause_ms += g.cost / 1000
      if (g.gcType === 'Scavenge') {
        const b = g.beforeGC.heapSpaceStatistics
        const a = g.afterGC.heapSpaceStatistics
        k.survived_bytes += used(a, 'new_space') + Math.max(0, used(a, 'old_space') - used(b, 'old_space'))
      }
    }
    session.post('HeapProfiler.stopSampling', (err, r) => {
      const line: Record<string, unknown> = {step}
      if (err === null) {
        const byFn = new Map<string, number>()
        let total = 0
        const walk = (n: SampleNode): void => {
          if (n.selfSize > 0) {
            const f = n.callFrame
            const key = `${f.functionName || '(anonymous)'} ${f.url === '' ? '' : `${path.basename(f.url)}:${f.lineNumber + 1}`}`
            byFn.set(key, (byFn.get(key) ?? 0) + n.selfSize)
            total += n.selfSize
          }
          for (const c of n.children) walk(c)
        }
        walk((r as {profile: {head: SampleNode}}).profile.head)
        line.allocated_bytes = total
        line.top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 25)
      }
      line.gc = kinds
      Object.assign(line, live())
      appendFileSync(file, JSON.stringify(line) + '\n')
    })
  })
}
