/**
 * Every refusal of a `/ws` handshake is recorded before it is answered, like every other block of
 * `pipelock run`: the connection cap's 503, a missing `url`, a target that is not ws(s), an
 * upgrade with bad handshake headers, and a plain GET. Each answer names the signed receipt that
 * recorded it (`X-Pipelock-Block-Reason-Receipt`) and each has its `blocked` audit line, so an
 * operator sees an agent knocking at a full or misused WebSocket proxy. Built CLI, real sockets,
 * a real `ws` origin.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {auditEvents, rawExchange, rawHttp, refusedHandshake, startProxy, tempDir, until, writeReceiptKeys, type RunningProxy} from './proxy-harness.js'

const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-websocket-refusals-key').digest())
const RECEIPT = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/
const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'

/** The value of `name` in a raw HTTP answer's head ('' when absent). */
const header = (raw: string, name: string): string => new RegExp(`\\r\\n${name}: ([^\\r]*)\\r\\n`, 'i').exec(raw)?.[1] ?? ''

describe('pipelock run: every /ws handshake refusal is recorded before it is answered', {timeout: 60_000}, () => {
  let wss: WebSocketServer
  let port = 0
  let proxy: RunningProxy
  /** Connections the origin accepted. */
  let dialled = 0

  before(async () => {
    wss = new WebSocketServer({host: '127.0.0.1', port: 0, perMessageDeflate: false})
    wss.on('connection', () => dialled++)
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    port = (wss.address() as AddressInfo).port
    const dir = tempDir('pipelock-ws-refusals-')
    writeReceiptKeys(dir, key)
    proxy = await startProxy([
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'websocket_proxy:', '  enabled: true', '  max_concurrent_connections: 1',
      'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`, `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
    ].join('\n') + '\n', {dir})
  })
  after(async () => {
    await proxy?.stop()
    for (const c of wss?.clients ?? []) c.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })

  /** The `blocked` audit lines so far, as [block_reason, reason]. */
  const blocked = (): string[][] => auditEvents(proxy, 'blocked').map((e) => [String(e.block_reason), String(e.reason)])

  it('the connection cap: 503 with its receipt and a blocked line', async () => {
    const open = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${port}/`)}`, {perMessageDeflate: false})
    await new Promise((resolve, reject) => {
      open.once('open', resolve)
      open.once('error', reject)
    })
    try {
      const before = blocked().length
      const r = await refusedHandshake(proxy, `ws://127.0.0.1:${port}/`)
      assert.equal(r.status, 503)
      assert.equal(r.body, 'too many active WebSocket connections\n')
      assert.equal(r.headers['x-pipelock-block-reason'], 'rate_limit')
      assert.match(String(r.headers['x-pipelock-block-reason-receipt']), RECEIPT)
      assert.ok(await until(async () => blocked().length > before), proxy.stdout())
      assert.deepEqual(blocked().slice(before), [['rate_limit', 'too many active WebSocket connections']])
    } finally {
      open.terminate()
    }
  })

  it('a missing url, a target that is not ws(s), bad handshake headers, a plain GET: each answered with its receipt, each a blocked line', async () => {
    // Wait until the capped connection of the case before is gone.
    assert.ok(await until(async () => auditEvents(proxy, 'ws_close').length > 0))
    const before = blocked().length
    const target = encodeURIComponent(`ws://127.0.0.1:${port}/`)
    const answers = [
      await rawExchange(proxy.port, `GET /ws HTTP/1.1\r\nHost: x\r\n${UPGRADE}Sec-WebSocket-Version: 13\r\n\r\n`, {untilHeaders: true}),
      await rawExchange(proxy.port, `GET /ws?url=${encodeURIComponent(`http://127.0.0.1:${port}/`)} HTTP/1.1\r\nHost: x\r\n${UPGRADE}Sec-WebSocket-Version: 13\r\n\r\n`, {untilHeaders: true}),
      await rawExchange(proxy.port, `GET /ws?url=${target} HTTP/1.1\r\nHost: x\r\n${UPGRADE}Sec-WebSocket-Version: 8\r\n\r\n`, {untilHeaders: true}),
    ]
    const plain = await rawHttp(proxy.port, {path: `/ws?url=${target}`})
    const seen = answers.map((a) => [/^HTTP\/1\.1 (\d+) /.exec(a)?.[1], header(a, 'X-Pipelock-Block-Reason'), RECEIPT.test(header(a, 'X-Pipelock-Block-Reason-Receipt'))])
    seen.push([String(plain.status), String(plain.headers['x-pipelock-block-reason']), RECEIPT.test(String(plain.headers['x-pipelock-block-reason-receipt']))])
    assert.deepEqual(seen, [
      ['400', 'bad_request', true],
      ['400', 'scheme_blocked', true],
      ['400', 'bad_request', true],
      ['400', 'bad_request', true],
    ])
    assert.ok(await until(async () => blocked().length >= before + 4), proxy.stdout())
    assert.deepEqual(blocked().slice(before), [
      ['bad_request', "missing 'url' query parameter"],
      ['scheme_blocked', 'invalid URL: must be ws or wss'],
      ['bad_request', 'handshake error: bad "Sec-WebSocket-Version" header'],
      ['bad_request', 'handshake error: bad "Upgrade" header'],
    ])
  })

  it('a subprotocol offer the upgrade cannot take is refused before any dial: it holds neither a place of the cap nor an upstream connection', async () => {
    const before = blocked().length
    const from = dialled
    const target = encodeURIComponent(`ws://127.0.0.1:${port}/`)
    // One place (max_concurrent_connections: 1), refused twice: a held place would make the next a 503.
    for (const offer of ['chat,,x', 'chat, chat']) {
      const a = await rawExchange(proxy.port, `GET /ws?url=${target} HTTP/1.1\r\nHost: x\r\n${UPGRADE}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${offer}\r\n\r\n`, {untilHeaders: true})
      assert.match(a, /^HTTP\/1\.1 400 /, offer)
      assert.equal(header(a, 'X-Pipelock-Block-Reason'), 'bad_request', offer)
      assert.match(header(a, 'X-Pipelock-Block-Reason-Receipt'), RECEIPT, offer)
    }
    assert.equal(dialled, from, 'the origin was never dialled')
    const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${target}`, ['chat'], {perMessageDeflate: false})
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    assert.equal(ws.protocol, 'chat')
    ws.terminate()
    assert.ok(await until(async () => blocked().length >= before + 2), proxy.stdout())
    assert.deepEqual(blocked().slice(before), [
      ['bad_request', 'handshake error: bad "Sec-WebSocket-Protocol" header'],
      ['bad_request', 'handshake error: bad "Sec-WebSocket-Protocol" header'],
    ])
  })
})
