/**
 * Text DLP's segment decodings (step 7, and the seed step's) remembered across the scans of one
 * message (`SegmentMemo`): a request body's texts, its sorted join and its values' concatenation
 * hold the same segments. A scan with the memo must find what it finds without one, stop where
 * it stops, and say the same warnings, whatever earlier scans put in the memo; the built-in WIF
 * walk and the per-scan skip of a target already run are checked by the same comparison.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {createScanner, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'
import {scanTextForDlp, SegmentMemo} from '../../../src/plugins/scanner/text-dlp.js'
import {DLP_CASES} from './catalogue-cases.js'
import {phraseFromEntropy, prng, wif} from './fixtures.js'
import {wordlist} from '@scure/bip39/wordlists/english.js'

test('segment memo: scans sharing segments find, stop and warn as scans without it', () => {
  const settings = defaultScannerSettings()
  settings.dlp.patterns = [...settings.dlp.patterns, {name: 'Ticket', severity: 'low', regex: 'TKT-[0-9]{6}', action: 'warn'}]
  const engine = createScanner(settings).dlp
  const r = prng(9191)
  const secrets = [...Object.values(DLP_CASES).map(([hit]) => hit), wif(true), 'TKT-123456']
  const mnemonic = phraseFromEntropy(wordlist, createHash('sha256').update('memo').digest().subarray(0, 16))
  const random = (n: number): Buffer => Buffer.from(Array.from({length: n}, () => Math.floor(r() * 256)))
  const pieces = [
    () => random(20 + Math.floor(r() * 200)).toString('base64'),
    () => Buffer.from(secrets[Math.floor(r() * secrets.length)]!).toString('base64'),
    () => Buffer.from(secrets[Math.floor(r() * secrets.length)]!).toString('hex'),
    () => Buffer.from(mnemonic).toString('base64'),
    () => secrets[Math.floor(r() * secrets.length)]!,
    () => Buffer.from(`TKT-${100000 + Math.floor(r() * 900000)}`).toString('base64'),
    () => 'image/png', () => 'What does this diagram show?', () => '%41%4B%49%41', () => 'a+b',
  ]
  const delimiters = ['/', '\n', ' ', '=', ':', '', '"']
  const texts: string[] = []
  for (let k = 0; k < 120; k++) {
    const n = 1 + Math.floor(r() * 6)
    texts.push(Array.from({length: n}, () => pieces[Math.floor(r() * pieces.length)]!()).join(delimiters[Math.floor(r() * delimiters.length)]!))
  }
  // Joins of earlier texts, as a body's sorted join and its values' concatenation are.
  for (let k = 0; k < 60; k++) texts.push([texts[k]!, texts[k + 1]!, texts[k + 2]!].join(k % 2 === 0 ? '\n' : ''))
  let found = 0
  let warned = 0
  for (const seedPhrase of [true, false]) {
    const memo = new SegmentMemo()
    // Twice over: the second round reads every segment back from the memo.
    for (const t of [...texts, ...texts]) {
      const want = scanTextForDlp(engine, t, {seedPhrase})
      assert.deepEqual(scanTextForDlp(engine, t, {seedPhrase, segments: memo}), want, JSON.stringify(t.slice(0, 100)))
      if (want.matches.length > 0) found++
      if (want.warnings.length > 0) warned++
    }
  }
  assert.ok(found > 200 && found < 4 * texts.length, `texts with findings ${found}`)
  assert.ok(warned > 20, `texts with warnings ${warned}`)
})

test('segment memo: a body with a base64 image reads its segments once and blocks a secret in any of them', () => {
  const sc = createScanner(defaultScannerSettings())
  const image = Buffer.from(Array.from({length: 48_000}, (_, i) => (i * 7919) % 251)).toString('base64')
  const body = (data: string) => ({contentType: 'application/json', body: Buffer.from(JSON.stringify({messages: [{content: [{type: 'image', data}, {type: 'text', text: 'What is this?'}]}]})), host: 'api.example.com'})
  assert.equal(sc.scanRequestBody(body(image)).action, 'allow')
  // A GitHub token, base64-encoded, as one `/`-delimited segment in the middle of the image.
  const token = Buffer.from(`ghp_${'a1B2c3D4'.repeat(5)}`).toString('base64')
  const at = image.indexOf('/', image.length >> 1)
  const r = sc.scanRequestBody(body(`${image.slice(0, at + 1)}${token}/${image.slice(at + 1)}`))
  assert.equal(r.action, 'block')
  assert.ok(r.dlp.some((f) => f.encoding === 'base64'), JSON.stringify(r.dlp))
})
