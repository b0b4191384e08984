/**
 * The RFC 8941 Structured Field Values subset the mediation envelope needs (spec §3): Dictionary
 * parse and serialize, Items, Inner Lists and Parameters. Hand-written on purpose (spec §21): a
 * Decimal is never an Integer (`created=1.0` is not an Integer), a Byte Sequence must be padded
 * base64, and this is a security boundary.
 */

export type BareItem =
  | {readonly t: 'int'; readonly v: number}
  | {readonly t: 'dec'; readonly v: number}
  | {readonly t: 'str'; readonly v: string}
  | {readonly t: 'tok'; readonly v: string}
  | {readonly t: 'bytes'; readonly v: Buffer}
  | {readonly t: 'bool'; readonly v: boolean}

export type Params = Array<[string, BareItem]>
export interface SfItem {
  readonly kind: 'item'
  readonly value: BareItem
  readonly params: Params
}
export interface SfInnerList {
  readonly kind: 'list'
  readonly items: SfItem[]
  readonly params: Params
}
export type SfMember = SfItem | SfInnerList
/** Members in order; a duplicate key keeps its first position and takes the last value. */
export type SfDictionary = Array<[string, SfMember]>

export class SfError extends Error {}

const MAX_INT = 999_999_999_999_999
const KEY_FIRST = /[a-z*]/
const KEY_CHAR = /[a-z0-9_\-.*]/
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export const sfInt = (v: number): BareItem => ({t: 'int', v})
export const sfStr = (v: string): BareItem => ({t: 'str', v})
export const sfBytes = (v: Buffer): BareItem => ({t: 'bytes', v})
export const sfItem = (value: BareItem, params: Params = []): SfItem => ({kind: 'item', value, params})

// --- serialize (RFC 8941 §4.1) ---

function serializeKey(k: string): string {
  if (k === '' || !KEY_FIRST.test(k[0]!) || ![...k].every((c) => KEY_CHAR.test(c))) throw new SfError(`invalid key ${JSON.stringify(k)}`)
  return k
}

