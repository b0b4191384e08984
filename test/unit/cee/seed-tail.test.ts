/**
 * The window proof's seed tail and seed check read across the junction of `tail + text`
 * (`seedTailJoined`, `detectJoined`) instead of concatenating: each equals its concatenating
 * original (the oracle) on random pairs split at every kind of point — inside a word, at a
 * separator, inside a long token, between surrogates, with either side empty. Also the decoded
 * stream's malformed-`%` check over `end + text` (`malformedPercentJoined`).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {seedTail, seedTailJoined} from '../../../src/plugins/cee/seed-tail.js'
import {malformedPercent, malformedPercentJoined} from '../../../src/plugins/cee/window-proof.js'
import {createScanner, createSeedPhraseDetector, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'
import {phraseFromEntropy, prng, syntheticWordList} from '../scanner/fixtures.js'

const list = syntheticWordList()
const settings = defaultScannerSettings()
settings.seedPhrase.wordList = list
const engine = createScanner(settings).dlp
const phrases = [phraseFromEntropy(list, Buffer.alloc(16, 5)), phraseFromEntropy(list, Buffer.alloc(32, 8)), phraseFromEntropy(list, Buffer.alloc(16, 9)).replace(/ /g, '-')]
const units = ['\ufffd', '\u03a3', '\u00e9', '\ud83d\ude00', '\ud800', '\udc00', ' ', '-', ',', '|', ';', ':', '\t', '\n', '.', '=', 'x', 'Q']

function randomText(r: () => number, maxParts: number): string {
  let s = ''
  const parts = Math.floor(r() * maxParts)
  for (let i = 0; i < parts; i++) {
    const x = r()
    const piece =
      x < 0.04 ? phrases[Math.floor(r() * phrases.length)]!
      : x < 0.5 ? list[Math.floor(r() * 40)]!
      : x < 0.58 ? list[Math.floor(r() * 40)]!.toUpperCase()
      : x < 0.62 ? 'z'.repeat(5 + Math.floor(r() * 30))
      : units[Math.floor(r() * units.length)]!
    s += piece + (r() < 0.6 ? ' ' : '')
  }
  return s
}

test('seedTailJoined equals seedTail of the concatenation (the oracle) at every split', () => {
  const r = prng(77)
  let reachedHead = 0
  for (let n = 0; n < 4000; n++) {
    const s = randomText(r, n % 10 === 0 ? 80 : 30)
    const cuts = s.length < 40 ? Array.from({length: s.length + 1}, (_, i) => i) : [0, s.length, Math.floor(r() * (s.length + 1)), Math.floor(r() * (s.length + 1))]
    const want = seedTail(engine, s)
    for (const c of cuts) {
      const got = seedTailJoined(engine, s.slice(0, c), s.slice(c))
      assert.equal(got, want, JSON.stringify([s.slice(0, c), s.slice(c)]))
      if (want.length > s.length - c) reachedHead++
    }
  }
  assert.ok(reachedHead > 1000, `answers reaching into the head: ${reachedHead}`)
})

test('detectJoined equals detect of the concatenation (the oracle) at every split', () => {
  const r = prng(78)
  for (const det of [engine.seed, createSeedPhraseDetector(list, 12, true), createSeedPhraseDetector(list, 15, false)]) {
    let found = 0
    for (let n = 0; n < 3000; n++) {
      const s = randomText(r, n % 7 === 0 ? 60 : 40)
      const want = det.detect(s)
      if (want) found++
      for (const c of [0, s.length, Math.floor(r() * (s.length + 1)), Math.floor(r() * (s.length + 1))]) {
        assert.equal(det.detectJoined!(s.slice(0, c), s.slice(c)), want, JSON.stringify([s.slice(0, c), s.slice(c)]))
      }
    }
    assert.ok(found > 50, `phrases found: ${found}`)
    // A phrase split at every point (the screens must count tokens across the junction).
    for (const p of phrases) for (let c = 0; c <= p.length; c++) assert.equal(det.detectJoined!(p.slice(0, c), p.slice(c)), det.detect(p), `${p} at ${c}`)
  }
})

test('malformedPercentJoined equals malformedPercent of the concatenation (the oracle) at every split, whole or not', () => {
  const r = prng(79)
  const alphabet = ['%', '%', '%', '0', '9', 'a', 'F', 'f', 'g', 'G', 'x', '+', '\ufffd', '\ud800']
  let malformed = 0
  for (let n = 0; n < 20_000; n++) {
    const len = Math.floor(r() * 12)
    let s = ''
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)]!
    for (const whole of [false, true]) {
      const want = malformedPercent(s, whole)
      if (want) malformed++
      for (let c = 0; c <= s.length; c++) assert.equal(malformedPercentJoined(s.slice(0, c), s.slice(c), whole), want, JSON.stringify([s.slice(0, c), s.slice(c), whole]))
    }
  }
  assert.ok(malformed > 5000 && malformed < 35_000, `malformed: ${malformed}`)
})
