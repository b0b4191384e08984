/**
 * Bad input never crashes the proxy: a few hundred malformed and hostile requests (random
 * request lines, targets, headers, CONNECT authorities, truncated TLS, early closes), then the
 * proxy must still answer /health and relay a clean request.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {baseConfig, rawExchange, rawHttp, startHttpUpstream, startProxy, type RunningProxy, type Upstream} from './proxy-harness.js'
import {prng} from '../helpers/prng.js'


describe('pipelock run: hostile input', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  before(async () => {
    up = await startHttpUpstream()
    proxy = await startProxy(baseConfig('ssrf:\n  ip_allowlist: ["127.0.0.1/32"]\nfetch_proxy:\n  monitoring:\n    max_requests_per_minute: 100000'))
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('survives 300 malformed requests and keeps serving', async () => {
    const rnd = prng(20261122)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
    const junk = (n: number): string => Array.from({length: n}, () => String.fromCharCode(Math.floor(rnd() * 256))).join('')
    const targets = [
      () => `http://127.0.0.1:${up.port}/${junk(8)}`,
      () => `http://${junk(6)}/`,
      () => `http://[::1/`,
      () => `http://127.0.0.1:${up.port}/%zz%0d%0a..%2f..%2f`,
      () => `/fetch?url=${encodeURIComponent(junk(20))}`,
      () => `/fetch?url=http%3A%2F%2F127.0.0.1%3A${up.port}%2F%00%ff&agent=${junk(4)}`,
      () => `/${junk(30)}`,
      () => `*`,
      () => `http://0x7f.1:${up.port}/`,
      () => `https://${'a'.repeat(300)}.example/`,
    ]
    const shapes: Array<() => {data: Buffer; early: boolean}> = [
      () => ({data: Buffer.from(`GET ${pick(targets)()} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'), early: false}),
      () => ({data: Buffer.from(`${junk(10)} ${junk(10)} HTTP/1.1\r\n\r\n`, 'latin1'), early: false}),
      () => ({data: Buffer.from(`CONNECT ${pick([junk(12), '127.0.0.1:0', `127.0.0.1:${up.port}`, '[::1]:443', 'a:b:c'])} HTTP/1.1\r\n\r\n${junk(50)}`, 'latin1'), early: rnd() < 0.5}),
      () => ({data: Buffer.from(`CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\n\r\n\x16\x03\x01\x40\x00${junk(40)}`, 'latin1'), early: rnd() < 0.5}),
      () => ({data: Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\n${junk(20)}\r\n\r\n`, 'latin1'), early: false}),
      () => ({data: Buffer.from(`POST http://127.0.0.1:${up.port}/echo HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"a":`, 'latin1'), early: true}),
      () => ({data: Buffer.from(`POST http://127.0.0.1:${up.port}/echo HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${junk(10)}`, 'latin1'), early: false}),
      () => ({data: Buffer.from(`GET http://127.0.0.1:${up.port}/kib HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`, 'latin1'), early: false}),
      () => ({data: Buffer.from(junk(200), 'latin1'), early: rnd() < 0.5}),
    ]
    const jobs = Array.from({length: 300}, () => pick(shapes)())
    // Bounded concurrency: 20 sockets at a time.
    for (let i = 0; i < jobs.length; i += 20) {
      await Promise.all(jobs.slice(i, i + 20).map((j) => rawExchange(proxy.port, j.data, {closeEarly: j.early, untilHeaders: true, waitMs: 1500})))
    }
    assert.equal(proxy.proc.exitCode, null, proxy.stderr())
    assert.equal((await rawHttp(proxy.port, {path: '/health'})).status, 200)
    const ok = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})
    assert.equal(ok.status, 200)
    assert.doesNotMatch(proxy.stderr(), /internal error/)
  })
})
