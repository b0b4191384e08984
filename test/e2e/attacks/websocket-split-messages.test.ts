/**
 * Attack class: a key split across two client WebSocket messages, each half inside the framing a
 * receiver reads it out of — a JSON string, a JSON field, a repeated text label, or a JSON field
 * then plain text. The raw join of
 * the tail and the next message keeps that framing between the halves. Through `pipelock run` to
 * a real echo server: the second half never reaches the upstream and the agent gets the DLP close.
 * Across two connections, cross-request fragment reassembly reads a JSON message's values too.
 */
import assert from 'node:assert/strict'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {otherHostAddress, startProxy, type RunningProxy} from '../proxy-harness.js'
import {attackConfig, AWS_KEY} from './attack-harness.js'

const HEAD = AWS_KEY.slice(0, 10)
const REST = AWS_KEY.slice(10)

const DLP_CLOSE = {block_reason: 'dlp_match', version: '1', severity: 'critical', retry: 'none', layer: 'dlp'}

interface Outcome {
  /** Echoes the agent received, in order. */
  readonly echoes: string[]
  readonly code: number
  readonly reason: string
}

/**
 * One connection: each message sent once the echo of the one before came back (as an agent
 * talking to a chat endpoint would), then a normal close. Ends when the connection closes.
 */
async function converse(proxy: RunningProxy, upstreamPort: number, messages: readonly string[], from?: string): Promise<Outcome> {
  const target = `ws://127.0.0.1:${upstreamPort}/echo`
  const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(target)}`, {perMessageDeflate: false, ...(from === undefined ? {} : {localAddress: from})})
  const echoes: string[] = []
  return await new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('open', () => ws.send(messages[0]!))
    ws.on('message', (d: Buffer) => {
      echoes.push(d.toString('utf8'))
      if (echoes.length < messages.length) ws.send(messages[echoes.length]!)
      else ws.close(1000)
    })
    ws.on('close', (code, reason) => resolve({echoes, code, reason: reason.toString('utf8')}))
  })
}

describe('attacks: a key split across WebSocket messages inside their framing', {timeout: 60_000}, () => {
  let wss: WebSocketServer
  let port = 0
  /** Every message the upstream received, all connections. */
  const received: string[] = []
  let proxy: RunningProxy
  let ceeProxy: RunningProxy

  before(async () => {
    wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
    wss.on('connection', (ws) => {
      ws.on('message', (d: Buffer, isBinary: boolean) => {
        received.push(Buffer.from(d).toString('utf8'))
        ws.send(d, {binary: isBinary})
      })
    })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    port = (wss.address() as AddressInfo).port
    proxy = await startProxy(attackConfig(['websocket_proxy:', '  enabled: true']))
    ceeProxy = await startProxy(attackConfig([
      'websocket_proxy:', '  enabled: true',
      'cross_request_detection:', '  enabled: true', '  action: block', '  fragment_reassembly:', '    enabled: true', '    max_buffer_bytes: 65536', '    window_minutes: 5',
    ]))
  })
  after(async () => {
    await proxy?.stop()
    await ceeProxy?.stop()
    for (const c of wss?.clients ?? []) c.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })

  const forms: Array<[string, string, string]> = [
    ['JSON strings', JSON.stringify(HEAD), JSON.stringify(REST)],
    ['JSON objects', JSON.stringify({t: HEAD}), JSON.stringify({t: REST})],
    ['a repeated text label', `x ${HEAD}`, `x ${REST}`],
    ['a repeated text ending', `${HEAD} x`, `${REST} x`],
    ['text, separators at the junction', `key: ${HEAD}.`, `(${REST})`],
    ['a JSON message, then text', JSON.stringify({t: HEAD}), REST],
    ['a JSON message, then text after a separator', JSON.stringify({t: `${HEAD}`}), ` ${REST}`],
  ]
  for (const [name, first, second] of forms) {
    it(`${name}: the second half never reaches the upstream, the agent gets 1008 dlp_match`, async () => {
      received.length = 0
      const r = await converse(proxy, port, [first, second])
      assert.equal(r.code, 1008, name)
      assert.deepEqual(JSON.parse(r.reason), DLP_CLOSE, name)
      assert.deepEqual(r.echoes, [first], name)
      assert.deepEqual(received, [first], name)
    })
  }

  it('a key in three JSON messages is read whole', async () => {
    received.length = 0
    const parts = [AWS_KEY.slice(0, 7), AWS_KEY.slice(7, 14), AWS_KEY.slice(14)].map((p) => JSON.stringify({t: p}))
    const r = await converse(proxy, port, parts)
    assert.equal(r.code, 1008)
    assert.deepEqual(JSON.parse(r.reason), DLP_CLOSE)
    assert.deepEqual(received, parts.slice(0, 2))
  })

  it('clean messages in the same shapes still pass unchanged', async () => {
    received.length = 0
    const clean = ['"hello"', '"world"', '{"t":"good"}', '{"t":"morning"}', 'x status', 'x ready', 'key: value.', '(done)']
    const r = await converse(proxy, port, clean)
    assert.equal(r.code, 1000)
    assert.deepEqual(r.echoes, clean)
    assert.deepEqual(received, clean)
  })

  it('across two connections: cross-request fragment reassembly reads the JSON values, 1008 cross_request_deny', async () => {
    received.length = 0
    const first = await converse(ceeProxy, port, [JSON.stringify({t: HEAD})])
    assert.equal(first.code, 1000)
    const second = await converse(ceeProxy, port, [JSON.stringify({t: REST})])
    assert.equal(second.code, 1008)
    assert.equal(JSON.parse(second.reason).block_reason, 'cross_request_deny')
    assert.equal(JSON.parse(second.reason).layer, 'cross_request')
    assert.deepEqual(received, [JSON.stringify({t: HEAD})])
  })

  it('across two connections, another field in each JSON message does not keep the halves apart (per-field tails), 1008 cross_request_deny', async () => {
    received.length = 0
    // Another client host: a window of its own (every loopback address is the test above's host).
    const from = otherHostAddress()
    const clean = [JSON.stringify({t: 'hello', id: '1'}), JSON.stringify({t: 'world', id: '2'})]
    assert.equal((await converse(ceeProxy, port, clean, from)).code, 1000, 'ordinary messages with repeating fields pass')
    const first = JSON.stringify({t: HEAD, id: 'm-3'})
    assert.equal((await converse(ceeProxy, port, [first], from)).code, 1000)
    const second = await converse(ceeProxy, port, [JSON.stringify({t: REST, id: 'm-4'})], from)
    assert.equal(second.code, 1008)
    assert.equal(JSON.parse(second.reason).block_reason, 'cross_request_deny')
    assert.equal(JSON.parse(second.reason).layer, 'cross_request')
    assert.deepEqual(received, [...clean, first])
  })
})
