import {parseGoTime, toEpochNanos} from '../canonical/index.js'

// Small text primitives shared by the §13 renderers. Pure: "now" always arrives as an argument.

/**
 * Go's `%.2f`. `Number.prototype.toFixed` rounds an exact tie away from zero, Go rounds it
 * half to even; a two-decimal tie is exactly representable only when 8·x is an odd integer
 * (x = k/8: …125, …375, …625, …875), so only those values need the correction.
 */
export function formatScore(x: number): string {
  const eighths = x * 8
  if (Number.isInteger(eighths) && eighths % 2 !== 0) {
    const hundredths = Math.abs(x) * 100 // exact: k/8·100 = 12.5·k
    let n = Math.floor(hundredths)
    if (n % 2 !== 0) n += 1
    const sign = x < 0 ? '-' : ''
    return `${sign}${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`
  }
  return x.toFixed(2)
}

/** Go's `time.Duration.String()` for whole seconds: `0s`, `45s`, `2m3s`, `1h0m5s`, `49h3m2s`. */
export function formatSeconds(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds))
  if (s < 60) return `${s}s`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  return h > 0 ? `${h}h${m}m${sec}s` : `${m}m${sec}s`
}

/** Whole seconds from `nowNs` back to an RFC 3339 time, or undefined when the text is not one. */
function secondsBetween(fromNs: bigint, toNs: bigint): number {
  const d = toNs - fromNs
  return Number(d / 1_000_000_000n)
}

export function parseInstant(text: string): bigint | undefined {
  try {
    return toEpochNanos(parseGoTime(text))
  } catch {
    return undefined
  }
}

/** True for an absent time: missing, null, empty, or Go's zero time (year 1). */
export function isUnsetTime(text: string | null | undefined): text is null | undefined | '' {
  return text === undefined || text === null || text === '' || text.startsWith('0001-01-01T')
}

/** `3m0s ago` (clamped at `0s ago` when the server's clock is ahead); undefined for unparseable text. */
export function ago(text: string, nowNs: bigint): string | undefined {
  const t = parseInstant(text)
  return t === undefined ? undefined : `${formatSeconds(secondsBetween(t, nowNs))} ago`
}

/** `in 4m10s` (clamped at `in 0s` once due); undefined for unparseable text. */
export function inFuture(text: string, nowNs: bigint): string | undefined {
  const t = parseInstant(text)
  return t === undefined ? undefined : `in ${formatSeconds(secondsBetween(nowNs, t))}`
}

/** `<time> (3m0s ago)`, or just the time when it does not parse. */
export function timeWithAgo(text: string, nowNs: bigint): string {
  const rel = ago(text, nowNs)
  return rel === undefined ? text : `${text} (${rel})`
}

/**
 * Columns aligned the way Go's text/tabwriter does with padding 2: every cell but the last in
 * a row is padded to its column's widest cell plus two spaces; the last cell is not padded.
 * Widths count code points, not UTF-16 units.
 */
export function alignColumns(rows: readonly (readonly string[])[], padding = 2): string[] {
  const width: number[] = []
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) width[i] = Math.max(width[i] ?? 0, [...cell].length)
    })
  }
  return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell + ' '.repeat(width[i]! + padding - [...cell].length) : cell)).join(''))
}

/** `  key:<spaces>value` lines, values starting in one column (one space after the longest key). */
export function alignFields(fields: readonly (readonly [string, string])[], indent = '  ', keyWidth = fieldKeyWidth(fields)): string[] {
  return fields.map(([k, v]) => `${indent}${(k + ':').padEnd(keyWidth)} ${v}`.trimEnd())
}

/** Width of the widest `key:` among the fields. */
export function fieldKeyWidth(fields: readonly (readonly [string, string])[]): number {
  return Math.max(0, ...fields.map(([k]) => [...k].length + 1))
}

/** Server-supplied text goes to a terminal through the errors plugin's `printable`. */
export {printable} from '../errors/index.js'
