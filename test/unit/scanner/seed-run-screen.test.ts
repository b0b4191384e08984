/**
 * The seed-phrase detector screens an all-ASCII text from 256 units on with one native regex and
 * reads its tokens from the text's bytes (seed-phrase.ts `detect`): a binary body's printable
 * runs (random printable ASCII and tab, one run a line, 256 to ~1,100 units) must be judged as
 * the reference splitter judges them, with a phrase planted whole, cut by a changed word, or
 * split over lines and tabs; and every list word, in any case, must be read as its own.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {wordlist as english} from '@scure/bip39/wordlists/english.js'
import {createSeedPhraseDetector, wordSlotOf} from '../../../src/plugins/scanner/seed-phrase.js'
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

test('seed detector on long ASCII texts reads every list word in any case as the reference splitter does, words sharing a hash slot included', () => {
  const r = prng(2048)
  const det = createSeedPhraseDetector(english, 12, true)
  const bySlot = new Map<number, string[]>()
  for (const w of english) bySlot.set(wordSlotOf(w), [...(bySlot.get(wordSlotOf(w)) ?? []), w])
  // The premise: some words share a slot (read by their text there), the rest have one each.
  const sharing = [...bySlot.values()].filter((ws) => ws.length > 1).flat()
  assert.ok(sharing.length > 20, `${sharing.length} words share a slot`)
  const filler = '#0 x9 '.repeat(30)
  const cases = [(w: string) => w, (w: string) => w.toUpperCase(), (w: string) => w[0]!.toUpperCase() + w.slice(1)]
  for (let i = 0; i < english.length; i++) {
    // A 12-word phrase whose first word is word i (the entropy's first 11 bits are its index).
    const entropy = Buffer.from(Array.from({length: 16}, () => Math.floor(r() * 256)))
    entropy[0] = i >> 3
    entropy[1] = ((i & 7) << 5) | (entropy[1]! & 0x1f)
    const words = phraseFromEntropy(english, entropy).split(' ')
    assert.equal(words[0], english[i])
    const write = cases[i % 3]!
    const text = `${filler}${words.map(write).join(i % 2 === 0 ? ' ' : '\n')} ${filler}`
    assert.equal(det.detect(text), true, text)
    // Word i swapped for a word sharing its slot, or for the next word: the checksum decides.
    const other = (bySlot.get(wordSlotOf(english[i]!))!.find((w) => w !== english[i]) ?? english[(i + 1) % 2048])!
    const swapped = `${filler}${[other, ...words.slice(1)].map(write).join(' ')} ${filler}`
    assert.equal(det.detect(swapped), referenceDetect(english, 12, swapped), swapped)
  }
})
