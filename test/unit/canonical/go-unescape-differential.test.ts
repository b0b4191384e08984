/**
 * `goUnescape` refuses a text with a bad escape from its code units, before making its bytes
 * (go-url.ts `escapesWellFormed`). The byte loop it replaced for those texts is kept here as the
 * oracle: on random texts of `%`, hex digits, `+`, other ASCII, non-ASCII, astral characters and
 * lone surrogates, both give the same answer, null or the same string.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {goUnescape, hexDigitValue} from '../../../src/plugins/canonical/go-url.js'
import {prng} from '../../helpers/prng.js'

/** `goUnescape` as it was: the text's UTF-8 bytes decoded in one loop, null at a bad escape. */
function oracle(s: string, plusToSpace: boolean): string | null {
  if (!s.includes('%') && !(plusToSpace && s.includes('+'))) return s
  const src = Buffer.from(s, 'utf8')
  const bytes: number[] = []
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (c === 0x25) {
      if (i + 2 >= src.length || hexDigitValue(src[i + 1]!) < 0 || hexDigitValue(src[i + 2]!) < 0) return null
      bytes.push(hexDigitValue(src[i + 1]!) * 16 + hexDigitValue(src[i + 2]!))
      i += 2
    } else bytes.push(c === 0x2b && plusToSpace ? 0x20 : c)
  }
  return Buffer.from(bytes).toString('utf8')
}

test('goUnescape equals the byte-loop oracle on random texts (bad escapes anywhere, at the end, beside non-ASCII)', () => {
  const r = prng(3709)
  const units = ['%', '%', '%', 'a', 'F', '0', '9', 'g', 'G', '+', ' ', 'x', '.', 'é', '你', '😀', '\ud800', '\udc00', '%2', '%41', '%e4%bd%a0', '%C3', '%25', '\u0000']
  let nulls = 0
  let decoded = 0
  for (let i = 0; i < 30000; i++) {
    const s = Array.from({length: Math.floor(r() * 12)}, () => units[Math.floor(r() * units.length)]!).join('')
    for (const plus of [true, false]) {
      const want = oracle(s, plus)
      assert.equal(goUnescape(s, plus), want, JSON.stringify(s))
      if (want === null) nulls++
      else if (want !== s) decoded++
    }
  }
  assert.ok(nulls > 1000 && decoded > 1000, `${nulls} ${decoded}`)
  for (const s of ['%', '%a', '%a\u00e9', '%\u00e9', 'a%', '%4%41', '%41%', '%41%4', '+%41', '%\ud800a', 'abc%zz', '%%41']) {
    for (const plus of [true, false]) assert.equal(goUnescape(s, plus), oracle(s, plus), JSON.stringify(s))
  }
})
