/**
 * `isAsciiText` (issue 36): the ASCII test several scan steps make before taking an ASCII-only
 * path, a probe of the first units and then a native count, against a unit-by-unit reference.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {isAsciiText} from '../../../src/plugins/scanner/ascii-text.js'
import {prng} from './fixtures.js'

test('isAsciiText answers as a unit-by-unit test: a non-ASCII unit in the probe, after it, at the end, lone surrogates', () => {
  const reference = (s: string): boolean => [...Array(s.length).keys()].every((i) => s.charCodeAt(i) < 0x80)
  const r = prng(808)
  const odd = ['\u0080', '\u00ff', '\u0416', '\ud800', '\udc00', '\ud83d\ude00', '\uffff']
  for (const len of [0, 1, 63, 64, 65, 200, 5000]) {
    const ascii = Array.from({length: len}, () => String.fromCharCode(Math.floor(r() * 128))).join('')
    assert.equal(isAsciiText(ascii), true, `ascii length ${len}`)
    for (const at of [0, 31, 63, 64, 65, len - 1]) {
      if (at < 0 || at >= len) continue
      for (const o of odd) {
        const s = ascii.slice(0, at) + o + ascii.slice(at + 1)
        assert.equal(isAsciiText(s), reference(s), `${JSON.stringify(o)} at ${at} of ${len}`)
      }
    }
  }
})
