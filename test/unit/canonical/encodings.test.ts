import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {
  canonicalize,
  CanonicalizationError,
  compactRawJson,
  fromEpochNanos,
  formatGoTime,
  formatSecondsZ,
  goJson,
  goJsonIndent,
  JsonNumber,
  parseGoTime,
  parseJson,
  parseStrictJson,
  toEpochNanos,
  toUtc,
  type JsonValue,
} from '../../../src/plugins/canonical/index.js'
import {prng} from '../../helpers/prng.js'


const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '<', '>', '&', '\u2028', '\u2029', '\n', '\t', '\u0001', '\u007f', 'é', 'e\u0301', '😀', '\ue000', '\uffff', '/']

function randomString(rnd: () => number): string {
  const n = Math.floor(rnd() * 8)
  let s = ''
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)]
  return s
}

function randomValue(rnd: () => number, depth = 0): JsonValue {
  const k = Math.floor(rnd() * (depth > 3 ? 4 : 6))
  switch (k) {
    case 0:
      return null
    case 1:
      return rnd() < 0.5
    case 2:
      return randomString(rnd)
    case 3: {
      const big = rnd() < 0.2
      const n = big ? BigInt(Math.floor(rnd() * 2 ** 53)) * 1024n : BigInt(Math.floor(rnd() * 2000) - 1000)
      return new JsonNumber(n.toString())
    }
    case 4:
      return Array.from({length: Math.floor(rnd() * 4)}, () => randomValue(rnd, depth + 1))
    default: {
      const m = new Map<string, JsonValue>()
      for (let i = Math.floor(rnd() * 5); i > 0; i--) m.set(randomString(rnd) + i, randomValue(rnd, depth + 1))
      return m
    }
  }
}

describe('strict JSON parser', () => {
  test('keeps integer and number lexemes verbatim', () => {
    const v = parseJson('{"a":18446744073709551615,"b":-0,"c":1e+06,"d":1.50}') as Map<string, JsonNumber>
    assert.deepEqual([...v.values()].map((n) => n.text), ['18446744073709551615', '-0', '1e+06', '1.50'])
  })

  const bad: [string, RegExp][] = [
    ['{"a":1,"a":2}', /duplicate key "a"/],
    ['{"a":1} x', /trailing tokens after JSON value/],
    ['[01]', /expected ',' or '\]'/],
    ['"\u0001"', /invalid control character/],
    ['{"a":tru}', /invalid literal/],
    ['"\\x"', /invalid escape/],
    ['', /unexpected end of JSON input/],
    ['{"a":', /unexpected end of JSON input/],
    ['[1.x]', /digit expected after decimal point/],
  ]
  for (const [text, re] of bad) test(`refuses ${JSON.stringify(text)}`, () => assert.throws(() => parseJson(text), re))

  test('reports line and column', () => {
    assert.throws(() => parseJson('{\n  "a": 1,\n  "a": 2\n}'), (e: Error & {line?: number; column?: number}) => e.line === 3 && e.column === 3)
  })

  test('top-level spans give the exact source text of a member', () => {
    const text = '{"x": 1, "detail" : { "b" : [1, 2] } , "y":2}'
    const {spans} = parseStrictJson(text, {topLevelSpans: true})
    const [s, e] = spans!.get('detail')!
    assert.equal(text.slice(s, e), '{ "b" : [1, 2] }')
  })

  test('property: goJson output re-parses to an equal tree and is a fixed point (2,000 random trees)', () => {
    const rnd = prng(42)
    for (let i = 0; i < 2000; i++) {
      const v = randomValue(rnd)
      const once = goJson(v)
      assert.equal(goJson(parseJson(once)), once)
      // JSON.parse agrees on structure (numbers aside) — the bytes are valid JSON
      JSON.parse(once)
    }
  })
})

