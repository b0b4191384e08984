/**
 * `requestBodyScanBytes`: how much a request body's scan reads, by which the proxy places it on
 * the scan pool (over 64 KiB) or the event loop. A JSON or form body adds the split-secret pairs
 * of its identifier-like values (hex ids, UUIDs, hashes, tokens): a few KiB of them are thousands
 * of pairs that a decoder may take whole, each scanned (issue 36: 64 SHA-1s in 2.7 KB, ≈ 45 ms).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {gzipSync} from 'node:zlib'
import {defaultScannerSettings, requestBodyScanBytes} from '../../../src/plugins/scanner/index.js'
import {OFFLOAD_THRESHOLD_BYTES} from '../../../src/plugins/workers/index.js'
import {hexLower, prng} from './fixtures.js'

const settings = defaultScannerSettings()
const json = (v: unknown): {contentType: string; body: Buffer} => ({contentType: 'application/json', body: Buffer.from(JSON.stringify(v))})
const shas = (n: number): string[] => Array.from({length: n}, (_, k) => hexLower(40, k))
const PROSE = 'the agent reads the file and then it writes a summary of what changed'

test('a JSON body of many identifiers reads its pairs: 64 SHA-1s (2.7 KB) count as far more than 64 KiB; 20 do not', () => {
  const many = json({commits: shas(64)})
  assert.ok(many.body.length < 3000)
  // 64 values make 64 · 63 ordered pairs, each side its 40 characters.
  assert.equal(requestBodyScanBytes(settings, many), many.body.length + 64 * 63 * 2 * 40)
  const few = json({commits: shas(20)})
  assert.equal(requestBodyScanBytes(settings, few), few.body.length + 20 * 19 * 2 * 40)
  assert.ok(requestBodyScanBytes(settings, few) < OFFLOAD_THRESHOLD_BYTES)
  // Past the pool of the pair pass (the first and last 32 values) more values add no pairs.
  const more = json({commits: shas(500)})
  assert.equal(requestBodyScanBytes(settings, more) - more.body.length, 64 * 63 * 2 * 40)
  // UUIDs, base64url tokens and `+json` types count too.
  const r = prng(36)
  const uuids = {contentType: 'application/vnd.api+json', body: Buffer.from(JSON.stringify(Array.from({length: 64}, () => [8, 4, 4, 4, 12].map((n) => hexLower(n, Math.floor(r() * 1e9))).join('-'))))}
  assert.ok(requestBodyScanBytes(settings, uuids) > OFFLOAD_THRESHOLD_BYTES)
  const tokens = json({tokens: Array.from({length: 64}, (_, k) => Buffer.from(hexLower(48, k), 'hex').toString('base64url'))})
  assert.ok(requestBodyScanBytes(settings, tokens) > OFFLOAD_THRESHOLD_BYTES)
})

test('prose, short values, keys and escaped strings add nothing; a form counts its values after `=`', () => {
  const chat = json({model: 'm', messages: Array.from({length: 80}, (_, i) => ({role: i % 2 ? 'assistant' : 'user', content: `${PROSE} ${i}`}))})
  assert.equal(requestBodyScanBytes(settings, chat), chat.body.length)
  const short = json({tags: Array.from({length: 200}, (_, k) => `tag-${k}`)})
  assert.equal(requestBodyScanBytes(settings, short), short.body.length)
  // A string holding an escape is not read as an identifier (its decoded form is not known here).
  const escaped = json({ids: shas(64).map((s) => `${s}\n`)})
  assert.equal(requestBodyScanBytes(settings, escaped), escaped.body.length)
  const form = {contentType: 'application/x-www-form-urlencoded', body: Buffer.from(shas(64).map((s, k) => `id${k}=${s}`).join('&'))}
  assert.equal(requestBodyScanBytes(settings, form), form.body.length + 64 * 63 * 2 * 40)
  const proseForm = {contentType: 'application/x-www-form-urlencoded', body: Buffer.from(Array.from({length: 64}, (_, k) => `q${k}=${encodeURIComponent(PROSE)}`).join('&'))}
  assert.equal(requestBodyScanBytes(settings, proseForm), proseForm.body.length)
})

test('other types read their length; gzip its inflation bound; off reads nothing; over `enough` fields are not counted', () => {
  const ids = JSON.stringify({commits: shas(64)})
  for (const contentType of ['text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x']) {
    assert.equal(requestBodyScanBytes(settings, {contentType, body: Buffer.from(ids)}), ids.length, contentType)
  }
  assert.equal(requestBodyScanBytes(settings, {contentType: 'application/json', body: gzipSync(ids)}), settings.requestBodyScanning.maxBodyBytes)
  const off = defaultScannerSettings()
  off.requestBodyScanning.enabled = false
  assert.equal(requestBodyScanBytes(off, json({commits: shas(64)})), 0)
  // A body already over the caller's threshold is placed by its length: its fields are not read.
  const big = json({commits: shas(2000)})
  assert.ok(big.body.length > OFFLOAD_THRESHOLD_BYTES)
  assert.equal(requestBodyScanBytes(settings, big, OFFLOAD_THRESHOLD_BYTES), big.body.length)
  assert.ok(requestBodyScanBytes(settings, big) > big.body.length)
})
