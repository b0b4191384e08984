/**
 * Seed phrases across a request's texts are read in the request's own order, never in the order
 * a sorted join gives them: sorting puts identical texts side by side, so the keys of a dozen
 * records (`type` × 12, a checksum-valid phrase) read as a mnemonic and blocked ordinary JSON.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {wordlist} from '@scure/bip39/wordlists/english.js'
import {createScanner, defaultScannerSettings, type ScannerSettings} from '../../../src/plugins/scanner/index.js'
import {bip39ChecksumValid} from '../../../src/plugins/scanner/seed-phrase.js'
import {phraseFromEntropy} from './fixtures.js'

function scanner(mut?: (s: ScannerSettings) => void) {
  const s = defaultScannerSettings()
  mut?.(s)
  return createScanner(s)
}
const json = (v: unknown) => ({contentType: 'application/json', body: Buffer.from(JSON.stringify(v)), host: 'api.example.com'})
const SEED = 'BIP-39 Seed Phrase'
const patterns = (r: {dlp: readonly {pattern: string}[]}) => r.dlp.map((f) => f.pattern)

/** A checksum-valid mnemonic whose words, sorted, are not one: only an in-order reading finds it. */
function unsortableMnemonic(): string[] {
  for (let k = 0; ; k++) {
    const words = phraseFromEntropy(wordlist, createHash('sha256').update(`unsortable ${k}`).digest().subarray(0, 16)).split(' ')
    const sorted = [...words].sort().map((w) => wordlist.indexOf(w))
    if (!bip39ChecksumValid(sorted)) return words
  }
}

test('seed phrases: the sorted join of JSON keys is no phrase (`type` × 12 passes the checksum)', () => {
  const sc = scanner()
  // The premise: one text of `type` twelve times is a phrase by the checksum, and still found.
  assert.deepEqual(sc.scanTextForDlp(Array(12).fill('type').join('\n')).matches.map((f) => f.pattern), [SEED])
  assert.equal(sc.scanRequestBody({contentType: 'text/plain', body: Buffer.from(Array(12).fill('type').join(' '))}).action, 'block')
  // A chat request with six tools holds `type` twelve times (each tool's and its schema's).
  const tools = Array.from({length: 6}, (_, i) => ({type: 'function', function: {name: `tool_${i}`, description: `Runs step ${i}`, parameters: {type: 'object', properties: {}}}}))
  const chat = sc.scanRequestBody(json({model: 'gpt-4o', messages: [{role: 'user', content: 'hello'}], tools}))
  assert.deepEqual({action: chat.action, dlp: patterns(chat)}, {action: 'allow', dlp: []})
  // Records whose keys are list words, in every number of records from 12 to 40.
  for (const keys of [['name', 'type', 'value'], ['name', 'address', 'amount'], ['code', 'message', 'level'], ['user', 'action', 'time']]) {
    for (let n = 12; n <= 40; n += 7) {
      const records = Array.from({length: n}, (_, i) => Object.fromEntries(keys.map((k) => [k, `${k}-${i}x`])))
      const r = sc.scanRequestBody(json(records))
      assert.deepEqual({keys, n, action: r.action, dlp: patterns(r)}, {keys, n, action: 'allow', dlp: []})
    }
  }
  // The same for a form: twelve fields named `type`.
  const form = Array.from({length: 12}, (_, i) => `type=v${i}x`).join('&')
  assert.equal(sc.scanRequestBody({contentType: 'application/x-www-form-urlencoded', body: Buffer.from(form)}).action, 'allow')
})

test('seed phrases: a mnemonic spread over values is found in their order (JSON array, records, form, multipart)', () => {
  const sc = scanner()
  const words = unsortableMnemonic()
  const blocked = (input: {contentType: string; body: Buffer}, what: string) => {
    const r = sc.scanRequestBody(input)
    assert.deepEqual({what, action: r.action, dlp: patterns(r)}, {what, action: 'block', dlp: [SEED]})
  }
  blocked(json({mnemonic: words}), 'an array of its words')
  blocked(json(words.map((w, i) => ({index: i, word: w}))), 'one word a record')
  blocked(json({backup: words.join(' ')}), 'one value')
  blocked({contentType: 'application/x-www-form-urlencoded', body: Buffer.from(words.map((w, i) => `w${i}=${w}`).join('&'))}, 'form values')
  const parts = words.flatMap((w, i) => ['--B', `Content-Disposition: form-data; name="w${i}"`, '', w])
  blocked({contentType: 'multipart/form-data; boundary=B', body: Buffer.from([...parts, '--B--', ''].join('\r\n'))}, 'multipart parts')
  // Shuffled, the words are no phrase (the checksum fails): nothing is found.
  const shuffled = [...words.slice(6), ...words.slice(0, 6)]
  assert.ok(!bip39ChecksumValid(shuffled.map((w) => wordlist.indexOf(w))))
  assert.equal(sc.scanRequestBody(json({mnemonic: shuffled})).action, 'allow')
})

test('seed phrases across values: a window of few different words is none (record fields repeat, mnemonics do not)', () => {
  const sc = scanner()
  // Thirty records whose status is one of two list words, in an order that passes the checksum
  // in some window of the values read in order (nine runs in ten did before this rule).
  const statuses = ['open', 'close', 'success', 'error', 'left', 'right', 'north', 'south', 'east', 'west']
  let premise = 0
  for (let run = 0; run < 12; run++) {
    const r = (k: number) => createHash('sha256').update(`${run}:${k}`).digest()[0]! % 2
    const pair = [statuses[(2 * run) % statuses.length]!, statuses[(2 * run + 1) % statuses.length]!]
    const values = Array.from({length: 30}, (_, k) => pair[r(k)]!)
    if (sc.scanTextForDlp(values.join('\n')).matches.length > 0) premise++
    const res = sc.scanRequestBody(json(values.map((v, id) => ({id, status: v}))))
    assert.deepEqual({run, action: res.action, dlp: patterns(res)}, {run, action: 'allow', dlp: []})
  }
  assert.ok(premise >= 6, `the same values in one text hold a phrase in ${premise} of 12 runs`)
  // The BIP-39 test vector (`abandon` eleven times, then `about`): one text still holds it;
  // spread over an array's values it has two different words and is not read as a phrase.
  const vector = [...Array(11).fill('abandon'), 'about']
  assert.equal(sc.scanRequestBody(json({backup: vector.join(' ')})).action, 'block')
  assert.equal(sc.scanRequestBody(json({mnemonic: vector})).action, 'allow')
})

test('seed phrases in headers: the values in the order received, not sorted', () => {
  const words = unsortableMnemonic()
  const sc = scanner()
  const split = sc.scanRequestHeaders([['Authorization', words.slice(0, 6).join(' ')], ['Cookie', words.slice(6).join(' ')]])
  assert.deepEqual({action: split.action, dlp: patterns(split)}, {action: 'block', dlp: [SEED]})
  // In `all` mode, twelve headers whose values are `type`: sorted, the values are neighbours.
  const all = scanner((s) => (s.requestBodyScanning.headerMode = 'all'))
  const headers: Array<[string, string]> = Array.from({length: 12}, (_, i) => [`X-Kind-${i}`, 'type'])
  assert.equal(all.scanRequestHeaders(headers).action, 'allow')
})
