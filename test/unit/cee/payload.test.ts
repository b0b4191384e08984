import assert from 'node:assert/strict'
import {test} from 'node:test'
import {BODY_PREFIX_BYTES, bodyStreams, extractPayload, queryItemwise, queryPlain, queryPlainBytes} from '../../../src/plugins/cee/payload.js'

/** The joined streams of a payload (its per-field values are tested in field-tails.test). */
const streams = (p: {readonly values: string; readonly keys: string}) => ({values: p.values, keys: p.keys})

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
  assert.deepEqual(streams(extractPayload(`https://h/p?${q}#x`)), queryItemwise(q))
  assert.deepEqual(streams(extractPayload('http://h/?a=%41&b+c=d+e')), {values: 'Ad e', keys: 'ab c'})
  const body = Buffer.from('BODY')
  assert.deepEqual(streams(extractPayload('http://h/?k=v&bare', body)), {values: 'vbareBODY', keys: 'k'})
  assert.deepEqual(streams(extractPayload('http://h/', body)), {values: 'BODY', keys: ''})
})

test('bodyStreams: a JSON body gives its string values in document order, keys and other tokens dropped', () => {
  const body = Buffer.from('{"b":"AKIAZ7QW3E","a":["RT5Y",{"c":"UI6OPL"}],"n":1,"t":true,"z":null,"e":"\\u0041"}')
  assert.deepEqual(streams(bodyStreams(body, 'application/json')), {values: 'AKIAZ7QW3ERT5YUI6OPLA', keys: ''})
  assert.deepEqual(streams(bodyStreams(Buffer.from('{"a":"x"}'), 'Application/Vnd.Api+JSON; charset=utf-8')), {values: 'x', keys: ''})
  // Not JSON after all: its text, as for any other type.
  assert.deepEqual(streams(bodyStreams(Buffer.from('{"a":"x"'), 'application/json')), {values: '{"a":"x"', keys: ''})
  assert.deepEqual(streams(bodyStreams(Buffer.from('{"a":"x"}'), 'text/plain')), {values: '{"a":"x"}', keys: ''})
  assert.deepEqual(streams(bodyStreams(Buffer.from('{"a":"x"}'))), {values: '{"a":"x"}', keys: ''})
})

test('bodyStreams: a form body is read as a query (values and keys, decoded)', () => {
  assert.deepEqual(streams(bodyStreams(Buffer.from('a=AKIA%5A7QW3E&b=c+d&bare&=v'), 'application/x-www-form-urlencoded; charset=utf-8')), {values: 'AKIAZ7QW3Ec dbarev', keys: 'ab'})
  assert.deepEqual(streams(bodyStreams(Buffer.from('a=AKIAZ7QW3E&b=RT5YUI6OPL'), 'application/x-www-form-urlencoded')), {values: 'AKIAZ7QW3ERT5YUI6OPL', keys: 'ab'})
  // The query's keys come first, then the body's.
  assert.deepEqual(streams(extractPayload('http://h/?k=v', Buffer.from('f=w'), 'application/x-www-form-urlencoded')), {values: 'vw', keys: 'kf'})
  assert.deepEqual(streams(extractPayload('http://h/?k=v', Buffer.from('{"f":"w"}'), 'application/json')), {values: 'vw', keys: 'k'})
})

test('bodyStreams: a body adds at most 64 KiB to the values stream, whatever its type', () => {
  const big = 'x'.repeat(BODY_PREFIX_BYTES + 100)
  assert.equal(bodyStreams(Buffer.from(JSON.stringify({a: big})), 'application/json').values.length, BODY_PREFIX_BYTES)
  assert.equal(bodyStreams(Buffer.from(`a=${big}`), 'application/x-www-form-urlencoded').values.length, BODY_PREFIX_BYTES - 2)
  assert.equal(bodyStreams(Buffer.from(big), 'text/plain').values.length, BODY_PREFIX_BYTES)
  // Counted in UTF-8 bytes: 'é' is two.
  assert.equal(Buffer.byteLength(bodyStreams(Buffer.from(JSON.stringify({a: 'é'.repeat(BODY_PREFIX_BYTES)})), 'application/json').values), BODY_PREFIX_BYTES)
})

test('fields: query items then the body\'s, each value under its decoded name (a bare item under \'\'), JSON by member path (strings and numbers as written)', () => {
  assert.deepEqual(extractPayload('http://h/?a=%41&b+c=d+e&bare&&x=1').fields, [['a', 'A'], ['b c', 'd e'], ['', 'bare'], ['x', '1']])
  assert.deepEqual(extractPayload('http://h/?k=v', Buffer.from('f=w&g=%7A'), 'application/x-www-form-urlencoded').fields, [['k', 'v'], ['f', 'w'], ['g', 'z']])
  assert.deepEqual(extractPayload('http://h/?k=v', Buffer.from('{"id":1,"a":{"t":["x","y"]},"s":"z"}'), 'application/json').fields, [['k', 'v'], ['id', '1'], ['a.t', 'x'], ['a.t', 'y'], ['s', 'z']])
  // A raw body has no fields; neither has a request without a query or body.
  assert.deepEqual(extractPayload('http://h/?k=v', Buffer.from('raw'), 'text/plain').fields, [['k', 'v']])
  assert.equal(extractPayload('http://h/p').fields, undefined)
})
