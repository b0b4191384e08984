import assert from 'node:assert/strict'
import {test} from 'node:test'
import {extractPayload, queryItemwise, queryPlain, queryPlainBytes} from '../../../src/plugins/cee/payload.js'

/** Seeded LCG (deterministic runs). */
function rng(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    return x / 2 ** 32
  }
}

test('queryPlain equals the item-wise path (the oracle) on every query without % and +', () => {
  const crafted = ['', '&', '&&', '=', '==', '&=&', 'a', 'a=', '=b', 'a=b=c', 'a&b', 'a=b&c', '&a=b&', 'a;b=c;d', 'é=ü&ß', 'k=v&&&k2=&bare&=x=y', '\u{1f600}=\ud800&x']
  for (const q of crafted) assert.deepEqual(queryPlain(q), queryItemwise(q), JSON.stringify(q))
  const alphabet = ['a', 'b', 'Z', '0', '9', '-', '_', '.', '=', '=', '&', '&', ';', '#', '/', '?', 'é', '\u{1f600}', '\ud800', ' ']
  const r = rng(15)
  for (let n = 0; n < 5000; n++) {
    const len = Math.floor(r() * 40)
    let q = ''
    for (let i = 0; i < len; i++) q += alphabet[Math.floor(r() * alphabet.length)]!
    assert.deepEqual(queryPlain(q), queryItemwise(q), JSON.stringify(q))
  }
})

test('queryPlainBytes equals queryPlain (its oracle) on every one-byte query, and declines the rest', () => {
  const crafted = ['', '&', '&&', '=', '==', '&=&', 'a', 'a=', '=b', 'a=b=c', 'a&b', 'a=b&c', '&a=b&', 'a;b=c;d', 'é=ü&ß', 'k=v&&&k2=&bare&=x=y', '\xff=\x00&\x80', '==a&=&b==']
  for (const q of crafted) assert.deepEqual(queryPlainBytes(q), queryPlain(q), JSON.stringify(q))
  for (const q of ['\u0100', 'a=b&\u{1f600}=x', 'k=\ud800']) assert.equal(queryPlainBytes(q), null, JSON.stringify(q))
  const alphabet = ['a', 'b', 'Z', '0', '9', '-', '_', '.', '=', '=', '=', '&', '&', '&', ';', '#', '/', '?', 'é', '\xff', '\x00', ' ']
  const r = rng(16)
  for (let n = 0; n < 5000; n++) {
    // Lengths past the reused scratch (8 KiB and 64 KiB) now and then.
    const len = n % 500 === 0 ? 40_000 + Math.floor(r() * 30_000) : Math.floor(r() * 60)
    let q = ''
    for (let i = 0; i < len; i++) q += alphabet[Math.floor(r() * alphabet.length)]!
    assert.deepEqual(queryPlainBytes(q), queryPlain(q), `length ${q.length}`)
  }
})

test('extractPayload: plain queries take the one-pass path, escaped ones the item-wise path; the body is appended flat', () => {
  const q = Array.from({length: 120}, (_, i) => `p${i % 97}=hotel-${(i * 7919) % 100000}`).join('&')
  assert.deepEqual(extractPayload(`https://h/p?${q}#x`), queryItemwise(q))
  assert.deepEqual(extractPayload('http://h/?a=%41&b+c=d+e'), {values: 'Ad e', keys: 'ab c'})
  const body = Buffer.from('BODY')
  assert.deepEqual(extractPayload('http://h/?k=v&bare', body), {values: 'vbareBODY', keys: 'k'})
  assert.deepEqual(extractPayload('http://h/', body), {values: 'BODY', keys: ''})
})
