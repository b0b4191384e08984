/**
 * The JSON reader and writer of the rewrite (envelope-redaction §16): one valid JSON value or
 * nothing, number lexemes kept verbatim, strings decoded (a lone-surrogate escape becomes
 * U+FFFD; invalid UTF-8 already did when the bytes were decoded), members kept in document order
 * with duplicates reported only after the whole text validated. Iterative, so nesting up to the
 * 10 000 levels the reference accepts costs no stack.
 */

/** An object: member names and values in document order. */
export class JObj {
  readonly keys: string[] = []
  readonly vals: JNode[] = []
}

/** A number, as written. */
export class JNum {
  constructor(readonly lexeme: string) {}
}

export type JNode = string | JNum | boolean | null | JNode[] | JObj

export const MAX_PARSE_NESTING = 10_000

export type ParseOutcome = {readonly ok: true; readonly value: JNode} | {readonly ok: false; readonly reason: 'body_unparseable' | 'duplicate_object_key'}

const UNPARSEABLE: ParseOutcome = {ok: false, reason: 'body_unparseable'}

class Bad extends Error {}
const bad = new Bad()

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function hex4(t: string, p: number): number {
  if (p + 4 > t.length) throw bad
  let v = 0
  for (let i = p; i < p + 4; i++) {
    const c = t.charCodeAt(i)
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1
    if (d < 0) throw bad
    v = v * 16 + d
  }
  return v
}

