import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  CORE_DLP_PATTERNS,
  CORE_RESPONSE_PATTERNS,
  DEFAULT_DLP_PATTERNS,
  DEFAULT_RESPONSE_PATTERNS,
  PRESET_RESPONSE_PATTERNS,
  ETHEREUM_ADDRESS_PATTERN,
  compileAsWritten,
  compileConfiguredDlp,
  matchDlpPattern,
  optionalWhitespaceSource,
  foldVowels,
  foldVowelsSource,
  type DlpPatternSpec,
} from '../../../src/plugins/scanner/index.js'
import {alnum, awsKeyId, hexLower, j, wif} from './fixtures.js'
import {CORE_DLP_EXTRA, DLP_CASES, RESPONSE_CASES} from './catalogue-cases.js'

function dlpMatches(spec: DlpPatternSpec, text: string): boolean {
  const [p] = compileConfiguredDlp(false, [spec])
  return matchDlpPattern(p!, text) !== null
}

test('catalogue counts match the spec tables', () => {
  assert.equal(DEFAULT_DLP_PATTERNS.length, 48)
  assert.equal(CORE_DLP_PATTERNS.length, 8)
  assert.equal(CORE_RESPONSE_PATTERNS.length, 9)
  assert.equal(DEFAULT_RESPONSE_PATTERNS.length, 29)
  assert.equal(PRESET_RESPONSE_PATTERNS.length, 6)
  assert.equal(new Set(DEFAULT_DLP_PATTERNS.map((p) => p.name)).size, 48)
})

test('every DLP pattern compiles under RE2 with the forced (?i) and has a positive and a negative case', () => {
  for (const p of [...DEFAULT_DLP_PATTERNS, ...CORE_DLP_PATTERNS, ETHEREUM_ADDRESS_PATTERN]) {
    const c = DLP_CASES[p.name] ?? CORE_DLP_EXTRA[p.name]
    if (p.name === 'Ethereum Address') {
      assert.ok(dlpMatches(p, j('0', 'x', hexLower(40))))
      assert.ok(!dlpMatches(p, j('0', 'x', hexLower(30))))
      continue
    }
    assert.ok(c, `no test case for ${p.name}`)
    assert.ok(dlpMatches(p, c[0]), `positive failed: ${p.name}`)
    assert.ok(!dlpMatches(p, c[1]), `negative matched: ${p.name}`)
  }
})

test('every response pattern compiles as written and has a positive and a negative case', () => {
  for (const p of [...CORE_RESPONSE_PATTERNS, ...DEFAULT_RESPONSE_PATTERNS, ...PRESET_RESPONSE_PATTERNS]) {
    const re = compileAsWritten(p.regex)
    // The derived pass-4/pass-5 variants must compile too.
    compileAsWritten(optionalWhitespaceSource(p.regex))
    const c = RESPONSE_CASES[p.name]
    assert.ok(c, `no test case for ${p.name}`)
    assert.ok(re.test(c[0]), `positive failed: ${p.name}`)
    assert.ok(!re.test(c[1]), `negative matched: ${p.name}`)
  }
})

test('core response variants differ from same-named defaults (§9.4)', () => {
  const core = (n: string) => compileAsWritten(CORE_RESPONSE_PATTERNS.find((p) => p.name === n)!.regex)
  const def = (n: string) => compileAsWritten(DEFAULT_RESPONSE_PATTERNS.find((p) => p.name === n)!.regex)
  assert.ok(!core('Credential Solicitation').test('send credentials'))
  assert.ok(def('Credential Solicitation').test('send credentials'))
  assert.ok(!core('Covert Action Directive').test('quietly exfiltrate it'))
  assert.ok(def('Covert Action Directive').test('quietly exfiltrate it'))
})

test('forced (?i) keeps (?-i:…) scoping and the (?m) double prefix', () => {
  const env = DEFAULT_DLP_PATTERNS.find((p) => p.name === 'Environment Variable Secret')!
  assert.ok(dlpMatches(env, j('DB_PASS', 'WORD=', alnum(10))))
  assert.ok(!dlpMatches(env, j('db_pass', 'word=', alnum(10))))
  const cred = DEFAULT_DLP_PATTERNS.find((p) => p.name === 'Credential in URL')!
  assert.ok(dlpMatches(cred, 'line one\nPASSWORD=abcdefgh'))
  const aws = DEFAULT_DLP_PATTERNS.find((p) => p.name === 'AWS Access ID')!
  assert.ok(dlpMatches(aws, awsKeyId().toLowerCase()), '[A-Z] under forced (?i) matches lower case')
})

test('bounded repeats count code points, \\s is ASCII only', () => {
  const re = compileAsWritten('^.{0,3}$')
  assert.ok(re.test('忽略之'))
  assert.ok(re.test('😀😀😀'))
  const s = compileAsWritten('a\\sb')
  assert.ok(s.test('a b'))
  assert.ok(!s.test('a\u00a0b'))
})

test('validator patterns: a decoy before the real value does not hide it', () => {
  const cc = DEFAULT_DLP_PATTERNS.find((p) => p.name === 'Credit Card Number')!
  assert.ok(dlpMatches(cc, '4111 1111 1111 1112 and 4111 1111 1111 1111'))
  const w = DEFAULT_DLP_PATTERNS.find((p) => p.name === 'Bitcoin WIF Private Key')!
  assert.ok(dlpMatches(w, wif(true)))
})

test('foldVowels rewrites sources for pass 5 keeping the flag group', () => {
  assert.equal(foldVowelsSource('(?i)ignore\\s+(?-i:DAN)'), '(?i)agnara\\s+(?-i:DAN)')
  assert.equal(foldVowels('Ignore'), 'Agnara')
})
