/**
 * The scanner's `shannonEntropy` (the typed-array counter CEE uses for every request) against its
 * Map-based definition as the oracle: bit-identical (`Object.is`) on seeded random strings
 * over ASCII, Latin-1, BMP, astral code points and lone surrogates, and on the `cee` bench URLs.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {payloadBits} from '../../../src/plugins/cee/index.js'
import {shannonEntropy as codePointEntropy, utf8Length} from '../../../src/plugins/scanner/index.js'
import {urlOfSize} from '../../../bench/cee.js'
import {prng} from '../scanner/fixtures.js'

/** The definition: code points counted in a Map (Go's range over a string), summed in first-occurrence order. */
function shannonEntropy(s: string): number {
  if (s.length === 0) return 0
  const counts = new Map<number, number>()
  let n = 0
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    counts.set(cp, (counts.get(cp) ?? 0) + 1)
    n++
  }
  let h = 0
  for (const c of counts.values()) {
    const p = c / n
    h -= p * Math.log2(p)
  }
  return h
}

const POOLS: ReadonlyArray<readonly number[]> = [
  [0x20, 0x7f], // printable ASCII
  [0x00, 0x20], // controls
  [0x80, 0x800], // two-byte UTF-8
  [0x800, 0xd7ff], // BMP
  [0xd800, 0xdfff], // lone surrogates (halves of pairs when adjacent)
  [0x10000, 0x10ffff], // astral (surrogate pairs)
]

function randomString(r: () => number, n: number): string {
  let s = ''
  const pools = POOLS.filter(() => r() < 0.5)
  if (pools.length === 0) pools.push(POOLS[0]!)
  for (let i = 0; i < n; i++) {
    const [lo, hi] = pools[Math.floor(r() * pools.length)]!
    // A small alphabet per pool so counts repeat (the order of first occurrence matters).
    const cp = lo! + Math.floor(r() * Math.min(hi! - lo!, 1 + Math.floor(r() * 40)))
    s += String.fromCodePoint(cp)
  }
  return s
}

test('codePointEntropy is bit-identical to the scanner shannonEntropy (seeded random strings, 4,000 cases)', () => {
  const r = prng(1515)
  for (let i = 0; i < 4000; i++) {
    const s = randomString(r, Math.floor(r() * 300))
    const want = shannonEntropy(s)
    const got = codePointEntropy(s)
    assert.ok(Object.is(got, want), `case ${i}: ${got} !== ${want} for ${JSON.stringify(s)}`)
    assert.ok(Object.is(payloadBits(s), s === '' ? 0 : want * utf8Length(s)), `bits, case ${i}`)
  }
})

test('codePointEntropy: edge cases and the bench URLs are bit-identical to shannonEntropy', () => {
  const cases = ['', 'a', 'aaaa', 'abcd', 'é1', '\ud83d', '\ude00x', '\ud83d\ude00\ud83d', 'x\ud83d\ude00', '\u0000\u007f\u0080']
  for (const size of [256, 1024, 2048, 65536]) cases.push(urlOfSize(size, size))
  for (const s of cases) assert.ok(Object.is(codePointEntropy(s), shannonEntropy(s)), JSON.stringify(s.slice(0, 40)))
  assert.equal(payloadBits('abcd'), 8)
})

test('shannonEntropy keeps no state between calls: its scratch counts are reset and its order list grows past 256 code points', () => {
  const manyDistinct = Array.from({length: 1000}, (_, i) => String.fromCodePoint(0x4e00 + i)).join('') + 'abcabc'
  const texts = ['aaaa', manyDistinct, 'ab', 'aaaa', 'x'.repeat(300) + 'y', manyDistinct + manyDistinct, 'b', '']
  for (let round = 0; round < 3; round++) for (const t of texts) assert.ok(Object.is(codePointEntropy(t), shannonEntropy(t)), `${t.length} chars`)
})
