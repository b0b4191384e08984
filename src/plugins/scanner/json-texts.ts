/**
 * Extracts scannable texts from a JSON body (§6.2): every string (object keys included), number
 * and boolean token, in document order. Our own tokenizer because `JSON.parse` reorders
 * integer-like keys and loses number lexemes. Invalid JSON, or nesting deeper than 64, is an
 * error (fail closed: a secret nested deeper would otherwise go unscanned).
 */
export class JsonTextError extends Error {}

export const MAX_JSON_DEPTH = 64

export function extractJsonTexts(src: string): string[] {
  return extractJsonParts(src).texts
}

/** A JSON body's texts (as `extractJsonTexts`) and what the split-secret pass reads. */
export interface JsonParts {
  readonly texts: string[]
  /** String values only (no keys, numbers or booleans), in document order. */
  readonly values: string[]
  /** Each array of two or more one-character strings, joined (`["g","h","p",…]`). */
  readonly charArrays: string[]
}

/** `[...v].length === 1` without the array: one unit, or a high surrogate followed by a low one. */
function isOneCodePoint(v: string): boolean {
  if (v.length === 1) return true
  if (v.length !== 2) return false
  const h = v.charCodeAt(0)
  const l = v.charCodeAt(1)
  return h >= 0xd800 && h <= 0xdbff && l >= 0xdc00 && l <= 0xdfff
}

