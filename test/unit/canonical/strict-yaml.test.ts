import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canonicalize, JsonNumber, parseStrictYaml, StrictYamlError, type JsonValue} from '../../../src/plugins/canonical/index.js'

function rejects(text: string, message: string, line?: number): void {
  assert.throws(
    () => parseStrictYaml(text),
    (e: unknown) => {
      assert.ok(e instanceof StrictYamlError, `not a StrictYamlError: ${String(e)}`)
      assert.equal(e.message, message)
      if (line !== undefined) assert.equal(e.line, line)
      return true
    },
  )
}

const canon = (v: JsonValue): string => canonicalize(v)

test('companion positives: !!str is accepted, a plain mapping parses', () => {
  assert.equal(canon(parseStrictYaml('name: !!str hello\n')), '{"name":"hello"}')
  const v = parseStrictYaml('schema_version: 1\ncontract_kind: behavioral_contract\n')
  assert.ok(v instanceof Map)
  assert.ok(v.get('schema_version') instanceof JsonNumber)
  assert.equal(canon(v), '{"contract_kind":"behavioral_contract","schema_version":1}')
  assert.equal(canon(parseStrictYaml('a: !!seq [x]\nb: !!map {c: d}\n')), '{"a":["x"],"b":{"c":"d"}}')
})

test('parse errors are "yaml parse: …" with a line', () => {
  assert.throws(() => parseStrictYaml('key: [unclosed'), (e: unknown) => {
    assert.ok(e instanceof StrictYamlError)
    assert.match(e.message, /^yaml parse: line \d+: /)
    assert.equal(typeof e.line, 'number')
    return true
  })
})

test('anchors and aliases in every position are refused', () => {
  rejects('a: *x\nb: &x 1\n', 'yaml: anchors and aliases forbidden in signed artifacts', 1) // alias before anchor
  rejects('list:\n  - 1\n  - *a\n', 'yaml: anchors and aliases forbidden in signed artifacts', 3) // inside a sequence
  rejects('&a key: v\n', 'yaml: anchors and aliases forbidden in signed artifacts') // anchor on a key
  rejects('x: &y 1\n', 'yaml: anchors and aliases forbidden in signed artifacts')
})

test('merge keys: raw check wins; spaced merge key caught in the walk', () => {
  rejects('a: *x\n<<: 1\n', 'yaml: merge keys forbidden in signed artifacts', 2)
  rejects('m:\n  << : {a: 1}\n', 'yaml: merge keys forbidden in signed artifacts', 2)
  // a quoted "<<" is an ordinary key in yaml.v3
  assert.equal(canon(parseStrictYaml('"<<" : 1\n')), '{"\\u003c\\u003c":1}')
})

test('tags other than !!str/!!seq/!!map are refused', () => {
  for (const t of ['!!int "1"', '!!float 1', '!!binary aGk=', '!<tag:yaml.org,2002:int> "1"', '!local x', '!!bool true', '!!null ~']) {
    rejects(`a: ${t}\n`, 'yaml: custom tags forbidden in signed artifacts', 1)
  }
})

test('duplicate keys (by scalar text) are refused, nested too', () => {
  rejects('a: 1\nb:\n  c: 1\n  c: 2\n', 'yaml: duplicate key', 4)
  rejects('{a: 1, "a": 2}\n', 'yaml: duplicate key')
})

test('document count: empty, multi, empty input', () => {
  rejects('# just a comment\n', 'yaml: empty document')
  rejects('a: 1\n---\nb: 2\n', 'yaml: multi-document streams forbidden in signed artifacts', 2)
  rejects('', 'empty or null payload')
  rejects('  \n\t\n', 'empty or null payload')
  assert.equal(parseStrictYaml('---\n'), null)
  assert.equal(parseStrictYaml('~\n'), null)
})

