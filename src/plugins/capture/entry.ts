import {compactRawJson, formatGoTime, parseGoTime, toEpochNanos, toUtc, type GoTime} from '../canonical/index.js'
import {jsonParseReason} from '../errors/index.js'
import {entryProjectionHash, type EntryHashFields} from '../receipts/index.js'

/** One recorder line, decoded the way Go's encoding/json fills the envelope struct (§2.3, §4). */
export interface RecorderEntry extends EntryHashFields {
  /** Decimal text of `seq` (uint64: may exceed 2^53). */
  seq: string
  /** `ts` re-rendered as Go RFC3339Nano in UTC (the hashed form). */
  ts: string
  /** Unix seconds of `ts` (floor), for window arithmetic. */
  epochSeconds: number
  /** Nanoseconds within the second. */
  nanos: number
  /** The `detail` member as parsed by JSON.parse (undefined when absent). */
  detail: unknown
  /** Go json.Marshal form of the raw detail text (`null` when absent or null). */
  detailJson: string
  hash: string
}

export const GENESIS = 'genesis'

/** A line that is not a recorder entry; `reason` says why (no location: the reader adds it). */
export class EntryDecodeError extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'EntryDecodeError'
  }
}

const FIELDS = [
  'v', 'seq', 'ts', 'session_id', 'trace_id', 'type', 'event_kind', 'transport', 'summary', 'detail', 'raw_ref', 'prev_hash', 'hash',
] as const
type Field = (typeof FIELDS)[number]
const FIELD_SET: ReadonlySet<string> = new Set(FIELDS)

const NEEDS_COMPACT = /[\s<>&\u2028\u2029]/

/** §2.4: Go re-marshals the detail RawMessage: whitespace out, HTML-unsafe characters escaped. */
export function detailJsonOf(raw: string | undefined): string {
  if (raw === undefined) return 'null'
  return NEEDS_COMPACT.test(raw) ? compactRawJson(raw) : raw
}

/** The fields an entry hash covers (`ts` in its hashed UTC form). */
export type HashFields = EntryHashFields

/** §2.4: the shared recorder-entry hash (receipts plugin), same bytes for capture files. */
export const entryHash = entryProjectionHash

function skipString(s: string, i: number): number {
  // i at the opening quote; returns the index just past the closing quote
  let j = i + 1
  for (;;) {
    const q = s.indexOf('"', j)
    if (q < 0) throw new EntryDecodeError('unterminated string')
    let bs = 0
    for (let k = q - 1; k > i && s.charCodeAt(k) === 0x5c; k--) bs++
    if (bs % 2 === 0) return q + 1
    j = q + 1
  }
}

function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break
    i++
  }
  return i
}

function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i)
  if (c === 0x22) return skipString(s, i)
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    while (i < s.length) {
      const d = s.charCodeAt(i)
      if (d === 0x22) {
        i = skipString(s, i)
        continue
      }
      if (d === 0x7b || d === 0x5b) depth++
      else if (d === 0x7d || d === 0x5d) {
        depth--
        if (depth === 0) return i + 1
      }
      i++
    }
    throw new EntryDecodeError('unterminated value')
  }
  while (i < s.length) {
    const d = s.charCodeAt(i)
    if (d === 0x2c || d === 0x7d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break
    i++
  }
  return i
}

/**
 * Raw text of the envelope members Go would bind, keyed by field name. Go matches keys
 * case-insensitively and the last duplicate wins; the text is needed because the hash covers
 * the detail exactly as written and `seq` may exceed 2^53. The line is already valid JSON.
 */
function rawMembers(line: string): Map<Field, string> {
  const out = new Map<Field, string>()
  let i = skipWs(line, 0) + 1 // past '{'
  for (;;) {
    i = skipWs(line, i)
    if (line.charCodeAt(i) === 0x7d) break
    const keyEnd = skipString(line, i)
    const keyText = line.slice(i, keyEnd)
    const key = (keyText.includes('\\') ? (JSON.parse(keyText) as string) : keyText.slice(1, -1)).toLowerCase()
    i = skipWs(line, keyEnd) + 1 // past ':'
    i = skipWs(line, i)
    const end = skipValue(line, i)
    if (FIELD_SET.has(key)) out.set(key as Field, line.slice(i, end))
    i = skipWs(line, end)
    if (line.charCodeAt(i) === 0x2c) i++
  }
  return out
}

