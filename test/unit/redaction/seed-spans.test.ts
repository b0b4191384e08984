// `seed-phrase` spans (envelope-redaction §14.2): the one-walk search (seed.ts) and the
// document-wide screen (matcher.ts) give exactly the verdicts of the former search, which is kept
// here as the oracle: split on `[-\s,|;:]`, look each token of at most 8 units up lower-cased, and
// for each window length slide over the tokens (a window of words with a valid checksum is a span,
// the next window starts after it).
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {entropyToMnemonic} from '@scure/bip39'
import {wordlist} from '@scure/bip39/wordlists/english.js'
import {resolveConfig} from '../../../src/plugins/config/index.js'
import {bip39ChecksumValid} from '../../../src/plugins/scanner/index.js'
import {Matcher} from '../../../src/plugins/redaction/matcher.js'
import {seedPhraseSpans} from '../../../src/plugins/redaction/seed.js'
import {prng} from '../../helpers/prng.js'

const INDEX = new Map(wordlist.map((w, i) => [w, i]))
const isSep = (c: number): boolean => c === 0x2d || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20 || c === 0x2c || c === 0x7c || c === 0x3b || c === 0x3a

function oracle(text: string): [number, number][] {
  const starts: number[] = []
  const ends: number[] = []
  const words: number[] = []
  let i = 0
  while (i < text.length) {
    while (i < text.length && isSep(text.charCodeAt(i))) i++
    if (i >= text.length) break
    const s = i
    while (i < text.length && !isSep(text.charCodeAt(i))) i++
    starts.push(s)
    ends.push(i)
    words.push(i - s > 8 ? -1 : (INDEX.get(text.slice(s, i).toLowerCase()) ?? -1))
  }
  if (words.length < 12) return []
  const out: [number, number][] = []
  for (const L of [12, 15, 18, 21, 24]) {
    let w = 0
    while (w + L <= words.length) {
      let all = true
      for (let k = w; k < w + L; k++) {
        if (words[k]! < 0) {
          all = false
          w = k + 1
          break
        }
      }
      if (!all) continue
      if (bip39ChecksumValid(words.slice(w, w + L))) {
        out.push([starts[w]!, ends[w + L - 1]!])
        w += L
      } else w++
    }
  }
  return out
}

/** Random text rich in words, valid phrases of every length, near-words and odd units. */
function randomText(r: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!
  const seps = [' ', ' ', ' ', '\n', '\t', ',', ', ', '-', '|', ';', ':', '  ', '\r\n', '\f']
  const parts: string[] = []
  const n = 1 + Math.floor(r() * 60)
  for (let k = 0; k < n; k++) {
    const x = r()
    if (x < 0.12) {
      const bytes = pick([16, 20, 24, 28, 32])
      const ent = new Uint8Array(bytes).map(() => Math.floor(r() * 256))
      parts.push(...entropyToMnemonic(ent, wordlist).split(' '))
    } else if (x < 0.55) parts.push(pick(wordlist))
    else if (x < 0.62) parts.push(pick(wordlist).toUpperCase())
    else if (x < 0.66) parts.push(pick(wordlist).replace(/^./, (c) => c.toUpperCase()))
    else if (x < 0.7) parts.push(pick(wordlist) + pick(['s', '.', '1', '_', 'é']))
    else if (x < 0.73) parts.push(pick(['\u212Aey', 'KE\u212A'.toLowerCase(), '\u212Aid', 'ﬁnd', 'İtem', 'ΣΑΣ', '\ud83d\ude00', '\ud800', 'été', 'naïve']))
    else if (x < 0.8) parts.push(pick(['a', 'an', 'to', 'of', 'is', 'x', '42', 'deployment', 'publishes', 'abandonment', 'zooo', 'zoo', 'ab']))
    else parts.push(pick(wordlist).slice(0, 1 + Math.floor(r() * 7)))
  }
  let text = r() < 0.3 ? pick(seps) : ''
  for (let k = 0; k < parts.length; k++) {
    // Sometimes two tokens glued, sometimes a repeated phrase from the previous window.
    text += parts[k]! + (k + 1 < parts.length ? (r() < 0.03 ? '' : pick(seps)) : r() < 0.3 ? pick(seps) : '')
  }
  return text
}

test('the one-walk search finds exactly the former spans (1,000 random texts, valid phrases of every length)', () => {
  const r = prng(35)
  let withSpans = 0
  for (let k = 0; k < 1000; k++) {
    const t = randomText(r)
    const want = oracle(t)
    if (want.length > 0) withSpans++
    assert.deepEqual(seedPhraseSpans(t), want, JSON.stringify(t))
  }
  assert.ok(withSpans > 60, `only ${withSpans} texts held a phrase`)
})

test('fixed cases: upper case, the Kelvin sign, glued and over-long tokens, separators at both ends', () => {
  const twelve = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
  for (const t of [
    twelve, twelve.toUpperCase(), ` ,${twelve}|\n`, twelve.replace(/ /g, '-'), twelve.replace('about', 'aboutt'), twelve.replace('abandon', 'abandonabandon'),
    `${twelve} ${twelve}`, `x ${twelve}`, twelve.replace(/^abandon/, 'ABANDON'), 'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong',
    // U+212A KELVIN SIGN lower-cases to `k`: `\u212Aey` is the word `key` for the former search too.
    Array(11).fill('\u212Aey').join(' ') + ' key', '',
  ]) assert.deepEqual(seedPhraseSpans(t), oracle(t), JSON.stringify(t))
})

/** §15 admission among spans of one class: by start, longer first, overlaps dropped. */
function admitted(spans: [number, number][]): [number, number][] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0] || (b[1] - b[0]) - (a[1] - a[0]))
  const out: [number, number][] = []
  for (const s of sorted) if (!out.some((a) => s[0] < a[1] && a[0] < s[1])) out.push(s)
  return out.sort((a, b) => a[0] - b[0])
}

test('the document-wide screen never drops a phrase: Matcher.findAll equals the oracle per scalar of 35+ units', () => {
  const cfg = resolveConfig({request_body_scanning: {enabled: true}, redaction: {enabled: true, default_profile: 'p', profiles: {p: {classes: ['seed-phrase']}}}}, {env: {}}).config.redaction
  const m = new Matcher(cfg, {env: [], file: []})
  const r = prng(3535)
  for (let k = 0; k < 300; k++) {
    // A document's scalars: short keys (which make runs of plausible tokens across junctions) and texts.
    const scalars: string[] = []
    const n = 1 + Math.floor(r() * 8)
    for (let j = 0; j < n; j++) scalars.push(r() < 0.4 ? wordlist[Math.floor(r() * 2048)]! : randomText(r))
    const got = m.findAll(scalars)
    for (let j = 0; j < n; j++) {
      const want = scalars[j]!.length < 35 ? [] : admitted(oracle(scalars[j]!))
      const spans = (got.get(j) ?? []).map((s) => [s.start, s.end] as [number, number])
      assert.deepEqual(spans, want, JSON.stringify(scalars[j]))
      assert.ok((got.get(j) ?? []).every((s) => s.cls === 'seed-phrase'))
    }
  }
})
