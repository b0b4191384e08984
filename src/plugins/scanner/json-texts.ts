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
    if (src[i] !== '"') fail()
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
  const num = (): string => {
    const start = i
    if (src[i] === '-') i++
    if (src[i] === '0') i++
    else if (src[i]! >= '1' && src[i]! <= '9') while (src[i]! >= '0' && src[i]! <= '9') i++
    else fail()
    if (src[i] === '.') {
      i++
      if (!(src[i]! >= '0' && src[i]! <= '9')) fail()
      while (src[i]! >= '0' && src[i]! <= '9') i++
    }
    if (src[i] === 'e' || src[i] === 'E') {
      i++
      if (src[i] === '+' || src[i] === '-') i++
      if (!(src[i]! >= '0' && src[i]! <= '9')) fail()
      while (src[i]! >= '0' && src[i]! <= '9') i++
    }
    return src.slice(start, i)
  }
  /** One value; the string when it was a string (for the one-character arrays), else null. */
  const value = (depth: number): string | null => {
    if (depth > MAX_JSON_DEPTH) throw new JsonTextError('JSON body nested too deeply')
    ws()
    const c = src[i]
    if (c === '{') {
      i++
      ws()
      if (src[i] === '}') {
        i++
        return null
      }
      for (;;) {
        ws()
        out.push(str())
        ws()
        if (src[i] !== ':') fail()
        i++
        value(depth + 1)
        ws()
        if (src[i] === ',') {
          i++
          continue
        }
        if (src[i] === '}') {
          i++
          return null
        }
        fail()
      }
    } else if (c === '[') {
      i++
      ws()
      if (src[i] === ']') {
        i++
        return null
      }
      // Joined while every element is a one-character string; null once one is not.
      let chars: string[] | null = []
      for (;;) {
        const v = value(depth + 1)
        if (chars !== null) {
          if (v !== null && [...v].length === 1) chars.push(v)
          else chars = null
        }
        ws()
        if (src[i] === ',') {
          i++
          continue
        }
        if (src[i] === ']') {
          i++
          if (chars !== null && chars.length > 1) charArrays.push(chars.join(''))
          return null
        }
        fail()
      }
    } else if (c === '"') {
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
