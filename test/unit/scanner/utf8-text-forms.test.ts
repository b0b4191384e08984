/**
 * Step 5's forms of a text with units at or above U+0080 written as UTF-8 bytes
 * (`utf8-text-forms.ts`) are the encodings of the string forms: the text without its
 * dots, and `stripUnicodeWhitespace` of it. A text that may hold a lone surrogate is left to the
 * string forms, and a secret split by a dot or white space in a long non-ASCII text is still found.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createDlpEngine, defaultScannerSettings, scanTextForDlp} from '../../../src/plugins/scanner/index.js'
import {stripUnicodeWhitespace} from '../../../src/plugins/scanner/text-dlp.js'
import {utf8DotAndSpaceFree} from '../../../src/plugins/scanner/utf8-text-forms.js'
import {anthropicKey, awsKeyId, prng} from './fixtures.js'

/** Every code point `stripUnicodeWhitespace` drops, and neighbours of them it keeps. */
const SPACES = ['\t', '\n', '\v', '\f', '\r', ' ', '\u0085', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000']
const KEPT = ['\u0084', '\u00a1', '\u1681', '\u200b', '\u200c', '\u2027', '\u202a', '\u2030', '\u205e', '\u2060', '\u3001', '\u2e00', '\u00b7', '\u0130']

test('the UTF-8 forms are the encodings of the string forms on random non-ASCII texts', () => {
  const r = prng(3641)
  const alphabet = [...SPACES, ...KEPT, '.', '..', 'a', 'Z', '9', 'ж', 'сборка', '\u{1f600}', '\u{10348}', 'é', '\u0301', 'x'.repeat(20), 'AKIA']
  let dropped = 0
  for (let k = 0; k < 3000; k++) {
    const target = 1 + Math.floor(r() * 900)
    let s = 'ж'
    while (s.length < target) s += alphabet[Math.floor(r() * alphabet.length)]!
    const f = utf8DotAndSpaceFree(s)
    assert.ok(f !== null, JSON.stringify(s))
    assert.equal(f.length, Buffer.byteLength(s))
    assert.ok(f.noDots.equals(Buffer.from(s.split('.').join(''))), JSON.stringify(s))
    const noSpace = stripUnicodeWhitespace(s)
    assert.ok(f.noSpace.equals(Buffer.from(noSpace)), JSON.stringify(s))
    dropped += s.length - noSpace.length
  }
  assert.ok(dropped > 10_000, 'the texts drop white space')
})

test('a text that may hold a lone surrogate is left to the string forms', () => {
  // The string form of the first joins the surrogates into one code point; its bytes would not.
  for (const s of ['ж\ud83d.\ude00', 'ж\ud800', 'ж\udc00 x', 'ж\ufffd.']) assert.equal(utf8DotAndSpaceFree(s), null, JSON.stringify(s))
  assert.ok(utf8DotAndSpaceFree('ж\ud83d\ude00.') !== null, 'a surrogate pair is a code point')
})

test('a secret split by a dot or white space in a long non-ASCII text is found in that form', () => {
  const e = createDlpEngine(defaultScannerSettings())
  const prose = 'съешь же ещё этих мягких французских булок, да выпей чаю; '.repeat(8)
  assert.ok(prose.length >= 256)
  const key = anthropicKey()
  const aws = awsKeyId()
  const cases: Array<[string, string]> = [
    [`${prose}${key.slice(0, 10)}.${key.slice(10)} ${prose}`, 'Anthropic API Key/subdomain'],
    [`${prose}${key.slice(0, 10)} ${key.slice(10)} ${prose}`, 'Anthropic API Key/whitespace'],
    [`${prose}${aws.slice(0, 6)}\n${aws.slice(6)}.`, 'AWS Access ID/whitespace'],
    // A lone surrogate sends the text to the string forms: found all the same.
    [`\ud800${prose}${key.slice(0, 10)} ${key.slice(10)}`, 'Anthropic API Key/whitespace'],
  ]
  for (const [text, want] of cases) {
    const got = scanTextForDlp(e, text).matches.map((m) => `${m.pattern}/${m.encoding}`)
    assert.ok(got.includes(want), `${want} not in ${got.join(',')}`)
  }
})
