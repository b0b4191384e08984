/**
 * The built-in `AWS Access ID` and `Databricks Token` patterns, case-insensitive as every DLP
 * pattern is, find a token written in one case (as issued, or changed to the other case) and not
 * a run of mixed case: base64 (an image in a chat request, a file) holds `A3T` and sixteen
 * letters and digits of mixed case in about two of three 48 KiB, and each was a critical block.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {createScanner, defaultScannerSettings, validateOneCase} from '../../../src/plugins/scanner/index.js'
import {loadPresetConfig} from '../../../src/plugins/config/index.js'
import {scannerSettingsFromConfig} from '../../../src/plugins/proxy/index.js'
import {awsKeyId, j} from './fixtures.js'

/** `n` deterministic bytes (SHA-256 in counter mode). */
function bytes(seed: string, n: number): Buffer {
  const out: Buffer[] = []
  for (let k = 0; k * 32 < n; k++) out.push(createHash('sha256').update(`${seed}:${k}`).digest())
  return Buffer.concat(out).subarray(0, n)
}

/** A chat request with a base64 image, as the providers' APIs take it. */
function imageChat(image: string): {contentType: string; body: Buffer; host: string} {
  const body = {model: 'claude-sonnet-4', max_tokens: 1024, messages: [{role: 'user', content: [{type: 'image', source: {type: 'base64', media_type: 'image/png', data: image}}, {type: 'text', text: 'What does this diagram show?'}]}]}
  return {contentType: 'application/json', body: Buffer.from(JSON.stringify(body)), host: 'api.example.com'}
}

const validateAwsKeyId = (hit: string): boolean => validateOneCase('aws_key_id', hit)
const CASE_INSENSITIVE_HIT = /(?:AKIA|A3T|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16,}/i

test('validateOneCase: an AWS key ID in one case, anywhere in the hit; mixed case is none', () => {
  const key = awsKeyId()
  assert.equal(validateAwsKeyId(key), true)
  assert.equal(validateAwsKeyId(key.toLowerCase()), true, 'a lower-cased copy is still a key')
  assert.equal(validateAwsKeyId(j('A3T', 'W3C5Q2NCRK9TDOOZ8')), true)
  assert.equal(validateAwsKeyId(j('A3T', 'w3c5Q2nCRk9tdOoZ8')), false, 'mixed case, as in base64')
  assert.equal(validateAwsKeyId(j('AkIa', key.slice(4))), false)
  assert.equal(validateAwsKeyId(j('A3Tw3c5Q2nCRk9td', key, 'xYz')), true, 'a key inside a longer run of mixed case')
  assert.equal(validateAwsKeyId(j('AKIA', 'ABCDEFGHIJKLMNO')), false, 'fifteen after the prefix')
  const dbx = j('da', 'pi', '0123456789abcdef0123456789abcdef')
  assert.equal(validateOneCase('databricks_token', dbx), true)
  assert.equal(validateOneCase('databricks_token', dbx.toUpperCase()), true)
  assert.equal(validateOneCase('databricks_token', j('dA', 'pI', 'x9QkT2mZ0pLr7VbN4cWs8yHd3eFg6uJa')), false)
})

test('AWS Access ID: images in chat requests pass; a key in any one case is found, in bodies and URLs', () => {
  const sc = createScanner(scannerSettingsFromConfig(loadPresetConfig('balanced').config, {env: {}}))
  let mixedRuns = 0
  for (let v = 0; v < 12; v++) {
    const image = bytes(`image ${v}`, 48 * 1024).toString('base64')
    if (CASE_INSENSITIVE_HIT.test(image)) mixedRuns++
    const r = sc.scanRequestBody(imageChat(image))
    assert.deepEqual({v, action: r.action, dlp: r.dlp.map((f) => f.pattern)}, {v, action: 'allow', dlp: []})
  }
  // The premise: most of these images hold a case-insensitive hit of the regex.
  assert.ok(mixedRuns >= 4, `${mixedRuns} of 12 images hold a mixed-case hit`)
  const key = awsKeyId(11)
  const image = bytes('image key', 48 * 1024).toString('base64')
  for (const k of [key, key.toLowerCase()]) {
    const inImage = sc.scanRequestBody(imageChat(image.slice(0, 30_000) + k + image.slice(30_000)))
    assert.deepEqual({k, action: inImage.action, dlp: [...new Set(inImage.dlp.map((f) => f.pattern))]}, {k, action: 'block', dlp: ['AWS Access ID']})
    assert.equal(sc.scanRequestBody({contentType: 'text/plain', body: Buffer.from(`creds: ${k}`)}).action, 'block')
  }
  // The core pattern (every scanner has it, whatever its list) behaves the same.
  const core = createScanner(defaultScannerSettings())
  assert.equal(core.scanTextForDlp(j('ref: A3T', 'w3c5Q2nCRk9tdOoZ8')).matches.length, 0)
  assert.deepEqual([...new Set(core.scanTextForDlp(`ref: ${key.toLowerCase()}`).matches.map((f) => f.pattern))], ['AWS Access ID'])
  // Databricks tokens, issued in lower case, likewise.
  const dbx = j('da', 'pi', '0123456789abcdef0123456789abcdef')
  for (const t of [dbx, dbx.toUpperCase()]) assert.deepEqual([...new Set(sc.scanTextForDlp(`token: ${t}`).matches.map((f) => f.pattern))], ['Databricks Token'])
  assert.equal(sc.scanTextForDlp(j('x dA', 'pI', 'x9QkT2mZ0pLr7VbN4cWs8yHd3eFg6uJa')).matches.length, 0)
})

test('AWS Access ID in URLs: a query value of mixed case passes, a lower-cased key is blocked', async () => {
  const {scanUrl, createUrlScanner, RateLimiter} = await import('../../../src/plugins/scanner/index.js')
  const ctx = {scanner: createUrlScanner(defaultScannerSettings()), resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
  const pass = await scanUrl(`https://api.example.com/v1/items?ref=${j('A3T', 'w3c5Q2nCRk9tdOoZ8')}`, ctx)
  assert.equal(pass.allowed, true, JSON.stringify(pass))
  const lower = await scanUrl(`https://api.example.com/v1/items?key=${awsKeyId(5).toLowerCase()}`, ctx)
  assert.equal(lower.allowed, false)
})
