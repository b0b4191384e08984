/**
 * The message boundary as a reader of the messages reads it (docs/run.md, WebSocket frames).
 * The raw join `tail ‖ message` (transports §3.5 step 2) keeps each message's framing between
 * the halves of a secret split across two messages: `"AKIA…"` then `"…"`, `{"t":"AKIA…"}` then
 * `{"t":"…"}`, `x AKIA…` then `x …`. A receiver reads the strings out of the JSON, or the text
 * after the label every message repeats, and has the key whole. This keeps that reading of the
 * stream, within the same 4096-byte tail budget, and gives the junction to scan at each message.
 */
import {jsonMessageParts, junctionPairs, JUNCTION_WINDOW, STREAM_TAIL_CHARS, type JsonParts} from '../../scanner/index.js'

/** Tail budget of the reading, as the raw tail's (§3.5 step 2). */
export const TAIL_BYTES = 4096

/** The last `n` bytes of `s`, cut on a UTF-8 boundary so the tail stays valid text. */
export function lastBytes(s: string, n: number): string {
  const b = Buffer.from(s, 'utf8')
  if (b.length <= n) return s
  let start = b.length - n
  while (start < b.length && (b[start]! & 0xc0) === 0x80) start++
  return b.subarray(start).toString('utf8')
}

/** One JSON message of a token stream as its reader reads it (`JsonTokenReading.next`). */
export interface TokenReading {
  /** The message's string values in document order, less those it repeats from the message before. */
  readonly values: string
  /**
   * When two members or more changed: each changed member's stream so far (its earlier values,
   * the last STREAM_TAIL_CHARS characters, then this one), a line each; else undefined.
   */
  readonly members: string | undefined
}

/** How many members' streams a reading keeps (the least recently changed is dropped first). */
const MEMBER_STREAMS = 32

/** A JSON message's string members by path and occurrence (`0:a.b`, `1:a.b`, …), in document order. */
function stringMembers(json: JsonParts): Map<string, string> {
  const out = new Map<string, string>()
  const seen = new Map<string, number>()
  for (const [path, v] of json.stringFields ?? []) {
    const k = seen.get(path) ?? 0
    seen.set(path, k + 1)
    out.set(`${k}:${path}`, v)
  }
  return out
}

/**
 * A stream of JSON messages as their reader reads them one after another (an LLM token stream:
 * `{"delta":" Ignore"}`, `{"delta":" all"}`, or OpenAI's `chat.completion.chunk`): each message's
 * string values in document order, without those it repeats at the same member path from the
 * message before (`"object":"chat.completion.chunk"`, ids, roles: the framing every chunk
 * repeats, which would otherwise stand between the tokens). Null for a message that is not JSON.
 *
 * A member that changes in every message beside the token (a realtime API's `event_id`) is not
 * framing and stands between the tokens of that reading: so each member is also read as its own
 * stream (the deltas one after another, as the agent reads them), kept across messages that
 * lack it and forgotten after a hit (`forget`).
 */
export class JsonTokenReading {
  /** The previous JSON message's string values by member path and occurrence. */
  private prev = new Map<string, string>()
  /** Each member's stream: its changed values, the last STREAM_TAIL_CHARS characters (insertion order: least recently changed first). */
  private streams = new Map<string, string>()

  next(text: string): TokenReading | null {
    const json = jsonMessageParts(text)
    if (json === null) {
      this.prev = new Map()
      return null
    }
    const cur = stringMembers(json)
    let values = ''
    let changed = 0
    const withHistory: string[] = []
    for (const [key, v] of cur) {
      if (this.prev.get(key) === v) continue
      values += v
      changed++
      const before = this.streams.get(key) ?? ''
      this.streams.delete(key)
      this.streams.set(key, (before + v).slice(-STREAM_TAIL_CHARS))
      if (before !== '') withHistory.push(before + v)
    }
    this.prev = cur
    while (this.streams.size > MEMBER_STREAMS) this.streams.delete(this.streams.keys().next().value!)
    // With one member changed, its stream is the values' reading itself (after the tail): read once.
    return {values, members: changed >= 2 && withHistory.length > 0 ? withHistory.join('\n') : undefined}
  }

  /** After a hit: the members' streams are dropped, as the stream's tail is, so that nothing found is found again. */
  forget(): void {
    this.streams = new Map()
  }
}

/** Characters of a secret's pieces (keys, tokens, base64/base32/hex): a shared label is never cut inside a run of them. */
function isWordUnit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d
}

/** Separators a reader drops where two messages meet: whitespace, quotes, brackets and punctuation. */
function isSeparator(c: number): boolean {
  return c <= 0x20 || c === 0x22 || c === 0x27 || c === 0x60 || c === 0x2c || c === 0x3b || c === 0x3a || c === 0x2e || c === 0x21 || c === 0x3f ||
    c === 0x28 || c === 0x29 || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x3c || c === 0x3e
}

function trimSeparatorsEnd(s: string): string {
  let e = s.length
  while (e > 0 && isSeparator(s.charCodeAt(e - 1))) e--
  return e === s.length ? s : s.slice(0, e)
}

function trimSeparatorsStart(s: string): string {
  let b = 0
  while (b < s.length && isSeparator(s.charCodeAt(b))) b++
  return b === 0 ? s : s.slice(b)
}

