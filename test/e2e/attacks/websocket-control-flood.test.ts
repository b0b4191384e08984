/**
 * Attack class: a flood of pings toward a peer that does not read. A ping is at most 131 bytes on
 * the wire (an empty one two to six); each one the proxy passes on is a write of its own, queued
 * for as long as the other side does not read. Passed on without limit, a few megabytes of pings
 * grow the proxy by hundreds (an agent flooding an origin that stalls, or an origin flooding an
 * agent that stalls — or that answers each ping with a pong toward the stalled origin). Through
 * `pipelock run`, raw frames on real sockets, both ways: once the writes toward the silent side
 * back up, the proxy stops reading the flooding side, so it never reads the whole flood
 * (`pipelock_ws_frames_total{type="control"}`).
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import net, {type AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {rawHttp, startProxy, until, type RunningProxy} from '../proxy-harness.js'
import {attackConfig} from './attack-harness.js'

/** The payload of every ping: the largest a control frame takes. */
const PAYLOAD = Buffer.alloc(125, 0x2e)
/** One ping frame's bytes: masked (zero key: the payload as is) as a client sends it, or not as a server does. */
const pingBytes = (masked: boolean): number => 2 + (masked ? 4 : 0) + PAYLOAD.length

/** 64 KiB or so of pings. */
function pings(masked: boolean): Buffer {
  const one = Buffer.concat([Buffer.from(masked ? [0x89, 0x80 | PAYLOAD.length, 0, 0, 0, 0] : [0x89, PAYLOAD.length]), PAYLOAD])
  return Buffer.concat(Array(Math.floor(65536 / one.length)).fill(one))
}

/**
 * Writes `chunk` until `socket` stops draining (its peer stopped reading it) or `limit` bytes went;
 * the number of frames written. A drain that does not come within 3 s counts as stopped.
 */
async function flood(socket: net.Socket, chunk: Buffer, frameBytes: number, limit: number): Promise<number> {
  let written = 0
  while (written < limit) {
    written += chunk.length
    if (!socket.write(chunk)) {
      const drained = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 3000)
        socket.once('drain', () => {
          clearTimeout(t)
          resolve(true)
        })
      })
      if (!drained) break
    }
  }
  return written / frameBytes
}

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** A raw origin: answers the upgrade, then runs `after(socket)`. */
async function rawOrigin(after: (s: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.on('error', () => undefined)
    s.once('data', (d: Buffer) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(d.toString('latin1'))?.[1] ?? ''
      const accept = createHash('sha1').update(key + ACCEPT_GUID).digest('base64')
      s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
      after(s)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return server
}

/** A raw client upgraded through `/ws` to `port`; resolves once the 101 is in. */
async function rawClient(proxy: RunningProxy, port: number): Promise<net.Socket> {
  const s = net.connect(proxy.port, '127.0.0.1')
  s.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    let head = ''
    const onData = (c: Buffer): void => {
      head += c.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      s.off('data', onData)
      if (head.startsWith('HTTP/1.1 101 ')) resolve()
      else reject(new Error(head))
    }
    s.on('data', onData)
    s.write(`GET /ws?url=${encodeURIComponent(`ws://127.0.0.1:${port}/`)} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  })
  return s
}

/** `pipelock_ws_frames_total{type="control"}` now. */
async function controlFramesRead(proxy: RunningProxy): Promise<number> {
  const m = await rawHttp(proxy.port, {path: '/metrics'})
  return Number(/^pipelock_ws_frames_total\{type="control"\} (\d+)$/m.exec(m.body)?.[1] ?? 'NaN')
}

/** Up to 64 MiB of pings: many times what the socket buffers between the two sides hold. */
const LIMIT = 64 * 1024 * 1024

describe('attacks: a ping flood toward a WebSocket peer that does not read', {timeout: 120_000}, () => {
  let proxy: RunningProxy
  const servers: net.Server[] = []
  const sockets: net.Socket[] = []

  before(async () => {
    // Frames unscanned (their scan is not what is tested here, and the flood then moves at the
    // speed of the sockets): the buffers between the sides fill within a second.
    proxy = await startProxy(attackConfig(['websocket_proxy:', '  enabled: true', '  scan_text_frames: false']))
  })
  after(async () => {
    await proxy?.stop()
    for (const s of sockets) s.destroy()
    for (const s of servers) s.close()
  })

  /**
   * The flood is read in part only. The flooder stopped when its writes backed up (or at LIMIT), so
   * pings it sent are still waiting in the socket buffers toward the proxy: a proxy that paused the
   * flooding side leaves them there; one that reads on regardless gets to every ping sent.
   */
  async function readInPart(before: number, sent: number): Promise<void> {
    const all = await until(async () => (await controlFramesRead(proxy)) - before >= sent, 10_000)
    const read = (await controlFramesRead(proxy)) - before
    assert.ok(!all, `the proxy read ${read} of ${sent} pings`)
  }

  it('an agent flooding an origin that stalls: the proxy stops reading the agent', async () => {
    const origin = await rawOrigin((s) => {
      sockets.push(s)
      s.pause()
    })
    servers.push(origin)
    const before = await controlFramesRead(proxy)
    const agent = await rawClient(proxy, (origin.address() as AddressInfo).port)
    sockets.push(agent)
    const sent = await flood(agent, pings(true), pingBytes(true), LIMIT)
    await readInPart(before, sent)
  })

  it('an origin flooding an agent that stalls: the proxy stops reading the origin', async () => {
    let flooded: Promise<number> = Promise.resolve(0)
    const origin = await rawOrigin((s) => {
      sockets.push(s)
      flooded = flood(s, pings(false), pingBytes(false), LIMIT)
    })
    servers.push(origin)
    const before = await controlFramesRead(proxy)
    const agent = await rawClient(proxy, (origin.address() as AddressInfo).port)
    sockets.push(agent)
    agent.pause()
    const sent = await flooded
    await readInPart(before, sent)
  })
})
