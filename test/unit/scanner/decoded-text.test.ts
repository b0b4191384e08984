/**
 * The faster paths used on decoded binary (issue 15: the base64 decoding of a cross-request
 * window), each against the path it replaces, kept here as the oracle:
 *  - `forDlpOfDecoded` (U+FFFD removed first) equals `forDlp` on the whole text;
 *  - `stripCombiningMarks` (RE2's `\p{Mn}` read into a table page by page) equals the RE2
 *    replace it replaced, on every BMP code unit in context and on random texts, surrogates
 *    (the RE2 fallback) included;
 *  - the seed detector's plausibility check, which now rejects tokens holding a code unit whose
 *    lower-case form no word has, gives the reference detector's answer on texts full of such
 *    units, with the English-like synthetic list and with a list holding non-ASCII letters.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import RE2 from 're2'
import {forDlpOfDecoded} from '../../../src/plugins/scanner/decoded-text.js'
import {createNormalizer} from '../../../src/plugins/scanner/normalize.js'
import {createSeedPhraseDetector} from '../../../src/plugins/scanner/seed-phrase.js'
import {phraseFromEntropy, prng, randomJoin, referenceDetect, syntheticWordList} from './fixtures.js'

const norm = createNormalizer()
/** The replaced implementation: RE2 over the NFD form. */
const mn = new RE2('\\p{Mn}+', 'gu')
const oracleStrip = (s: string): string => s.normalize('NFD').replace(mn, '')

function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256)
  return b
}

/** Code units that stress each pass: marks, jamo, controls, C1, invisibles, exotic spaces, compatibility forms, confusables, case folds. */
const TRICKY = [
  '\ufffd', '\u0301', '\u0308', '\u0323', '\u1100', '\u1161', '\u11a8', '\uac00', 'a', 'A', 'e', 's', 'k', '\u212a', '\u017f', '\u0130',
  '\u0000', '\u001f', '\u007f', '\u0085', '\u009f', '\u00ad', '\u200b', '\u2060', '\ufeff', '\u00a0', '\u2003', '\u3000', '\uff21', '\uff0b',
  '\uff05', '\ufb01', '\u2474', '\u3393', '\u0430', '\u0391', '\u03a3', '\u00c5', '\u0e33', '\u0f73', '\u1e9b', '%', '+', ' ', '-', '\n',
]

test('forDlpOfDecoded equals forDlp: random binary decoded as UTF-8, and crafted texts around U+FFFD', () => {
  const r = prng(1515)
  let withReplacement = 0
  for (let i = 0; i < 4000; i++) {
    const u = randomBytes(r, 1 + Math.floor(r() * 400)).toString('utf8')
    if (u.includes('\ufffd')) withReplacement++
    assert.equal(forDlpOfDecoded(norm, u), norm.forDlp(u), JSON.stringify(u))
  }
  assert.ok(withReplacement > 3000, `${withReplacement} texts held U+FFFD`)
  for (let i = 0; i < 4000; i++) {
    const u = Array.from({length: Math.floor(r() * 30)}, () => TRICKY[Math.floor(r() * TRICKY.length)]!).join('')
    assert.equal(forDlpOfDecoded(norm, u), norm.forDlp(u), JSON.stringify(u))
  }
  for (const u of ['', '\ufffd', '\ufffd\ufffd', 'a\ufffd\u0301', '\u1100\ufffd\u1161', 'A\u030a\ufffdB', '\ufffd\u0000\ufffd', 'ab\ufffd\uff21\uff22\ufffdcd']) {
    assert.equal(forDlpOfDecoded(norm, u), norm.forDlp(u), JSON.stringify(u))
  }
})

