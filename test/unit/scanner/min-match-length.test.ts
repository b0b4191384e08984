/**
 * The least match length of the DLP patterns (`min-match-length.ts`, issue 36) lets the engine
 * skip every target shorter than it. These tests prove, for every shipped pattern, that no match
 * is shorter than the computed length — the arithmetic checked by RE2 itself on the pattern's
 * one-letter image, and every catalogue positive's matches measured — and that the engine with the
 * skip finds exactly what it finds without it on texts around that length.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import RE2 from 're2'
import {CORE_DLP_PATTERNS, DEFAULT_DLP_PATTERNS, ETHEREUM_ADDRESS_PATTERN} from '../../../src/plugins/scanner/catalogue.js'
import {createDlpEngine, defaultScannerSettings, scanTextForDlp, type DlpEngine} from '../../../src/plugins/scanner/index.js'
import {leastMatchLength, minMatchLength} from '../../../src/plugins/scanner/min-match-length.js'
import {compileDlp} from '../../../src/plugins/scanner/regex.js'
import {parseRegex, type Atom, type Elem} from '../../../src/plugins/scanner/regex-core.js'
import {CORE_DLP_EXTRA, DLP_CASES} from './catalogue-cases.js'
import {prng, splitSecret} from './fixtures.js'

const SHIPPED = [...CORE_DLP_PATTERNS, ...DEFAULT_DLP_PATTERNS, ETHEREUM_ADDRESS_PATTERN]

/**
 * The pattern with every leaf (literal, `.`, class, escape) replaced by `x` and every assertion
 * by nothing, groups and repeat counts kept: its matches on strings of `x` have exactly the
 * lengths (in code points) the pattern's matches can have, and more (assertions dropped).
 */
function unaryImage(alts: readonly Elem[][]): string {
  const atom = (a: Atom): string => (a.kind === 'leaf' ? 'x' : a.kind === 'assert' ? '' : `(?:${unaryImage(a.alts)})`)
  const elem = (e: Elem): string => {
    const body = atom(e.atom)
    if (e.min === 1 && e.max === 1) return `(?:${body})`
    return `(?:${body}){${e.min},${Number.isFinite(e.max) ? e.max : ''}}`
  }
  return alts.map((seq) => seq.map(elem).join('')).join('|')
}

test('every shipped DLP pattern: RE2 finds no match of its one-letter image shorter than the computed length, and one of that length', () => {
  for (const p of SHIPPED) {
    const source = compileDlp(p.regex).source
    const alts = parseRegex(source)
    assert.ok(alts !== null, `${p.name}: parsed`)
    const m = minMatchLength(source)
    assert.ok(m >= 1, `${p.name}: ${m}`)
    const image = new RE2(`^(?:${unaryImage(alts)})$`, 'u')
    for (let k = 0; k < m; k++) assert.equal(image.test('x'.repeat(k)), false, `${p.name}: a match of ${k} < ${m}`)
    assert.equal(image.test('x'.repeat(m)), true, `${p.name}: the least length ${m} is reached`)
  }
  // The engine's bound is the least over its list: 10 for the shipped list (Credential in URL).
  assert.equal(leastMatchLength(SHIPPED.map((p) => compileDlp(p.regex).source)), 10)
})

test('every catalogue positive: each match of its pattern spans at least the computed length', () => {
  const byName = new Map(SHIPPED.map((p) => [p.name, p]))
  let checked = 0
  for (const [name, [positive]] of Object.entries({...DLP_CASES, ...CORE_DLP_EXTRA})) {
    const p = byName.get(name)
    if (p === undefined) continue
    const source = compileDlp(p.regex).source
    const m = minMatchLength(source)
    const re = new RE2(source, 'gu')
    for (const hit of positive.matchAll(re as unknown as RegExp)) {
      assert.ok([...hit[0]].length >= m, `${name}: a match of ${[...hit[0]].length} < ${m}`)
      checked++
    }
  }
  assert.ok(checked >= 40, `matches checked: ${checked}`)
})

test('unknown syntax and unusual shapes: 0 (nothing skipped) or the least over the alternatives', () => {
  assert.equal(minMatchLength('(?i)a\\Qb\\E'), 0)
  assert.equal(minMatchLength('(a)\\1'), 0)
  assert.equal(minMatchLength('(?i)\\bab(?:cd|e)?\\b'), 2)
  assert.equal(minMatchLength('x{3}|yy'), 2)
  assert.equal(minMatchLength('(?:ab){2,}c*'), 4)
  assert.equal(minMatchLength('^$'), 0)
  assert.equal(minMatchLength('[^\\x{10FFFF}]\\p{Greek}😀'), 3)
  assert.equal(leastMatchLength([]), 0)
  assert.equal(leastMatchLength(['abc', '\\Q']), 0)
})

/** A text DLP result with the skip and without it (the engine with a least length of 0). */
function both(engine: DlpEngine, t: string): void {
  const off: DlpEngine = {...engine, minMatchLength: 0}
  assert.deepEqual(scanTextForDlp(engine, t), scanTextForDlp(off, t), JSON.stringify(t))
}

test('text DLP with the short-target skip equals text DLP without it, around the least length', () => {
  const s = defaultScannerSettings()
  s.dlp.scanEnv = false
  s.dlp.patterns = [{name: 'Short Tag', regex: 'zq[0-9]{2}', severity: 'high'}]
  const engines = [createDlpEngine(defaultScannerSettings()), createDlpEngine(s)]
  assert.equal(engines[0]!.minMatchLength, 10)
  assert.equal(engines[1]!.minMatchLength, 4)
  const r = prng(1010)
  const secrets = [...Object.values(DLP_CASES), ...Object.values(CORE_DLP_EXTRA)].flat().concat('user:pw@h.io', 'a://b:c@d.e', 'zq12', '123-45-6789')
  const shapes = (x: string): string[] => [
    x, Buffer.from(x).toString('base64'), Buffer.from(x).toString('base64url'), Buffer.from(x).toString('hex'),
    encodeURIComponent(x), x.split('').join('.'), x.split('').join(' '), `\u200b${x}`, x.normalize('NFD'), `ｓ${x}`, `${x}\ud800`,
    x.replace(/a/g, 'а'),
  ]
  let found = 0
  for (const e of engines) {
    for (const x of secrets) {
      // The secret cut to every length around the engine's bound (a value exactly at it included).
      for (let n = Math.max(0, e.minMatchLength - 3); n <= Math.min(x.length, e.minMatchLength + 3); n++) {
        for (const t of shapes(x.slice(0, n))) both(e, t)
      }
      for (const t of shapes(x)) {
        both(e, t)
        if (scanTextForDlp(e, t).matches.length > 0) found++
      }
      for (const piece of splitSecret(r, x)) both(e, piece)
    }
    // Random short texts of every class of character (escapes, astral, combining, wide).
    const units = ['a', 'Z', '0', '9', '-', '_', ':', '/', '@', '.', '%', '%41', '+', '=', '\\x41', '\u00e9', '\u0301', '😀', '\ufdfa', '\u3000', '\u212a', 'ｓ', '\n']
    for (let i = 0; i < 3000; i++) both(e, Array.from({length: Math.floor(r() * 16)}, () => units[Math.floor(r() * units.length)]!).join(''))
  }
  assert.ok(found > 60, `secrets found: ${found}`)
})
