/**
 * The CONNECT relay's download half (tunnel-relay.ts) on real loopback sockets: every byte
 * arrives in order although the one read buffer is reused (a slow reader makes writes pend, which
 * is when a reuse would corrupt data), at most one buffer is ever pending toward the client
 * (backpressure), a server that speaks before the relay starts loses nothing, and the upstream's
 * EOF ends the client's side. `pipe()` is the oracle: the same byte stream through it. A bulk
 * download switches the tunnel to the larger buffer once a read fills the first one; a trickle
 * never does. With a pool, a tunnel's buffers serve the next tunnel only after both of its
 * sockets have closed.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import net, {type AddressInfo} from 'node:net'
import {describe, it} from 'node:test'
import {RelayBufferPool} from '../../../src/plugins/proxy/relay-buffer-pool.js'
import {DownloadRelay, TUNNEL_BULK_READ_BUFFER_BYTES, TUNNEL_READ_BUFFER_BYTES} from '../../../src/plugins/proxy/tunnel-relay.js'

/** Deterministic bytes (a counter hashed per 32-byte block), so a reordered or overwritten chunk shows. */
function payload(bytes: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(bytes)
  for (let off = 0, i = 0; off < bytes; off += 32, i++) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off)
  return out
}

async function listen(onSocket: (s: net.Socket) => void): Promise<{server: net.Server; port: number}> {
  const server = net.createServer(onSocket)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {server, port: (server.address() as AddressInfo).port}
}

/**
 * An upstream sending `data` (all of it as soon as a connection arrives, then EOF), a relay
 * (`mode`) from it to a client connection, and a client reading in bursts with pauses (so the
 * relay's writes pend). Resolves with what the client received and the largest
 * `writableLength` seen on the relay's client-side socket.
 */
async function relayThrough(
  mode: 'relay' | 'pipe',
  data: Buffer,
  opts: {startDelayMs?: number; trickle?: number; pool?: RelayBufferPool} = {},
): Promise<{got: Buffer; maxPending: number; ended: boolean; readBuffers: Set<number>; readMemory: Set<ArrayBufferLike>; relay: DownloadRelay; closed: Promise<void>}> {
  const upstream = await listen((s) => {
    s.on('error', () => undefined)
    const step = opts.trickle
    if (step === undefined) return void s.end(data)
    // A trickle: `step` bytes per 2 ms timer tick (at most one tick per event-loop turn).
    let off = 0
    const t = setInterval(() => {
      s.write(data.subarray(off, off + step))
      off += step
      if (off < data.length) return
      clearInterval(t)
      s.end()
    }, 2)
  })
  // The relay's client-side socket (what the proxy writes to) and the client it talks to.
  let accept: (s: net.Socket) => void = () => undefined
  const accepted = new Promise<net.Socket>((r) => (accept = r))
  const front = await listen((s) => accept(s))
  const client = net.connect(front.port, '127.0.0.1')
  // An empty stream ends even while paused: listen from the start.
  const endedOrClosed = new Promise<boolean>((resolve) => {
    client.once('end', () => resolve(true))
    client.once('close', () => resolve(false))
  })
  const relaySide = await accepted
  front.server.close()
  const relay = new DownloadRelay(undefined, undefined, opts.pool)
  // The sizes of the buffers the relay's reads landed in, and the relay's own buffers' memory.
  const readBuffers = new Set<number>()
  const readMemory = new Set<ArrayBufferLike>()
  const onread = {
    buffer: relay.onread.buffer,
    callback: (n: number, buf: Buffer) => {
      readBuffers.add(buf.length)
      if (buf.length >= TUNNEL_READ_BUFFER_BYTES) readMemory.add(buf.buffer)
      return relay.onread.callback(n, buf)
    },
  }
  const up = net.connect(mode === 'relay' ? {host: '127.0.0.1', port: upstream.port, onread} : {host: '127.0.0.1', port: upstream.port})
  await new Promise<void>((r) => up.once('connect', () => r()))
  if (opts.startDelayMs !== undefined) await new Promise((r) => setTimeout(r, opts.startDelayMs))
  // What is pending toward the client right after each of the relay's writes.
  let maxPending = 0
  const write = relaySide.write.bind(relaySide) as (chunk: Buffer, cb?: () => void) => boolean
  relaySide.write = ((chunk: Buffer, cb?: () => void) => {
    const ok = write(chunk, cb)
    maxPending = Math.max(maxPending, relaySide.writableLength)
    return ok
  }) as typeof relaySide.write
  if (mode === 'relay') relay.start(up, relaySide)
  else up.pipe(relaySide)
  // The client reads nothing for 300 ms (the kernel's buffers fill), then in bursts: 20 ms reading, 30 ms paused.
  const chunks: Buffer[] = []
  client.pause()
  client.on('data', (c: Buffer) => chunks.push(c))
  await new Promise((r) => setTimeout(r, 300))
  client.resume()
  const pacer = setInterval(() => {
    client.pause()
    setTimeout(() => client.resume(), 30)
  }, 50)
  const ended = await endedOrClosed
  clearInterval(pacer)
  const closed = Promise.all([relaySide, up].map((s) => (s.closed ? undefined : new Promise((r) => s.once('close', r))))).then(() => undefined)
  client.destroy()
  relaySide.destroy()
  up.destroy()
  upstream.server.close()
  return {got: Buffer.concat(chunks), maxPending, ended, readBuffers, readMemory, relay, closed}
}

