/**
 * The window proof's seed tail and seed check read across the junction of `tail + text`
 * (`seedTailJoined`, `detectJoined`) instead of concatenating: each equals its concatenating
 * original (the oracle) on random pairs split at every kind of point — inside a word, at a
 * separator, inside a long token, between surrogates, with either side empty. Also the decoded
 * stream's malformed-`%` check over `end + text` (`malformedPercentJoined`).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {seedTailJoined} from '../../../src/plugins/cee/seed-tail.js'
import {malformedPercentJoined} from '../../../src/plugins/cee/window-proof.js'
import {createScanner, createSeedPhraseDetector, defaultScannerSettings, isSeedSeparator, SEED_WINDOWS, type DlpEngine} from '../../../src/plugins/scanner/index.js'
import {phraseFromEntropy, prng, syntheticWordList} from '../scanner/fixtures.js'

// The oracles: the concatenating originals (window-proof.ts before the joined readers).
const SEED_SPAN = Math.max(...SEED_WINDOWS)

function seedTail(engine: DlpEngine, s: string): string {
  const isWord = engine.seed.isWord
  const maxLen = engine.seed.maxWordLength
  let i = s.length
  for (let n = 0; n < SEED_SPAN; n++) {
    let e = i
    while (e > 0 && isSeedSeparator(s.charCodeAt(e - 1))) e--
    if (e === 0) return s
    let b = e
    while (b > 0 && !isSeedSeparator(s.charCodeAt(b - 1))) b--
    if (e === s.length) {
      if (maxLen !== undefined && e - b > 2 * (maxLen + 1)) return s.slice(e - 2 * (maxLen + 1))
    } else if (isWord !== undefined && !isWord(s.slice(b, e).toLowerCase())) return s.slice(e)
    i = b
  }
  return s.slice(i)
}

const isHexUnit = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)

function malformedPercent(s: string, whole: boolean): boolean {
  for (let i = s.indexOf('%'); i >= 0; i = s.indexOf('%', i + 1)) {
    if (i + 2 >= s.length && !whole) {
      if (i + 1 < s.length && !isHexUnit(s.charCodeAt(i + 1))) return true
      continue
    }
    if (i + 2 >= s.length || !isHexUnit(s.charCodeAt(i + 1)) || !isHexUnit(s.charCodeAt(i + 2))) return true
  }
  return false
}

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
