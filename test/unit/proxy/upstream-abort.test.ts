/**
 * The forward proxy's upstream abort handle (upstream-abort.ts) in place of a node EventEmitter
 * (issue 18): with a real undici Agent, each case runs with both and must end the same way — an
 * abort before the answer, during the body, before the request, after it completed, and across
 * requests sharing one handle — and no listener may be left once a request settled.
 */
import assert from 'node:assert/strict'
import {EventEmitter} from 'node:events'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {Agent} from 'undici'
import {UpstreamAbort} from '../../../src/plugins/proxy/upstream-abort.js'

type Handle = {kind: 'emitter'; s: EventEmitter; abort: () => void; listeners: () => number} | {kind: 'upstream'; s: UpstreamAbort; abort: () => void; listeners: () => number}

function handles(): Handle[] {
  const e = new EventEmitter()
  const u = new UpstreamAbort()
  const count = (x: UpstreamAbort): number => {
    const o = x as unknown as {first: unknown; more: unknown[] | null}
    return (o.first === null ? 0 : 1) + (o.more?.length ?? 0)
  }
  return [
    {kind: 'emitter', s: e, abort: () => e.emit('abort'), listeners: () => e.listenerCount('abort')},
    {kind: 'upstream', s: u, abort: () => u.abort(), listeners: () => count(u)},
  ]
}

describe('UpstreamAbort: undici ends every request as with an EventEmitter signal', () => {
  let server: http.Server
  let origin = ''
  const agent = new Agent({keepAliveTimeout: 1000})
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/hang') return // never answers
      if (req.url === '/slow-body') {
        res.writeHead(200, {'content-type': 'text/plain'})
        res.write('first ')
        return // the rest never comes
      }
      res.writeHead(200, {'content-type': 'text/plain'})
      res.end('hello')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    server.closeAllConnections()
    server.close()
    await agent.close()
  })

  const outcome = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p
      return 'ok'
    } catch (e) {
      return `${(e as Error).name}/${(e as {code?: string}).code ?? ''}`
    }
  }

  it('aborted before the upstream answered: the request rejects the same way, and no listener is left', async () => {
    const seen: string[] = []
    for (const h of handles()) {
      const p = agent.request({origin, path: '/hang', method: 'GET', signal: h.s as EventEmitter})
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(h.listeners(), 1, `${h.kind}: one listener while in flight`)
      h.abort()
      seen.push(await outcome(p))
      assert.equal(h.listeners(), 0, `${h.kind}: listener removed`)
    }
    assert.equal(seen[0], 'AbortError/UND_ERR_ABORTED')
    assert.equal(seen[1], seen[0])
  })

  it('aborted while the body streams: the body fails the same way', async () => {
    const seen: string[] = []
    for (const h of handles()) {
      const res = await agent.request({origin, path: '/slow-body', method: 'GET', signal: h.s as EventEmitter})
      const body = res.body.text()
      await new Promise((r) => setTimeout(r, 50))
      h.abort()
      seen.push(await outcome(body))
      await new Promise((r) => setImmediate(r))
      assert.equal(h.listeners(), 0, `${h.kind}: listener removed`)
    }
    assert.equal(seen[0], 'AbortError/UND_ERR_ABORTED')
    assert.equal(seen[1], seen[0])
  })

  it('aborted before the request: it never starts, the same way', async () => {
    const seen: string[] = []
    for (const h of handles()) {
      h.abort()
      if (h.kind === 'emitter') {
        // An EventEmitter has no `aborted` flag: undici sees it only through the event, which already fired.
        seen.push('skip')
        continue
      }
      seen.push(await outcome(agent.request({origin, path: '/', method: 'GET', signal: h.s})))
    }
    assert.equal(seen[1], 'AbortError/UND_ERR_ABORTED')
  })

  it('completed requests leave no listener, an abort afterwards changes nothing, one handle serves several requests in turn', async () => {
    for (const h of handles()) {
      for (let i = 0; i < 3; i++) {
        const res = await agent.request({origin, path: '/', method: 'GET', signal: h.s as EventEmitter})
        assert.equal(await res.body.text(), 'hello')
        await new Promise((r) => setImmediate(r))
        assert.equal(h.listeners(), 0, `${h.kind}: request ${i}`)
      }
      h.abort()
    }
  })

  it('two requests in flight on one handle: both abort', async () => {
    const seen: string[][] = []
    for (const h of handles()) {
      const a = agent.request({origin, path: '/hang', method: 'GET', signal: h.s as EventEmitter})
      const b = agent.request({origin, path: '/hang', method: 'GET', signal: h.s as EventEmitter})
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(h.listeners(), 2)
      h.abort()
      seen.push([await outcome(a), await outcome(b)])
      assert.equal(h.listeners(), 0)
    }
    assert.deepEqual(seen[1], seen[0])
    assert.deepEqual(seen[0], ['AbortError/UND_ERR_ABORTED', 'AbortError/UND_ERR_ABORTED'])
  })

  it('only the abort event is kept; removing an unknown listener is harmless', () => {
    const u = new UpstreamAbort()
    let calls = 0
    const f = (): void => void calls++
    u.once('close', f)
    u.removeListener('abort', () => undefined)
    u.on('abort', f)
    u.abort()
    u.abort()
    assert.equal(calls, 1)
    assert.equal(u.aborted, true)
  })
})