describe('CONNECT download relay (one reused read buffer)', {timeout: 120_000}, () => {
  it('delivers every byte in order to a client that keeps pausing, the same bytes pipe() delivers', async () => {
    const data = payload(6 * 1024 * 1024, 'relay')
    const viaRelay = await relayThrough('relay', data)
    assert.equal(viaRelay.got.length, data.length)
    assert.ok(viaRelay.got.equals(data), 'relayed bytes differ from what the upstream sent')
    assert.equal(viaRelay.ended, true, 'the upstream EOF ends the client side')
    const viaPipe = await relayThrough('pipe', data)
    assert.ok(viaPipe.got.equals(viaRelay.got))
  })

  it('never holds more than one read buffer toward a slow client (backpressure)', async () => {
    const data = payload(8 * 1024 * 1024, 'bound')
    const r = await relayThrough('relay', data)
    assert.ok(r.got.equals(data))
    // The pauses made writes pend (otherwise the bound says nothing), and never by more than one buffer.
    assert.ok(r.maxPending > 0, 'no write ever pended: the client was never slow')
    // One buffer: the bulk one here (the first read of 8 MiB sent at once fills the first buffer).
    assert.ok(r.maxPending <= TUNNEL_BULK_READ_BUFFER_BYTES, `${r.maxPending} bytes pending toward the client`)
  })

  it('a bulk download moves to the larger buffer after a full read; the bytes are the same as pipe()', async () => {
    const data = payload(8 * 1024 * 1024, 'bulk')
    const r = await relayThrough('relay', data)
    assert.ok(r.got.equals(data), 'relayed bytes differ from what the upstream sent')
    assert.equal(r.relay.bufferBytes, TUNNEL_BULK_READ_BUFFER_BYTES)
    assert.ok(r.readBuffers.has(TUNNEL_READ_BUFFER_BYTES), 'reads started in the first buffer')
    assert.ok(r.readBuffers.has(TUNNEL_BULK_READ_BUFFER_BYTES), `reads never landed in the bulk buffer: ${[...r.readBuffers].join(', ')}`)
    const viaPipe = await relayThrough('pipe', data)
    assert.ok(viaPipe.got.equals(r.got))
  })

  it('a trickle (4 KiB per event-loop turn) keeps the first buffer and arrives whole', async () => {
    const data = payload(400 * 1024, 'trickle')
    const r = await relayThrough('relay', data, {trickle: 4096})
    assert.ok(r.got.equals(data), `got ${r.got.length} of ${data.length} bytes`)
    assert.equal(r.ended, true)
    assert.equal(r.relay.bufferBytes, TUNNEL_READ_BUFFER_BYTES)
    assert.ok(!r.readBuffers.has(TUNNEL_BULK_READ_BUFFER_BYTES))
  })

  it('with a pool, the next tunnel reads into the buffers of one whose sockets closed; every byte intact', async () => {
    const pool = new RelayBufferPool()
    const data1 = payload(4 * 1024 * 1024, 'pool-1')
    const first = await relayThrough('relay', data1, {pool})
    assert.ok(first.got.equals(data1))
    await first.closed
    assert.equal(pool.kept(TUNNEL_READ_BUFFER_BYTES), 1)
    assert.equal(pool.kept(TUNNEL_BULK_READ_BUFFER_BYTES), 1)
    const data2 = payload(4 * 1024 * 1024, 'pool-2')
    const second = await relayThrough('relay', data2, {pool})
    assert.ok(second.got.equals(data2), 'the second tunnel, through reused buffers, delivered other bytes')
    assert.ok(second.readMemory.size > 0)
    for (const m of second.readMemory) assert.ok(first.readMemory.has(m), 'a read landed in a fresh buffer, not a kept one')
    await second.closed
  })

  it('with a pool, a buffer goes back only once both sockets have closed (not while a write to the client pends)', async () => {
    const pool = new RelayBufferPool()
    const upstream = await listen((s) => {
      s.on('error', () => undefined)
      s.end(payload(8 * 1024 * 1024, 'held'))
    })
    let accept: (s: net.Socket) => void = () => undefined
    const accepted = new Promise<net.Socket>((r) => (accept = r))
    const front = await listen((s) => accept(s))
    // A client that never reads: the relay's writes to it pend.
    const client = net.connect(front.port, '127.0.0.1')
    client.pause()
    const relaySide = await accepted
    front.server.close()
    const relay = new DownloadRelay(undefined, undefined, pool)
    const up = net.connect({host: '127.0.0.1', port: upstream.port, onread: relay.onread})
    try {
      await new Promise<void>((r) => up.once('connect', () => r()))
      relay.start(up, relaySide)
      for (let i = 0; i < 200 && relaySide.writableLength === 0; i++) await new Promise((r) => setTimeout(r, 10))
      assert.ok(relaySide.writableLength > 0, 'no write to the client ever pended')
      const upClosed = new Promise((r) => up.once('close', r))
      up.destroy()
      await upClosed
      await new Promise((r) => setTimeout(r, 20))
      assert.equal(pool.kept(TUNNEL_READ_BUFFER_BYTES) + pool.kept(TUNNEL_BULK_READ_BUFFER_BYTES), 0, 'a buffer went back while the client socket still held a write')
      const sideClosed = new Promise((r) => relaySide.once('close', r))
      relaySide.destroy()
      await sideClosed
      assert.ok(pool.kept(TUNNEL_READ_BUFFER_BYTES) + pool.kept(TUNNEL_BULK_READ_BUFFER_BYTES) > 0, 'the buffers did not go back after both sockets closed')
    } finally {
      for (const s of [up, relaySide, client]) s.destroy()
      upstream.server.close()
    }
  })

  it('a server that sends (and closes) before the relay starts loses nothing', async () => {
    // 300 KiB: more than one buffer arrives before `start`; the first read is kept, the rest waits in the kernel.
    const data = payload(300 * 1024, 'early')
    const r = await relayThrough('relay', data, {startDelayMs: 200})
    assert.ok(r.got.equals(data), `got ${r.got.length} of ${data.length} bytes`)
    assert.equal(r.ended, true)
    const empty = await relayThrough('relay', Buffer.alloc(0), {startDelayMs: 200})
    assert.equal(empty.got.length, 0)
    assert.equal(empty.ended, true, 'an upstream that closed before the relay started ends the client side')
  })
})
