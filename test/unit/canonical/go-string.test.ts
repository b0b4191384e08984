import {test} from 'node:test'
import assert from 'node:assert/strict'
import {compareUtf8, goQuote} from '../../../src/plugins/canonical/index.js'

test('goQuote applies Go escaping: short forms, lowercase \\u00xx, HTML-safe, DEL raw', () => {
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"')
  assert.equal(goQuote('\b\f\n\r\t'), '"\\b\\f\\n\\r\\t"')
  assert.equal(goQuote('\u001b\u0000'), '"\\u001b\\u0000"')
  assert.equal(goQuote('<a&b>'), '"\\u003ca\\u0026b\\u003e"')
  assert.equal(goQuote('x\u2028y\u2029'), '"x\\u2028y\\u2029"')
  assert.equal(goQuote('\u007f'), '"\u007f"')
  assert.equal(goQuote('émoji 😀'), '"émoji 😀"')
})

test('goQuote turns lone surrogates into U+FFFD (raw bytes)', () => {
  assert.equal(goQuote('a\ud800b'), '"a\ufffdb"')
  assert.equal(Buffer.from(goQuote('\udc00'), 'utf8').toString('hex'), '22efbfbd22')
})

test('compareUtf8 orders by code point, not UTF-16 units', () => {
  const keys = ['\uffff', '😀', 'a', '\ue000', 'b']
  assert.deepEqual([...keys].sort(compareUtf8), ['a', 'b', '\ue000', '\uffff', '😀'])
  assert.equal(compareUtf8('ab', 'a'), 1)
  assert.equal(compareUtf8('a', 'a'), 0)
})
