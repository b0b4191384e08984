import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canonicalize, compareUtf8, goQuote, JsonNumber, RawJson, parseJson, INTEGER_LEXEME, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {resolvePlain} from '../../../src/plugins/canonical/yaml-resolve.js'
import {prng} from '../../helpers/prng.js'

// Issue 18 (the contract load of `learn shadow`): `canonicalize` and `resolvePlain` got fast
// paths. The code before them is kept below as the oracle; both must give the same string, value
// or error (class and message) on every input, fast path or not.

function oracleCanonicalize(value: JsonValue): string {
  if (value === null) return 'null'
  if (value === true) return 'true'
  if (value === false) return 'false'
  if (typeof value === 'string') return goQuote(value.normalize('NFC'))
  if (value instanceof JsonNumber) {
    if (!INTEGER_LEXEME.test(value.text)) throw new Error('float not allowed in canonicalization; use decimal string')
    const n = BigInt(value.text)
    if (n < -(2n ** 63n) || n > 2n ** 63n - 1n) throw new Error('float not allowed in canonicalization; use decimal string')
    return value.text
  }
  if (value instanceof RawJson) return oracleCanonicalize(parseJson(value.text))
  if (Array.isArray(value)) return '[' + value.map(oracleCanonicalize).join(',') + ']'
  const entries: [string, JsonValue][] = []
  const seen = new Set<string>()
  for (const [k, v] of value) {
    if (!k.isWellFormed()) throw new Error(`object key is not valid UTF-8: ${JSON.stringify(k)}`)
    const nk = k.normalize('NFC')
    if (seen.has(nk)) throw new Error(`duplicate key after NFC normalization: ${JSON.stringify(nk)}`)
    seen.add(nk)
    entries.push([nk, v])
  }
  entries.sort((a, b) => compareUtf8(a[0], b[0]))
  return '{' + entries.map(([k, v]) => goQuote(k) + ':' + oracleCanonicalize(v)).join(',') + '}'
}

function outcome(f: () => unknown): unknown {
  try {
    return {ok: f()}
  } catch (e) {
    return {error: (e as Error).message}
  }
}

// Strings the fast paths must tell apart: plain ASCII, Go's escapes, controls, DEL, non-ASCII,
// decomposed and composed forms (NFC changes them), astral characters, lone surrogates.
const PIECES = ['a', 'z', 'Z', '0', '9', '_', '-', '.', '/', ' ', '"', '\\', '<', '>', '&', '\n', '\t', '\u0001', '\u007f', 'é', 'e\u0301', '\u2028', '😀', '\ud800', '\udc00', '~', '{', ':', '#']

function randomString(r: () => number): string {
  let s = ''
  const n = Math.floor(r() * 6)
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * (r() < 0.7 ? 9 : PIECES.length))] as string
  return s
}

const NUMBERS = ['0', '-0', '1', '42', '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809', '1.5', '1e3', '007']

function randomValue(r: () => number, depth: number): JsonValue {
  const k = Math.floor(r() * (depth > 3 ? 5 : 8))
  switch (k) {
    case 0:
      return null
    case 1:
      return r() < 0.5
    case 2:
    case 3:
      return randomString(r)
    case 4:
      return new JsonNumber(NUMBERS[Math.floor(r() * NUMBERS.length)] as string)
    case 5:
      return Array.from({length: Math.floor(r() * 4)}, () => randomValue(r, depth + 1))
    case 6:
      return r() < 0.1 ? new RawJson('{"b":[1,"x"],"a":"\\u00e9"}') : randomMap(r, depth)
    default:
      return randomMap(r, depth)
  }
}

function randomMap(r: () => number, depth: number): Map<string, JsonValue> {
  const m = new Map<string, JsonValue>()
  const n = Math.floor(r() * 6)
  for (let i = 0; i < n; i++) m.set(r() < 0.8 ? ['id', 'rule_id', 'b', 'a', 'A', 'aa', 'x_y', 'é', 'e\u0301', 'k<', '\ud800'][Math.floor(r() * (r() < 0.8 ? 7 : 11))] as string : randomString(r), randomValue(r, depth + 1))
  return m
}

