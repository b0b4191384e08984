/**
 * The kill switch thrown while a request waits on a silent upstream, through the built
 * `pipelock run`, outside any tunnel: the forward proxy, `/fetch` and the reverse proxy answer the
 * waiting request with their kill-switch block at once and abort its upstream request. (They kept
 * the agent waiting for the whole fetch timeout, then refused the answer.)
 */
import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, afterEach, before, describe, it} from 'node:test'
import {reverseListenPort, startProxy, tempDir, until, type RunningProxy} from './proxy-harness.js'

interface Answer {
  readonly status: number
  readonly reason: string | undefined
  readonly body: string
}

/** A plain GET of `url` (through `proxy` when given), answered or not within `ms`: null when not. */
function get(url: string, ms: number, proxy?: {host: string; port: number}): Promise<Answer | null> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = http.get(proxy === undefined ? url : {host: proxy.host, port: proxy.port, path: url, headers: {host: u.host}, agent: false}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => {
        clearTimeout(timer)
        resolve({status: res.statusCode ?? 0, reason: res.headers['x-pipelock-block-reason'] as string | undefined, body})
      })
    })
    const timer = setTimeout(() => {
      req.destroy()
      resolve(null)
    }, ms)
    req.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
}

describe('the kill switch answers a request waiting on its upstream at once, on the forward proxy, /fetch and the reverse proxy', {timeout: 90_000}, () => {
  let dir: string
  let sentinel: string
  let proxy: RunningProxy
  let origin: http.Server
  let originPort: number
  const waiting: Array<(x: {aborted: Promise<void>}) => void> = []

  before(async () => {
    dir = tempDir('pl-ks-inflight-')
    sentinel = path.join(dir, 'kill')
    origin = http.createServer((_req, res) => {
      // Every request waits for ever: only a cut ends it.
      const aborted = new Promise<void>((resolve) => res.once('close', resolve))
      waiting.shift()?.({aborted})
    })
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r))
    originPort = (origin.address() as AddressInfo).port
    const config = [
      'forward_proxy:', '  enabled: true',
      'fetch_proxy:', '  timeout_seconds: 60',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'kill_switch:', `  sentinel_file: ${JSON.stringify(sentinel)}`,
      '',
    ].join('\n')
    proxy = await startProxy(config, {args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${originPort}`, '--reverse-listen', '127.0.0.1:0']})
  })

  afterEach(async () => {
    rmSync(sentinel, {force: true})
    assert.ok(await until(async () => (await fetch(`http://${proxy.addr}/health`)).status === 200, 3000))
  })

  after(async () => {
    await proxy?.stop()
    origin?.closeAllConnections()
    await new Promise<void>((r) => origin?.close(() => r()))
    rmSync(dir, {recursive: true, force: true})
  })

  /** Sends `request`, waits until the origin holds it, throws the switch: the answer, and whether the origin's request was aborted. */
  async function cutWhileWaiting(request: () => Promise<Answer | null>): Promise<{answer: Answer | null; aborted: boolean}> {
    const atOrigin = new Promise<{aborted: Promise<void>}>((resolve) => waiting.push(resolve))
    const answer = request()
    const {aborted} = await atOrigin
    writeFileSync(sentinel, '')
    const a = await answer
    const wasAborted = await Promise.race([aborted.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))])
    return {answer: a, aborted: wasAborted}
  }

  it('forward proxy (absolute URI): 403 blocked: kill_switch_active, upstream aborted', async () => {
    const port = Number(proxy.addr.split(':')[1])
    const r = await cutWhileWaiting(() => get(`http://127.0.0.1:${originPort}/slow-forward`, 20_000, {host: '127.0.0.1', port}))
    assert.ok(r.answer !== null, 'answered before the fetch timeout')
    assert.equal(r.answer.status, 403)
    assert.equal(r.answer.reason, 'kill_switch_active')
    assert.equal(r.answer.body.trim(), 'blocked: kill_switch_active')
    assert.equal(r.aborted, true)
  })

  it('/fetch: 503 with the kill-switch JSON, upstream aborted', async () => {
    const r = await cutWhileWaiting(() => get(`http://${proxy.addr}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${originPort}/slow-fetch`)}`, 20_000))
    assert.ok(r.answer !== null, 'answered before the fetch timeout')
    assert.equal(r.answer.status, 503)
    assert.equal(r.answer.reason, 'kill_switch_active')
    assert.equal(r.aborted, true)
  })

  it('reverse proxy: 503 with its kill-switch JSON, upstream aborted', async () => {
    const r = await cutWhileWaiting(() => get(`http://127.0.0.1:${reverseListenPort(proxy)}/slow-reverse`, 20_000))
    assert.ok(r.answer !== null, 'answered before the fetch timeout')
    assert.equal(r.answer.status, 503)
    assert.equal(r.answer.reason, 'kill_switch_active')
    assert.equal((JSON.parse(r.answer.body) as {block_reason: string}).block_reason, 'kill switch active')
    assert.equal(r.aborted, true)
  })
})
