/**
 * Text DLP's dot-free and white-space-free forms of a long ASCII text in WebAssembly
 * (`text-forms.wat`, issue 36) equal the string forms the JavaScript path builds: the text with
 * its dots removed, and `stripUnicodeWhitespace` of it. Texts dense in dots, white space and
 * control bytes, at lengths around the module's sixteen-byte blocks.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {stripUnicodeWhitespace} from '../../../src/plugins/scanner/text-dlp.js'
import {textFormsWriter, type FormsWriter} from '../../../src/plugins/scanner/text-forms-wasm.js'
import {prng} from './fixtures.js'

/** 1 for each ASCII code the white-space-free form keeps (as text-dlp.ts builds its table). */
const KEEP = Array.from({length: 128}, (_, c) => (stripUnicodeWhitespace(String.fromCharCode(c)) === '' ? 0 : 1))

test('the WebAssembly text forms equal the string forms on random ASCII texts', () => {
  const loaded = textFormsWriter(KEEP)
  assert.ok(loaded !== null, 'the module is used on this runtime')
  const writer: FormsWriter = loaded
  const r = prng(3640)
  const alphabet = ['.', ' ', '\t', '\n', '\r', '\v', '\f', '\x1c', '\x1f', '\x00', '\x7f', 'a', 'Z', '9', '-', '_', '..', '  ', 'AKIA', 'word']
  let dropped = 0
  for (let k = 0; k < 3000; k++) {
    const target = 256 + Math.floor(r() * 700)
    let s = ''
    const dense = r() < 0.5
    while (s.length < target) s += dense || r() < 0.2 ? alphabet[Math.floor(r() * alphabet.length)]! : 'x'.repeat(1 + Math.floor(r() * 40))
    const f = writer.forms(s)
    const noDots = s.split('.').join('')
    const noSpace = stripUnicodeWhitespace(s)
    assert.equal(f.noDots.toString('latin1'), noDots, JSON.stringify(s))
    assert.equal(f.noSpace.toString('latin1'), noSpace, JSON.stringify(s))
    dropped += s.length - noSpace.length
  }
  assert.ok(dropped > 100_000, 'the texts drop white space')
})

test('a text of the largest length the module takes', () => {
  const writer = textFormsWriter(KEEP)!
  const s = 'a.b c\t'.repeat(Math.ceil(writer.maxLength / 6)).slice(0, writer.maxLength)
  const f = writer.forms(s)
  assert.equal(f.noDots.length, s.split('.').join('').length)
  assert.equal(f.noSpace.toString('latin1'), stripUnicodeWhitespace(s))
})
