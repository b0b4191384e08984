/**
 * The JSON view of a response (runtime spec §7, read as the agent reads it): the text an agent
 * reads out of a JSON document, built in one pass over its code units.
 */
import {hexDigitValue} from '../canonical/index.js'
import {unitsToString} from './normalize.js'
import {copyUnits} from './text-units.js'

/** The document is not one JSON object or array. */
const INVALID = -1
/** A `\\u` escape stands for a unit above 0xff, which a byte array cannot hold: start again wide. */
const WIDE = -2

/** A code unit above 0xff. */
const WIDE_UNIT = /[^\x00-\xff]/

/** Scratch arrays kept from call to call up to this many units; a larger document gets its own. */
const KEEP_UNITS = 1 << 20
let narrowScratch: Buffer = Buffer.allocUnsafeSlow(0)
let wideScratch = new Uint16Array(0)
/** The closing bracket each open one expects (0x7d or 0x5d), by depth. */
let closers = new Uint8Array(64)

/**
 * How many units of a string are copied one at a time before its end is looked for natively
 * (`indexOf`) and the rest moved in one copy: below this, the call costs more than the loop.
 */
const SHORT_STRING = 16

/**
 * The text an agent reads out of a JSON document (the response scan's JSON view): its strings,
 * keys and values, in document order, escapes decoded, joined by one space; numbers, `true`,
 * `false`, `null` and the punctuation left out. An injection cut across strings
 * (`{"a":"Ignore all previous","b":"instructions …"}`) reads whole here, as it does to the agent
 * that parses the document.
 *
 * Null when `src` is not one JSON object or array (white space around it allowed): the first
 * character decides, then anything but white space, punctuation, strings, numbers and the three
 * literals outside a string, a bracket that does not close the one open, an unterminated string,
 * an escape `JSON.parse` refuses or text after the document is refused. Not `extractJsonParts`
 * (json-texts.ts): that parse is the request scan's, strict to the grammar and keeping each
 * number's lexeme. What is left out can hold no word: digits and `.eE+-` (a number's characters,
 * however arranged), `,:{}[]`, white space and the literals. A control character in a string
 * (which JSON does not allow) is kept as it stands unless the string holds an escape, where it is
 * refused as `JSON.parse` of that string refuses it.
 *
 * One walk, no string per token: the document's code units are copied once into an array kept
 * from call to call (bytes when every unit is below 0x100, as most documents are, else 16-bit
 * units) and the view is compacted in place over them, read out with one decode. A string's
 * first units are moved one at a time; a longer one's end is found by `indexOf` and its rest
 * moved by `copyWithin`. Escapes are decoded unit by unit as `JSON.parse` decodes them (`\\uXXXX`
 * exactly four hex digits; a surrogate pair is its two units, a lone surrogate kept).
 */
export function jsonTextView(src: string): string | null {
  const n = src.length
  let i = 0
  while (i < n && isJsonSpace(src.charCodeAt(i))) i++
  const first = src.charCodeAt(i)
  if (first !== 0x7b && first !== 0x5b) return null
  if (!WIDE_UNIT.test(src)) {
    // The view is never longer than the document: a string's quotes make room for its space.
    const units = n <= narrowScratch.length ? narrowScratch : n > KEEP_UNITS ? Buffer.allocUnsafeSlow(n) : (narrowScratch = Buffer.allocUnsafeSlow(Math.max(n, 2 * narrowScratch.length)))
    units.write(src, 0, n, 'latin1')
    const len = compact(src, units, i, 0xff)
    if (len >= 0) return units.toString('latin1', 0, len)
    if (len === INVALID) return null
  }
  const units = n <= wideScratch.length ? wideScratch : n > KEEP_UNITS ? new Uint16Array(n) : (wideScratch = new Uint16Array(Math.max(n, 2 * wideScratch.length)))
  copyUnits(src, units)
  const len = compact(src, units, i, 0xffff)
  return len < 0 ? null : unitsToString(units, len)
}

/**
 * Compacts the view of the document in `units` (`src`'s code units; its `{` or `[` at `i`) into
 * their start, where it never overtakes what is still to be read; its length, or INVALID, or WIDE
 * when an escape stands for a unit above `max`.
 */
