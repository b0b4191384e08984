import {test} from 'node:test'
import assert from 'node:assert/strict'
import {jsonParseReason} from '../../../src/plugins/errors/index.js'

// JSON.parse quotes a stretch of the text it refused; from a binary or hostile file that stretch
// is raw bytes. jsonParseReason keeps the reason and drops the quote.

const reasonFor = (text: string): string => {
  try {
    JSON.parse(text)
  } catch (e) {
    return jsonParseReason(e)
  }
  throw new Error(`parsed: ${text}`)
}

test('jsonParseReason drops the excerpt of the refused text and names an unprintable character by code point', () => {
  assert.equal(reasonFor(Buffer.from([0x5a, 0xff, 0xfe, 0x5d, 0x40, 0x1b, 0x5b]).toString('utf8')), "Unexpected token 'Z', not valid JSON")
  assert.equal(reasonFor(Buffer.from([0xff, 0x3c, 0xfe, 0x72]).toString('utf8')), 'Unexpected token U+FFFD (bytes that are not UTF-8), not valid JSON')
  assert.equal(reasonFor('\u202eabc'), 'Unexpected token U+202E, not valid JSON')
  assert.equal(reasonFor('x'.repeat(40)), "Unexpected token 'x', not valid JSON")
  assert.equal(reasonFor('undefined'), 'not valid JSON')
  // messages that quote nothing of the text are kept as they are
  assert.equal(reasonFor('{"a":'), 'Unexpected end of JSON input')
  assert.equal(reasonFor('{a:1}'), "Expected property name or '}' in JSON at position 1")
  assert.equal(jsonParseReason('plain text'), 'plain text')
})
