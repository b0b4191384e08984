// Path normalisation `frequency_weighted_entropy_v1` (learn-compile §15.2–§15.5), applied by
// compile (§20 Q11 is not reproduced: the reference stamps the algorithm but never collapses).

// §15.4's built-in reserved segments are a contract-format fact (the evaluator reads them too).
import {RESERVED_SEGMENTS} from '../contracts/index.js'

export const NORMALIZATION_ALGORITHM = 'frequency_weighted_entropy_v1'
/** Placeholder segment of a collapsed position (the form `learn split` rebuilds, §4.3 lifecycle). */
export const COLLAPSED_SEGMENT = '*'
export const TAIL_PATTERN = '_other'

export interface NormalizationSettings {
  minEvents: number
  minDistinctValues: number
  entropyThresholdBits: number
  reservedSegmentsExtra: readonly string[]
}

export const DEFAULT_NORMALIZATION: NormalizationSettings = {
  minEvents: 10,
  minDistinctValues: 5,
  entropyThresholdBits: 3.0,
  reservedSegmentsExtra: [],
}

/** §15.2: Shannon entropy in bits of a value→count map. */
export function entropyBits(counts: Iterable<number>): number {
  let total = 0
  const list: number[] = []
  for (const c of counts) {
    if (c > 0) {
      total += c
      list.push(c)
    }
  }
  if (total <= 0) return 0
  let h = 0
  for (const c of list) {
    const p = c / total
    h -= p * Math.log2(p)
  }
  return Number.isFinite(h) ? h : 0
}

export interface CollapsedSegment {
  index: number
  distinct_values: number
  event_count: number
  reason: 'high_entropy_identifier_segment'
}

export interface RetainedSegment {
  index: number
  value: string
  reason: string
}

/** The evidence written under `selector.paths[].normalization` of a collapsed path. */
export interface PathNormalization {
  collapsed: CollapsedSegment[]
  retained: RetainedSegment[]
}

export interface NormalizedPaths {
  /** Canonical path (byte string) → normalised path. */
  mapping: Map<string, string>
  /** Normalised paths that contain a collapsed position → their evidence. */
  evidence: Map<string, PathNormalization>
}

interface Entry {
  segments: string[]
  count: number
  original: string
}

/**
 * Collapses high-cardinality positions of one host's paths. Positions are decided top-down per
 * parent prefix: reserved values always stay literal (and are left out of the statistics, so a
 * reserved sibling such as `admin` never stops its identifier siblings from collapsing); the
 * remaining values collapse to `*` when they carry at least `minEvents` events, at least
 * `minDistinctValues` distinct values and entropy ≥ `entropyThresholdBits`.
 */