export function parseJsonDocument(t: string): ParseOutcome {
  let pos = 0
  const n = t.length
  let duplicate = false

  const ws = (): void => {
    while (pos < n && isWs(t.charCodeAt(pos))) pos++
  }
  const str = (): string => {
    // pos is after the opening quote.
    const start = pos
    while (pos < n) {
      const c = t.charCodeAt(pos)
      if (c === 0x22) {
        pos++
        return t.slice(start, pos - 1)
      }
      if (c === 0x5c || c < 0x20) break
      pos++
    }
    let out = t.slice(start, pos)
    while (pos < n) {
      const c = t.charCodeAt(pos)
      if (c === 0x22) {
        pos++
        return out
      }
      if (c < 0x20) throw bad
      if (c !== 0x5c) {
        const s = pos
        while (pos < n) {
          const d = t.charCodeAt(pos)
          if (d === 0x22 || d === 0x5c || d < 0x20) break
          pos++
        }
        out += t.slice(s, pos)
        continue
      }
      const e = t.charCodeAt(pos + 1)
      pos += 2
      switch (e) {
        case 0x22: out += '"'; break
        case 0x5c: out += '\\'; break
        case 0x2f: out += '/'; break
        case 0x62: out += '\b'; break
        case 0x66: out += '\f'; break
        case 0x6e: out += '\n'; break
        case 0x72: out += '\r'; break
        case 0x74: out += '\t'; break
        case 0x75: {
          const u = hex4(t, pos)
          pos += 4
          if (u >= 0xd800 && u <= 0xdbff) {
            if (t.charCodeAt(pos) === 0x5c && t.charCodeAt(pos + 1) === 0x75) {
              const lo = hex4(t, pos + 2)
              if (lo >= 0xdc00 && lo <= 0xdfff) {
                pos += 6
                out += String.fromCharCode(u, lo)
                break
              }
            }
            out += '\ufffd'
          } else if (u >= 0xdc00 && u <= 0xdfff) out += '\ufffd'
          else out += String.fromCharCode(u)
          break
        }
        default:
          throw bad
      }
    }
    throw bad
  }
  const digits = (): number => {
    const s = pos
    while (pos < n) {
      const c = t.charCodeAt(pos)
      if (c < 0x30 || c > 0x39) break
      pos++
    }
    return pos - s
  }
  const num = (): JNum => {
    const s = pos
    if (t.charCodeAt(pos) === 0x2d) pos++
    const c = t.charCodeAt(pos)
    if (c === 0x30) pos++
    else if (c >= 0x31 && c <= 0x39) digits()
    else throw bad
    if (t.charCodeAt(pos) === 0x2e) {
      pos++
      if (digits() === 0) throw bad
    }
    const e = t.charCodeAt(pos)
    if (e === 0x65 || e === 0x45) {
      pos++
      const sg = t.charCodeAt(pos)
      if (sg === 0x2b || sg === 0x2d) pos++
      if (digits() === 0) throw bad
    }
    return new JNum(t.slice(s, pos))
  }
  const literal = (word: string): void => {
    if (!t.startsWith(word, pos)) throw bad
    pos += word.length
  }

  // Containers being filled; for an object, the member name awaiting its value.
  const stack: (JNode[] | JObj)[] = []
  const pendingKey: (string | null)[] = []
  const keySets: (Set<string> | null)[] = []
  let root: JNode | undefined

  const attach = (v: JNode): void => {
    const top = stack[stack.length - 1]
    if (top === undefined) root = v
    else if (Array.isArray(top)) top.push(v)
    else {
      top.keys.push(pendingKey[pendingKey.length - 1]!)
      top.vals.push(v)
    }
  }

  try {
    ws()
    // Parse one value, then loop over container separators.
    let expectValue = true
    for (;;) {
      if (expectValue) {
        ws()
        if (pos >= n) throw bad
        const c = t.charCodeAt(pos)
        if (c === 0x7b || c === 0x5b) {
          pos++
          if (stack.length >= MAX_PARSE_NESTING) throw bad
          const container: JNode[] | JObj = c === 0x7b ? new JObj() : []
          attach(container)
          stack.push(container)
          pendingKey.push(null)
          keySets.push(null)
          ws()
          const close = c === 0x7b ? 0x7d : 0x5d
          if (t.charCodeAt(pos) === close) {
            pos++
            stack.pop()
            pendingKey.pop()
            keySets.pop()
            expectValue = false
          } else if (c === 0x7b) {
            readKey()
          }
          // arrays: fall through to read the first element
          continue
        }
        if (c === 0x22) {
          pos++
          attach(str())
        } else if (c === 0x74) {
          literal('true')
          attach(true)
        } else if (c === 0x66) {
          literal('false')
          attach(false)
        } else if (c === 0x6e) {
          literal('null')
          attach(null)
        } else attach(num())
        expectValue = false
        continue
      }
      // After a value.
      ws()
      const top = stack[stack.length - 1]
      if (top === undefined) break
      const c = t.charCodeAt(pos)
      if (c === 0x2c) {
        pos++
        if (!Array.isArray(top)) readKey()
        expectValue = true
        continue
      }
      if ((Array.isArray(top) && c === 0x5d) || (!Array.isArray(top) && c === 0x7d)) {
        pos++
        stack.pop()
        pendingKey.pop()
        keySets.pop()
        continue
      }
      throw bad
    }
    if (pos !== n) throw bad
  } catch (e) {
    if (e === bad) return UNPARSEABLE
    throw e
  }
  return duplicate ? {ok: false, reason: 'duplicate_object_key'} : {ok: true, value: root!}

  function readKey(): void {
    ws()
    if (t.charCodeAt(pos) !== 0x22) throw bad
    pos++
    const k = str()
    ws()
    if (t.charCodeAt(pos) !== 0x3a) throw bad
    pos++
    const i = stack.length - 1
    const obj = stack[i] as JObj
    let set = keySets[i]
    if (set === null || set === undefined) {
      if (obj.keys.length < 8) {
        if (obj.keys.includes(k)) duplicate = true
      } else {
        set = new Set(obj.keys)
        keySets[i] = set
      }
    }
    if (set) {
      if (set.has(k)) duplicate = true
      set.add(k)
    }
    pendingKey[i] = k
  }
}

/**
 * Go `encoding/json` string form without HTML escaping (§16.3): `\b \f \n \r \t` short forms,
 * other controls `\u00xx`, U+2028/U+2029 escaped, everything else raw.
 */
export function quoteNoHtml(s: string): string {
  const q = JSON.stringify(s)
  return q.includes('\u2028') || q.includes('\u2029') ? q.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029') : q
}

/** Compact, document order, numbers verbatim. */
export function encodeJson(v: JNode): string {
  const parts: string[] = []
  const emit = (x: JNode): void => {
    if (typeof x === 'string') parts.push(quoteNoHtml(x))
    else if (x === null) parts.push('null')
    else if (x === true) parts.push('true')
    else if (x === false) parts.push('false')
    else if (x instanceof JNum) parts.push(x.lexeme)
    else if (Array.isArray(x)) {
      parts.push('[')
      for (let i = 0; i < x.length; i++) {
        if (i > 0) parts.push(',')
        emit(x[i]!)
      }
      parts.push(']')
    } else {
      parts.push('{')
      for (let i = 0; i < x.keys.length; i++) {
        if (i > 0) parts.push(',')
        parts.push(quoteNoHtml(x.keys[i]!), ':')
        emit(x.vals[i]!)
      }
      parts.push('}')
    }
  }
  emit(v)
  return parts.join('')
}