test('forDlpOfDecoded: U+FFFD is removed and the pieces it stood between are read joined', () => {
  // Independent of forDlp: what the definition gives on texts whose pieces change across the join.
  assert.equal(forDlpOfDecoded(norm, 'AKIA\ufffdIOSFODNN7\ufffd\ufffdEXAMPLE'), 'AKIAIOSFODNN7EXAMPLE')
  assert.equal(forDlpOfDecoded(norm, 'e\ufffd\u0301x'), 'ex')
  assert.equal(forDlpOfDecoded(norm, '\ufffd\u0000\ufffd'), '')
  assert.equal(forDlpOfDecoded(norm, '\u1100\ufffd\u1161'), '\u1100\u1161')
  const r = prng(2024)
  for (let i = 0; i < 3000; i++) {
    const u = randomBytes(r, 1 + Math.floor(r() * 300)).toString('utf8')
    const parts = u.split('\ufffd')
    const shuffled = parts.map((q, j) => (j % 3 === 0 ? `\u0001${q}` : j % 3 === 1 ? `${q}\u0301` : `a${q}\u007f`)).reverse().join('\ufffd')
    for (const t of [u, shuffled]) {
      const got = forDlpOfDecoded(norm, t)
      assert.equal(got, norm.forDlp(t), JSON.stringify(t))
      assert.ok(!got.includes('\ufffd'), JSON.stringify(t))
    }
  }
  const wide = Array.from({length: 600}, () => '\ufdfa').join('\ufffd')
  assert.equal(forDlpOfDecoded(norm, wide), norm.forDlp(wide))
  assert.equal(forDlpOfDecoded(norm, `${'A'.repeat(70000)}\ufffd\u00e9`), `${'A'.repeat(70000)}e`)
})

test('stripCombiningMarks equals the RE2 replace on every BMP code unit in context and on random texts (surrogates use RE2 itself)', () => {
  const n = createNormalizer()
  for (let c = 0; c <= 0xffff; c++) {
    const s = `a${String.fromCharCode(c)}b\u0300${String.fromCharCode(c)}`
    assert.equal(n.stripCombiningMarks(s), oracleStrip(s), `U+${c.toString(16)}`)
  }
  const r = prng(99)
  for (let i = 0; i < 3000; i++) {
    const s = Array.from({length: Math.floor(r() * 80)}, () => {
      const x = r()
      return x < 0.3 ? TRICKY[Math.floor(r() * TRICKY.length)]! : x < 0.9 ? String.fromCharCode(0x300 + Math.floor(r() * 0x800)) : String.fromCodePoint(0x10000 + Math.floor(r() * 0x10000))
    }).join('')
    assert.equal(n.stripCombiningMarks(s), oracleStrip(s), JSON.stringify(s))
  }
  // A lone surrogate takes RE2's path, as before (RE2 reads the text as UTF-8).
  for (const s of ['\u0301\ud800', 'x\udc00\u0308', '\u0308\ud83d\ude00\u0301']) assert.equal(n.stripCombiningMarks(s), s.normalize('NFD').replace(mn, ''))
  // Longer than the normaliser's scratch array.
  const long = 'e\u0301'.repeat(20000)
  assert.equal(n.stripCombiningMarks(long), 'e'.repeat(20000))
})

test('seed detector equals the reference on texts holding non-ASCII units (U+FFFD, scripts, Σ, İ, KELVIN SIGN), with ASCII and non-ASCII word lists', () => {
  const words = syntheticWordList()
  // A list whose words hold non-ASCII letters: σ/ς (Σ lower-cases to either), é, ß.
  const greek = words.map((w, i) => (i % 3 === 0 ? `${w}σ` : i % 3 === 1 ? `é${w}` : i % 5 === 0 ? `${w}ς` : w))
  assert.equal(new Set(greek).size, 2048)
  const r = prng(2024)
  const units = ['\ufffd', '\u0416', '\u65e5', '\u03a3', '\u03c3', '\u03c2', '\u0130', '\u212a', '\u00c9', '\u00e9', '\u1e9e', '\u00df', '\ud83d\ude00', '\ud800', ' ', '-', ',', '\n']
  for (const list of [words, greek]) {
    const det = createSeedPhraseDetector(list, 12, true)
    const phrases = [phraseFromEntropy(list, Buffer.alloc(16, 5)), phraseFromEntropy(list, Buffer.alloc(32, 8))]
    let detected = 0
    for (let i = 0; i < 3000; i++) {
      const pick = (x: number): string =>
        x < 0.06 ? phrases[Math.floor(r() * phrases.length)]! : x < 0.45 ? list[Math.floor(r() * 60)]! : x < 0.6 ? list[Math.floor(r() * 60)]!.toUpperCase() : units[Math.floor(r() * units.length)]!
      const s = randomJoin(r, 40, pick, 0.6)
      const want = referenceDetect(list, 12, s)
      if (want) detected++
      assert.equal(det.detect(s), want, JSON.stringify(s))
      const sigma = s.replace(/σ|ς/g, 'Σ')
      assert.equal(det.detect(sigma), referenceDetect(list, 12, sigma), JSON.stringify(sigma))
    }
    assert.ok(detected > 20, `detected ${detected}`)
  }
})
