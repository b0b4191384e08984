/**
 * Per-field tails of cross-request detection. The joined streams (§5.3) put every value of a
 * request between the pieces of a key split across requests: `?x=1&q=AKIA…` then `?x=2&q=…`
 * reads `1AKIA…2…`. Here each session keeps, per field name (query or form parameter, JSON
 * member path, MCP argument path), the last FIELD_TAIL_CHARS characters of that field's values
 * across requests, and a new value is scanned joined to its field's tail: `AKIA…` ‖ `…`.
 *
 * Bounds: at most MAX_FIELD_TAILS fields per session (the least recently written dropped), tails
 * expire with the fragment window, and a request pays one DLP scan per field that has a live tail
 * and a new value of at most FIELD_FRAGMENT_CHARS characters (a longer value is not a fragment:
 * it only moves the tail on). Only patterns that neither the tail nor the new value match alone
 * are reported, as in the fragment buffer.
 */
import type {TextDlp} from './fragment-buffer.js'
import {LruMap, type SweepPass} from './lru.js'

/** Characters of a field's recent values kept per field. */
export const FIELD_TAIL_CHARS = 256
/** A new value longer than this is not scanned against its field's tail (it only updates it). */
export const FIELD_FRAGMENT_CHARS = 256
/** Fields kept per session; the least recently written is dropped beyond it. */
export const MAX_FIELD_TAILS = 64
/** A field name is kept to this many characters (a longer name shares its tail with its prefix's). */
export const FIELD_NAME_CHARS = 128

interface Tail {
  text: string
  /** The field's value in the request that wrote the tail last (a counter's previous step). */
  last: string
  atMs: number
}

/** How far apart two integers of one field may be and still read as a counter's steps. */
export const COUNTER_STEP = 1024
const INTEGER = /^-?\d{1,15}$/

/**
 * True when `next` is the next step of a counter whose previous value was `prev`: both plain
 * integers at most COUNTER_STEP apart (`?page=3` then `?page=4`, ids 4028 then 4029). Their digits
 * joined are a paging loop, not a split number: a tail of them (`4028402940304031`) passes the
 * card pattern's issuer and Luhn checks about one time in ten. A counter step is not scanned
 * joined, and its field's tail restarts at it; the halves of a split number are far apart
 * (`41111111` then `11111111`) and still join.
 */
export function isCounterStep(prev: string, next: string): boolean {
  return INTEGER.test(prev) && INTEGER.test(next) && Math.abs(Number(next) - Number(prev)) <= COUNTER_STEP
}

/** One session's tails, in least-recently-written order (Map insertion order). */
type SessionTails = Map<string, Tail>

export class FieldTails {
  private readonly keys: LruMap<SessionTails>
  private chars = 0

  constructor(private readonly windowMs: number, cap: number, readonly maxFields = MAX_FIELD_TAILS) {
    this.keys = new LruMap(cap, (gone) => (this.chars -= sizeOf(gone)))
  }

  get activeKeys(): number {
    return this.keys.size
  }

  /** Characters held by every tail of every session. */
  get totalChars(): number {
    return this.chars
  }

  /** The number of field tails the session `key` holds (tests, stats). */
  fieldsOf(key: string): number {
    return this.keys.peek(key)?.size ?? 0
  }

  /**
   * One request's fields (name, value; a name may repeat: its values are joined in order): each
   * short value is scanned after its field's live tail. Returns the first enforced pattern found
   * only across a join, or null. Nothing is recorded: `record` moves the tails on once the
   * request is let through (a refused request never reached the server, and its pieces in a tail
   * would mask the next attempt: a tail that matches alone is not reported again).
   */
  scan(key: string, fields: readonly (readonly [string, string])[], nowMs: number, dlp: TextDlp): string | null {
    const s = this.keys.peek(key)
    if (s === undefined) return null
    for (const [name, value] of byName(fields)) {
      if (value.length > FIELD_FRAGMENT_CHARS) continue
      const t = s.get(name)
      if (t === undefined || nowMs - t.atMs > this.windowMs || isCounterStep(t.last, value)) continue
      const found = acrossJoin(t.text, value, dlp)
      if (found !== null) return found
    }
    return null
  }

