import {PerformanceObserver} from 'node:perf_hooks'
import {getHeapSpaceStatistics, setFlagsFromString} from 'node:v8'
import {operatorGave, operatorSizedYoungGeneration} from './young-generation.js'

/**
 * The semi-space size `pipelock run` lets V8 grow its young generation to once it listens (issue
 * 16). V8's own ceiling is 16 MiB; in a burst of 256 intercepted tunnels a scavenge of a 16 MiB
 * semi-space copied up to 8 MiB (the live state of every tunnel set up since the last one), a
 * 10–28 ms pause on a quiet machine. At 4 MiB (round 7) the largest copies were 3–4 MiB; with
 * steady traffic through 256 tunnels (requests waiting their set-up turn keep their state alive)
 * scavenges still reached 9–11 ms. At 2 MiB (round 10) the longest own stall over bursts and
 * steady traffic was 4.2–9.7 ms against 5.2–11 in the same run, at the same CPU per request
 * (`young-gen-cost`: 0.382 against 0.374 ms intercepted, 0.336 against 0.344 forward, four
 * alternated rounds). 1 MiB (the start-up hold kept for good) cost ≈ 10 % CPU per request and was
 * reverted in round 4.
 */
export const RUN_SEMI_SPACE_CAP_BYTES = 2 * 1024 * 1024

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

/** A scavenger or GC-threading flag of the operator's own: `scavengeOnMainThread` stands back then. */
const SCAVENGE_THREADS_FLAG = /^--(no[-_])?parallel[-_]scavenge|^--(no[-_])?single[-_]threaded([-_]gc)?\b/

/**
 * Scavenges on the main thread alone once `run` listens (`--no-parallel-scavenge`, read by V8 at
 * every scavenge), bench: tls-tunnels. A parallel scavenge ends with the main thread waiting for every
 * helper that took a share of the work; on a busy host a helper preempted by another process
 * leaves the main thread asleep inside the pause: stalls of 15.8 and 17.1 ms with 11.4 and 14.3
 * ms of it asleep in `tls-tunnels` (round 10), the longest of their runs. With the young generation capped at 2 MiB
 * a scavenge on the main thread alone is a few ms of its own CPU and never waits: the longest own
 * stall over 42 burst and traffic windows was 10.4 ms (one window; the rest ≤ 8.9) against 3 of
 * 42 over 10 with helpers (up to 14.3), at +2–5 % CPU per request (`young-gen-cost`, within its
 * noise). Concurrent marking and sweeping stay on helper threads. Not done when the operator set
 * a scavenger or GC-threading flag themselves (`--parallel-scavenge` in NODE_OPTIONS turns this
 * off). Returns whether it was applied.
 */
export function scavengeOnMainThread(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorGave(execArgv, nodeOptions, SCAVENGE_THREADS_FLAG)) return false
  setFlagsFromString('--no-parallel-scavenge')
  return true
}
