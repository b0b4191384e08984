/**
 * Cross-request detection on WebSocket messages (operations §5.4) through the built `pipelock
 * run`, real sockets and the `ws` client: every client message feeds the session's entropy
 * budget, and a blocking finding closes the relay with 1008 and the `cross_request_deny` JSON.
 * The same traffic on a proxy without cross-request detection is relayed.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {baseConfig, startProxy, type RunningProxy} from './proxy-harness.js'

function config(cee: boolean): string {
  const lines = ['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'websocket_proxy:', '  enabled: true']
  if (cee) {
    lines.push(
      'cross_request_detection:',
      '  enabled: true',
      '  action: block',
      '  entropy_budget: {enabled: true, bits_per_window: 2000, window_minutes: 5, action: block}',
      '  fragment_reassembly: {enabled: false}',
    )
  }
  return baseConfig(lines.join('\n'))
}

async function echoServer(): Promise<{port: number; close: () => Promise<void>}> {
  const wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
  wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, {binary: isBinary})))
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  return {
    port: (wss.address() as AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

/** Sends high-entropy messages until the relay closes or `n` were echoed; returns how it ended. */
async function exfiltrate(proxy: RunningProxy, port: number, n: number): Promise<{echoed: number; code?: number; reason?: string}> {
  const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${port}/`)}`, {headers: {'X-Pipelock-Agent': 'ws-cee'}})
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  let echoed = 0
  return await new Promise((resolve) => {
    ws.on('close', (code, reason) => resolve({echoed, code, reason: reason.toString()}))
    ws.on('message', () => {
      echoed++
      if (echoed === n) {
        ws.close()
        resolve({echoed})
        return
      }
      ws.send(randomBytes(96).toString('base64url'))
    })
    ws.send(randomBytes(96).toString('base64url'))
  })
}

describe('pipelock run: cross-request detection on /ws messages', {timeout: 60_000}, () => {
  let echo: Awaited<ReturnType<typeof echoServer>>
  let withCee: RunningProxy
  let without: RunningProxy
  before(async () => {
    echo = await echoServer()
    withCee = await startProxy(config(true))
    without = await startProxy(config(false))
  })
  after(async () => {
    await withCee?.stop()
    await without?.stop()
    await echo?.close()
  })

  it('a session over its entropy budget is closed 1008 cross_request_deny; without the section the messages pass', async () => {
    // 128 characters of base64url ≈ 768 bits each: a 2000-bit budget is spent by the third message.
    const r = await exfiltrate(withCee, echo.port, 10)
    assert.equal(r.code, 1008, JSON.stringify(r))
    assert.ok(r.echoed >= 1 && r.echoed < 10, `echoed ${r.echoed} before the close`)
    const reason = JSON.parse(r.reason ?? '{}') as Record<string, string>
    assert.equal(reason.block_reason, 'cross_request_deny')
    assert.equal(reason.layer, 'cross_request')
    const plain = await exfiltrate(without, echo.port, 10)
    assert.deepEqual(plain, {echoed: 10})
  })
})
