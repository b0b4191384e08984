import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {canonicalTimeString, decodeGoHex, formatGoTime, goQuote, HexError, isCanonicalTime, parseGoTime, parseStrictJson, TimeFormatError, toUtc, utcTimeString, type GoTime} from '../../../src/plugins/canonical/index.js'
import {prng} from '../../helpers/prng.js'
import {readLineBatchesSync, readLines} from '../../../src/plugins/receipts/index.js'

// The verifier's fast paths (docs/benchmarks.md, "verify") must conclude exactly what the general
// paths conclude: same renderings, same values, same error texts.

const TIMES = [
  '2026-04-15T12:00:00Z', '2026-04-15T12:00:01Z', '2026-04-15T12:00:10Z', '2026-04-15T12:00:00.5Z', '2026-04-15T12:00:00.50Z',
  '2026-04-15T12:00:00.000Z', '2026-04-15T12:00:00.000000001Z', '2026-04-15T12:00:00.100000000Z', '2026-04-15T12:00:00.123456789Z',
  '2026-04-15T12:00:00+00:00', '2026-04-15T12:00:00-00:00', '2026-04-15T12:00:00.250+00:00', '2026-04-15T12:00:00.25-00:00',
  '2026-04-15T12:00:00+02:00', '2026-04-15T12:00:00.5+02:00', '2026-04-15T12:00:00.50+02:00', '2026-04-15T12:00:00-10:00',
  '2026-04-15T12:00:00+10:00', '2026-04-15T12:00:00+00:30', '2026-04-15T12:00:00.0-05:30', '2024-02-29T23:59:59.9Z',
  '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '2026-01-01T00:30:00+01:00',
]

test('canonicalTimeString and utcTimeString equal the parse-and-render paths on every shape of timestamp', () => {
  for (const t of TIMES) {
    assert.equal(canonicalTimeString(t), formatGoTime(parseGoTime(t)), t)
    assert.equal(utcTimeString(t), formatGoTime(toUtc(parseGoTime(t))), t)
  }
})

test('parseGoTime keeps its refusals and their texts (month, day incl. leap years, hour, minute, second, offsets)', () => {
  const bad: [string, string][] = [
    ['2026-13-01T00:00:00Z', 'month out of range'],
    ['2026-00-01T00:00:00Z', 'month out of range'],
    ['2026-02-29T00:00:00Z', 'day out of range'],
    ['1900-02-29T00:00:00Z', 'day out of range'],
    ['2026-04-31T00:00:00Z', 'day out of range'],
    ['2026-04-00T00:00:00Z', 'day out of range'],
    ['2026-04-15T24:00:00Z', 'hour out of range'],
    ['2026-04-15T23:60:00Z', 'minute out of range'],
    ['2026-04-15T23:59:60Z', 'second out of range'],
    ['2026-04-15T23:59:59+24:00', 'time zone offset hour out of range'],
    ['2026-04-15T23:59:59+23:60', 'time zone offset minute out of range'],
    ['2026-04-15 23:59:59Z', 'not RFC 3339'],
  ]
  for (const [input, reason] of bad) {
    assert.throws(() => parseGoTime(input), (e: unknown) => e instanceof TimeFormatError && e.message.includes(reason), input)
    assert.throws(() => canonicalTimeString(input), TimeFormatError)
    assert.throws(() => utcTimeString(input), TimeFormatError)
  }
  assert.deepEqual(parseGoTime('2000-02-29T01:02:03.04-07:30'), {year: 2000, month: 2, day: 29, hour: 1, minute: 2, second: 3, nanos: 40_000_000, offsetMinutes: -450})
})

/** parseGoTime as it was before reading fields at fixed places (capture groups): the oracle. */
function parseByCaptures(input: string): GoTime {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(input)
  if (m === null) throw new TimeFormatError(input, 'not RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM))')
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : month >= 1 && month <= 12 ? 31 : 0
  if (month < 1 || month > 12) throw new TimeFormatError(input, 'month out of range')
  if (day < 1 || day > days) throw new TimeFormatError(input, 'day out of range')
  if (hour > 23) throw new TimeFormatError(input, 'hour out of range')
  if (minute > 59) throw new TimeFormatError(input, 'minute out of range')
  if (second > 59) throw new TimeFormatError(input, 'second out of range')
  const frac = m[7] ?? ''
  const nanos = frac === '' ? 0 : Number(frac.padEnd(9, '0'))
  let offsetMinutes = 0
  const zone = m[8] as string
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3))
    const om = Number(zone.slice(4, 6))
    if (oh > 23) throw new TimeFormatError(input, 'time zone offset hour out of range')
    if (om > 59) throw new TimeFormatError(input, 'time zone offset minute out of range')
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  return {year, month, day, hour, minute, second, nanos, offsetMinutes}
}