/** Field name → the member name that binds it (identity when every key is exact). */
type KeyOf = {get(f: Field): string | undefined}

/** Every member name is an exact field name: a field binds its own name, when present. */
const EXACT_KEYS: KeyOf = {get: (f) => f}

/** The value bound to `f`; undefined when no member binds it (JSON never gives undefined). */
function valueOf(obj: Record<string, unknown>, keyOf: KeyOf, f: Field): unknown {
  const k = keyOf.get(f)
  return k === undefined ? undefined : obj[k]
}

function str(obj: Record<string, unknown>, keyOf: KeyOf, f: Field): string {
  const v = valueOf(obj, keyOf, f)
  if (v === null || v === undefined) return ''
  if (typeof v !== 'string') throw new EntryDecodeError(`${f}: expected string, got ${typeName(v)}`)
  return v
}

function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

const UINT = /^(?:0|[1-9]\d*)$/
const INT = /^-?(?:0|[1-9]\d*)$/
const MAX_UINT64 = 2n ** 64n - 1n

/** The raw text of the members whose text matters: `v`, `seq` (may exceed 2^53), `detail` (hashed as written). */
interface RawMembers {
  v: string | undefined
  seq: string | undefined
  detail: string | undefined
}

/**
 * Decodes one line (without its `\n`). Throws EntryDecodeError for anything Go's decoder would
 * refuse: not JSON, not an object, a type mismatch, an unparsable `ts`.
 */
export function decodeEntry(line: string): RecorderEntry {
  let obj: unknown
  try {
    obj = JSON.parse(line)
  } catch (e) {
    throw new EntryDecodeError(`not JSON: ${jsonParseReason(e)}`)
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new EntryDecodeError(`not a JSON object (got ${typeName(obj)})`)
  }
  const rec = obj as Record<string, unknown>
  // Go binds keys case-insensitively; the last matching member wins. Writers use the exact
  // lower-case names, so the map is only built when some key differs.
  const keys = Object.keys(rec)
  let exact = true
  for (const k of keys) {
    if (!FIELD_SET.has(k)) {
      exact = false
      break
    }
  }
  let keyOf: KeyOf = EXACT_KEYS
  if (!exact) {
    const m = new Map<Field, string>()
    for (const k of keys) {
      const lower = k.toLowerCase()
      if (FIELD_SET.has(lower)) m.set(lower as Field, k)
    }
    keyOf = m
  }
  let raw = exact ? writerLayout(line, rec, keys) : undefined
  if (raw === undefined) {
    const m = rawMembers(line)
    raw = {v: m.get('v'), seq: m.get('seq'), detail: m.get('detail')}
  }

  let v = 0
  const vRaw = raw.v
  if (vRaw !== undefined && vRaw !== 'null') {
    if (!INT.test(vRaw)) throw new EntryDecodeError(`v: expected integer, got ${vRaw}`)
    v = Number(vRaw)
  }
  let seq = '0'
  const seqRaw = raw.seq
  if (seqRaw !== undefined && seqRaw !== 'null') {
    // Without leading zeros, fewer than 20 digits are below 2^64.
    if (!UINT.test(seqRaw) || (seqRaw.length >= 20 && BigInt(seqRaw) > MAX_UINT64)) throw new EntryDecodeError(`seq: expected unsigned integer, got ${seqRaw}`)
    seq = seqRaw
  }
  const tsText = str(rec, keyOf, 'ts')
  const tsValue = valueOf(rec, keyOf, 'ts')
  // Go leaves an absent or null time at its zero value, which hashes as year 1.
  const time = tsValue === undefined || tsValue === null ? ZERO_ENTRY_TIME : (fastUtcTime(tsText) ?? slowTime(tsText))
  const detail = valueOf(rec, keyOf, 'detail')
  return {
    v,
    seq,
    ts: time.canonical,
    epochSeconds: time.epochSeconds,
    nanos: time.nanos,
    sessionId: str(rec, keyOf, 'session_id'),
    traceId: str(rec, keyOf, 'trace_id'),
    type: str(rec, keyOf, 'type'),
    eventKind: str(rec, keyOf, 'event_kind'),
    transport: str(rec, keyOf, 'transport'),
    summary: str(rec, keyOf, 'summary'),
    detail,
    detailJson: detail === null || detail === undefined ? 'null' : detailJsonOf(raw.detail),
    rawRef: str(rec, keyOf, 'raw_ref'),
    prevHash: str(rec, keyOf, 'prev_hash'),
    hash: str(rec, keyOf, 'hash'),
  }
}