describe('JCS, Go flavour (learn-lifecycle.md §1.2)', () => {
  test('worked example: NFC keys and strings, code point order, HTML-safe escapes', () => {
    const v = parseJson('{"b":"<a&b>","a":"x\\u2028y","é":1,"e\\u0301x":2}')
    assert.equal(canonicalize(v), '{"a":"x\\u2028y","b":"\\u003ca\\u0026b\\u003e","é":1,"éx":2}')
  })

  test('floats and out-of-range integers are refused; -0 is kept literally', () => {
    for (const t of ['1.0', '1e3', '0.5', '9223372036854775808']) {
      assert.throws(() => canonicalize(parseJson(t)), CanonicalizationError)
    }
    assert.equal(canonicalize(parseJson('[-0,9223372036854775807,-9223372036854775808]')), '[-0,9223372036854775807,-9223372036854775808]')
  })

  test('keys that collide after NFC are an error', () => {
    assert.throws(() => canonicalize(parseJson('{"é":1,"e\\u0301":2}')), /duplicate key after NFC/)
  })

  test('astral keys sort after U+E000–U+FFFF (code point order, not UTF-16)', () => {
    assert.equal(canonicalize(parseJson('{"😀":1,"\\uffff":2,"\\ue000":3}')), '{"\ue000":3,"\uffff":2,"😀":1}')
  })

  test('property: canonical form is idempotent and independent of key order (2,000 random trees)', () => {
    const rnd = prng(7)
    const shuffle = (v: JsonValue): JsonValue => {
      if (Array.isArray(v)) return v.map(shuffle)
      if (v instanceof Map) {
        const entries = [...v].map(([k, x]) => [k, shuffle(x)] as [string, JsonValue])
        entries.reverse()
        return new Map(entries)
      }
      return v
    }
    for (let i = 0; i < 2000; i++) {
      const v = randomValue(rnd)
      let c: string
      try {
        c = canonicalize(v)
      } catch (e) {
        assert.ok(e instanceof CanonicalizationError) // NFC key collisions may occur in random data
        continue
      }
      assert.equal(canonicalize(parseJson(c)), c)
      assert.equal(canonicalize(shuffle(v)), c)
    }
  })
})

describe('Go time formatting (receipts.md §3.9)', () => {
  const cases: [string, string][] = [
    ['2026-04-15T12:00:00.000000000Z', '2026-04-15T12:00:00Z'],
    ['2026-04-15T12:00:00.120Z', '2026-04-15T12:00:00.12Z'],
    ['2026-04-15T12:00:00.868192730Z', '2026-04-15T12:00:00.86819273Z'],
    ['2026-04-15T12:00:00+00:00', '2026-04-15T12:00:00Z'],
    ['2026-04-15T12:00:00.5-07:30', '2026-04-15T12:00:00.5-07:30'],
    ['2024-02-29T23:59:59.000000001+14:00', '2024-02-29T23:59:59.000000001+14:00'],
  ]
  for (const [input, want] of cases) test(`${input} → ${want}`, () => assert.equal(formatGoTime(parseGoTime(input)), want))

  for (const bad of ['2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z', '2026-01-01T00:00:60Z', '2026-01-01T00:00:00+24:00', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00', '2026-01-01T00:00:00.Z', '2026-01-01T00:00:00.1234567890Z', '2026-01-01t00:00:00z']) {
    test(`refuses ${bad}`, () => assert.throws(() => parseGoTime(bad)))
  }

  test('UTC conversion and the CLI display form', () => {
    assert.equal(formatGoTime(toUtc(parseGoTime('2026-01-01T01:30:00.25+02:00'))), '2025-12-31T23:30:00.25Z')
    assert.equal(formatSecondsZ(parseGoTime('2026-01-01T01:30:00.999+02:00')), '2026-01-01T01:30:00Z')
  })

  test('property: epoch round trip over random instants in years 0001–9999', () => {
    const rnd = prng(3)
    for (let i = 0; i < 2000; i++) {
      const ns = BigInt(Math.floor(rnd() * 315537897600)) * 1_000_000_000n - 62135596800n * 1_000_000_000n + BigInt(Math.floor(rnd() * 1e9))
      const t = fromEpochNanos(ns)
      assert.equal(toEpochNanos(t), ns)
      assert.equal(toEpochNanos(parseGoTime(formatGoTime(t))), ns)
    }
  })
})

describe('Go json.MarshalIndent and RawMessage compaction', () => {
  test('indent with prefix: empty containers stay inline', () => {
    const v = parseJson('{"a":[],"b":{},"c":[1,{"d":"<"}]}')
    assert.equal(goJsonIndent(v, '  ', '  '), '{\n    "a": [],\n    "b": {},\n    "c": [\n      1,\n      {\n        "d": "\\u003c"\n      }\n    ]\n  }')
  })

  test('raw JSON keeps key order and number spelling, drops whitespace, escapes HTML in strings', () => {
    assert.equal(compactRawJson('{ "z" : 1e+06, "a" : [ "x y", "<&>\u2028" ] }'), '{"z":1e+06,"a":["x y","\\u003c\\u0026\\u003e\\u2028"]}')
  })
})
