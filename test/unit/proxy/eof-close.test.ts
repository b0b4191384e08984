import {describe, it, after} from 'node:test'
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import net, {type AddressInfo} from 'node:net'
import tls, {type TLSSocket} from 'node:tls'
import {destroyOnEof} from '../../../src/plugins/proxy/intercept/eof-close.js'
import {SetupQueue} from '../../../src/plugins/proxy/intercept/setup-queue.js'
import {generateCa} from '../../../src/plugins/tls/index.js'

/**
 * The server side the interceptor's way (an HTTP/2 secure server with HTTP/1.1 allowed, fed raw
 * sockets), every TLS socket armed with `destroyOnEof`; the queue runs one task per turn.
 */
function interceptLike(holdMs: number): {port: Promise<number>; sockets: TLSSocket[]; tasks: Array<{socket: TLSSocket; destroyedBefore: boolean; endedBefore: boolean}>; close: () => void} {
  const {certPem, keyPem} = generateCa('Pipelock test', 3_600_000, Date.now())
  const server = http2.createSecureServer({allowHTTP1: true, cert: certPem, key: keyPem, ALPNProtocols: ['h2', 'http/1.1']})
  const queue = new SetupQueue({sliceMs: 0})
  const sockets: TLSSocket[] = []
  const tasks: Array<{socket: TLSSocket; destroyedBefore: boolean; endedBefore: boolean}> = []
  const inflight = new Map<TLSSocket, number>()
  server.on('request', (req, res) => {
    const s = (req as unknown as {socket: TLSSocket}).socket
    inflight.set(s, (inflight.get(s) ?? 0) + 1)
    res.once('close', () => inflight.set(s, inflight.get(s)! - 1))
    setTimeout(() => res.end(Buffer.alloc(1024, 0x61)), holdMs)
  })
  server.on('secureConnection', (s: TLSSocket) => {
    sockets.push(s)
    destroyOnEof(s, () => (inflight.get(s) ?? 0) > 0, {
      push: (task) => queue.push(() => {
        tasks.push({socket: s, destroyedBefore: s.destroyed, endedBefore: s.writableEnded})
        task()
      }),
    })
  })
  const front = net.createServer((raw) => server.emit('connection', raw))
  const port = new Promise<number>((resolve) => front.listen(0, '127.0.0.1', () => resolve((front.address() as AddressInfo).port)))
  return {port, sockets, tasks, close: () => front.close()}
}

/** A TLS connection with one GET sent; resolves once `bytes` of the answer arrived (0: at once). */
function client(port: number, bytes: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1']}, () => {
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
      if (bytes === 0) resolve(s)
    })
    let got = 0
    s.on('data', (c: Buffer) => ((got += c.length) > bytes && bytes > 0 ? resolve(s) : undefined))
    s.on('error', () => undefined)
    s.once('error', reject)
  })
}

const closed = (s: TLSSocket): Promise<void> => (s.destroyed && s.closed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve())))

describe('intercept: a tunnel whose agent closed is destroyed in a later turn, not shut down gracefully (issue 16)', () => {
  const fixtures: Array<{close: () => void}> = []
  after(() => {
    for (const f of fixtures) f.close()
  })

  it('agents closing together: every idle server socket is destroyed by a queued task, none after a graceful end()', async () => {
    const f = interceptLike(0)
    fixtures.push(f)
    const port = await f.port
    const agents = await Promise.all(Array.from({length: 8}, () => client(port, 1024)))
    assert.equal(f.sockets.length, 8)
    for (const a of agents) a.destroy()
    await Promise.all(f.sockets.map(closed))
    // Each destroy was a queue task (the queue runs one per turn here), and when it ran the
    // socket was still open and node's HTTP server had not started its graceful shutdown (its
    // `end()` after the EOF is what the rule skips: without it, `writableEnded` is true here).
    assert.equal(f.tasks.length, 8)
    assert.deepEqual(new Set(f.tasks.map((t) => t.socket)), new Set(f.sockets))
    for (const t of f.tasks) {
      assert.equal(t.destroyedBefore, false, 'not destroyed in the turn of its EOF')
      assert.equal(t.endedBefore, false, 'no graceful end() was started')
    }
  })

  it('a socket destroyed meanwhile (the kill switch cuts the raw socket) makes its queued task harmless', async () => {
    const f = interceptLike(0)
    fixtures.push(f)
    const port = await f.port
    const agent = await client(port, 1024)
    const s = f.sockets[0]!
    // The agent's EOF queues the destroy; the tunnel is cut before the queue's turn.
    s.prependOnceListener('end', () => process.nextTick(() => s.destroy()))
    agent.destroy()
    await closed(s)
    assert.ok(await waitFor(() => f.tasks.length === 1), 'the queued task ran')
    assert.equal(f.tasks[0]!.destroyedBefore, true)
  })

  it('a socket with a request in flight at the EOF is left to node (no queued destroy)', async () => {
    const f = interceptLike(300)
    fixtures.push(f)
    const port = await f.port
    const agent = await client(port, 0)
    assert.ok(await waitFor(() => f.sockets.length === 1), 'server side connected')
    // The request is parsed (in flight) before the EOF arrives.
    await new Promise((r) => setTimeout(r, 100))
    agent.end()
    await closed(f.sockets[0]!)
    assert.equal(f.tasks.length, 0)
    agent.destroy()
  })
})

async function waitFor(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    await new Promise((r) => setTimeout(r, 10))
  }
  return cond()
}
