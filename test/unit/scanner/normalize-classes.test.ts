/**
 * The normalisation passes run as V8 character-class replaces (issue 18); each must equal its
 * code-point predicate walk (`mapCodePointsReference`) on every code point, lone surrogates
 * included, alone and in runs next to kept characters.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {createNormalizer, isExoticWhitespace, mapExoticWhitespace, replaceInvisibleWithSpace, stripControlChars, stripExoticWhitespace, stripZeroWidth} from '../../../src/plugins/scanner/index.js'
import {CONFUSABLE_GROUPS} from '../../../src/plugins/scanner/confusables.js'
import {isControlOrInvisible, isZeroWidthClass, mapCodePointsReference} from './oracles.js'

const CONFUSABLE = new Map<number, string>()
for (const [target, sources] of Object.entries(CONFUSABLE_GROUPS)) for (const cp of sources) CONFUSABLE.set(cp, target)

/** Every code point 0…0x10FFFF as text, in slices; each code point followed by 'x' and then repeated twice. */
function* everyCodePoint(): Generator<string> {
  const step = 0x4000
  for (let lo = 0; lo <= 0x10ffff; lo += step) {
    let s = ''
    for (let cp = lo; cp < Math.min(lo + step, 0x110000); cp++) {
      // Lone surrogates (U+D800–U+DFFF) are single code units; String.fromCodePoint makes them too.
      const ch = String.fromCodePoint(cp)
      s += ch + 'x' + ch + ch
    }
    yield s
  }
}

const PASSES: Array<[string, (s: string) => string, (cp: number) => string | null]> = [
  ['stripControlChars', stripControlChars, (cp) => (isControlOrInvisible(cp) ? '' : null)],
  ['stripZeroWidth', stripZeroWidth, (cp) => (isZeroWidthClass(cp) ? '' : null)],
  ['replaceInvisibleWithSpace', replaceInvisibleWithSpace, (cp) => (isZeroWidthClass(cp) ? ' ' : null)],
  ['stripExoticWhitespace', stripExoticWhitespace, (cp) => (isExoticWhitespace(cp) ? '' : null)],
  ['mapExoticWhitespace', mapExoticWhitespace, (cp) => (isExoticWhitespace(cp) ? ' ' : null)],
  ['confusableToAscii', createNormalizer().confusableToAscii, (cp) => CONFUSABLE.get(cp) ?? null],
]

describe('normalisation character classes equal their predicates', () => {
  for (const [name, fast, pred] of PASSES) {
    it(`${name}: every code point, alone and in runs`, () => {
      let changed = 0
      for (const s of everyCodePoint()) {
        const want = mapCodePointsReference(s, pred)
        assert.equal(fast(s), want)
        if (want !== s) changed++
      }
      assert.ok(changed > 0, 'the pass changed nothing anywhere')
    })
  }

  it('surrogate pairs stay whole; a lone surrogate is read as U+FFFD, an invisible (removed, or a space)', () => {
    const cases = ['\ud83d\ude00\u200b', '\ud800\u200b\udc00', '\udb40\udc41a', '\u200b\udfff\u0000\ud800', 'a\u{e0041}b\u{e0101}c']
    for (const [, fast, pred] of PASSES) for (const s of cases) assert.equal(fast(s), mapCodePointsReference(s, pred), JSON.stringify(s))
    assert.equal(stripZeroWidth('a\ud800\u200b\udc00b\ud83d\ude00'), 'ab\ud83d\ude00')
    assert.equal(replaceInvisibleWithSpace('a\ud800b\ufffdc'), 'a b c')
  })

  it('U+FFFD is in the invisible class of the scanner passes', () => {
    assert.equal(stripControlChars('Ign\ufffdore\ufffd'), 'Ignore')
    assert.equal(stripZeroWidth('Ign\ufffdore\n\ufffd'), 'Ignore\n')
    assert.equal(replaceInvisibleWithSpace('Ignore\ufffdall\ufffd\ufffd'), 'Ignore all  ')
  })

  it('a 1 KiB binary body decoded as UTF-8 (the benchmark body) gives the same text', () => {
    const s = Buffer.from(Array.from({length: 1024}, (_, i) => i & 0xff)).toString('utf8')
    for (const [, fast, pred] of PASSES) assert.equal(fast(s), mapCodePointsReference(s, pred))
  })
})