export function serializeBare(b: BareItem): string {
  switch (b.t) {
    case 'int':
      if (!Number.isInteger(b.v) || Math.abs(b.v) > MAX_INT) throw new SfError(`integer out of range: ${b.v}`)
      return String(b.v)
    case 'dec': {
      const r = Math.round(b.v * 1000) / 1000
      if (Math.abs(Math.trunc(r)) > 999_999_999_999) throw new SfError('decimal out of range')
      const s = r.toFixed(3).replace(/0+$/, '')
      return s.endsWith('.') ? s + '0' : s
    }
    case 'str':
      for (let i = 0; i < b.v.length; i++) {
        const c = b.v.charCodeAt(i)
        if (c < 0x20 || c > 0x7e) throw new SfError('string contains a character outside 0x20-0x7E')
      }
      return '"' + b.v.replace(/[\\"]/g, (c) => '\\' + c) + '"'
    case 'tok':
      if (!/^[A-Za-z*]/.test(b.v) || ![...b.v].every((c) => TOKEN_CHAR.test(c))) throw new SfError('invalid token')
      return b.v
    case 'bytes':
      return ':' + b.v.toString('base64') + ':'
    case 'bool':
      return b.v ? '?1' : '?0'
  }
}

export function serializeParams(p: Params): string {
  let out = ''
  for (const [k, v] of p) out += ';' + serializeKey(k) + (v.t === 'bool' && v.v ? '' : '=' + serializeBare(v))
  return out
}

function serializeItem(i: SfItem): string {
  return serializeBare(i.value) + serializeParams(i.params)
}

export function serializeInnerList(l: SfInnerList): string {
  return '(' + l.items.map(serializeItem).join(' ') + ')' + serializeParams(l.params)
}

export function serializeDictionary(d: SfDictionary): string {
  return d
    .map(([k, m]) => {
      const key = serializeKey(k)
      if (m.kind === 'list') return key + '=' + serializeInnerList(m)
      if (m.value.t === 'bool' && m.value.v) return key + serializeParams(m.params)
      return key + '=' + serializeItem(m)
    })
    .join(', ')
}

// --- parse (RFC 8941 §4.2) ---

class Reader {
  i = 0
  constructor(readonly s: string) {}
  peek(): string {
    return this.s[this.i] ?? ''
  }
  eof(): boolean {
    return this.i >= this.s.length
  }
  sp(): void {
    while (this.s[this.i] === ' ') this.i++
  }
  ows(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++
  }
}

function parseKey(r: Reader): string {
  if (!KEY_FIRST.test(r.peek())) throw new SfError(`invalid key at offset ${r.i}`)
  let k = ''
  while (!r.eof() && KEY_CHAR.test(r.peek())) k += r.s[r.i++]
  return k
}

function parseNumber(r: Reader): BareItem {
  const start = r.i
  let neg = false
  if (r.peek() === '-') {
    neg = true
    r.i++
  }
  if (!/[0-9]/.test(r.peek())) throw new SfError(`invalid number at offset ${start}`)
  let num = ''
  let dec = false
  while (!r.eof()) {
    const c = r.peek()
    if (/[0-9]/.test(c)) num += c
    else if (c === '.' && !dec) {
      if (num.length > 12) throw new SfError('decimal integer part too long')
      dec = true
      num += c
    } else break
    r.i++
    if (!dec && num.length > 15) throw new SfError('integer has more than 15 digits')
    if (dec && num.length > 16) throw new SfError('decimal too long')
  }
  if (!dec) return {t: 'int', v: (neg ? -1 : 1) * Number(num)}
  if (num.endsWith('.') || num.length - num.indexOf('.') - 1 > 3) throw new SfError('invalid decimal fraction')
  return {t: 'dec', v: (neg ? -1 : 1) * Number(num)}
}

function parseString(r: Reader): BareItem {
  r.i++ // opening quote
  let out = ''
  for (;;) {
    if (r.eof()) throw new SfError('unterminated string')
    const c = r.s[r.i++]!
    if (c === '\\') {
      const n = r.s[r.i++]
      if (n !== '"' && n !== '\\') throw new SfError('invalid escape in string')
      out += n
    } else if (c === '"') return {t: 'str', v: out}
    else {
      const code = c.charCodeAt(0)
      if (code < 0x20 || code > 0x7e) throw new SfError('invalid character in string')
      out += c
    }
  }
}

function parseBytes(r: Reader): BareItem {
  r.i++
  const end = r.s.indexOf(':', r.i)
  if (end < 0) throw new SfError('unterminated byte sequence')
  const text = r.s.slice(r.i, end)
  r.i = end + 1
  // Padded standard base64 only (spec §3: `:AQI:` fails).
  if (!BASE64.test(text) || text.length % 4 !== 0) throw new SfError('invalid byte sequence')
  const v = Buffer.from(text, 'base64')
  if (v.toString('base64') !== text) throw new SfError('invalid byte sequence')
  return {t: 'bytes', v}
}

function parseBare(r: Reader): BareItem {
  const c = r.peek()
  if (c === '-' || /[0-9]/.test(c)) return parseNumber(r)
  if (c === '"') return parseString(r)
  if (c === ':') return parseBytes(r)
  if (c === '?') {
    r.i++
    const b = r.s[r.i++]
    if (b === '1') return {t: 'bool', v: true}
    if (b === '0') return {t: 'bool', v: false}
    throw new SfError('invalid boolean')
  }
  if (/[A-Za-z*]/.test(c)) {
    let v = ''
    while (!r.eof() && TOKEN_CHAR.test(r.peek())) v += r.s[r.i++]
    return {t: 'tok', v}
  }
  throw new SfError(`invalid item at offset ${r.i}`)
}

function parseParams(r: Reader): Params {
  const p: Params = []
  while (r.peek() === ';') {
    r.i++
    r.sp()
    const k = parseKey(r)
    let v: BareItem = {t: 'bool', v: true}
    if (r.peek() === '=') {
      r.i++
      v = parseBare(r)
    }
    const at = p.findIndex(([pk]) => pk === k)
    if (at >= 0) p[at] = [k, v]
    else p.push([k, v])
  }
  return p
}

function parseItem(r: Reader): SfItem {
  const value = parseBare(r)
  return {kind: 'item', value, params: parseParams(r)}
}

function parseMember(r: Reader): SfMember {
  if (r.peek() !== '(') return parseItem(r)
  r.i++
  const items: SfItem[] = []
  for (;;) {
    r.sp()
    if (r.eof()) throw new SfError('unterminated inner list')
    if (r.peek() === ')') {
      r.i++
      return {kind: 'list', items, params: parseParams(r)}
    }
    items.push(parseItem(r))
    if (r.peek() !== ' ' && r.peek() !== ')') throw new SfError('invalid inner list')
  }
}

/** Parses field lines joined with `,` as one Dictionary. */
export function parseDictionary(text: string | readonly string[]): SfDictionary {
  const r = new Reader(typeof text === 'string' ? text : text.join(','))
  const d: SfDictionary = []
  r.sp()
  if (r.eof()) return d
  for (;;) {
    const k = parseKey(r)
    let m: SfMember
    if (r.peek() === '=') {
      r.i++
      m = parseMember(r)
    } else m = {kind: 'item', value: {t: 'bool', v: true}, params: parseParams(r)}
    const at = d.findIndex(([dk]) => dk === k)
    if (at >= 0) d[at] = [k, m]
    else d.push([k, m])
    r.ows()
    if (r.eof()) return d
    if (r.peek() !== ',') throw new SfError(`expected comma at offset ${r.i}`)
    r.i++
    r.ows()
    if (r.eof()) throw new SfError('trailing comma')
  }
}

/** A Parameter's value by key. */
export function param(p: Params, key: string): BareItem | undefined {
  return p.find(([k]) => k === key)?.[1]
}
