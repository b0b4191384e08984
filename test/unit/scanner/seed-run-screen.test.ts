/**
 * The seed-phrase detector screens an all-ASCII text from 256 units on with one native regex
 * (seed-phrase.ts `firstStretchFrom`): a binary body's printable runs (random printable ASCII and
 * tab, one run a line, 256 to ~1,100 units) must be judged as the reference splitter judges
 * them, with a phrase planted whole, cut by a changed word, or split over lines and tabs.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {wordlist as english} from '@scure/bip39/wordlists/english.js'
import {createSeedPhraseDetector} from '../../../src/plugins/scanner/seed-phrase.js'
import {phraseFromEntropy, prng, referenceDetect} from './fixtures.js'

test('seed detector on printable runs of 256 to ~1,100 units (the native screen) equals the reference splitter', () => {
  const r = prng(3710)
  const det = createSeedPhraseDetector(english, 12, true)
  const phrase = phraseFromEntropy(english, Buffer.alloc(16, 7)).split(' ')
  let detected = 0
  for (let i = 0; i < 600; i++) {
    const runs: string[] = []
    for (let n = 30 + Math.floor(r() * 110); n > 0; n--) {
      runs.push(Array.from({length: 6 + Math.floor(r() * 8)}, () => (r() < 0.01 ? '\t' : String.fromCharCode(0x20 + Math.floor(r() * 95)))).join(''))
    }
    const plant = r()
    const sep = (): string => [' ', '\n', '\t', ' \n', '-'][Math.floor(r() * 5)]!
    const words = plant < 0.2 ? phrase : plant < 0.3 ? phrase.map((w, k) => (k === 5 ? 'zzzq' : w)) : null
    if (words !== null) runs.splice(Math.floor(r() * runs.length), 0, words.map((w, k) => (k === 0 ? w : sep() + w)).join(''))
    const text = runs.join('\n')
    if (text.length < 256) continue
    const want = referenceDetect(english, 12, text)
    if (want) detected++
    assert.equal(det.detect(text), want, JSON.stringify(text.slice(0, 200)))
  }
  assert.ok(detected > 60, `detected ${detected}`)
})