  /** Moves each field's tail on by the request's values (a live tail extended, an expired one restarted). */
  record(key: string, fields: readonly (readonly [string, string])[], nowMs: number): void {
    const joined = byName(fields)
    if (joined.size === 0) return
    const s = this.keys.touch(key, () => new Map())
    for (const [name, value] of joined) {
      const t = s.get(name)
      const live = t !== undefined && nowMs - t.atMs <= this.windowMs && !isCounterStep(t.last, value) ? t.text : ''
      const next = lastChars(live + value, FIELD_TAIL_CHARS)
      if (t !== undefined) {
        this.chars -= t.text.length
        s.delete(name)
      }
      // Re-inserted last: the Map's order is the order fields were last written.
      s.set(name, {text: next, last: value.length > FIELD_FRAGMENT_CHARS ? '' : value, atMs: nowMs})
      this.chars += next.length
    }
    while (s.size > this.maxFields) {
      const oldest = s.keys().next().value as string
      this.chars -= s.get(oldest)!.text.length
      s.delete(oldest)
    }
  }

  /** `scan`, then `record`: the request is let through whatever it found (tests, warn-only callers). */
  admit(key: string, fields: readonly (readonly [string, string])[], nowMs: number, dlp: TextDlp): string | null {
    const found = this.scan(key, fields, nowMs, dlp)
    this.record(key, fields, nowMs)
    return found
  }

  clear(key: string): boolean {
    const s = this.keys.peek(key)
    if (s === undefined) return false
    this.chars -= sizeOf(s)
    return this.keys.delete(key)
  }

  sweep(nowMs: number): void {
    this.sweepPass().step(Infinity, nowMs)
  }

  /** Drops expired tails, and sessions left without any, up to `max` sessions a step. */
  sweepPass(): SweepPass {
    return this.keys.pass((key, s, nowMs) => {
      for (const [name, t] of s) {
        if (nowMs - t.atMs <= this.windowMs) continue
        this.chars -= t.text.length
        s.delete(name)
      }
      if (s.size === 0) this.keys.delete(key)
    })
  }
}

/** The first enforced pattern of `tail ‖ value` that neither matches alone (one scan when clean). */
function acrossJoin(tail: string, value: string, dlp: TextDlp): string | null {
  const whole = dlp(tail + value)
  if (whole.matches.length === 0) return null
  const own = new Set<string>()
  for (const part of [tail, value]) {
    const r = dlp(part)
    for (const m of [...r.matches, ...r.warnings]) own.add(m.pattern)
  }
  for (const m of whole.matches) if (!own.has(m.pattern)) return m.pattern
  return null
}

/** The last `n` characters of `s`, not starting inside a surrogate pair; a copy (no slice of a large value is kept alive). */
function lastChars(s: string, n: number): string {
  if (s.length <= n) return s
  let start = s.length - n
  const c = s.charCodeAt(start)
  if (c >= 0xdc00 && c <= 0xdfff) start++
  // Flattened: a slice of a 64 KiB body would keep the whole body in memory.
  return Buffer.from(s.slice(start), 'utf16le').toString('utf16le')
}

/** The request's values by field name (cut to FIELD_NAME_CHARS), each name's values joined in order; empty values left out. */
function byName(fields: readonly (readonly [string, string])[]): Map<string, string> {
  const joined = new Map<string, string>()
  for (const [name, value] of fields) {
    if (value === '') continue
    const n = name.length > FIELD_NAME_CHARS ? name.slice(0, FIELD_NAME_CHARS) : name
    const prev = joined.get(n)
    joined.set(n, prev === undefined ? value : prev + value)
  }
  return joined
}

function sizeOf(s: SessionTails): number {
  let n = 0
  for (const t of s.values()) n += t.text.length
  return n
}
