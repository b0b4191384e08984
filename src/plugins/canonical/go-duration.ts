import {PipelockError} from '../errors/index.js'

// Counted in nanoseconds as BigInt, as Go counts them in an int64: the range check is exact at
// the edge (2^63 ns), where a double has no nanoseconds left to compare.
const UNIT_NS: Record<string, bigint> = {ns: 1n, us: 1000n, 'µs': 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n}
const MAX_NS = (1n << 63n) - 1n

/**
 * Go `time.ParseDuration` (e.g. `336h0m0s`, `90m`, `1.5h`), in milliseconds. What Go refuses is
 * refused, a duration beyond its int64 of nanoseconds included (`2562048h`).
 */
export function parseGoDuration(text: string): number {
  const re = /(\d+)?(?:\.(\d*))?(ns|us|µs|ms|s|m|h)/y
  let s = text
  let negative = false
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s[0] === '-'
    s = s.slice(1)
  }
  if (s === '0') return 0
  const invalid = (): PipelockError => new PipelockError('USAGE', `invalid duration ${JSON.stringify(text)}`)
  if (s === '') throw invalid()
  let total = 0n
  let pos = 0
  while (pos < s.length) {
    re.lastIndex = pos
    const m = re.exec(s)
    // Digits before the unit are required on one side of the point (`.5h` and `5.h` are Go's, `.h` is not).
    if (m === null || (m[1] === undefined && (m[2] ?? '') === '')) throw invalid()
    const unit = UNIT_NS[m[3] as string]!
    total += BigInt(m[1] ?? '0') * unit
    // The fraction as Go adds it: scaled in floating point, truncated to whole nanoseconds.
    if ((m[2] ?? '') !== '') total += BigInt(Math.trunc(Number(`0.${m[2]}`) * Number(unit)))
    if (total > (negative ? MAX_NS + 1n : MAX_NS)) throw invalid()
    pos = re.lastIndex
  }
  return (negative ? -1 : 1) * (Number(total) / 1e6)
}
