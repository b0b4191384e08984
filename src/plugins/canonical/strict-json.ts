import {JsonNumber, type JsonObject, type JsonValue} from './json-value.js'

/** Thrown by the strict parser; `offset` is a UTF-16 index into the input, `line`/`column` 1-based. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`)
    this.name = 'JsonSyntaxError'
  }
}

export interface StrictJsonOptions {
  /** Maximum nesting of arrays/objects (receipts.md §4.4: 128). */
  maxDepth?: number
  /** Record [start, end) offsets of each top-level object member's value. */
  topLevelSpans?: boolean
}

export interface StrictJsonResult {
  value: JsonValue
  /** Present with `topLevelSpans`: member name → [start, end) into the input text. */
  spans?: Map<string, [number, number]>
}

/**
 * RFC 8259 parser that refuses what signed formats must refuse: duplicate keys, trailing tokens,
 * nesting beyond a limit. Integer and number lexemes are kept verbatim (JsonNumber).
 */
export function parseStrictJson(text: string, options: StrictJsonOptions = {}): StrictJsonResult {
  const p = new Parser(text, options.maxDepth ?? 128)
  p.skipWs()
  let spans: Map<string, [number, number]> | undefined
  let value: JsonValue
  if (options.topLevelSpans && p.peek() === 0x7b) {
    spans = new Map()
    value = p.parseObject(0, spans)
  } else {
    value = p.parseValue(0)
  }
  p.skipWs()
  if (p.pos < text.length) p.fail('trailing tokens after JSON value')
  return spans === undefined ? {value} : {value, spans}
}

/** Convenience: parse and return only the value. */
export function parseJson(text: string, maxDepth = 128): JsonValue {
  return parseStrictJson(text, {maxDepth}).value
}