function compact(src: string, units: Uint8Array | Uint16Array, i: number, max: number): number {
  const n = src.length
  let o = 0
  let strings = 0
  let depth = 0
  let backslash = src.indexOf('\\', i) // the next backslash at or after the string read (-1: none left)
  while (i < n) {
    const c = units[i]!
    if (c === 0x22) {
      if (strings++ > 0) units[o++] = 0x20
      const from = o
      i++
      // The first units one at a time, to the end, a backslash or SHORT_STRING of them.
      const stop = Math.min(n, i + SHORT_STRING)
      let u = -1
      while (i < stop) {
        u = units[i]!
        if (u === 0x22 || u === 0x5c) break
        units[o++] = u
        i++
      }
      if (i < stop && u === 0x22) {
        i++
        continue
      }
      if (i === stop) {
        if (i === n) return INVALID
        // A longer string: its end found natively, and moved in one copy when it holds no escape.
        if (backslash !== -1 && backslash < i) backslash = src.indexOf('\\', i)
        const end = src.indexOf('"', i)
        if (end < 0) return INVALID
        if (backslash === -1 || backslash > end) {
          units.copyWithin(o, i, end)
          o += end - i
          i = end + 1
          continue
        }
      }
      // A string with an escape: the rest read a unit at a time.
      const r = escapedRest(src, units, i, o, from, max)
      if (r < 0) return r
      o = r
      i = resumeAt
    } else if (c === 0x7b || c === 0x5b) {
      if (depth === closers.length) {
        const grown = new Uint8Array(2 * depth)
        grown.set(closers)
        closers = grown
      }
      closers[depth++] = c + 2
      i++
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === 0 || closers[--depth] !== c) return INVALID
      i++
      if (depth === 0) {
        while (i < n && isJsonSpace(units[i]!)) i++
        return i === n ? o : INVALID
      }
    } else if (c === 0x2c || c === 0x3a || isJsonSpace(c)) {
      i++
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      i++
      while (i < n && isNumberChar(units[i]!)) i++
    } else if (c === 0x74 && src.startsWith('true', i)) i += 4
    else if (c === 0x66 && src.startsWith('false', i)) i += 5
    else if (c === 0x6e && src.startsWith('null', i)) i += 4
    else return INVALID
  }
  return INVALID
}

/** Where `escapedRest` left off: the unit after the string's closing quote. */
let resumeAt = 0

/**
 * Reads the rest of a string that holds an escape, from `i` (inside it) on, writing at `o`; its
 * view started at `from`. The new write position (`resumeAt`: where the document goes on), or
 * INVALID (unterminated, an escape `JSON.parse` refuses, or a control character, which it
 * refuses in such a string), or WIDE.
 */
function escapedRest(src: string, units: Uint8Array | Uint16Array, i: number, o: number, from: number, max: number): number {
  const n = src.length
  for (let k = from; k < o; k++) if (units[k]! < 0x20) return INVALID
  for (;;) {
    if (i >= n) return INVALID
    const u = units[i++]!
    if (u === 0x22) break
    if (u === 0x5c) {
      const d = escapeUnit(src, i)
      if (d < 0) return INVALID
      if (d > max) return WIDE
      units[o++] = d
      i += src.charCodeAt(i) === 0x75 ? 5 : 1
    } else {
      if (u < 0x20) return INVALID
      units[o++] = u
    }
  }
  resumeAt = i
  return o
}

/**
 * The code unit the escape whose letter is at `i` (after its backslash) stands for, as
 * `JSON.parse` reads it; -1 for one it refuses (another letter, fewer than four hex digits after
 * `u`, the end of the text).
 */
function escapeUnit(src: string, i: number): number {
  switch (src.charCodeAt(i)) {
    case 0x22: return 0x22
    case 0x5c: return 0x5c
    case 0x2f: return 0x2f
    case 0x62: return 0x08
    case 0x66: return 0x0c
    case 0x6e: return 0x0a
    case 0x72: return 0x0d
    case 0x74: return 0x09
    case 0x75: {
      let v = 0
      for (let k = i + 1; k < i + 5; k++) {
        const h = hexDigitValue(src.charCodeAt(k)) // NaN past the end: -1
        if (h < 0) return -1
        v = (v << 4) | h
      }
      return v
    }
    default: return -1
  }
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** A digit or `.`, `e`, `E`, `+`, `-`: what a number is written with. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d
}
