import assert from 'node:assert/strict'
import {test} from 'node:test'
import {Utf8Scratch} from '../../../src/plugins/scanner/utf8-scratch.js'

test('Utf8Scratch.encodeJoined(a, b) gives the bytes of encode(a + b), surrogate pairs split at the junction included', () => {
  const units = ['a', 'Z', '~', '\n', 'é', '€', '\ufffd', '\ud83d', '\ude00', '\ud800', '\udfff', '\u0301']
  let x = 7
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    return x % n
  }
  const str = (): string => Array.from({length: rnd(9)}, () => units[rnd(units.length)]).join('')
  const s = new Utf8Scratch()
  const one = new Utf8Scratch()
  for (let i = 0; i < 20_000; i++) {
    const [a, b] = [str(), str()]
    assert.deepEqual(Buffer.from(s.encodeJoined(a, b)), Buffer.from(one.encode(a + b)), JSON.stringify([a, b]))
  }
  // Growing past the scratch, and a pair split exactly at the junction.
  const big = 'x'.repeat(3000)
  assert.deepEqual(Buffer.from(s.encodeJoined(big, `${big}\ud83d`)), Buffer.from(`${big}${big}\ud83d`, 'utf8'))
  assert.equal(s.encodeJoined('\ud83d', '\ude00').toString('utf8'), '\u{1f600}')
})
