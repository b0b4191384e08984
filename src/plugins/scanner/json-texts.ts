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
  /**
   * With `withFields`: each string value and number (as written) with its member path (names joined by `.`, array
   * indexes left out; `''` at the top level), in document order. Cross-request detection keeps a
   * tail per path, so that other members of a message do not stand between two pieces of a key.
   */
  readonly fields?: Array<readonly [string, string]>
  /** With `withFields`: the string values alone with their member paths (as `fields`), in document order. */
  readonly stringFields?: Array<readonly [string, string]>
  /** With `withMembers`: each object member whose value is a string, as its name and value, in document order. */
  readonly members?: Array<readonly [string, string]>
}

/** `[...v].length === 1` without the array: one unit, or a high surrogate followed by a low one. */
function isOneCodePoint(v: string): boolean {
  if (v.length === 1) return true
  if (v.length !== 2) return false
  const h = v.charCodeAt(0)
  const l = v.charCodeAt(1)
  return h >= 0xd800 && h <= 0xdbff && l >= 0xdc00 && l <= 0xdfff
}

export function extractJsonParts(src: string, withFields = false, withMembers = false): JsonParts {
  const out: string[] = []
  const members: Array<readonly [string, string]> | undefined = withMembers ? [] : undefined
  const values: string[] = []
  const charArrays: string[] = []
  const fields: Array<readonly [string, string]> | undefined = withFields ? [] : undefined
  const stringFields: Array<readonly [string, string]> | undefined = withFields ? [] : undefined
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
  const value = (depth: number, path: string): string | null => {
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
        const name = str()
        out.push(name)
        ws()
        if (src.charCodeAt(i) !== 0x3a) fail()
        i++
        const v = value(depth + 1, fields === undefined ? '' : path === '' ? name : `${path}.${name}`)
        if (members !== undefined && v !== null) members.push([name, v])
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
        const v = value(depth + 1, path)
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
      fields?.push([path, v])
      stringFields?.push([path, v])
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
      const n = num()
      out.push(n)
      fields?.push([path, n])
    }
    return null
  }
  value(1, '')
  ws()
  if (i !== src.length) fail()
  const parts: JsonParts = fields === undefined ? {texts: out, values, charArrays} : {texts: out, values, charArrays, fields, stringFields}
  return members === undefined ? parts : {...parts, members}
}

/**
 * A message that is one JSON document (it starts as an object, an array or, with `strings`, a
 * string does), read with its fields; null for anything else: text, invalid or too deeply nested
 * JSON, which its reader reads as text. The one reading a WebSocket message, an SSE event's data
 * and cross-request detection share.
 */
export function jsonMessageParts(text: string, strings = true): JsonParts | null {
  const c = text.trimStart().charCodeAt(0)
  if (c !== 0x7b && c !== 0x5b && (!strings || c !== 0x22)) return null
  try {
    return extractJsonParts(text, true)
  } catch {
    return null
  }
}
