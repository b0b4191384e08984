/**
 * The window proof's string slots kept as UTF-16 units (`cee/tail-arena.ts`): every string comes
 * back unit for unit (lone surrogates, non-Latin-1, empty) after any sequence of writes and
 * flushes, slots of changing lengths do not disturb each other, and flushing drops the cache.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {TailArena} from '../../../src/plugins/cee/tail-arena.js'
import {prng} from '../scanner/fixtures.js'

test('tail arena: random writes of random lengths and units, flushed at random — every slot reads back what was written last', () => {
  const r = prng(5150)
  const units = ['a', 'Z', '%', '\u00e9', '\u20ac', '\ud83d', '\ude00', '\ud83d\ude00', '\u0000', '\uffff', 'xyz']
  const a = new TailArena(7)
  const want = new Array<string>(7).fill('')
  for (let step = 0; step < 5000; step++) {
    const slot = Math.floor(r() * 7)
    if (r() < 0.6) {
      const n = Math.floor(r() * (r() < 0.1 ? 600 : 60))
      const s = Array.from({length: n}, () => units[Math.floor(r() * units.length)]!).join('')
      a.set(slot, s)
      want[slot] = s
    }
    if (r() < 0.4) a.flush()
    assert.equal(a.length(slot), want[slot]!.length)
    if (r() < 0.5) assert.equal(a.get(slot), want[slot])
  }
  a.flush()
  for (let i = 0; i < 7; i++) assert.equal(a.get(i), want[i])
  assert.ok(a.size >= want.join('').length)
})

test('tail arena: one byte per unit while every unit is below 256, two once one is not, and back', () => {
  const a = new TailArena(3)
  a.set(0, 'abc')
  a.set(2, '\u00ff\u00e9')
  a.flush()
  assert.equal(a.size, 5 + 16)
  a.set(1, 'x\u20acy')
  a.flush()
  assert.equal(a.size, 2 * (8 + 16))
  assert.deepEqual([a.get(0), a.get(1), a.get(2)], ['abc', 'x\u20acy', '\u00ff\u00e9'])
  a.set(1, '')
  a.flush()
  assert.equal(a.size, 5 + 16)
  assert.deepEqual([a.get(0), a.get(1), a.get(2)], ['abc', '', '\u00ff\u00e9'])
})

test('tail arena: a slot far longer than the caps (a proof given up on, with max_buffer_bytes raised to 1 MiB) reads back whole, one and two bytes a unit', () => {
  const ascii = 'seed '.repeat(60_000)
  const wide = '\u20ac\ud83d'.repeat(100_000) + 'x'
  for (const long of [ascii, wide]) {
    const a = new TailArena(3)
    a.set(0, 'head')
    a.set(1, long)
    a.set(2, 'tail')
    a.flush()
    assert.equal(a.get(1), long)
    assert.equal(a.get(0) + a.get(2), 'headtail')
    a.set(0, 'h2')
    a.flush() // re-reads every slot, the long one included
    assert.equal(a.get(1).length, long.length)
  }
})
