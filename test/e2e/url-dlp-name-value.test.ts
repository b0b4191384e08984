/**
 * A key split between a query parameter's name and its value (`?AKIA…=…`), or between the end of
 * the path and the query (`/AKIA…?…`, `/AKIA…?…=1`), is refused by URL DLP on every HTTP transport
 * that carries a URL of the agent's — the forward proxy, /fetch and the reverse proxy — before
 * anything reaches the origin; /fetch answers the URL redacted. Ordinary query strings and paths
 * still pass.
 */
import assert from 'node:assert/strict'
import type http from 'node:http'
import {after, before, describe, it} from 'node:test'
import {rawHttp, reverseListenPort, startProxy, startRoutedUpstream, type RunningProxy, type Upstream} from './proxy-harness.js'

const CASES: ReadonlyArray<[query: string, pattern: string]> = [
  ['AKIAZ7QW3E=RT5YUI6OPL', 'AWS Access ID'],
  ['ghp_aB3dE5fG7hI9jK1lM3n=O5pQ7rS9tU1vW3xY5', 'GitHub Token'],
  ['AKIAZ7QW3ERT=5YUI6OPL', 'AWS Access ID'],
]

/** Path and query, the key cut where the path ends. */
const PATH_CASES: ReadonlyArray<[pathAndQuery: string, halves: readonly string[]]> = [
  ['/AKIAZ7QW?3ERT5YUI6OPL', ['AKIAZ7QW', '3ERT5YUI6OPL']],
  ['/v1/AKIAZ7QW3ERT5?YUI6OPL=1', ['AKIAZ7QW3ERT5', 'YUI6OPL']],
  ['/files/AKIAZ7QW3E/?RT5YUI6OPL&page=2', ['AKIAZ7QW3E', 'RT5YUI6OPL']],
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

  it('a key cut between the end of the path and the query is refused by every transport', async () => {
    const hit = 'core DLP match: AWS Access ID (critical)'
    for (const [pq, halves] of PATH_CASES) {
      const fwd = await rawHttp(proxy.port, {path: `http://${origin}${pq}`})
      assert.deepEqual([fwd.status, fwd.headers['x-pipelock-block-reason'], fwd.headers['x-pipelock-block-reason-layer'], fwd.body], [403, 'dlp_match', 'core_dlp', `blocked: ${hit}\n`], pq)
      const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://${origin}${pq}`)}`})
      assert.equal(fetched.status, 403, pq)
      const body = JSON.parse(fetched.body) as {url: string; block_reason: string}
      assert.deepEqual([body.url, body.block_reason], [`http://${origin}/[redacted]`, hit], pq)
      for (const h of halves) assert.ok(!fetched.body.includes(h), fetched.body)
      const rev = await rawHttp(reversePort, {path: pq})
      assert.deepEqual([rev.status, rev.headers['x-pipelock-block-reason']], [403, 'dlp_match'], pq)
    }
    assert.deepEqual(seen, [])
  })

  it('ordinary query strings and paths pass every transport', async () => {
    // The last two join into a key prefix and sixteen letters (`asiacategory…`, `canvaspage2…`): no key.
    const ordinary = ['/x?page=2&sort=name', '/x?q=hello=world', '/asia?category=electronics&sort=price', '/api/canvas?page=2&sort=name&per_page=100']
    for (const pq of ordinary) {
      const fwd = await rawHttp(proxy.port, {path: `http://${origin}${pq}`})
      const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://${origin}${pq}`)}`})
      const rev = await rawHttp(reversePort, {path: pq})
      assert.deepEqual([fwd.status, fetched.status, rev.status], [200, 200, 200], pq)
    }
    assert.deepEqual(seen, ordinary.flatMap((pq) => [pq, pq, pq]))
  })
})
