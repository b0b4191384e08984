// transports §3.4: a message over the connection's `max_message_bytes` that reaches the relay
// itself (its sockets allow more) is refused as the frame rule refuses it on the socket: close
// 1009 `message too large` to both sides, a ws_protocol / data_budget decision and a `ws_blocked`
// audit with scanner ws_protocol — not a DLP match naming max_body_bytes. Real ws sockets on 127.0.0.1.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {test} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {systemClock} from '../../../src/plugins/canonical/index.js'
import {loadConfig} from '../../../src/plugins/config/load.js'
import {KillSwitchController} from '../../../src/plugins/killswitch/index.js'
import {AuditLog} from '../../../src/plugins/proxy/audit-log.js'
import type {Decision} from '../../../src/plugins/proxy/decision.js'
import {sessionKey} from '../../../src/plugins/proxy/identity.js'
import {ProxyMetrics} from '../../../src/plugins/proxy/metrics.js'
import {buildSnapshot} from '../../../src/plugins/proxy/state.js'
import {relayWebSocket, type WsRelayResult} from '../../../src/plugins/proxy/websocket/relay.js'
import {tempDir} from '../../e2e/proxy-harness.js'

async function listening(wss: WebSocketServer): Promise<number> {
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  return (wss.address() as AddressInfo).port
}

test('a message over the relay\'s max_message_bytes closes 1009 "message too large" (ws_protocol), both sides', {timeout: 20_000}, async () => {
  const file = path.join(tempDir(), 'pipelock.yaml')
  writeFileSync(file, 'websocket_proxy:\n  enabled: true\n')
  const loaded = loadConfig(file)
  const snap = buildSnapshot(loaded.config, loaded.hash, {}, systemClock)
  const nowMs = (): number => Number(systemClock.nowNanos() / 1_000_000n)
  const lines: string[] = []
  const audit = new AuditLog([{write: (l) => lines.push(l)}], {includeAllowed: true, includeBlocked: true, now: () => new Date()})
  const killSwitch = new KillSwitchController({enabled: false, sentinelFile: '', message: 'stopped by the test'})
  const metrics = new ProxyMetrics('test', nowMs(), nowMs, {killSwitchSources: () => killSwitch.status().sources, activeTunnels: () => 0, sessions: () => null, crossRequest: () => null})
  const decisions: Decision[] = []

  // The origin: records how it was closed, echoes anything it gets.
  const origin = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
  const originClosed = new Promise<string>((resolve) => origin.on('connection', (ws) => {
    ws.on('message', (d, isBinary) => ws.send(d, {binary: isBinary}))
    ws.on('close', (code, reason) => resolve(`${code} ${reason.toString()}`))
  }))
  const originPort = await listening(origin)
  // The proxy side: both sockets accept far more than the relay's 100 bytes.
  const front = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
  let relayed: Promise<WsRelayResult> | undefined
  front.on('connection', (client) => {
    const upstream = new WebSocket(`ws://127.0.0.1:${originPort}/`, {perMessageDeflate: false})
    upstream.once('open', () => {
      relayed = relayWebSocket(client, upstream, {
        ports: {snapshot: () => snap, nowMs, audit, metrics, trackTunnel: () => () => undefined, activeTunnels: () => 0},
        base: {requestId: 'req-ws', transport: 'websocket', method: 'GET', agent: 'anonymous', clientIp: '127.0.0.1', sessionKey: sessionKey('anonymous', '127.0.0.1'), startMs: nowMs()},
        target: `ws://127.0.0.1:${originPort}/`, host: '127.0.0.1', record: (d) => (decisions.push(d), undefined), session: null, maxMessageBytes: 100,
      })
    })
  })
  const frontPort = await listening(front)
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${frontPort}/`, {perMessageDeflate: false})
    await new Promise<void>((resolve) => ws.once('open', () => resolve()))
    await new Promise<void>((resolve) => {
      const wait = (): void => void (relayed !== undefined ? resolve() : setTimeout(wait, 10))
      wait()
    })
    // Within the limit: relayed.
    const echoed = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())))
    ws.send('x'.repeat(100))
    assert.equal((await echoed).length, 100)
    const closed = new Promise<string>((resolve) => ws.once('close', (code, reason) => resolve(`${code} ${reason.toString()}`)))
    ws.send('x'.repeat(101))
    assert.equal(await closed, '1009 message too large')
    assert.equal(await originClosed, '1009 message too large')
    const r = await relayed!
    assert.equal(r.proxyClosed, true)
    assert.equal(r.clientToServerBytes, 100)
    const block = decisions.find((d) => d.verdict === 'block')!
    assert.deepEqual([block.stage, block.layer, block.reason, block.detail], ['ws_frame', 'ws_protocol', 'data_budget', 'message too large'])
    const blocked = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'ws_blocked')
    assert.deepEqual(blocked.map((l) => [l.direction, l.scanner, l.reason]), [['client_to_server', 'ws_protocol', 'message too large']])
    assert.ok(!lines.some((l) => l.includes('dlp_match') || l.includes('max_body_bytes')), lines.join('\n'))
  } finally {
    for (const c of [...front.clients, ...origin.clients]) c.terminate()
    await new Promise<void>((resolve) => front.close(() => resolve()))
    await new Promise<void>((resolve) => origin.close(() => resolve()))
    await snap.bodyScans.close()
  }
})
