import assert from 'node:assert/strict'
import {test} from 'node:test'
import {ReaderJoin, TAIL_BYTES} from '../../../src/plugins/proxy/websocket/reader-join.js'

const HEAD = 'AKIAZ7QW3E'
const REST = 'RT5YUI8OPL'

/** The junction of `b` after `a` on a fresh connection. */
function junction(a: string, b: string): string | null {
  const r = new ReaderJoin()
  assert.equal(r.next(a).junction, null, 'the first message has nothing before it')
  return r.next(b).junction
}

test('JSON messages are read as their string values in document order', () => {
  assert.equal(junction(`"${HEAD}"`, `"${REST}"`), HEAD + REST)
  assert.equal(junction(`{"t":"${HEAD}","n":1}`, `{"n":2,"t":"${REST}"}`), HEAD + REST)
  assert.equal(junction(`["${HEAD}"]`, `{"a":{"b":["${REST}"]}}`), HEAD + REST)
  const r = new ReaderJoin()
  assert.equal(r.next(`{"t":"${HEAD}"}`).json?.values.join(''), HEAD)
  assert.equal(r.next(`x ${REST}`).json, null)
})

test('text: the label or ending the two messages share is left out, and the separators where they meet', () => {
  assert.equal(junction(`x ${HEAD}`, `x ${REST}`), `x ${HEAD}${REST}`)
  assert.equal(junction(`say: ${HEAD}`, `say: ${REST}`), `say: ${HEAD}${REST}`)
  assert.equal(junction(`${HEAD} x`, `${REST} x`), `${HEAD}${REST} x`)
  assert.equal(junction(`key: ${HEAD}.`, `(${REST})`), `key: ${HEAD}${REST})`)
})

test('a shared label is never cut inside a word: a half that starts like the other keeps its first characters', () => {
  assert.equal(junction('x AKIA1111', 'x AKIA2222'), 'x AKIA1111AKIA2222')
  assert.equal(junction('abc', 'abc'), null, 'the same word twice: nothing left out, the raw join reads it')
})

test('nothing left out: no junction beyond the raw join', () => {
  assert.equal(junction(HEAD, REST), null)
  assert.equal(junction('hello there', 'general kenobi'), null)
})

test('the reading is kept across messages, within the tail budget', () => {
  const r = new ReaderJoin()
  r.next('"AKIAZ7"')
  assert.equal(r.next('"QW3ERT5"').junction, 'AKIAZ7QW3ERT5')
  assert.equal(r.next('"YUI8OPL"').junction, 'AKIAZ7QW3ERT5YUI8OPL')
  // A long message: the junction holds at most the junction window of each side.
  const long = new ReaderJoin()
  long.next(`"${'a'.repeat(3 * TAIL_BYTES)} ${HEAD}"`)
  const j = long.next(`"${REST} ${'b'.repeat(3 * TAIL_BYTES)}"`).junction!
  assert.ok(j.includes(HEAD + REST))
  assert.ok(j.length <= 4 * 256, `${j.length}`)
})
