/**
 * `requestBodyScanBytes`: how much a request body's scan reads, by which the proxy places it on
 * the scan pool (over 64 KiB) or the event loop. A JSON or form body adds the split-secret pairs
 * of its string values: a few KiB of values are thousands of pairs (issue 36: 64 SHA-1s in 2.7 KB,
 * ≈ 45 ms; 64 short sentences, ≈ 10 ms).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {gzipSync} from 'node:zlib'
import {defaultScannerSettings, requestBodyScanBytes} from '../../../src/plugins/scanner/index.js'
import {pairPassBytes} from '../../../src/plugins/scanner/split-secret.js'
import {OFFLOAD_THRESHOLD_BYTES} from '../../../src/plugins/workers/index.js'
import {hexLower, prng} from './fixtures.js'

const settings = defaultScannerSettings()
const json = (v: unknown): {contentType: string; body: Buffer} => ({contentType: 'application/json', body: Buffer.from(JSON.stringify(v))})
const shas = (n: number): string[] => Array.from({length: n}, (_, k) => hexLower(40, k))
const PROSE = 'the agent reads the file and then it writes a summary of what changed'

test('a JSON body of many values reads its pairs: 64 SHA-1s (2.7 KB) count as far more than 64 KiB; 20 do not', () => {
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

test('every string value counts, prose as well (its pairs are scanned too); keys, numbers and a small API call add little', () => {
  // 64 messages of prose: 8–17 ms of pairs measured, as much as a body of short identifiers.
  const chat = json({model: 'm', messages: Array.from({length: 64}, (_, i) => ({role: 'user', content: `${PROSE} ${i}`}))})
  assert.ok(requestBodyScanBytes(settings, chat) > OFFLOAD_THRESHOLD_BYTES)
  const call = json({model: 'm', max_tokens: 100, messages: [{role: 'system', content: PROSE}, {role: 'user', content: PROSE}]})
  // Five values (the keys are not values): 5 · 4 pairs.
  const lengths = ['m', 'system', PROSE, 'user', PROSE].map((v) => v.length)
  assert.equal(requestBodyScanBytes(settings, call), call.body.length + pairPassBytes(5, lengths.reduce((a, b) => a + b)))
  assert.ok(requestBodyScanBytes(settings, call) < OFFLOAD_THRESHOLD_BYTES)
  // Keys (a string before `:`, white space allowed) and numbers are no values.
  const keyed = {contentType: 'application/json', body: Buffer.from(`{${Array.from({length: 200}, (_, k) => `"${hexLower(40, k)}" : ${k}`).join(',')}}`)}
  assert.equal(requestBodyScanBytes(settings, keyed), keyed.body.length)
  // An escaped quote does not end a string; the escapes count in its length.
  const escaped = json({ids: shas(64).map((s) => `${s}"`)})
  assert.equal(requestBodyScanBytes(settings, escaped), escaped.body.length + 64 * 63 * 2 * 42)
  // A form: each value after `=` up to `&` (the last up to the end).
  const form = {contentType: 'application/x-www-form-urlencoded', body: Buffer.from(shas(64).map((s, k) => `id${k}=${s}`).join('&'))}
  assert.equal(requestBodyScanBytes(settings, form), form.body.length + 64 * 63 * 2 * 40)
  const two = {contentType: 'application/x-www-form-urlencoded', body: Buffer.from('a=12345&b=678')}
  assert.equal(requestBodyScanBytes(settings, two), two.body.length + 2 * 1 * 2 * 4)
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
