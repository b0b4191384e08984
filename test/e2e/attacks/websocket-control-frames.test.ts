/**
 * Attack class (issue 37 item 2): WebSocket control frames as an exfiltration channel. A secret
 * in a ping payload, an unsolicited pong, a close reason, or spread over many pings (125 bytes a
 * frame) must not reach the upstream — on `/ws` and on `wss://` inside an intercepted tunnel.
 */
import assert from 'node:assert/strict'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {githubToken} from '../../unit/scanner/fixtures.js'
import {startInterceptedWss, startProxy, type InterceptedWss, type RunningProxy} from '../proxy-harness.js'

const SECRET = githubToken(41)

/** What the upstream saw of every control frame (ping and pong payloads, close reasons). */
interface Seen {
  readonly control: string[]
}

function recordControl(wss: WebSocketServer, seen: Seen): void {
  wss.on('connection', (ws) => {
    ws.on('ping', (d) => seen.control.push(`ping ${d.toString('latin1')}`))
    ws.on('pong', (d) => seen.control.push(`pong ${d.toString('latin1')}`))
    ws.on('close', (code, reason) => seen.control.push(`close ${code} ${reason.toString('latin1')}`))
    ws.on('message', (d, isBinary) => ws.send(d, {binary: isBinary}))
  })
}

const closedWith = (ws: WebSocket): Promise<{code: number; reason: string}> =>
  new Promise((resolve) => ws.once('close', (code, reason) => resolve({code, reason: reason.toString()})))
const opened = (ws: WebSocket): Promise<void> =>
  new Promise((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })

/** The four ways to carry the secret in control frames, each on a fresh connection. */
const ATTACKS: Array<[string, (ws: WebSocket) => void]> = [
  ['ping payload', (ws) => ws.ping(`k=${SECRET}`)],
  ['unsolicited pong', (ws) => ws.pong(Buffer.from(`k=${SECRET}`))],
  ['close reason', (ws) => ws.close(1000, `bye ${SECRET}`)],
  ['secret over three pings', (ws) => {
    const third = Math.ceil(SECRET.length / 3)
    for (let k = 0; k < 3; k++) ws.ping(SECRET.slice(k * third, (k + 1) * third))
  }],
]

async function everyAttack(connect: () => Promise<WebSocket>, seen: Seen): Promise<string[]> {
  const leaked: string[] = []
  for (const [label, attack] of ATTACKS) {
    seen.control.length = 0
    const ws = await connect()
    const done = closedWith(ws)
    attack(ws)
    // Refused = the proxy closes the connection; a relay that forwards the frames leaves it open.
    const c = await Promise.race([done, new Promise<{code: number; reason: string}>((r) => setTimeout(() => r({code: 0, reason: 'still open'}), 3000))])
    ws.terminate()
    await new Promise((r) => setTimeout(r, 200))
    const joined = seen.control.join('\n')
    // The whole secret, or its last third (the three-pings case), never reaches the upstream.
    if (joined.includes(SECRET) || joined.includes(SECRET.slice(-10))) leaked.push(`${label}: upstream saw ${JSON.stringify(joined)}`)
    if (label !== 'close reason' && c.code !== 1008) leaked.push(`${label}: closed ${c.code}, not a policy close`)
  }
  return leaked
}

describe('attacks: WebSocket control frames on /ws', {timeout: 60_000}, () => {
  let wss: WebSocketServer
  let proxy: RunningProxy
  const seen: Seen = {control: []}

  before(async () => {
    wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false, autoPong: false})
    recordControl(wss, seen)
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    proxy = await startProxy(['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'websocket_proxy:', '  enabled: true', ''].join('\n'))
  })
  after(async () => {
    await proxy?.stop()
    for (const c of wss?.clients ?? []) c.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })

  it('a secret in a ping, a pong, a close reason or over several pings never reaches the upstream', async () => {
    const target = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`
    const connect = async (): Promise<WebSocket> => {
      const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(target)}`, {perMessageDeflate: false})
      await opened(ws)
      return ws
    }
    assert.deepEqual(await everyAttack(connect, seen), [])
    assert.ok(!proxy.stdout().includes(SECRET), 'no secret in the audit log')
  })

  it('clean pings, pongs and close reasons still pass', async () => {
    seen.control.length = 0
    const target = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`
    const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(target)}`, {perMessageDeflate: false})
    await opened(ws)
    const done = closedWith(ws)
    ws.ping('heartbeat 1')
    ws.pong('heartbeat 2')
    ws.close(1000, 'done for today')
    await done
    await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual(seen.control, ['ping heartbeat 1', 'pong heartbeat 2', 'close 1000 done for today'])
  })
})

describe('attacks: WebSocket control frames on intercepted wss://', {timeout: 60_000}, () => {
  let origin: InterceptedWss | undefined
  const seen: Seen = {control: []}

  before(async () => {
    origin = await startInterceptedWss((wss) => recordControl(wss, seen), {autoPong: false})
  })
  after(async () => {
    await origin?.close()
  })

  it('a secret in a ping, a pong, a close reason or over several pings never reaches the upstream', async () => {
    const connect = async (): Promise<WebSocket> => {
      const ws = await origin!.connect('/')
      await opened(ws)
      return ws
    }
    assert.deepEqual(await everyAttack(connect, seen), [])
  })
})
