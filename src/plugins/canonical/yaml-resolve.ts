import {JsonNumber, type JsonValue} from './json-value.js'

// yaml.v3's resolver for plain scalars (learn-lifecycle §1.4), shared by the strict YAML parser
// and its fast path for our emitter's subset (strict-yaml-fast.ts).

export class StrictYamlError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message)
    this.name = 'StrictYamlError'
  }
}

const BOOL_TRUE = new Set(['true', 'True', 'TRUE'])
const BOOL_FALSE = new Set(['false', 'False', 'FALSE'])
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL'])
const NON_FINITE = new Set(['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF'])
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/
/** First letters of the null, boolean and non-finite spellings above (n N t T f F; the rest start with `.`, `+`, `-`, `~`). */
const MAY_BE_SPECIAL = new Set([0x6e, 0x4e, 0x74, 0x54, 0x66, 0x46])
const ALL_DIGITS = /^[0-9]+$/
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

export function resolvePlain(text: string): JsonValue {
  // Fast paths (a contract's keys, enum values and counts; the contract load, bench: shadow): a plain
  // scalar starting with a letter other than those of null/true/false/NaN/Inf spellings is a
  // string, and 1–15 digits without a leading zero are that integer (no underscore, sign, base
  // prefix or range question). Both give exactly what the general path below gives.
  const c0 = text.charCodeAt(0)
  if (((c0 >= 0x61 && c0 <= 0x7a) || (c0 >= 0x41 && c0 <= 0x5a)) && !MAY_BE_SPECIAL.has(c0)) return text
  if (c0 >= 0x31 && c0 <= 0x39 && text.length <= 15 && ALL_DIGITS.test(text)) return new JsonNumber(text)
  if (NULLS.has(text)) return null
  if (BOOL_TRUE.has(text)) return true
  if (BOOL_FALSE.has(text)) return false
  // JSON cannot carry NaN/Inf: Go's json.Marshal of the decoded tree fails the same way.
  if (NON_FINITE.has(text)) throw new StrictYamlError(`yaml: unsupported float value ${text} in signed artifact`)
  const first = text[0] ?? ''
  if (first === '.') {
    const f = goParseFloat(text)
    return f === undefined ? text : floatNumber(f, text)
  }
  if (!/^[-+0-9]$/.test(first)) return text
  // Timestamps resolve to time.Time in yaml.v3 but are stored back as their text in `any`,
  // and no timestamp parses as a number below, so they fall through to a string.
  const plain = text.replaceAll('_', '')
  const i = goParseIntBase0(plain)
  if (i !== undefined && i >= INT64_MIN && i <= UINT64_MAX) {
    // Above int64 only ParseUint can succeed, and it takes no sign.
    if (i <= INT64_MAX || !/^[-+]/.test(plain)) return new JsonNumber(i.toString())
  }
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = goParseFloat(plain)
    if (f !== undefined) return floatNumber(f, text)
  }
  return text
}

function floatNumber(f: number, text: string): JsonNumber {
  if (!Number.isFinite(f)) throw new StrictYamlError(`yaml: unsupported float value ${text} in signed artifact`)
  // encoding/json's float form equals JS's shortest round-trip form except for negative zero.
  return new JsonNumber(Object.is(f, -0) ? '-0' : String(f))
}

/** strconv.ParseInt(s, 0, 64) / ParseUint(s, 0, 64) without the range check (done by the caller). */
function goParseIntBase0(s: string): bigint | undefined {
  let body = s
  let neg = false
  if (body.startsWith('+') || body.startsWith('-')) {
    neg = body[0] === '-'
    body = body.slice(1)
  }
  let digits: RegExp
  let prefix = ''
  if (/^0[xX]/.test(body)) {
    digits = /^[0-9a-fA-F]+$/
    prefix = '0x'
    body = body.slice(2)
  } else if (/^0[oO]/.test(body)) {
    digits = /^[0-7]+$/
    prefix = '0o'
    body = body.slice(2)
  } else if (/^0[bB]/.test(body)) {
    digits = /^[01]+$/
    prefix = '0b'
    body = body.slice(2)
  } else if (body.length > 1 && body[0] === '0') {
    digits = /^[0-7]+$/ // Go base 0: a leading 0 means octal
    prefix = '0o'
    body = body.slice(1)
  } else {
    digits = /^[0-9]+$/
  }
  if (!digits.test(body)) return undefined
  const v = BigInt(prefix + body)
  const r = neg ? -v : v
  if (r > INT64_MAX && neg) return undefined
  return r
}

function goParseFloat(s: string): number | undefined {
  if (!/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(s)) return undefined
  return Number(s)
}

