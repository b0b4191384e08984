/**
 * The faster paths used on decoded binary (issue 15: the base64 decoding of a cross-request
 * window), each against the path it replaces, kept here as the oracle:
 *  - `forDlpOfDecoded` (pieces between U+FFFD) equals `forDlp` on the whole text;
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
import {DECODED_PIECE_MAX, DECODED_PIECE_MEMO_MAX, forDlpOfDecoded, forDlpOfDecodedByPieces} from '../../../src/plugins/scanner/decoded-text.js'
import {createNormalizer} from '../../../src/plugins/scanner/normalize.js'
import {createSeedPhraseDetector} from '../../../src/plugins/scanner/seed-phrase.js'
import {urlOfSize} from '../../../bench/cee.js'
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

test('forDlpOfDecoded with its piece memo equals the by-pieces path (the oracle) and forDlp: cold and warm memo, bench windows, memo overflow, long pieces, output longer than the scratch', () => {
  // A normaliser of its own: its memo starts empty.
  const n = createNormalizer()
  const check = (u: string, label: string): void => {
    const want = n.forDlp(u)
    assert.equal(forDlpOfDecodedByPieces(n, u), want, `by pieces: ${label} ${JSON.stringify(u)}`)
    assert.equal(forDlpOfDecoded(n, u), want, `memoised: ${label} ${JSON.stringify(u)}`)
  }
  // The bench's windows (query values and keys, base64 at every alignment): pieces recur.
  for (let i = 0; i < 300; i++) {
    // The bench's query (no `%` or `+`): its values and its keys, each joined.
    const items = urlOfSize(2048, i).split('?')[1]!.split('&').map((it) => it.split('='))
    const values = items.map((kv) => kv[kv.length - 1]).join('')
    const keys = items.filter((kv) => kv.length > 1).map((kv) => kv[0]).join('')
    for (const v of [values, keys]) for (let a = 0; a < 4; a++) {
      const s = v.slice(a)
      const u = Buffer.from(s.slice(0, s.length - (s.length % 4)), 'base64').toString('utf8')
      check(u, `bench ${i}/${a}`)
      check(u, `bench again ${i}/${a}`)
    }
  }
  // Random binary, each text twice (the second time its pieces are known), and the same pieces
  // in other neighbourhoods (controls, marks and ASCII around them); most of these fall back, so
  // the memo also rests (the by-pieces pass without it) and is tried again.
  const r = prng(2024)
  for (let i = 0; i < 3000; i++) {
    const u = randomBytes(r, 1 + Math.floor(r() * 300)).toString('utf8')
    check(u, 'random')
    check(u, 'random again')
    const parts = u.split('\ufffd')
    const shuffled = parts.map((q, j) => (j % 3 === 0 ? `\u0001${q}` : j % 3 === 1 ? `${q}\u0301` : `a${q}\u007f`)).reverse().join('\ufffd')
    check(shuffled, 'rearranged')
  }
  // Crafted pieces between U+FFFD (marks, jamo, compatibility forms, controls), repeated.
  for (let i = 0; i < 3000; i++) {
    const u = Array.from({length: 1 + Math.floor(r() * 30)}, () => TRICKY[Math.floor(r() * TRICKY.length)]!).join('')
    check(u, 'tricky')
    check(`\ufffd${u}\ufffd${u}`, 'tricky twice')
  }
  // More distinct pieces than the memo holds (it is cleared and refilled), pieces longer than
  // DECODED_PIECE_MAX (never kept), and an output far longer than the input (U+FDFA is 18 code
  // units under NFKC) past the walk's scratch.
  for (let i = 0; i < DECODED_PIECE_MEMO_MAX + 500; i += 50) {
    check(Array.from({length: 50}, (_, j) => String.fromCharCode(0x4e00 + ((i + j) % 20000)) + 'x').join('\ufffd'), 'many')
  }
  const long = '\u00e9'.repeat(DECODED_PIECE_MAX + 1)
  check(`a\ufffd${long}\ufffdb`, 'long piece')
  check(`a\ufffd${long}\ufffdb`, 'long piece again')
  const wide = Array.from({length: 600}, () => '\ufdfa').join('\ufffd')
  check(wide, 'expanding')
  check(wide, 'expanding again')
  check(`${'A'.repeat(70000)}\ufffd\u00e9`, 'long ASCII')
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
