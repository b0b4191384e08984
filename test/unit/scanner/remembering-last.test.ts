/**
 * `rememberingLast` (memo.ts): the function as given, for any sequence of calls — the text asked
 * again in a row is answered without running it, any other text (the same length included) runs
 * it, and a text past the limit is never remembered. The normaliser's `forMatching` is built on
 * it; `iterativeDecode`, checked beside it, must answer as a fresh call too.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createNormalizer, iterativeDecode} from '../../../src/plugins/scanner/index.js'
import {rememberingLast} from '../../../src/plugins/scanner/memo.js'
import {prng} from './fixtures.js'

test('the last text is answered again without a run; every other text runs', () => {
  const runs: string[] = []
  const f = rememberingLast((s) => {
    runs.push(s)
    return `<${s}>`
  }, 4)
  assert.equal(f('abcd'), '<abcd>')
  assert.equal(f('abcd'), '<abcd>')
  assert.deepEqual(runs, ['abcd'])
  // Same length, other text; then the first again (forgotten: one text is remembered).
  assert.equal(f('abce'), '<abce>')
  assert.equal(f('abcd'), '<abcd>')
  assert.deepEqual(runs, ['abcd', 'abce', 'abcd'])
  // Past the limit: run every time, and the remembered text is kept.
  assert.equal(f('abcde'), '<abcde>')
  assert.equal(f('abcde'), '<abcde>')
  assert.equal(f('abcd'), '<abcd>')
  assert.deepEqual(runs, ['abcd', 'abce', 'abcd', 'abcde', 'abcde'])
  // A text equal in content but built apart is the same text.
  assert.equal(f(['ab', 'cd'].join('')), '<abcd>')
  assert.equal(runs.length, 5)
})

test('iterativeDecode and forMatching answer each text of a random sequence as a fresh call does', () => {
  const rand = prng(42)
  const alphabet = ['%41', '%2', '+', 'a', 'é', '\u200b', 'Ｆ', '%25', ' ', '\u0000', 'x']
  const texts: string[] = []
  for (let k = 0; k < 60; k++) {
    let s = ''
    for (let n = 1 + Math.floor(rand() * 8); n > 0; n--) s += alphabet[Math.floor(rand() * alphabet.length)]!
    texts.push(s)
  }
  const n = createNormalizer()
  // Repeats in a row, repeats apart, and texts of one length.
  for (let k = 0; k < 400; k++) {
    const s = texts[Math.floor(rand() * texts.length)]!
    const times = 1 + Math.floor(rand() * 3)
    for (let t = 0; t < times; t++) {
      assert.equal(iterativeDecode(s), createFreshDecode(s), `decode ${JSON.stringify(s)}`)
      assert.equal(n.forMatching(s), createNormalizer().forMatching(s), `forMatching ${JSON.stringify(s)}`)
    }
  }
})

/** `iterativeDecode` with nothing remembered: a text it has not just seen, then the text. */
function createFreshDecode(s: string): string {
  iterativeDecode(`${s}\u0001fresh`)
  return iterativeDecode(s)
}
