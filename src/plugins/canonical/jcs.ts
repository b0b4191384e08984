import {compareUtf8, goQuote} from './go-string.js'
import {INTEGER_LEXEME, JsonNumber, RawJson, type JsonValue} from './json-value.js'
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
  if (value === null) return 'null'
  if (value === true) return 'true'
  if (value === false) return 'false'
  if (typeof value === 'string') return goQuote(value.normalize('NFC'))
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
  if (value instanceof RawJson) return canonicalize(parseJson(value.text))
  if (Array.isArray(value)) return '[' + value.map(canonicalize).join(',') + ']'
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