interface EntryTime {
  canonical: string
  epochSeconds: number
  nanos: number
}

const ZERO_ENTRY_TIME: EntryTime = {canonical: '0001-01-01T00:00:00Z', epochSeconds: -62135596800, nanos: 0}

/** A writer-form UTC `ts` (the fast path's), as a pattern body: the writer-line reader matches it inside the line. */
export const UTC_TS_SOURCE = '(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?Z'
const UTC_TS = new RegExp(`^${UTC_TS_SOURCE}$`)
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

// Fast path for what writers emit (UTC `Z`): plain number arithmetic instead of BigInt; the
// slow path handles offsets and trailing fraction zeros.
function fastUtcTime(ts: string): EntryTime | undefined {
  const m = UTC_TS.exec(ts)
  if (m === null) return undefined
  return utcTimeOf(ts, m[1] as string, m[2] as string, m[3] as string, m[4] as string, m[5] as string, m[6] as string, m[7])
}

/** `fastUtcTime` from the parts UTC_TS_SOURCE captures in `ts`. */
export function utcTimeOf(ts: string, year: string, month: string, day: string, hour: string, minute: string, second: string, frac: string | undefined): EntryTime | undefined {
  const y = Number(year)
  const mo = Number(month)
  const d = Number(day)
  const h = Number(hour)
  const mi = Number(minute)
  const sec = Number(second)
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && leap ? 29 : (MONTH_DAYS[mo - 1] as number)) || h > 23 || mi > 59 || sec > 59) return undefined
  if (frac !== undefined && frac.endsWith('0')) return undefined
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec)
  if (y < 100) return undefined // Date.UTC maps years 0–99 to 1900+
  return {canonical: ts, epochSeconds: ms / 1000, nanos: frac === undefined ? 0 : Number(frac.padEnd(9, '0'))}
}

const WRITER_HEAD = /^\{"v":(-?\d+),"seq":(-?\d+),/
const PLAIN = /^[0-9a-z]*$/

function slowTime(ts: string): EntryTime {
  let t: GoTime
  try {
    t = toUtc(parseGoTime(ts))
  } catch {
    throw new EntryDecodeError(`ts: cannot parse ${JSON.stringify(ts)} as RFC 3339`)
  }
  const ns = toEpochNanos(t)
  // floor, as the fast path (BigInt division truncates: a fraction before 1970 would round up)
  return {canonical: formatGoTime(t), epochSeconds: Number((ns - BigInt(t.nanos)) / 1_000_000_000n), nanos: t.nanos}
}

/**
 * Raw members without a full scan, for lines in the writer's own layout: exact lower-case
 * field names only, ending `"detail":…,"prev_hash":"…","hash":"…"}` with a single `,"detail":`
 * in the text. Anything else (duplicates, nested "detail" keys, whitespace, other order) falls
 * back to the full scanner, so the fast path can never pick a different span than Go would.
 */
function writerLayout(line: string, rec: Record<string, unknown>, keys: string[]): RawMembers | undefined {
  const n = keys.length
  if (n < 3 || keys[n - 3] !== 'detail' || keys[n - 2] !== 'prev_hash' || keys[n - 1] !== 'hash') return undefined
  const prev = rec.prev_hash
  const hash = rec.hash
  if (typeof prev !== 'string' || typeof hash !== 'string' || !PLAIN.test(prev) || !PLAIN.test(hash)) return undefined
  // The line ends `,"prev_hash":"<prev>","hash":"<hash>"}` (compared in place, not built).
  const tail = line.length - (26 + prev.length + hash.length)
  if (
    tail < 0 ||
    !line.startsWith(',"prev_hash":"', tail) ||
    !line.startsWith(prev, tail + 14) ||
    !line.startsWith('","hash":"', tail + 14 + prev.length) ||
    !line.startsWith(hash, tail + 24 + prev.length) ||
    !line.endsWith('"}')
  ) {
    return undefined
  }
  const at = line.indexOf(',"detail":')
  if (at < 0 || at !== line.lastIndexOf(',"detail":')) return undefined
  const head = WRITER_HEAD.exec(line)
  // A duplicate `v`/`seq` later in the line would win in Go: the first ones must be the values.
  if (head === null || Number(head[1]) !== rec.v || Number(head[2]) !== rec.seq) return undefined
  return {v: head[1], seq: head[2], detail: line.slice(at + 10, tail)}
}