test('precedence: parse error before anchors; anchors before tags; keys before values', () => {
  assert.throws(() => parseStrictYaml('a: &x [1\n'), /^StrictYamlError: yaml parse: /)
  rejects('a: &x !!int 1\n', 'yaml: anchors and aliases forbidden in signed artifacts')
  rejects('!!int 1: &x y\n', 'yaml: custom tags forbidden in signed artifacts')
  rejects('a: !!int 1\nb: *x\n', 'yaml: custom tags forbidden in signed artifacts')
  rejects('a: 1\na: *x\n', 'yaml: duplicate key')
})

test('scalars are typed like yaml.v3 decoding into any', () => {
  const v = parseStrictYaml(
    [
      'i: 42', 'neg: -7', 'hex: 0x1F', 'oct: 0o17', 'oldoct: 017', 'bin: 0b101', 'under: 1_000',
      'big: 18446744073709551615', 'f: 1.5', 'f1: 1.0', 'exp: 1e3', 't: true', 'T: True', 'n: ~', 'e:',
      'yes: yes', 'ts: 2026-04-01T00:00:00Z', 'date: 2026-04-01', 'q: "123"', 's: \'true\'', 'str: !!str 12',
      'lit: |', '  x', 'ver: 1.2.3', 'plus: +5', 'dot: .5',
    ].join('\n') + '\n',
  )
  assert.equal(
    canon(new Map([...(v as Map<string, JsonValue>)].filter(([k]) => !['f', 'dot', 'big'].includes(k)))),
    '{"T":true,"bin":5,"date":"2026-04-01","e":null,"exp":1000,"f1":1,"hex":31,"i":42,"lit":"x\\n","n":null,"neg":-7,"oct":15,"oldoct":15,"plus":5,"q":"123","s":"true","str":"12","t":true,"ts":"2026-04-01T00:00:00Z","under":1000,"ver":"1.2.3","yes":"yes"}',
  )
  const m = v as Map<string, JsonValue>
  assert.equal((m.get('f') as JsonNumber).text, '1.5')
  assert.equal((m.get('dot') as JsonNumber).text, '0.5')
  assert.equal((m.get('big') as JsonNumber).text, '18446744073709551615') // uint64, like ParseUint
})

test('non-string keys and non-finite floats are refused', () => {
  rejects('1: a\n', 'yaml: mapping key must be a string', 1)
  rejects('[a]: b\n', 'yaml: mapping key must be a string')
  rejects('a: .inf\n', 'yaml: unsupported float value .inf in signed artifact')
  // At the scalar's line, as every other refusal (the store printed 'line undefined').
  rejects('a: 1\nb:\n  - 2\n  - 1e999\n', 'yaml: unsupported float value 1e999 in signed artifact', 4)
  rejects('a: 1\n.nan: b\n', 'yaml: unsupported float value .nan in signed artifact', 2)
})

test('pathological flow nesting is refused before the parser sees it', () => {
  rejects('a: ' + '['.repeat(50000) + ']'.repeat(50000) + '\n', 'yaml: nesting deeper than 512 levels', 1)
  const block = Array.from({length: 600}, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1\n'
  rejects(block, 'yaml: nesting deeper than 512 levels')
  assert.equal(canon(parseStrictYaml('a: ' + '['.repeat(100) + ']'.repeat(100) + '\n')).length, 206)
})

test('block nesting past 512 collections is refused at the first one too deep, however deep (the library ran out of stack near 900)', () => {
  const maps = (n: number): string => Array.from({length: n}, (_, i) => `${'  '.repeat(i)}a:`).join('\n') + `\n${'  '.repeat(n)}b: c\n`
  const seqs = (n: number): string => Array.from({length: n}, (_, i) => `${'  '.repeat(i)}-`).join('\n') + ' x\n'
  // 511 nested mappings around one more: the walker's bound, read
  assert.ok(canon(parseStrictYaml(maps(511))).endsWith('{"b":"c"}' + '}'.repeat(511)))
  for (const n of [512, 900, 3000]) {
    rejects(maps(n), 'yaml: nesting deeper than 512 levels', 513)
    rejects(seqs(n + 1), 'yaml: nesting deeper than 512 levels', 513)
  }
})
