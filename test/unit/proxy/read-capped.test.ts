/**
 * The buffered read of a response body (read-capped.ts): with the announced length (issue 36:
 * chunks copied into one buffer of that length as they arrive) it must return the same bytes,
 * and the same null, as without it — for a body of the announced length, one longer or shorter
 * than announced, one over the cap, an announced length over the cap, and a failed stream. Real
 * undici responses from a real server, plus a stream that fails mid-body.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {Readable} from 'node:stream'
import {after, before, describe, it} from 'node:test'
import {Agent, request} from 'undici'
import {readWithinBudget} from '../../../src/plugins/proxy/agent-budget.js'
import {readCapped} from '../../../src/plugins/proxy/read-capped.js'

const body = Buffer.from(Array.from({length: 200_000}, (_, i) => (i * 7) & 0xff))

describe('readCapped', () => {
  let server: http.Server
  let base = ''
  const agent = new Agent()
  before(async () => {
    // Writes the body in 16 KiB pieces with a turn between them, so the client reads several chunks.
    server = http.createServer(async (req, res) => {
      const n = Number(new URL(req.url!, 'http://x').searchParams.get('n'))
      res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(n)})
      // A read over the cap destroys the response: the rest is not written.
      res.on('error', () => {})
      for (let at = 0; at < n && !res.destroyed; at += 16_384) {
        res.write(body.subarray(at, Math.min(n, at + 16_384)))
        await new Promise((r) => setImmediate(r))
      }
      res.end()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    await agent.close()
    await new Promise<void>((r) => server.close(() => r()))
  })

  const fetchBody = async (n: number, cap: number, expected?: number): Promise<Buffer | null> => {
    const up = await request(`${base}/?n=${n}`, {dispatcher: agent})
    return readCapped(up.body, cap, {expected})
  }

  it('returns the body read in several chunks, with and without the announced length', async () => {
    for (const n of [1, 1000, 65_536, 200_000]) {
      const want = body.subarray(0, n)
      assert.deepEqual(await fetchBody(n, 1 << 20), want)
      assert.deepEqual(await fetchBody(n, 1 << 20, n), want)
    }
  })

  it('returns an empty body', async () => {
    assert.deepEqual(await fetchBody(0, 1 << 20, 0), Buffer.alloc(0))
    assert.deepEqual(await fetchBody(0, 1 << 20), Buffer.alloc(0))
  })

  it('returns null once the body is over the cap, whatever was announced', async () => {
    assert.equal(await fetchBody(200_000, 100_000), null)
    assert.equal(await fetchBody(200_000, 100_000, 200_000), null)
    assert.equal(await fetchBody(200_000, 100_000, 50_000), null)
    assert.deepEqual(await fetchBody(100_000, 100_000, 100_000), body.subarray(0, 100_000))
  })

  it('reads a body longer or shorter than announced as it is, under the cap', async () => {
    const chunks = (n: number): Readable => Readable.from([body.subarray(0, n / 2), body.subarray(n / 2, n)], {objectMode: false})
    assert.deepEqual(await readCapped(chunks(60_000), 1 << 20, {expected: 40_000}), body.subarray(0, 60_000))
    assert.deepEqual(await readCapped(chunks(60_000), 1 << 20, {expected: 90_000}), body.subarray(0, 60_000))
    assert.equal(await readCapped(chunks(60_000), 50_000, {expected: 40_000}), null)
  })

  it('ignores an announced length that is not a positive safe integer', async () => {
    for (const expected of [NaN, -1, 1.5, Infinity]) assert.deepEqual(await fetchBody(1000, 1 << 20, expected), body.subarray(0, 1000))
  })

  it('returns null when the stream fails mid-body', async () => {
    const failing = new Readable({
      read() {
        this.push(body.subarray(0, 1000))
        this.destroy(new Error('reset'))
      },
    })
    assert.equal(await readCapped(failing, 1 << 20, {expected: 5000}), null)
  })

  it('says whether a null came from the cap, a failure or the idle bound', async () => {
    const why = {exceeded: false, idle: false}
    assert.equal(await readCapped(Readable.from([body.subarray(0, 5000)], {objectMode: false}), 1000, {why}), null)
    assert.deepEqual(why, {exceeded: true, idle: false})
    // One chunk, then nothing: the idle bound fails the read.
    const quiet = new Readable({read() {}})
    quiet.push(body.subarray(0, 100))
    const stalled = {exceeded: false, idle: false}
    assert.equal(await readCapped(quiet, 1 << 20, {idleMs: 50, why: stalled}), null)
    assert.deepEqual(stalled, {exceeded: false, idle: true})
    assert.ok(quiet.destroyed)
  })

  it('a failed read within a tighter session budget is not reported as over the budget', async () => {
    let spent = 0
    const ctx = {profile: '', budgets: {tracker: () => ({remainingBytes: () => 2000, recordBytes: (n: number) => void (spent += n), retryAfter: () => 30})}} as unknown as Parameters<typeof readWithinBudget>[0]
    const failing = new Readable({
      read() {
        this.push(body.subarray(0, 500))
        this.destroy(new Error('reset'))
      },
    })
    assert.deepEqual(await readWithinBudget(ctx, 'k', failing, 1 << 20), {body: null})
    assert.equal(spent, 0)
    // Over the bytes left: over the budget, they are counted as spent, and the wait until the window resets comes with it.
    assert.deepEqual(await readWithinBudget(ctx, 'k', Readable.from([body.subarray(0, 5000)], {objectMode: false}), 1 << 20), {body: null, overBudget: 2000, retryAfter: 30})
    assert.equal(spent, 2000)
  })

  it('does not set aside an announced length over 1 MiB before the bytes arrive', async () => {
    // An upstream may announce 8 MiB and send 1,000 bytes, then stall: only what arrives is held.
    const sizes: number[] = []
    const allocUnsafe = Buffer.allocUnsafe
    Buffer.allocUnsafe = (n: number) => (sizes.push(n), allocUnsafe(n))
    try {
      const got = await readCapped(Readable.from([body.subarray(0, 1000)], {objectMode: false}), 16 << 20, {expected: 8 << 20})
      assert.deepEqual(got, body.subarray(0, 1000))
      assert.deepEqual(sizes.filter((n) => n > 1 << 20), [])
      const small = await readCapped(Readable.from([body.subarray(0, 1000)], {objectMode: false}), 16 << 20, {expected: 4000})
      assert.deepEqual(small, body.subarray(0, 1000))
      assert.ok(sizes.includes(4000), 'an announced length within 1 MiB is read into one buffer of that length')
    } finally {
      Buffer.allocUnsafe = allocUnsafe
    }
  })
})