export function extractJsonParts(src: string): JsonParts {
  const out: string[] = []
  const values: string[] = []
  const charArrays: string[] = []
  let i = 0
  const ws = (): void => {
    for (;;) {
      const c = src.charCodeAt(i) // NaN past the end
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return
      i++
    }
  }
  const fail = (): never => {
    throw new JsonTextError('invalid JSON body')
  }
  const str = (): string => {
    if (src.charCodeAt(i) !== 0x22) fail()
    const start = i
    let escaped = false
    i++
    while (i < src.length) {
      const c = src.charCodeAt(i)
      if (c === 0x22) {
        i++
        // Without a backslash a JSON string is its characters as written (every control was
        // refused above): a slice, not a parse per string (issue 36).
        if (!escaped) return src.slice(start + 1, i - 1)
        try {
          return JSON.parse(src.slice(start, i)) as string
        } catch {
          return fail()
        }
      }
      if (c === 0x5c) {
        escaped = true
        i += 2
      } else if (c < 0x20) fail()
      else i++
    }
    return fail()
  }
  /** Whether the code unit at `i` is an ASCII digit (NaN past the end: no). */
  const digitAt = (k: number): boolean => {
    const c = src.charCodeAt(k)
    return c >= 0x30 && c <= 0x39
  }
  const num = (): string => {
    const start = i
    if (src.charCodeAt(i) === 0x2d) i++
    if (src.charCodeAt(i) === 0x30) i++
    else if (digitAt(i)) while (digitAt(i)) i++
    else fail()
    if (src.charCodeAt(i) === 0x2e) {
      i++
      if (!digitAt(i)) fail()
      while (digitAt(i)) i++
    }
    const e = src.charCodeAt(i)
    if (e === 0x65 || e === 0x45) {
      i++
      const sign = src.charCodeAt(i)
      if (sign === 0x2b || sign === 0x2d) i++
      if (!digitAt(i)) fail()
      while (digitAt(i)) i++
    }
    return src.slice(start, i)
  }
  /** One value; the string when it was a string (for the one-character arrays), else null. */
  const value = (depth: number): string | null => {
    if (depth > MAX_JSON_DEPTH) throw new JsonTextError('JSON body nested too deeply')
    ws()
    const c = src.charCodeAt(i)
    if (c === 0x7b) {
      i++
      ws()
      if (src.charCodeAt(i) === 0x7d) {
        i++
        return null
      }
      for (;;) {
        ws()
        out.push(str())
        ws()
        if (src.charCodeAt(i) !== 0x3a) fail()
        i++
        value(depth + 1)
        ws()
        const d = src.charCodeAt(i)
        if (d === 0x2c) {
          i++
          continue
        }
        if (d === 0x7d) {
          i++
          return null
        }
        fail()
      }
    } else if (c === 0x5b) {
      i++
      ws()
      if (src.charCodeAt(i) === 0x5d) {
        i++
        return null
      }
      // Joined while every element is a one-character string; null once one is not.
      let chars: string[] | null = []
      for (;;) {
        const v = value(depth + 1)
        if (chars !== null) {
          if (v !== null && isOneCodePoint(v)) chars.push(v)
          else chars = null
        }
        ws()
        const d = src.charCodeAt(i)
        if (d === 0x2c) {
          i++
          continue
        }
        if (d === 0x5d) {
          i++
          if (chars !== null && chars.length > 1) charArrays.push(chars.join(''))
          return null
        }
        fail()
      }
    } else if (c === 0x22) {
      const v = str()
      out.push(v)
      values.push(v)
      return v
    } else if (src.startsWith('true', i)) {
      out.push('true')
      i += 4
    } else if (src.startsWith('false', i)) {
      out.push('false')
      i += 5
    } else if (src.startsWith('null', i)) {
      i += 4
    } else {
      out.push(num())
    }
    return null
  }
  value(1)
  ws()
  if (i !== src.length) fail()
  return {texts: out, values, charArrays}
}

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
 * an escape `JSON.parse` refuses or text after the document is refused. Not `extractJsonParts`:
 * that parse is the request scan's, strict to the grammar and keeping each number's lexeme, and
 * costs ≈ 420 µs on a 64 KiB API answer of short fields where this walk costs a fraction (strings
 * found by `indexOf`, no call per token). What is left out can hold no word: digits and `.eE+-`
 * (a number's characters, however arranged), `,:{}[]`, white space and the literals. A string
 * without escapes is taken as written (a control character in it, which JSON does not allow, is
 * kept in the view as it stands in the document).
 */
export function jsonTextView(src: string): string | null {
  const n = src.length
  let i = 0
  while (i < n && isJsonSpace(src.charCodeAt(i))) i++
  const first = src.charCodeAt(i)
  if (first !== 0x7b && first !== 0x5b) return null
  const parts: string[] = []
  const open: number[] = [] // the closing bracket each open one expects
  let backslash = -2 // the next backslash at or after the string read (-1: none left; -2: not looked for)
  while (i < n) {
    const c = src.charCodeAt(i)
    if (c === 0x22) {
      let end = src.indexOf('"', i + 1)
      if (end < 0) return null
      if (backslash !== -1 && backslash <= i) backslash = src.indexOf('\\', i + 1)
      if (backslash < 0 || backslash > end) {
        parts.push(src.slice(i + 1, end))
      } else {
        // A quote after an odd run of backslashes is escaped: the string goes on.
        while (escapedQuote(src, end)) {
          end = src.indexOf('"', end + 1)
          if (end < 0) return null
        }
        try {
          parts.push(JSON.parse(src.slice(i, end + 1)) as string)
        } catch {
          return null
        }
      }
      i = end + 1
    } else if (c === 0x7b || c === 0x5b) {
      open.push(c + 2)
      i++
    } else if (c === 0x7d || c === 0x5d) {
      if (open.pop() !== c) return null
      i++
      if (open.length === 0) {
        while (i < n && isJsonSpace(src.charCodeAt(i))) i++
        return i === n ? parts.join(' ') : null
      }
    } else if (c === 0x2c || c === 0x3a || isJsonSpace(c)) {
      i++
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      i++
      while (i < n && isNumberChar(src.charCodeAt(i))) i++
    } else if (c === 0x74 && src.startsWith('true', i)) i += 4
    else if (c === 0x66 && src.startsWith('false', i)) i += 5
    else if (c === 0x6e && src.startsWith('null', i)) i += 4
    else return null
  }
  return null
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** A digit or `.`, `e`, `E`, `+`, `-`: what a number is written with. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d
}

/** Whether the quote at `q` follows an odd number of backslashes. */
function escapedQuote(src: string, q: number): boolean {
  let k = q - 1
  while (src.charCodeAt(k) === 0x5c) k--
  return (q - 1 - k) % 2 === 1
}