test('parseGoTime reads its fields at fixed places exactly as the capture-group reading did; isCanonicalTime is canonicalTimeString(t) === t', () => {
  const random = prng(3)
  const d = (n: number, w: number): string => String(Math.floor(random() * n)).padStart(w, '0')
  const inputs = [...TIMES, '2026-04-15T12:00:00.Z', '2026-04-15T12:00:00.1234567890Z', '2026-04-15T12:00:00+0200', '2026-04-15T12:00:00z', '2026-04-15T12:00:00Z\n', '2026-4-15T12:00:00Z']
  for (let i = 0; i < 3000; i++) {
    const frac = random() < 0.3 ? '' : '.' + d(10 ** 9, 9).slice(0, 1 + Math.floor(random() * 9))
    const zone = random() < 0.4 ? 'Z' : (random() < 0.5 ? '+' : '-') + d(30, 2) + ':' + d(70, 2)
    inputs.push(`${d(10000, 4)}-${d(14, 2)}-${d(33, 2)}T${d(25, 2)}:${d(61, 2)}:${d(61, 2)}${frac}${zone}`)
  }
  for (const t of inputs) {
    const got = outcomeOf(() => parseGoTime(t))
    const want = outcomeOf(() => parseByCaptures(t))
    assert.deepEqual(got, want, t)
    assert.equal(isCanonicalTime(t), 'error' in got ? false : canonicalTimeString(t) === t, t)
  }
})

function outcomeOf(f: () => unknown): {ok: unknown} | {error: string} {
  try {
    return {ok: f()}
  } catch (e) {
    return {error: (e as Error).message}
  }
}

test('decodeGoHex: well-formed input decodes natively (either case); malformed input keeps Go’s texts', () => {
  assert.deepEqual([...decodeGoHex('00ffAB7f')], [0, 255, 171, 127])
  assert.equal(decodeGoHex('').length, 0)
  assert.throws(() => decodeGoHex('abc'), (e: unknown) => e instanceof HexError && e.message === 'encoding/hex: odd length hex string')
  assert.throws(() => decodeGoHex('zz'), {message: "encoding/hex: invalid byte: U+007A 'z'"})
  assert.throws(() => decodeGoHex('0g'), {message: "encoding/hex: invalid byte: U+0067 'g'"})
  assert.throws(() => decodeGoHex('abg'), {message: "encoding/hex: invalid byte: U+0067 'g'"})
  assert.throws(() => decodeGoHex('ab\u00e9f'), HexError)
})