/** Length of the framing `a` and `b` start with (`x `, `{"t":"`), ended before a run of word units it would cut. */
function sharedPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let p = 0
  while (p < n && a.charCodeAt(p) === b.charCodeAt(p)) p++
  while (p > 0 && isWordUnit(b.charCodeAt(p - 1))) p--
  return p
}

/** Length of the framing `a` and `b` end with (`"`, `"}`, ` x`), begun after a run of word units it would cut. */
function sharedSuffix(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let s = 0
  while (s < n && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++
  while (s > 0 && isWordUnit(b.charCodeAt(b.length - s))) s--
  return s
}

export interface ReaderStep {
  /**
   * The text to scan at this boundary: the reading's end before the message joined to the
   * message's reading, each cut to its junction window. Null when it adds nothing to the raw join
   * (first message, or both sides read as sent: nothing of either was left out or read as values).
   */
  readonly junction: string | null
  /**
   * More texts to scan at this boundary, for a JSON message after a JSON message: each string
   * member it shares with the one before, holding another value, read as that member's stream —
   * its value before joined to its value now, each cut to the junction window (at most
   * MEMBER_JUNCTIONS, none equal to `junction`). A field that changes in every message (a
   * realtime API's `event_id`) stands between the halves of a secret in `junction`, not here.
   */
  readonly members: readonly string[]
  /** The message read as one JSON document, with its fields (null: not JSON), for the cross-request feed. */
  readonly json: JsonParts | null
}

/** How many member junctions one message adds (a message of many changed fields scans the first ones). */
const MEMBER_JUNCTIONS = 16

/**
 * One connection's reading of its client messages. Per message the work is linear in the message
 * and the tail: one JSON tokenizer pass when it looks like JSON, a prefix and suffix compare with
 * the previous message's first and last TAIL_BYTES characters, and one junction of at most
 * `window` characters a side (the scanner's junction window; TAIL_BYTES when it has none), plus
 * one per changed JSON member (at most MEMBER_JUNCTIONS).
 */
export class ReaderJoin {
  /** The stream as read: JSON messages as their values, text without its repeated framing, separators at each junction left out. */
  private tail = ''
  /** The previous message's first and last TAIL_BYTES characters (its framing). */
  private prevHead = ''
  private prevEnd = ''
  /** The previous message's string members by path and occurrence (null: it was not JSON). */
  private prevFields: Map<string, string> | null = null
  /**
   * Whether the reading ends as the raw stream does (the last message was read as sent). Not after
   * a JSON message, whose reading ends with its values while the raw join ends with its `"}`.
   */
  private tailIsRaw = true

  /** `window`: the scanner's junction window (`junctionWindow`), null when it has none. */
  next(text: string, window: number | null = JUNCTION_WINDOW): ReaderStep {
    const json = jsonMessageParts(text)
    let left = this.tail
    let right: string
    if (json !== null) right = json.values.join('')
    else {
      const pre = this.prevHead === '' ? 0 : sharedPrefix(this.prevHead, text)
      let suf = this.prevEnd === '' ? 0 : sharedSuffix(this.prevEnd, text)
      suf = Math.min(suf, text.length - pre)
      // The framing the previous message ended with is its, not content: the reading drops it.
      if (suf > 0 && left.endsWith(text.slice(text.length - suf))) left = left.slice(0, left.length - suf)
      right = text.slice(pre)
    }
    left = trimSeparatorsEnd(left)
    right = trimSeparatorsStart(right)
    let junction: string | null = null
    // Scanned unless the raw join (`tail ‖ message`) already holds it: both sides read as sent.
    if (left !== '' && right !== '' && (left !== this.tail || right !== text || !this.tailIsRaw)) {
      const w = window ?? TAIL_BYTES
      const pair = junctionPairs([left, right], w).next()
      if (!pair.done) junction = pair.value.x + pair.value.y
    }
    this.tail = Buffer.byteLength(right) >= TAIL_BYTES ? lastBytes(right, TAIL_BYTES) : lastBytes(left + right, TAIL_BYTES)
    this.tailIsRaw = right === text
    this.prevHead = text.length > TAIL_BYTES ? text.slice(0, TAIL_BYTES) : text
    this.prevEnd = text.length > TAIL_BYTES ? text.slice(-TAIL_BYTES) : text
    return {junction, members: this.memberJunctions(json, window ?? TAIL_BYTES, junction), json}
  }

  /** `ReaderStep.members` of a message (none unless it and the one before are JSON); its members are kept for the next one. */
  private memberJunctions(json: JsonParts | null, w: number, junction: string | null): string[] {
    const cur = json === null ? null : stringMembers(json)
    const prev = this.prevFields
    this.prevFields = cur
    const out: string[] = []
    if (prev === null || cur === null) return out
    for (const [key, v] of cur) {
      const p = prev.get(key)
      if (p === undefined || p === v) continue
      const x = trimSeparatorsEnd(p)
      const y = trimSeparatorsStart(v)
      if (x === '' || y === '') continue
      const pair = junctionPairs([x, y], w).next()
      if (pair.done) continue
      const j = pair.value.x + pair.value.y
      if (j !== junction && !out.includes(j)) out.push(j)
      if (out.length === MEMBER_JUNCTIONS) break
    }
    return out
  }
}
