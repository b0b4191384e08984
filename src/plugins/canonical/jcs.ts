import {compareUtf8, goQuote, isPlainAscii} from './go-string.js'
import {INTEGER_LEXEME, JsonNumber, type JsonObject, type JsonValue} from './json-value.js'
import {parseJson} from './strict-json.js'

export class CanonicalizationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CanonicalizationError'
  }
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/**
 * "JCS, Go flavour" (learn-lifecycle.md §1.2, receipts.md §9.4): RFC 8785 shape, but strings and
 * keys are NFC-normalised and escaped with Go's HTML-safe rules, keys are ordered by code point,
 * and only int64 integers are allowed, emitted as their original literal (`-0` stays `-0`).
 */
export function canonicalize(value: JsonValue): string {
  if (value instanceof Map || Array.isArray(value)) {
    // One flat string from one join (bench: shadow; a 27k-rule contract's load canonicalised every
    // rule, and strings concatenated piece by piece would stay ropes of small pieces while kept).
    const out: string[] = []
    emit(value, out)
    return out.join('')
  }
  return canonicalScalar(value)
}

function canonicalScalar(value: Exclude<JsonValue, JsonValue[] | JsonObject>): string {
  if (value === null) return 'null'
  if (value === true) return 'true'
  if (value === false) return 'false'
  if (typeof value === 'string') return isPlainAscii(value) ? `"${value}"` : goQuote(value.normalize('NFC'))
  if (value instanceof JsonNumber) {
    if (!INTEGER_LEXEME.test(value.text)) {
      throw new CanonicalizationError('float not allowed in canonicalization; use decimal string')
    }
    const n = BigInt(value.text)
    if (n < INT64_MIN || n > INT64_MAX) {
      throw new CanonicalizationError('float not allowed in canonicalization; use decimal string')
    }
    return value.text
  }
  return canonicalize(parseJson(value.text)) // RawJson
}

/** Where canonical text goes, piece by piece (an array, or a streaming sink). */
export interface TextSink {
  push(text: string): void
}

/** An array item whose canonical text is already made (written as is, never re-read). */
export class CanonicalText {
  constructor(readonly text: string) {}
}

/**
 * Items to emit in place of one array of the tree (matched by identity), produced on demand:
 * a contract's rules are generated one at a time while streaming, never held as one tree.
 * Either pulled (an Iterable), or pushed: a function that calls `push` with each item in order
 * (a producer that is itself driven by callbacks, such as a streamed parse of a file).
 */
export type ArrayExpander = (array: readonly JsonValue[]) => Iterable<JsonValue | CanonicalText> | PushedItems | undefined

/** Items an `ArrayExpander` pushes: `items(push)` calls `push` once per item, in order, and returns when done. */
export type PushedItems = (push: (item: JsonValue | CanonicalText) => void) => void

/**
 * Streams the canonical form of `value` into `sink`: the same text `canonicalize` returns, in
 * pieces, with `expand` supplying the items of the arrays it names.
 */
export function canonicalizeTo(value: JsonValue, sink: TextSink, expand?: ArrayExpander): void {
  if (value instanceof Map || Array.isArray(value)) emit(value, sink, expand)
  else sink.push(canonicalScalar(value))
}

/** The canonical form of one string (what `canonicalize` writes for it). */
export function canonicalString(value: string): string {
  return isPlainAscii(value) ? `"${value}"` : goQuote(value.normalize('NFC'))
}

/** Appends the canonical form of `value` to `out`. */
function emit(value: JsonValue, out: TextSink, expand?: ArrayExpander): void {
  if (Array.isArray(value)) {
    out.push('[')
    const items = expand?.(value) ?? value
    let first = true
    const one = (item: JsonValue | CanonicalText): void => {
      if (!first) out.push(',')
      first = false
      if (item instanceof CanonicalText) out.push(item.text)
      else emit(item, out, expand)
    }
    if (typeof items === 'function') items(one)
    else for (const item of items) one(item)
    out.push(']')
    return
  }
  if (!(value instanceof Map)) {
    out.push(canonicalScalar(value))
    return
  }
  // Keys all printable ASCII without characters Go escapes are their own NFC form and quoted
  // form, cannot collide after normalisation (Map keys are distinct), and sort by code unit as by
  // code point; any other key takes the general form.
  const keys: string[] = []
  for (const k of value.keys()) {
    if (!isPlainAscii(k)) {
      // (Expansion does not reach below such an object: streamed arrays sit under ASCII keys.)
      out.push(canonicalObject(value))
      return
    }
    keys.push(k)
  }
  keys.sort()
  out.push('{')
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string
    out.push(i === 0 ? `"${k}":` : `,"${k}":`)
    emit(value.get(k) as JsonValue, out, expand)
  }
  out.push('}')
}

/** An object with a key that needs escaping or normalisation: the general form. */
function canonicalObject(value: ReadonlyMap<string, JsonValue>): string {
  const entries: [string, JsonValue][] = []
  const seen = new Set<string>()
  for (const [k, v] of value) {
    if (!k.isWellFormed()) throw new CanonicalizationError(`object key is not valid UTF-8: ${JSON.stringify(k)}`)
    const nk = k.normalize('NFC')
    if (seen.has(nk)) throw new CanonicalizationError(`duplicate key after NFC normalization: ${JSON.stringify(nk)}`)
    seen.add(nk)
    entries.push([nk, v])
  }
  entries.sort((a, b) => compareUtf8(a[0], b[0]))
  return '{' + entries.map(([k, v]) => goQuote(k) + ':' + canonicalize(v)).join(',') + '}'
}

/** Canonical UTF-8 bytes. */
export function canonicalBytes(value: JsonValue): Buffer {
  return Buffer.from(canonicalize(value), 'utf8')
}