test('goQuote: the one-class scan escapes exactly what the alternation did', () => {
  for (const s of ['plain text', '"', '\\', '<', '>', '&', '\u007f', '\u0000', '\u2028', 'é', 'a&b<c>d"e\\f', "'", '=?[]^_`{|}~']) {
    assert.equal(goQuote(s), /[^\x20-\x7e]|["\\<>&]/.test(s) ? goQuote(s) : `"${s}"`)
  }
  assert.equal(goQuote('a<b>&"c"\\'), '"a\\u003cb\\u003e\\u0026\\"c\\"\\\\"')
  assert.equal(goQuote("it's = ok"), `"it's = ok"`)
})

test('strict JSON strings: the plain-run fast path and the escape path give the same values and errors', () => {
  const value = (s: string): unknown => parseStrictJson(s).value
  assert.equal(value('"abc"'), 'abc')
  assert.equal(value('""'), '')
  assert.equal(value('"a\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00"'), 'a"b\\c/d\né😀')
  assert.equal(value('"plain then \\t escape"'), 'plain then \t escape')
  assert.throws(() => value('"a\u0001b"'), /invalid control character in string literal at line 1, column 3/)
  assert.throws(() => value('"unterminated'), /unexpected end of JSON input/)
  assert.throws(() => value('"bad \\x escape"'), /invalid escape in string at line 1, column 6/)
})

test('readLines: lines inside one read and lines across reads read the same (tiny chunks, CRLF, UTF-8 split, no final newline)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-lines-'))
  try {
    const file = path.join(dir, 'f.jsonl')
    const lines = ['{"a":1}', '', 'é漢🙂 split across reads', 'crlf line\r', 'x'.repeat(50), 'last without newline']
    writeFileSync(file, lines.join('\n'))
    const want = lines.map((l, i) => ({number: i + 1, text: l.replace(/\r$/, ''), bytes: Buffer.byteLength(l), terminated: i < lines.length - 1}))
    for (const chunk of [1, 3, 7, 16, 1 << 20]) {
      const got = []
      for await (const l of readLines(file, 1 << 20, chunk)) got.push(l)
      assert.deepEqual(got, want, `chunk ${chunk}`)
      // the synchronous reader (the verifier's) cuts the same lines
      assert.deepEqual([...readLineBatchesSync(file, 1 << 20, chunk)].flat(), want, `sync, chunk ${chunk}`)
    }
    const over = []
    for await (const l of readLines(file, 10, 1 << 20)) over.push(l.text)
    // 'crlf line\r' is exactly 10 bytes: at the limit, kept
    assert.deepEqual(over, ['{"a":1}', '', undefined, 'crlf line', undefined, undefined])
    assert.deepEqual([...readLineBatchesSync(file, 10, 1 << 20)].flat().map((l) => l.text), over)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('projectStruct integers: the small-canonical fast path concludes what the BigInt path does (values and refusals)', async () => {
  const {defineStruct, projectStruct, JsonNumber, ShapeError} = await import('../../../src/plugins/canonical/index.js')
  const ranges = {int: [-(2n ** 63n), 2n ** 63n - 1n, 'int64'], uint64: [0n, 2n ** 64n - 1n, 'uint64'], uint8: [0n, 255n, 'uint8']} as const
  // the general path, as it was before the fast path: lexeme check, BigInt range, Go's re-rendering
  const oracle = (text: string, kind: keyof typeof ranges): string => {
    const [min, max, want] = ranges[kind]
    if (!/^-?(?:0|[1-9]\d*)$/.test(text)) return `error: t.x: expected ${want}, got number`
    const n = BigInt(text)
    if (n < min || n > max) return `error: t.x: ${text} out of range for ${want}`
    return n.toString()
  }
  const lexemes = ['0', '1', '9', '10', '99', '255', '256', '1000', '999999999999999', '1000000000000000', '9007199254740993', '9223372036854775807',
    '9223372036854775808', '18446744073709551615', '18446744073709551616', '-0', '-1', '-255', '01', '00', '007', '1.0', '1e3', '-9223372036854775808', '-9223372036854775809']
  for (const kind of ['int', 'uint64', 'uint8'] as const) {
    const schema = defineStruct('t', [{name: 'x', kind}])
    for (const text of lexemes) {
      let got: string
      try {
        got = ((projectStruct(schema, new Map([['x', new JsonNumber(text)]])).get('x')) as InstanceType<typeof JsonNumber>).text
      } catch (e) {
        if (!(e instanceof ShapeError)) throw e
        got = `error: ${e.message}`
      }
      assert.equal(got, oracle(text, kind), `${kind} ${text}`)
    }
  }
})

test('yamlString: what the one-pass plain check lets through is written plain and reads back as the same string; the rest is quoted as before', async () => {
  const {emitSignedYaml, parseStrictYaml, yamlString} = await import('../../../src/plugins/canonical/index.js')
  const rnd = prng(36)
  const alphabet = 'aZq/09 ._;,~-:#\'"'
  const samples = ['true', 'True', 'null', 'NULL', 'false', 'y', 'n', 'yes', 'off', '/', '/~', 'a ', 'a b', 'a: b', 'a #b', 'a#b', '/v1/items', 'r-0123abcd', 'Observed 5 events across 2 sessions; Wilson lower bound 0.100000 classified as brittle.']
  for (let i = 0; i < 4000; i++) {
    let s = ''
    const n = 1 + Math.floor(rnd() * 12)
    for (let k = 0; k < n; k++) s += alphabet[Math.floor(rnd() * alphabet.length)]
    samples.push(s)
  }
  let plain = 0
  for (const s of samples) {
    const written = yamlString(s)
    if (written === s) plain++
    const back = parseStrictYaml(emitSignedYaml(new Map([['a', s]]))) as Map<string, unknown>
    assert.equal(back.get('a'), s, `${JSON.stringify(s)} written as ${written}`)
  }
  assert.ok(plain > 1000, `${plain} plain`)
})
