// transports §1.3 / §3.8: WebSocket close payloads and the ws(s) → http(s) URL mapping of §3.2.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {claimsBlockReason, closeJson, closeText, forwardableCloseCode, MAX_CLOSE_REASON_BYTES} from '../../../src/plugins/proxy/websocket/close.js'
import {mapWebSocketUrl} from '../../../src/plugins/proxy/websocket/handshake.js'

test('the block-reason close JSON has the spec bytes (93-byte example of §1.3)', () => {
  const s = closeJson('dlp_match', 'dlp')
  assert.equal(s, '{"block_reason":"dlp_match","version":"1","severity":"critical","retry":"none","layer":"dlp"}')
  assert.equal(Buffer.byteLength(s), 93)
})

test('fields are dropped in the order receipt, layer, retry, severity until the payload fits in 123 bytes', () => {
  const withReceipt = closeJson('dlp_match', 'dlp', '01JABCDEFGHJKMNPQRSTVWXYZ0')
  assert.ok(!withReceipt.includes('receipt'), withReceipt)
  assert.ok(withReceipt.includes('"layer":"dlp"'))
  const longLayer = closeJson('kill_switch_active', 'kill_switch', '01JABCDEFGHJKMNPQRSTVWXYZ0')
  assert.ok(Buffer.byteLength(longLayer) <= MAX_CLOSE_REASON_BYTES)
  assert.equal(JSON.parse(longLayer).block_reason, 'kill_switch_active')
  const huge = closeJson('contract_invalid_path', 'x'.repeat(40))
  assert.deepEqual(JSON.parse(huge), {block_reason: 'contract_invalid_path', version: '1', severity: 'warn', retry: 'retry-with-canonical-path'})
})

test('plain close reasons are cut on a UTF-8 boundary', () => {
  const s = closeText('é'.repeat(100))
  assert.equal(Buffer.byteLength(s), 122)
  assert.equal(closeText('short'), 'short')
})

test('only close codes a peer may send are passed on', () => {
  for (const c of [1000, 1001, 1008, 1011, 3000, 4999]) assert.equal(forwardableCloseCode(c), true, String(c))
  for (const c of [999, 1004, 1005, 1006, 1015, 2000, 5000]) assert.equal(forwardableCloseCode(c), false, String(c))
})

test('ws/wss map to http/https without userinfo or fragment; other schemes are refused', () => {
  const t = mapWebSocketUrl('wss://user:pw@example.com:8443/a/b?x=1#frag')!
  assert.equal(t.httpUrl, 'https://example.com:8443/a/b?x=1')
  assert.equal(t.dialUrl, 'wss://example.com:8443/a/b?x=1')
  assert.equal(t.port, 8443)
  assert.equal(mapWebSocketUrl('ws://example.com')!.httpUrl, 'http://example.com/')
  assert.equal(mapWebSocketUrl('ws://example.com')!.port, 80)
  assert.equal(mapWebSocketUrl('wss://[::1]/')!.port, 443)
  assert.equal(mapWebSocketUrl('wss://[::1]/')!.hostname, '::1')
  assert.equal(mapWebSocketUrl('http://example.com/'), null)
  assert.equal(mapWebSocketUrl('ws:///nohost'), null)
})

test('a close reason claims a block reason when it holds block_reason, as every policy close JSON does', () => {
  for (const r of ['dlp_match', 'kill_switch_active', 'contract_invalid_path'] as const) assert.equal(claimsBlockReason(closeJson(r, 'x')), true)
  assert.equal(claimsBlockReason('{ "Block_Reason" : "domain_blocklist" }'), true)
  for (const text of ['', 'bye', 'upstream closed', 'blocked by the origin']) assert.equal(claimsBlockReason(text), false)
})

