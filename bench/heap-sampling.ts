/**
 * Preloaded into a measured process by `bench/relay-profile.ts --heap` (`node --import` this
 * file): the first SIGUSR2 starts V8's sampling heap profiler with the objects the young and old
 * collections freed included (so it counts what was allocated, not what survived); the second
 * stops it and writes the profile to `$PIPELOCK_HEAP_PROFILE`. Bench-only.
 */
import {writeFileSync} from 'node:fs'
import {Session} from 'node:inspector'

const out = process.env.PIPELOCK_HEAP_PROFILE
if (out !== undefined) {
  const session = new Session()
  session.connect()
  let sampling = false
  process.on('SIGUSR2', () => {
    if (!sampling) {
      sampling = true
      session.post('HeapProfiler.startSampling', {samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true})
      return
    }
    session.post('HeapProfiler.stopSampling', (err, r) => {
      if (err === null) writeFileSync(out, JSON.stringify(r.profile))
    })
  })
}
