/**
 * A key split between a query parameter's name and its value (`?AKIA…=…`) is refused by URL DLP on
 * every HTTP transport that carries a URL of the agent's — the forward proxy, /fetch and the
 * reverse proxy — before anything reaches the origin; /fetch answers the URL redacted. Ordinary
 * query strings still pass.
 */
import assert from 'node:assert/strict'
import type http from 'node:http'
import {after, before, describe, it} from 'node:test'
import {rawHttp, reverseListenPort, startProxy, startRoutedUpstream, type RunningProxy, type Upstream} from './proxy-harness.js'

const CASES: ReadonlyArray<[query: string, pattern: string]> = [
  ['AKIAZ7QW3E=RT5YUI8OPL', 'AWS Access ID'],
  ['ghp_aB3dE5fG7hI9jK1lM3n=O5pQ7rS9tU1vW3xY5', 'GitHub Token'],
  ['AKIAZ7QW3ERT=5YUI8OPL', 'AWS Access ID'],
]

describe('URL DLP: a key split between a query parameter\'s name and its value', {timeout: 60_000}, () => {
  const seen: string[] = []
  let up: Upstream
  let proxy: RunningProxy
  let origin = ''
  let reversePort = 0

  before(async () => {
    up = await startRoutedUpstream((req: http.IncomingMessage, res: http.ServerResponse) => {
      seen.push(req.url ?? '')
      res.end('ok\n')
    })
    origin = `127.0.0.1:${up.port}`
    proxy = await startProxy(['forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', ''].join('\n'), {
      args: ['--reverse-proxy', '--reverse-upstream', `http://${origin}`, '--reverse-listen', '127.0.0.1:0'],
    })
    reversePort = reverseListenPort(proxy)
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('the forward proxy refuses it', async () => {
    for (const [q, pattern] of CASES) {
      const r = await rawHttp(proxy.port, {path: `http://${origin}/x?${q}`})
      assert.deepEqual([r.status, r.headers['x-pipelock-block-reason'], r.body], [403, 'dlp_match', `blocked: core DLP match: ${pattern} (critical)\n`], q)
    }
    assert.deepEqual(seen, [])
  })

  it('/fetch refuses it and answers the URL redacted', async () => {
    for (const [q, pattern] of CASES) {
      const r = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://${origin}/x?${q}`)}`})
      assert.equal(r.status, 403, q)
      assert.equal(r.headers['x-pipelock-block-reason'], 'dlp_match', q)
      const body = JSON.parse(r.body) as {url: string; blocked: boolean; block_reason: string}
      assert.deepEqual([body.url, body.blocked, body.block_reason], [`http://${origin}/[redacted]`, true, `core DLP match: ${pattern} (critical)`], q)
      assert.ok(!r.body.includes(q.split('=')[0]!) && !r.body.includes(q.split('=')[1]!), r.body)
    }
    assert.deepEqual(seen, [])
  })

  it('the reverse proxy refuses it', async () => {
    for (const [q, pattern] of CASES) {
      const r = await rawHttp(reversePort, {path: `/x?${q}`})
      assert.deepEqual(
        [r.status, r.headers['x-pipelock-block-reason'], r.body],
        [403, 'dlp_match', `{"error":"blocked by pipelock","blocked":true,"block_reason":"URL DLP: ${pattern}","direction":"request"}\n`],
        q,
      )
    }
    assert.deepEqual(seen, [])
  })

  it('ordinary query strings pass every transport', async () => {
    for (const q of ['page=2&sort=name', 'q=hello=world']) {
      const fwd = await rawHttp(proxy.port, {path: `http://${origin}/x?${q}`})
      const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://${origin}/x?${q}`)}`})
      const rev = await rawHttp(reversePort, {path: `/x?${q}`})
      assert.deepEqual([fwd.status, fetched.status, rev.status], [200, 200, 200], q)
    }
    assert.deepEqual(seen, ['/x?page=2&sort=name', '/x?page=2&sort=name', '/x?page=2&sort=name', '/x?q=hello=world', '/x?q=hello=world', '/x?q=hello=world'])
  })
})
