import {describe, it, after} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {Agent} from 'undici'
import {pacedResponses} from '../../../src/plugins/proxy/intercept/paced-responses.js'
import {SetupQueue} from '../../../src/plugins/proxy/intercept/setup-queue.js'

/** A queue whose turns are logged, or held back until `release` when `hold` is set. */
function spiedQueue(): {queue: SetupQueue; log: string[]; held: Array<() => void>; hold: boolean} {
  const queue = new SetupQueue()
  const s = {queue, log: [] as string[], held: [] as Array<() => void>, hold: false}
  const push = queue.push.bind(queue)
  queue.push = (task: () => void): void => {
    s.log.push('queued')
    const run = (): void => (s.log.push('turn'), task())
    if (s.hold) s.held.push(() => push(run))
    else push(run)
  }
  return s
}

describe('intercept: upstream responses paced through the set-up queue (issue 16)', () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 0x62)
  const server = http.createServer((req, res) => {
    if (req.url === '/big') return void res.end(big)
    if (req.url === '/empty') return void (res.writeHead(204), res.end())
    if (req.url === '/cut') {
      // Headers and part of the body, then the connection dies.
      res.writeHead(200, {'content-length': '100000'})
      res.write(Buffer.alloc(1000, 0x63))
      return void setTimeout(() => res.socket?.destroy(), 20)
    }
    res.writeHead(201, {'x-test': 'yes', 'content-type': 'text/plain'})
    res.end(`hello ${req.method} ${req.url}`)
  })
  const listening = new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const agents: Agent[] = []
  after(async () => {
    await Promise.all(agents.map((a) => a.close()))
    server.close()
  })
  const origin = async (): Promise<string> => (await listening, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  const paced = (q: SetupQueue): Agent => {
    const a = new Agent()
    agents.push(a)
    return a.compose(pacedResponses(q)) as Agent
  }

  it('delivers each response start in a queue turn, with the same status, headers and body', async () => {
    const s = spiedQueue()
    const agent = paced(s.queue)
    const res = await agent.request({origin: await origin(), path: '/x?y=1', method: 'GET'})
    assert.deepEqual(s.log, ['queued', 'turn'])
    assert.equal(res.statusCode, 201)
    assert.equal(res.headers['x-test'], 'yes')
    assert.equal(await res.body.text(), 'hello GET /x?y=1')
    const empty = await agent.request({origin: await origin(), path: '/empty', method: 'GET'})
    assert.equal(empty.statusCode, 204)
    assert.equal(await empty.body.text(), '')
    const head = await agent.request({origin: await origin(), path: '/x', method: 'HEAD'})
    assert.equal(head.statusCode, 201)
    assert.equal(await head.body.text(), '')
    assert.deepEqual(s.log, ['queued', 'turn', 'queued', 'turn', 'queued', 'turn'])
  })

  it("keeps the reader's backpressure: a 4 MiB body read slowly arrives whole", async () => {
    const agent = paced(new SetupQueue())
    const res = await agent.request({origin: await origin(), path: '/big', method: 'GET'})
    const chunks: Buffer[] = []
    for await (const c of res.body) {
      chunks.push(c as Buffer)
      // A slow reader: the stream pauses the connection, then resumes it.
      if (chunks.length % 8 === 0) await new Promise((r) => setTimeout(r, 2))
    }
    assert.ok(Buffer.concat(chunks).equals(big))
  })

  it('an upstream that dies mid-body is an error to the reader, not a short body', async () => {
    const agent = paced(new SetupQueue())
    const res = await agent.request({origin: await origin(), path: '/cut', method: 'GET'})
    await assert.rejects(res.body.arrayBuffer())
  })

  it('a request aborted while its response waits for a turn fails with the abort', async () => {
    const s = spiedQueue()
    s.hold = true
    const agent = paced(s.queue)
    const ac = new AbortController()
    const pending = agent.request({origin: await origin(), path: '/x', method: 'GET', signal: ac.signal})
    // Wait until the response is held at the queue, then abort, then let its turn come.
    while (s.held.length === 0) await new Promise((r) => setTimeout(r, 5))
    ac.abort(new Error('client went away'))
    s.hold = false
    for (const h of s.held.splice(0)) h()
    await assert.rejects(pending, /client went away/)
    assert.deepEqual(s.log, ['queued', 'turn'])
  })
})
