/**
 * `unitsOf` and `copyUnits` (issue 36): the scanner's long walks read a text's code units from a
 * typed array copy. The copy holds exactly the units `charCodeAt` reads, lone surrogates
 * included, for short texts (copied by a loop) and long ones (natively), across scratch reuse
 * and growth.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {unitsOf} from '../../../src/plugins/scanner/text-units.js'
import {prng} from './fixtures.js'

test('unitsOf holds the units charCodeAt reads, short and long, one-byte and two-byte texts, lone surrogates', () => {
  const r = prng(9090)
  const pool = ['a', ' ', '\n', '\u0000', '\u00e9', '\u00ff', '\u0416', '\u3000', '\ud800', '\udfff', '\ud83d\ude00', '\ufffd', 'word']
  for (const len of [0, 1, 63, 64, 65, 1000, 70_000, 3, 600_000, 10]) {
    const s = Array.from({length: len}, () => pool[Math.floor(r() * pool.length)]!).join('').slice(0, len)
    const u = unitsOf(s)
    assert.ok(u.length >= s.length, `length ${len}`)
    for (let i = 0; i < s.length; i++) if (u[i] !== s.charCodeAt(i)) assert.fail(`length ${len}: unit ${i} is ${u[i]}, not ${s.charCodeAt(i)}`)
  }
  // A one-byte string (Latin-1) is widened unit for unit.
  const latin1 = Buffer.from(Array.from({length: 300}, (_, i) => i & 0xff)).toString('latin1')
  const u = unitsOf(latin1)
  for (let i = 0; i < latin1.length; i++) assert.equal(u[i], i & 0xff)
})

test('unitsOf with a tail holds the units of the concatenation, at every length around the short copy', () => {
  const r = prng(9191)
  for (const [a, b] of [[0, 5], [5, 0], [63, 1], [64, 64], [100, 3], [3, 100], [2000, 70]] as const) {
    const make = (n: number): string => Array.from({length: n}, () => String.fromCharCode(Math.floor(r() * 0x10000))).join('')
    const head = make(a)
    const tail = make(b)
    const joined = head + tail
    const u = unitsOf(head, tail)
    for (let i = 0; i < joined.length; i++) if (u[i] !== joined.charCodeAt(i)) assert.fail(`${a}+${b}: unit ${i}`)
  }
})
