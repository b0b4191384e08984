import {PerformanceObserver} from 'node:perf_hooks'
import {getHeapSpaceStatistics, setFlagsFromString} from 'node:v8'
import {operatorSizedYoungGeneration} from './young-generation.js'

/**
 * The semi-space size `pipelock run` lets V8 grow its young generation to once it listens (issue
 * 16). V8's own ceiling is 16 MiB; in a burst of 256 intercepted tunnels a scavenge of a 16 MiB
 * semi-space copied up to 8 MiB (the live state of every tunnel set up since the last one), a
 * 10–28 ms pause on a quiet machine. At 4 MiB the largest copies were 3–4 MiB, for twice as many
 * scavenges and about the same bytes copied in all (docs/benchmarks.md, round 7). 1 MiB (the
 * start-up hold kept for good) cost ≈ 10 % CPU per request and was reverted in round 4.
 */
export const RUN_SEMI_SPACE_CAP_BYTES = 4 * 1024 * 1024

/**
 * Lets the young generation grow again after start-up (bin/run.js held it), up to `capBytes` per
 * semi-space. `--max-semi-space-size` is read only when the heap is created; what can change at run
 * time is `--semi-space-growth-factor`, which V8 reads each time it grows the young generation
 * (×factor, after scavenges in which much survived). So after every GC the factor is set to 2
 * while doubling stays within the cap and to 1 otherwise (V8's memory reducer may shrink the young
 * generation later; it can then grow back to the cap). Not done when the operator sized the young
 * generation themselves. Returns the observer (for tests), or null when not applied.
 */
export function releaseYoungGenerationUpTo(execArgv: readonly string[], nodeOptions: string | undefined, capBytes = RUN_SEMI_SPACE_CAP_BYTES): PerformanceObserver | null {
  if (operatorSizedYoungGeneration(execArgv, nodeOptions)) return null
  let factor = 0
  const decide = (): void => {
    const next = 2 * semiSpaceBytes() <= capBytes ? 2 : 1
    if (next === factor) return
    factor = next
    setFlagsFromString(`--semi-space-growth-factor=${next}`)
  }
  decide()
  const observer = new PerformanceObserver(decide)
  observer.observe({entryTypes: ['gc']})
  return observer
}

/**
 * One semi-space's usable capacity: used + available of the new space. (`space_size` counts both
 * semi-spaces once the second is committed, one before; this does not depend on that, and page
 * headers only make it a little less than the semi-space, so a doubling to the cap is allowed.)
 */
export function semiSpaceBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_used_size + s.space_available_size
  return 0
}