export function normalizeHostPaths(families: ReadonlyMap<string, number>, settings: NormalizationSettings): NormalizedPaths {
  const reserved = new Set([...RESERVED_SEGMENTS, ...settings.reservedSegmentsExtra])
  const mapping = new Map<string, string>()
  const evidence = new Map<string, PathNormalization>()
  const entries: Entry[] = []
  for (const [p, count] of families) {
    if (p === '/') {
      mapping.set(p, p)
      continue
    }
    entries.push({segments: p.slice(1).split('/'), count, original: p})
  }

  /** §15.3: what happens to a position whose non-reserved values carry `counts` events each. */
  const reasonFor = (counts: readonly number[]): string => {
    const events = counts.reduce((a, c) => a + c, 0)
    if (events < settings.minEvents) return 'insufficient_events'
    if (counts.length < settings.minDistinctValues) return counts.length <= 1 ? 'low_entropy_literal_segment' : 'insufficient_distinct_values'
    if (entropyBits(counts) < settings.entropyThresholdBits) return 'low_entropy_literal_segment'
    return 'collapse'
  }

  /** The path that ends here: its pattern, and its evidence when a position above it collapsed. */
  const leaf = (e: Entry, prefix: readonly string[], collapsed: readonly CollapsedSegment[], retained: readonly RetainedSegment[]): string => {
    const out = '/' + prefix.join('/')
    if (collapsed.length > 0) evidence.set(out, {collapsed: [...collapsed], retained: [...retained]})
    mapping.set(e.original, out)
    return out
  }

  /**
   * A group of one path: each remaining position has that one value, decided as `walk` would
   * decide it (a reserved value stays, any other by `reasonFor` of its events alone), without a
   * map, sort and copies per position (most groups of a host's paths end as one path; bench:
   * compile).
   */
  const single = (e: Entry, depth: number, prefix: string[], collapsed: CollapsedSegment[], retained: RetainedSegment[]): void => {
    const pre = [...prefix]
    let col = collapsed
    let ret = retained
    // Every non-reserved position holds this path's one value with its events alone.
    const reason = reasonFor([e.count])
    for (let d = depth; d < e.segments.length; d++) {
      const v = e.segments[d] as string
      const index = d + 1
      if (reserved.has(v)) {
        pre.push(v)
        ret = [...ret, {index, value: v, reason: 'reserved_segment'}]
        continue
      }
      if (reason === 'collapse') {
        pre.push(COLLAPSED_SEGMENT)
        col = [...col, {index, distinct_values: 1, event_count: e.count, reason: 'high_entropy_identifier_segment'}]
      } else {
        pre.push(v)
        ret = [...ret, {index, value: v, reason}]
      }
    }
    leaf(e, pre, col, ret)
  }

  const walk = (group: Entry[], depth: number, prefix: string[], collapsed: CollapsedSegment[], retained: RetainedSegment[]): void => {
    if (group.length === 1) return single(group[0] as Entry, depth, prefix, collapsed, retained)
    const byValue = new Map<string, Entry[]>()
    // One pattern string (and one evidence record) per group, shared by every path that ends
    // here: a busy host has hundreds of thousands of raw paths collapsing to a few patterns.
    let out: string | undefined
    for (const e of group) {
      if (e.segments.length === depth) {
        if (out === undefined) out = leaf(e, prefix, collapsed, retained)
        else mapping.set(e.original, out)
        continue
      }
      const v = e.segments[depth] as string
      let list = byValue.get(v)
      if (list === undefined) byValue.set(v, (list = []))
      list.push(e)
    }
    if (byValue.size === 0) return
    const candidates: [string, number][] = []
    for (const [v, list] of byValue) {
      if (reserved.has(v)) continue
      candidates.push([v, list.reduce((a, e) => a + e.count, 0)])
    }
    const events = candidates.reduce((a, [, c]) => a + c, 0)
    const reason = reasonFor(candidates.map(([, c]) => c))
    const index = depth + 1
    const keys = [...byValue.keys()].sort()
    const merged: Entry[] = []
    for (const v of keys) {
      const list = byValue.get(v) as Entry[]
      if (reserved.has(v)) {
        walk(list, depth + 1, [...prefix, v], collapsed, [...retained, {index, value: v, reason: 'reserved_segment'}])
      } else if (reason === 'collapse') merged.push(...list)
      else walk(list, depth + 1, [...prefix, v], collapsed, [...retained, {index, value: v, reason}])
    }
    if (merged.length > 0) {
      const seg: CollapsedSegment = {index, distinct_values: candidates.length, event_count: events, reason: 'high_entropy_identifier_segment'}
      walk(merged, depth + 1, [...prefix, COLLAPSED_SEGMENT], [...collapsed, seg], retained)
    }
  }
  walk(entries, 0, [], [], [])
  return {mapping, evidence}
}

export interface HostCap {
  /** Families kept (pattern → events), at most `cap`. */
  kept: Map<string, number>
  overflowed: boolean
  tail: number
  hostTotal: number
  tailPct: number
  promotionBlock: boolean
}

/** §15.5 `CapPerHost`. Patterns compare in byte order (they are byte strings). */
export function capPerHost(families: ReadonlyMap<string, number>, cap: number, tailPct: number, acceptTail: boolean): HostCap {
  const sorted = [...families].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const total = sorted.reduce((a, [, c]) => a + c, 0)
  if (sorted.length <= cap) {
    return {kept: new Map(sorted), overflowed: false, tail: 0, hostTotal: total, tailPct: 0, promotionBlock: false}
  }
  const kept = new Map(sorted.slice(0, cap))
  const tail = sorted.slice(cap).reduce((a, [, c]) => a + c, 0)
  const keptTotal = total - tail
  const hostTotal = keptTotal + tail
  const pct = hostTotal > 0 ? (100 * tail) / hostTotal : 0
  return {kept, overflowed: true, tail, hostTotal, tailPct: pct, promotionBlock: pct > tailPct && !acceptTail}
}
