/**
 * `fetch_proxy.timeout_seconds` through the built CLI on real sockets: it bounds the whole
 * `/fetch` exchange — an upstream that sends its headers at once and then drips its body a byte a
 * second is cut at the timeout, as one that never answers is — and the answer says so in words
 * naming the field (it used to relay a 6-second drip under a 1-second timeout, and to answer a
 * silent upstream with undici's `UND_ERR_HEADERS_TIMEOUT`).
 */
import assert from 'node:assert/strict'
import type http from 'node:http'
import {describe, it} from 'node:test'
import {baseConfig, rawHttp, startProxy, startRoutedUpstream} from './proxy-harness.js'

const TIMED_OUT = 'fetch failed: no complete response within 1s (fetch_proxy.timeout_seconds)'

function drip(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/quick') {
    res.writeHead(200, {'content-type': 'text/plain'})
    res.end('quick')
    return
  }
  if (req.url === '/silent') return // never answers; the socket closes with the server
  res.writeHead(200, {'content-type': 'text/plain'})
  let n = 0
  const t = setInterval(() => {
    res.write('z')
    if (++n === 6) {
      clearInterval(t)
      res.end()
    }
  }, 1000)
  res.on('close', () => clearInterval(t))
}

describe('fetch_proxy.timeout_seconds bounds the whole /fetch exchange', {timeout: 60_000}, () => {
  it('cuts a dripping body and a silent upstream at the timeout, in words; a quick answer passes', async () => {
    const up = await startRoutedUpstream(drip)
    const proxy = await startProxy(baseConfig('fetch_proxy:\n  timeout_seconds: 1\nssrf:\n  ip_allowlist: ["127.0.0.1/32"]'))
    try {
      const fetchOf = (p: string): Promise<{status: number; body: string}> => rawHttp(proxy.port, {path: `/fetch?url=http://127.0.0.1:${up.port}${p}`})
      const ok = await fetchOf('/quick')
      assert.equal(ok.status, 200, ok.body)
      assert.equal(JSON.parse(ok.body).content, 'quick')
      for (const p of ['/drip', '/silent']) {
        const started = Date.now()
        const r = await fetchOf(p)
        const took = Date.now() - started
        assert.equal(r.status, 502, r.body)
        assert.deepEqual(JSON.parse(r.body), {url: `http://127.0.0.1:${up.port}${p}`, error: TIMED_OUT, blocked: false})
        assert.ok(took < 3500, `${p} took ${took} ms under a 1 s timeout`)
      }
      assert.ok(proxy.stdout().includes(TIMED_OUT), proxy.stdout())
    } finally {
      await proxy.stop()
      await up.close()
    }
  })

  // Node's timers take at most 2^31-1 ms; 30 days used to fire after 1 ms (every /fetch a 502).
  it('a timeout above Node\'s timer maximum runs as the maximum, said at start', async () => {
    const up = await startRoutedUpstream(drip)
    const proxy = await startProxy(baseConfig('fetch_proxy:\n  timeout_seconds: 2592000\nssrf:\n  ip_allowlist: ["127.0.0.1/32"]'))
    try {
      const r = await rawHttp(proxy.port, {path: `/fetch?url=http://127.0.0.1:${up.port}/quick`})
      assert.equal(r.status, 200, r.body)
      assert.equal(JSON.parse(r.body).content, 'quick')
      assert.ok(proxy.stderr().includes('WARNING: fetch_proxy.timeout_seconds: 2592000 is read as 2147483 (the longest timer Node.js can set, about 24.8 days)'), proxy.stderr())
    } finally {
      await proxy.stop()
      await up.close()
    }
  })
})
