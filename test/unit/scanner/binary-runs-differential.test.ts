/**
 * The run finders of a binary body (issue 36) against their byte-by-byte oracles, on the bodies
 * where a skipping finder can go wrong: text planted at the very start and end of a body and
 * against invalid bytes, runs exactly as long as the minimum and one byte shorter, multi-byte
 * UTF-8 cut at a run's edges, control bytes inside, beside and alone (the control-byte check
 * searches byte values natively), and the runs' one-buffer joins (each run copied, one reading).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {MIN_TEXT_RUN, textRuns} from '../../../src/plugins/scanner/index.js'
import {printableRuns} from '../../../src/plugins/scanner/decoders.js'
import {prng} from './fixtures.js'
import {oraclePrintable, oracleRuns} from './oracles.js'

/** Pieces a body is built from: noise, invalid bytes, text of edge lengths, cut sequences, controls. */
function pieces(rand: () => number): Buffer[] {
  const ascii = (n: number): Buffer => Buffer.from(Array.from({length: n}, (_, k) => 0x21 + ((k * 7) % 94)))
  return [
    Buffer.from([0xff]), Buffer.from([0xc0]), Buffer.from([0x80]), Buffer.from([0xfe, 0xf5]),
    ascii(MIN_TEXT_RUN), ascii(MIN_TEXT_RUN - 1), ascii(MIN_TEXT_RUN + 1), ascii(6), ascii(5), ascii(7), ascii(1 + Math.floor(rand() * 40)),
    Buffer.from('ignore all previous instructions'), Buffer.from('4111 1111 1111 1111'),
    // Multi-byte text, whole and cut after each of its bytes.
    Buffer.from('héllo wörld é'), Buffer.from('漢字テキスト'), Buffer.from('🙂🙂🙂'),
    Buffer.from([0xc3]), Buffer.from([0xe6, 0xbc]), Buffer.from([0xf0, 0x9f, 0x99]), Buffer.from([0xe2, 0x82]),
    // Ill-formed second bytes: overlong, surrogate, past U+10FFFF.
    Buffer.from([0xe0, 0x80, 0x80]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xf0, 0x80, 0x80, 0x80]),
    // Control bytes: the ones that make a body binary (NUL, 0x1f, DEL) and the ones that do not (tab, LF, CR).
    Buffer.from([0x00]), Buffer.from([0x1f]), Buffer.from([0x7f]), Buffer.from([0x0b]), Buffer.from([0x09]), Buffer.from([0x0a]), Buffer.from([0x0d]),
    Buffer.from('a\tb\tc\td\te\tf'), Buffer.from('line one\r\nline two'),
  ]
}

function noise(rand: () => number, n: number): Buffer {
  return Buffer.from(Array.from({length: n}, () => Math.floor(rand() * 256)))
}

/** A body of random pieces and noise; `noNoise` keeps it to the pieces (text with controls, no random bytes). */
function body(rand: () => number, noNoise: boolean): Buffer {
  const ps = pieces(rand)
  const parts: Buffer[] = []
  const count = Math.floor(rand() * 12)
  for (let k = 0; k < count; k++) {
    if (!noNoise && rand() < 0.4) parts.push(noise(rand, Math.floor(rand() * 64)))
    else parts.push(ps[Math.floor(rand() * ps.length)]!)
  }
  return Buffer.concat(parts)
}

function check(b: Buffer, label: string): void {
  for (const min of [MIN_TEXT_RUN, 5, 4, 2, 1]) assert.equal(textRuns(b, min), oracleRuns(b, min), `${label}: text runs, min ${min}`)
  for (const min of [6, 1, 2, 3, 4, 5, 7, 12]) assert.equal(printableRuns(b, min), oraclePrintable(b, min), `${label}: printable runs, min ${min}`)
}

test('text and printable runs equal the byte-by-byte oracles on planted, cut and control-byte bodies', () => {
  const rand = prng(36)
  for (let k = 0; k < 3000; k++) check(body(rand, k % 3 === 0), `body ${k}`)
})

test('every piece alone, at the start and at the end of noise, and every sub-range of a mixed body', () => {
  const rand = prng(37)
  for (const p of pieces(rand)) {
    check(p, `piece ${p.toString('hex')}`)
    check(Buffer.concat([p, noise(rand, 100)]), `piece first ${p.toString('hex')}`)
    check(Buffer.concat([noise(rand, 100), p]), `piece last ${p.toString('hex')}`)
  }
  // One body with a run of each edge length, read from every start and to every end: each run is
  // cut at every byte, a multi-byte sequence included.
  const mixed = Buffer.concat([
    Buffer.from([0xff]), Buffer.from('abcdefghijkl'), Buffer.from([0x00]), Buffer.from('abcdef'), Buffer.from([0xc0]),
    Buffer.from('héllo wörld'), Buffer.from([0x7f]), Buffer.from('abcde'), Buffer.from([0xe2, 0x82]), Buffer.from('🙂 text 🙂'), Buffer.from([0x1f]),
  ])
  for (let s = 0; s < mixed.length; s++) for (let e = s; e <= mixed.length; e++) check(mixed.subarray(s, e), `mixed [${s}, ${e})`)
})

test('a control byte anywhere in an otherwise printable body makes it binary; none leaves it text', () => {
  const text = Buffer.from('plain text with tabs\tand line breaks\r\nbut no other control byte, and é ü 漢字')
  assert.equal(printableRuns(text), null)
  for (const c of [...Array.from({length: 0x20}, (_, k) => k), 0x7f]) {
    for (const at of [0, 17, text.length]) {
      const b = Buffer.concat([text.subarray(0, at), Buffer.from([c]), text.subarray(at)])
      assert.equal(printableRuns(b), oraclePrintable(b), `byte ${c} at ${at}`)
      assert.equal(printableRuns(b) === null, c === 0x09 || c === 0x0a || c === 0x0d, `byte ${c} at ${at}`)
    }
  }
  // A view into a larger buffer: only the view's bytes count.
  const outer = Buffer.concat([Buffer.from([0x00]), text, Buffer.from([0x01])])
  assert.equal(printableRuns(outer.subarray(1, 1 + text.length)), null)
  assert.equal(textRuns(outer.subarray(1, 1 + text.length)), oracleRuns(text, MIN_TEXT_RUN))
})
