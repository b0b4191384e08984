import type {SampleCounts} from './aggregate.js'

// Inference (learn-compile §7). Constants are fixed by the format: not configurable.

/** z for alpha = 0.05, hard-coded in the reference (never computed). */
export const WILSON_Z = 1.959963984540054
export const TAU_STABLE = 0.85
export const TAU_BRITTLE = 0.5
export const SIZE_HEADROOM = 0.5

export type Confidence = 'stable' | 'brittle' | 'never_confirmed'

/** §7.1, evaluated in exactly the reference's order (same doubles). */
export function wilsonLower(k: number, n: number): number {
  if (n <= 0 || k < 0 || k > n) return 0
  const z = WILSON_Z
  const z2 = z * z
  const pHat = k / n
  const denom = 1 + z2 / n
  const center = (pHat + z2 / (2 * n)) / denom
  const margin = (z / denom) * Math.sqrt((pHat * (1 - pHat) + z2 / (4 * n)) / n)
  return center - margin
}

export interface Floors {
  min_sessions: number
  min_events: number
  min_windows: number
}

export const DEFAULT_FLOORS: Floors = {min_sessions: 5, min_events: 20, min_windows: 3}

/** §7.2: any zero field takes its default. */
export function resolveFloors(f: Partial<Floors> | undefined): Floors {
  return {
    min_sessions: f?.min_sessions || DEFAULT_FLOORS.min_sessions,
    min_events: f?.min_events || DEFAULT_FLOORS.min_events,
    min_windows: f?.min_windows || DEFAULT_FLOORS.min_windows,
  }
}

/** §7.3. */
export function classify(observed: number, sessions: number, windows: number, wilson: number, floors: Floors): Confidence {
  if (!(observed >= floors.min_events && sessions >= floors.min_sessions && windows >= floors.min_windows)) return 'never_confirmed'
  if (wilson >= TAU_STABLE) return 'stable'
  if (wilson >= TAU_BRITTLE) return 'brittle'
  return 'never_confirmed'
}

export interface BudgetStats {
  sampleCount: number
  p99: number
  p95: number
  median: number
  max: number
  enforced: number
}

/** §7.5 nearest-rank percentiles over value→count samples. */
export function budgetStats(samples: SampleCounts): BudgetStats {
  const values = [...samples.entries()].filter(([v]) => Number.isFinite(v)).sort((a, b) => a[0] - b[0])
  const n = values.reduce((a, [, c]) => a + c, 0)
  const at = (rank: number): number => {
    let seen = 0
    for (const [v, c] of values) {
      seen += c
      if (seen >= rank) return v
    }
    return values.length > 0 ? (values[values.length - 1] as [number, number])[0] : 0
  }
  const rank = (p: number): number => Math.min(Math.max(Math.floor((p * n + 99) / 100), 1), n)
  const p99 = at(rank(99))
  return {
    sampleCount: n,
    p99,
    p95: at(rank(95)),
    median: at(rank(50)),
    max: values.length > 0 ? (values[values.length - 1] as [number, number])[0] : 0,
    enforced: Math.max(0, p99 * (1 + SIZE_HEADROOM)),
  }
}