test('canonicalize: the fast paths give the old form or the old error on 20,000 random trees (escapes, NFC, key collisions, surrogates, floats, int64 bounds)', () => {
  const r = prng(18)
  let errors = 0
  for (let i = 0; i < 20_000; i++) {
    const v = randomValue(r, 0)
    const want = outcome(() => oracleCanonicalize(v))
    assert.deepEqual(outcome(() => canonicalize(v)), want, JSON.stringify(want))
    if ((want as {error?: string}).error !== undefined) errors++
  }
  assert.ok(errors > 100, `errors ${errors}`) // both answers exercised
  // A decomposed and a composed key collide only after NFC: the general path's error.
  assert.deepEqual(outcome(() => canonicalize(new Map([['e\u0301', 1 as unknown as JsonValue], ['é', null]]))), {error: 'duplicate key after NFC normalization: "é"'})
  assert.equal(canonicalize(new Map<string, JsonValue>([['b', 'x'], ['a', [null, true]], ['A', new Map()]])), '{"A":{},"a":[null,true],"b":"x"}')
})

// resolvePlain before its fast paths.
function oracleResolvePlain(text: string): JsonValue {
  if (['', '~', 'null', 'Null', 'NULL'].includes(text)) return null
  if (['true', 'True', 'TRUE'].includes(text)) return true
  if (['false', 'False', 'FALSE'].includes(text)) return false
  if (['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF'].includes(text)) throw new Error(`yaml: unsupported float value ${text} in signed artifact`)
  const float = (f: number): JsonValue => {
    if (!Number.isFinite(f)) throw new Error(`yaml: unsupported float value ${text} in signed artifact`)
    return new JsonNumber(Object.is(f, -0) ? '-0' : String(f))
  }
  const parseFloat = (s: string): number | undefined => (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(s) ? Number(s) : undefined)
  const first = text[0] ?? ''
  if (first === '.') {
    const f = parseFloat(text)
    return f === undefined ? text : float(f)
  }
  if (!/^[-+0-9]$/.test(first)) return text
  const plain = text.replaceAll('_', '')
  let body = plain
  let neg = false
  if (body.startsWith('+') || body.startsWith('-')) {
    neg = body[0] === '-'
    body = body.slice(1)
  }
  let digits = /^[0-9]+$/
  let prefix = ''
  if (/^0[xX]/.test(body)) [digits, prefix, body] = [/^[0-9a-fA-F]+$/, '0x', body.slice(2)]
  else if (/^0[oO]/.test(body)) [digits, prefix, body] = [/^[0-7]+$/, '0o', body.slice(2)]
  else if (/^0[bB]/.test(body)) [digits, prefix, body] = [/^[01]+$/, '0b', body.slice(2)]
  else if (body.length > 1 && body[0] === '0') [digits, prefix, body] = [/^[0-7]+$/, '0o', body.slice(1)]
  let i: bigint | undefined
  if (digits.test(body)) {
    const v = BigInt(prefix + body)
    i = neg ? -v : v
    if (i > 2n ** 63n - 1n && neg) i = undefined
  }
  if (i !== undefined && i >= -(2n ** 63n) && i <= 2n ** 64n - 1n) {
    if (i <= 2n ** 63n - 1n || !/^[-+]/.test(plain)) return new JsonNumber(i.toString())
  }
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)) {
    const f = parseFloat(plain)
    if (f !== undefined) return float(f)
  }
  return text
}

test('resolvePlain: the letter and small-integer fast paths give the old value or error on every spelling nearby', () => {
  const fixed = ['', '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 'no', 'yes', 'on', 'off', 'y', 'n', 'N',
    '.nan', '.inf', '-.Inf', '+.INF', 'nan', 'inf', 'Infinity', 'NaN', 'capture_only', 'enforce', 'GET', 'api_example_com', 'fidelity',
    '0', '1', '7', '42', '663665', '999999999999999', '1000000000000000', '9223372036854775807', '9223372036854775808', '18446744073709551615', '18446744073709551616',
    '-1', '+1', '-0', '0x1F', '0o17', '0b101', '017', '08', '1_000', '1e3', '1.5', '1.', '.5', '1:20', '2026-05-01', '2026-05-01T00:00:00Z', '12abc', '1 2', '١٢']
  const r = prng(19)
  const alphabet = 'aAnNtTfFzZ019_.+-xXoObBeE:~ é'
  const random = Array.from({length: 20_000}, () => Array.from({length: 1 + Math.floor(r() * 8)}, () => alphabet[Math.floor(r() * alphabet.length)]).join(''))
  for (const s of [...fixed, ...random]) assert.deepEqual(outcome(() => resolvePlain(s)), outcome(() => oracleResolvePlain(s)), s)
})
