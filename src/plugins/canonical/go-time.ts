// Go time.Time semantics for RFC 3339 timestamps (receipts.md §3.9, learn-lifecycle.md §1.3).
// Nanoseconds and the UTC offset must survive, so JS Date is never used for parsing.

export interface GoTime {
  year: number
  month: number // 1-12
  day: number
  hour: number
  minute: number
  second: number
  nanos: number // 0..999_999_999
  offsetMinutes: number // east of UTC
}

// Tested, not captured: the fields sit at fixed places (a capture array per timestamp was a
// measurable share of reading a receipt line, bench: verify).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/

/** 10^(9 − n): the nanoseconds of an n-digit fraction. */
const FRACTION_SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1] as const

export class TimeFormatError extends Error {
  constructor(readonly input: string, reason: string) {
    super(`parsing time ${JSON.stringify(input)}: ${reason}`)
    this.name = 'TimeFormatError'
  }
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

function daysIn(y: number, m: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : m >= 1 && m <= 12 ? 31 : 0
}

// The value of `len` ASCII digits at `at` (the regex has already checked they are digits).
function digits(s: string, at: number, len: number): number {
  let n = 0
  for (let i = at; i < at + len; i++) n = n * 10 + s.charCodeAt(i) - 0x30
  return n
}

/** Parses the strict RFC 3339 subset accepted by the verifiers; throws TimeFormatError. */
export function parseGoTime(input: string): GoTime {
  if (!RFC3339.test(input)) throw new TimeFormatError(input, 'not RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM))')
  // Fixed positions: YYYY-MM-DDTHH:MM:SS
  const year = digits(input, 0, 4)
  const month = digits(input, 5, 2)
  const day = digits(input, 8, 2)
  const hour = digits(input, 11, 2)
  const minute = digits(input, 14, 2)
  const second = digits(input, 17, 2)
  if (month < 1 || month > 12) throw new TimeFormatError(input, 'month out of range')
  if (day < 1 || day > daysIn(year, month)) throw new TimeFormatError(input, 'day out of range')
  if (hour > 23) throw new TimeFormatError(input, 'hour out of range')
  if (minute > 59) throw new TimeFormatError(input, 'minute out of range')
  if (second > 59) throw new TimeFormatError(input, 'second out of range')
  // after the seconds: an optional `.` and 1–9 digits, then `Z` or `±HH:MM` (6 characters)
  const n = input.length
  const zoneAt = input.charCodeAt(n - 1) === 0x5a /* Z */ ? n - 1 : n - 6
  const fractionDigits = input.charCodeAt(19) === 0x2e /* . */ ? zoneAt - 20 : 0
  const nanos = fractionDigits === 0 ? 0 : digits(input, 20, fractionDigits) * (FRACTION_SCALE[fractionDigits] as number)
  let offsetMinutes = 0
  if (zoneAt === n - 6) {
    const oh = digits(input, n - 5, 2)
    const om = digits(input, n - 2, 2)
    if (oh > 23) throw new TimeFormatError(input, 'time zone offset hour out of range')
    if (om > 59) throw new TimeFormatError(input, 'time zone offset minute out of range')
    offsetMinutes = (input.charCodeAt(n - 6) === 0x2d /* - */ ? -1 : 1) * (oh * 60 + om)
  }
  return {year, month, day, hour, minute, second, nanos, offsetMinutes}
}

export function isGoTime(input: string): boolean {
  try {
    parseGoTime(input)
    return true
  } catch {
    return false
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** Go's fraction of a second: `.` and the nanoseconds with trailing zeros trimmed; '' when zero. */
export function goFraction(nanos: number): string {
  if (nanos === 0) return ''
  let digits = pad(nanos, 9)
  let end = 9
  while (digits.charCodeAt(end - 1) === 0x30) end--
  if (end !== 9) digits = digits.slice(0, end)
  return '.' + digits
}

function zoneSuffix(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'Z'
  const sign = offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(offsetMinutes)
  return `${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`
}

/** Go's RFC3339Nano rendering: trailing fraction zeros trimmed, offset kept, zero offset `Z`. */
export function formatGoTime(t: GoTime): string {
  return (
    `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}` +
    goFraction(t.nanos) +
    zoneSuffix(t.offsetMinutes)
  )
}

/** Re-renders a timestamp string the way Go does after parsing it (`+00:00` → `Z`, `.120` → `.12`). */
export function canonicalTimeString(input: string): string {
  const t = parseGoTime(input)
  return isRendered(input) ? input : formatGoTime(t)
}

/**
 * Whether `input` parses and is already its own Go rendering, i.e. `canonicalTimeString(input)
 * === input`, without building the rendering (readers of canonical text check every timestamp).
 */
export function isCanonicalTime(input: string): boolean {
  try {
    parseGoTime(input)
  } catch (e) {
    if (e instanceof TimeFormatError) return false
    throw e
  }
  return isRendered(input)
}

/**
 * The same instant re-rendered in UTC, as an entry hash covers it (receipts.md §7.2):
 * `formatGoTime(toUtc(parseGoTime(input)))`, without the re-render when it would be a no-op.
 */
export function utcTimeString(input: string): string {
  const t = parseGoTime(input)
  return t.offsetMinutes === 0 && isRendered(input) ? input : formatGoTime(toUtc(t))
}

/**
 * Whether a string that parsed is already its own Go rendering: the fixed-width fields render as
 * they were written, so only a fraction with trailing zeros (`.120`, `.000`) and a zero offset
 * spelled `+00:00`/`-00:00` (Go writes `Z`) change. Verifiers re-render every timestamp of every
 * line; skipping the no-op re-render is a measurable share of a verification (bench: verify).
 */
function isRendered(input: string): boolean {
  const n = input.length
  if (input.charCodeAt(n - 1) === 0x5a /* Z */) return input.charCodeAt(n - 2) !== 0x30 || input.charCodeAt(19) !== 0x2e
  // ±HH:MM: the character before the offset is the last digit of the seconds or of the fraction
  if (input.endsWith('00:00')) return false
  return input.charCodeAt(n - 7) !== 0x30 || input.charCodeAt(19) !== 0x2e
}

/** The CLI display form: the clock fields truncated to seconds and a literal `Z` (receipts.md §11.1). */
export function formatSecondsZ(t: GoTime): string {
  return `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}Z`
}

// Days from 1970-01-01 to a civil date (proleptic Gregorian), valid for years 0..9999.
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const mp = (m + 9) % 12
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

function civilFromDays(z: number): [number, number, number] {
  const zz = z + 719468
  const era = Math.floor(zz / 146097)
  const doe = zz - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d]
}

/** Instant as nanoseconds since the Unix epoch (exact, bigint). */
export function toEpochNanos(t: GoTime): bigint {
  const secs =
    daysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second - t.offsetMinutes * 60
  return BigInt(secs) * 1_000_000_000n + BigInt(t.nanos)
}

/** The UTC GoTime for an instant given as epoch nanoseconds. */
export function fromEpochNanos(ns: bigint): GoTime {
  let secs = ns / 1_000_000_000n
  let nanos = ns % 1_000_000_000n
  if (nanos < 0n) {
    nanos += 1_000_000_000n
    secs -= 1n
  }
  const s = Number(secs)
  const days = Math.floor(s / 86400)
  const rem = s - days * 86400
  const [year, month, day] = civilFromDays(days)
  return {
    year,
    month,
    day,
    hour: Math.floor(rem / 3600),
    minute: Math.floor((rem % 3600) / 60),
    second: rem % 60,
    nanos: Number(nanos),
    offsetMinutes: 0,
  }
}

/** The same instant rendered in UTC (recorder entry `ts` hashing, §7.2). */
export function toUtc(t: GoTime): GoTime {
  return t.offsetMinutes === 0 ? t : fromEpochNanos(toEpochNanos(t))
}

/** A source of "now" injected by the command layer; engines never read the wall clock. */
export interface Clock {
  nowNanos(): bigint
}

/** How far the anchored time may drift from the wall clock before it is anchored again (Date has 1 ms steps). */
const REANCHOR_NS = 2_000_000n
/** A wall-clock step back larger than this is taken as it is (the clock was set); a smaller one is held monotonic. */
const STEP_BACK_NS = 1_000_000_000n

/**
 * The wall clock with nanosecond digits, never going back within a process: the receipts and
 * checkpoints of one chain read in time order. Date gives milliseconds; the digits below come
 * from the monotonic hrtime, anchored to the wall clock (a sub-millisecond reading taken from
 * hrtime modulo 1 ms would not belong to the same millisecond, and two readings in a row could
 * go back by up to 1 ms). The anchor follows the wall clock when they part by more than 2 ms (an
 * NTP slew, a suspended machine); a step back of less than a second is held at the last reading
 * plus 1 ns, a larger one (the clock was set) is taken.
 */
class WallClock implements Clock {
  private anchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
  private last = 0n
  nowNanos(): bigint {
    const h = process.hrtime.bigint()
    const wall = BigInt(Date.now()) * 1_000_000n
    let t = this.anchor + h
    if (t - wall > REANCHOR_NS || wall - t > REANCHOR_NS) {
      this.anchor = wall - h
      t = wall
    }
    if (t <= this.last && this.last - t < STEP_BACK_NS) t = this.last + 1n
    this.last = t
    return t
  }
}

export const systemClock: Clock = new WallClock()

export function fixedClock(iso: string): Clock {
  const ns = toEpochNanos(parseGoTime(iso))
  return {nowNanos: () => ns}
}

/** RFC 3339 UTC with whole seconds (key files, roster `valid_from`). */
export function formatUtcSeconds(ns: bigint): string {
  return formatSecondsZ(fromEpochNanos(ns))
}

/**
 * Go's `time.RFC3339` (whole seconds) of an instant in a zone `offsetMinutes` east of UTC (`Z`
 * for 0): the local-time stamps of syslog lines and text logs. The caller reads the zone.
 */
export function formatOffsetSeconds(ns: bigint, offsetMinutes: number): string {
  let secs = ns / 1_000_000_000n
  if (ns < 0n && ns % 1_000_000_000n !== 0n) secs -= 1n
  const t = fromEpochNanos((secs + BigInt(offsetMinutes * 60)) * 1_000_000_000n)
  return formatGoTime({...t, offsetMinutes})
}
