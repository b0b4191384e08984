/**
 * `isBuiltinDlpPattern` compares the source a pattern was compiled from with the built-ins'
 * sources as written, instead of compiling every built-in once more at import to compare RE2's
 * normalised `.source` (issue 12: 48 RE2 programs kept only for that). The oracle is that old
 * comparison: for the defaults, core patterns, user patterns that copy a default's regex (under
 * its own name or another), with or without the leading `(?i)`, and edited or new regexes, the
 * answer is the same; and only validator patterns carry a global twin.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {compileConfiguredDlp, compileCoreDlp, isBuiltinDlpPattern, matchDlpPattern} from '../../../src/plugins/scanner/index.js'
import {DEFAULT_DLP_PATTERNS} from '../../../src/plugins/scanner/catalogue.js'
import {compileDlp} from '../../../src/plugins/scanner/regex.js'
import type {DlpPatternSpec} from '../../../src/plugins/scanner/pattern-types.js'

type Pattern = ReturnType<typeof compileCoreDlp>[number]

const oracleSources = new Set(DEFAULT_DLP_PATTERNS.map((p) => compileDlp(p.regex).source))
const oracle = (p: Pattern): boolean => oracleSources.has(p.re.source)

test('isBuiltinDlpPattern: the same answer as comparing RE2-normalised sources', () => {
  const d = DEFAULT_DLP_PATTERNS
  const user: DlpPatternSpec[] = [
    {...d[0]!, name: 'Copy Under Another Name'},
    {...d[1]!, regex: d[1]!.regex.startsWith('(?i)') ? d[1]!.regex.slice(4) : `(?i)${d[1]!.regex}`, name: 'Prefix Toggled'},
    {...d[2]!, regex: `${d[2]!.regex}x`},
    {...d[3]!},
    {name: 'Custom Token', regex: 'tok_[a-z0-9]{32}', severity: 'high'},
    {name: 'Custom With Slash', regex: 'a/b[0-9]{8}', severity: 'high'},
  ]
  const all = [...compileCoreDlp(), ...compileConfiguredDlp(true, []), ...compileConfiguredDlp(false, user), ...compileConfiguredDlp(true, user)]
  assert.ok(all.filter(oracle).length > d.length, 'built-ins are among the cases')
  assert.ok(all.some((p) => !oracle(p)), 'non-built-ins are among the cases')
  for (const p of all) assert.equal(isBuiltinDlpPattern(p), oracle(p), `${p.name}: ${p.compiledFrom}`)
})

test('compiled DLP patterns: a global twin for validator patterns only, and it finds what the pattern finds', () => {
  const all = [...compileCoreDlp(), ...compileConfiguredDlp(true, [])]
  for (const p of all) {
    assert.equal(p.reAll !== undefined, p.validator !== undefined, p.name)
    if (p.reAll !== undefined) assert.equal(p.reAll.source, p.re.source)
  }
  const card = all.find((p) => p.validator === 'luhn')!
  assert.deepEqual(matchDlpPattern(card, 'pay 4111 1111 1111 1112 or 4111 1111 1111 1111 now'), {index: 27, length: 19})
})
