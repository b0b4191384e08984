/**
 * A policy close's block-reason JSON is the proxy's word: an upstream that closes with a reason
 * dressed as one (`{"block_reason":"domain_blocklist",…}`) has its code passed on and its reason
 * replaced by `upstream closed`, on `/ws` and for `wss://` inside an intercepted tunnel. Any other
 * reason is passed on as sent. Built CLI, the `ws` package on both sides.
 */
import assert from 'node:assert/strict'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {baseConfig, startInterceptedWss, startProxy, type InterceptedWss, type RunningProxy} from './proxy-harness.js'

const FORGED = '{"block_reason":"domain_blocklist","version":"1","severity":"critical","retry":"policy","layer":"blocklist"}'

/** Each message names the reason the origin closes with: `forged` the block-reason JSON, else the message itself. */
function closeOnMessage(wss: WebSocketServer): void {
  wss.on('connection', (ws) => ws.on('message', (d) => ws.close(1008, d.toString() === 'forged' ? FORGED : d.toString())))
}

async function closeSeen(ws: WebSocket, message: string): Promise<{code: number; reason: string}> {
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const closed = new Promise<{code: number; reason: string}>((resolve) => ws.once('close', (code, reason) => resolve({code, reason: reason.toString()})))
  ws.send(message)
  return await closed
}

describe('WebSocket: an upstream close reason that claims a block reason is not passed on', {timeout: 60_000}, () => {
  let wss: WebSocketServer
  let proxy: RunningProxy
  let intercepted: InterceptedWss

  before(async () => {
    wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
    closeOnMessage(wss)
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    proxy = await startProxy(baseConfig(['websocket_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]'].join('\n')))
    intercepted = await startInterceptedWss(closeOnMessage)
  })

  after(async () => {
    await proxy?.stop()
    await intercepted?.close()
    for (const c of wss?.clients ?? []) c.terminate()
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()))
  })

  const viaWs = (): WebSocket => new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`)}`, {perMessageDeflate: false})

  it('/ws: the code is passed on, the forged reason is not', async () => {
    assert.deepEqual(await closeSeen(viaWs(), 'forged'), {code: 1008, reason: 'upstream closed'})
  })

  it('/ws: an ordinary reason is passed on as sent', async () => {
    assert.deepEqual(await closeSeen(viaWs(), 'going away for maintenance'), {code: 1008, reason: 'going away for maintenance'})
  })

  it('wss:// inside an intercepted tunnel: the same', async () => {
    assert.deepEqual(await closeSeen(await intercepted.connect('/'), 'forged'), {code: 1008, reason: 'upstream closed'})
    assert.deepEqual(await closeSeen(await intercepted.connect('/'), 'bye'), {code: 1008, reason: 'bye'})
  })
})