class Parser {
  pos = 0
  /** Sticky: matches the longest run of string characters that need no decoding, from lastIndex. */
  private readonly plain = /[^"\\\u0000-\u001f]*/y
  constructor(
    readonly text: string,
    readonly maxDepth: number,
  ) {}

  peek(): number {
    return this.text.charCodeAt(this.pos)
  }

  fail(reason: string, at = this.pos): never {
    // Running out of input is reported as such, whatever was expected next.
    if (at >= this.text.length) reason = 'unexpected end of JSON input'
    let line = 1
    let lineStart = 0
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 0x0a) {
        line++
        lineStart = i + 1
      }
    }
    throw new JsonSyntaxError(reason, at, line, at - lineStart + 1)
  }

  skipWs(): void {
    const t = this.text
    let i = this.pos
    for (;;) {
      const c = t.charCodeAt(i)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
      else break
    }
    this.pos = i
  }

  parseValue(depth: number): JsonValue {
    const c = this.peek()
    switch (c) {
      case 0x7b:
        return this.parseObject(depth)
      case 0x5b:
        return this.parseArray(depth)
      case 0x22:
        return this.parseString()
      case 0x74:
        return this.literal('true', true)
      case 0x66:
        return this.literal('false', false)
      case 0x6e:
        return this.literal('null', null)
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber()
        if (Number.isNaN(c)) this.fail('unexpected end of JSON input')
        this.fail(`unexpected ${describeChar(this.text, this.pos)} where a JSON value should start`)
    }
  }

  literal<T extends JsonValue>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length
      return value
    }
    this.fail(`invalid literal, expected ${word}`)
  }

  parseObject(depth: number, spans?: Map<string, [number, number]>): JsonObject {
    if (depth >= this.maxDepth) this.fail(`exceeded max depth of ${this.maxDepth}`)
    this.pos++ // {
    const obj: JsonObject = new Map()
    this.skipWs()
    if (this.peek() === 0x7d) {
      this.pos++
      return obj
    }
    for (;;) {
      this.skipWs()
      if (this.peek() !== 0x22) this.fail('expected string for object key')
      const keyAt = this.pos
      const key = this.parseString()
      if (obj.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`, keyAt)
      this.skipWs()
      if (this.peek() !== 0x3a) this.fail("expected ':' after object key")
      this.pos++
      this.skipWs()
      const start = this.pos
      obj.set(key, this.parseValue(depth + 1))
      if (spans) spans.set(key, [start, this.pos])
      this.skipWs()
      const c = this.peek()
      if (c === 0x2c) {
        this.pos++
        continue
      }
      if (c === 0x7d) {
        this.pos++
        return obj
      }
      if (Number.isNaN(c)) this.fail('unexpected end of JSON input')
      this.fail("expected ',' or '}' after object value")
    }
  }

  parseArray(depth: number): JsonValue[] {
    if (depth >= this.maxDepth) this.fail(`exceeded max depth of ${this.maxDepth}`)
    this.pos++ // [
    const arr: JsonValue[] = []
    this.skipWs()
    if (this.peek() === 0x5d) {
      this.pos++
      return arr
    }
    for (;;) {
      this.skipWs()
      arr.push(this.parseValue(depth + 1))
      this.skipWs()
      const c = this.peek()
      if (c === 0x2c) {
        this.pos++
        continue
      }
      if (c === 0x5d) {
        this.pos++
        return arr
      }
      if (Number.isNaN(c)) this.fail('unexpected end of JSON input')
      this.fail("expected ',' or ']' after array element")
    }
  }

  parseNumber(): JsonNumber {
    const t = this.text
    const start = this.pos
    let i = start
    if (t.charCodeAt(i) === 0x2d) i++
    const first = t.charCodeAt(i)
    if (first === 0x30) {
      i++
    } else if (first >= 0x31 && first <= 0x39) {
      while (isDigit(t.charCodeAt(i))) i++
    } else {
      this.fail('invalid number', i)
    }
    if (t.charCodeAt(i) === 0x2e) {
      i++
      if (!isDigit(t.charCodeAt(i))) this.fail('invalid number: digit expected after decimal point', i)
      while (isDigit(t.charCodeAt(i))) i++
    }
    const e = t.charCodeAt(i)
    if (e === 0x65 || e === 0x45) {
      i++
      const s = t.charCodeAt(i)
      if (s === 0x2b || s === 0x2d) i++
      if (!isDigit(t.charCodeAt(i))) this.fail('invalid number: digit expected in exponent', i)
      while (isDigit(t.charCodeAt(i))) i++
    }
    this.pos = i
    return new JsonNumber(t.slice(start, i))
  }

  parseString(): string {
    const t = this.text
    let i = this.pos + 1
    // Fast path: a run without escapes or control characters up to the closing quote (hashes,
    // signatures, ids: nearly every string of a receipt) is one native regex scan and a slice.
    const plain = this.plain
    plain.lastIndex = i
    plain.test(t)
    if (t.charCodeAt(plain.lastIndex) === 0x22) {
      this.pos = plain.lastIndex + 1
      return t.slice(i, plain.lastIndex)
    }
    let chunkStart = i
    let out = ''
    for (;;) {
      const c = t.charCodeAt(i)
      if (c === 0x22) {
        out += t.slice(chunkStart, i)
        this.pos = i + 1
        return out
      }
      if (c === 0x5c) {
        out += t.slice(chunkStart, i)
        const e = t.charCodeAt(i + 1)
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
            const hex = t.slice(i + 2, i + 6)
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape in string', i)
            out += String.fromCharCode(Number.parseInt(hex, 16))
            i += 4
            break
          }
          default:
            if (Number.isNaN(e)) this.fail('unexpected end of JSON input')
            this.fail('invalid escape in string', i)
        }
        i += 2
        chunkStart = i
        continue
      }
      if (Number.isNaN(c)) this.fail('unexpected end of JSON input (unterminated string)')
      if (c < 0x20) this.fail('invalid control character in string literal', i)
      i++
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function describeChar(text: string, pos: number): string {
  const cp = text.codePointAt(pos) ?? 0
  return `'${String.fromCodePoint(cp)}'`
}
