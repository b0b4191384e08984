/**
 * Separate listeners (§2): the kill-switch API on `kill_switch.api_listen` (never gated) and
 * `/metrics` + `/stats` on `metrics_listen` (then gone from the main port); tunnel idle timer.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import {after, before, describe, it} from 'node:test'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {baseConfig, freePort, rawHttp, startHttpUpstream, startProxy, tempDir, until, type RunningProxy, type Upstream} from './proxy-harness.js'

const TOKEN = 'listener-test-token-0123456789'

async function post(port: number, path: string, body: string, headers: Record<string, string>): Promise<{status: number; body: string}> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method: 'POST', path, headers, agent: false}, (res) => {
      let b = ''
      res.on('data', (c) => (b += c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: b}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('pipelock run: separate API and metrics listeners, tunnel idle timeout', {timeout: 30_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let apiPort: number
  let metricsPort: number
  let auditFile: string
  before(async () => {
    const dir = tempDir()
    auditFile = path.join(dir, 'audit.jsonl')
    up = await startHttpUpstream()
    apiPort = await freePort()
    metricsPort = await freePort()
    proxy = await startProxy(
      baseConfig(
        [
          'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
          `metrics_listen: 127.0.0.1:${metricsPort}`,
          'kill_switch:', `  api_listen: 127.0.0.1:${apiPort}`, `  api_token: ${TOKEN}`,
          'logging:', '  output: both', `  file: ${JSON.stringify(auditFile)}`,
        ].join('\n'),
      ).replace('forward_proxy:\n  enabled: true', 'forward_proxy:\n  enabled: true\n  idle_timeout_seconds: 1\n  raw_tunnel_hosts: ["127.0.0.1"]'),
      {dir},
    )
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('prints the separate listeners in the banner', () => {
    assert.match(proxy.stderr(), new RegExp(`\\n  Stats:  http://127\\.0\\.0\\.1:${metricsPort}/stats \\(separate port\\)\\n`))
    assert.match(proxy.stderr(), new RegExp(`\\n  API:    http://127\\.0\\.0\\.1:${apiPort}/api/v1/killswitch \\(kill switch remote control, separate port\\)\\n`))
  })

  it('serves metrics and stats only on metrics_listen', async () => {
    assert.equal((await rawHttp(metricsPort, {path: '/metrics'})).status, 200)
    assert.equal((await rawHttp(metricsPort, {path: '/stats'})).status, 200)
    assert.equal((await rawHttp(proxy.port, {path: '/metrics'})).status, 404)
    assert.equal((await rawHttp(proxy.port, {path: '/stats'})).status, 404)
  })

  it('the API lives on its own port, is not on the main port, and stays reachable while the switch is on', async () => {
    const auth = {Authorization: `Bearer ${TOKEN}`}
    assert.equal((await rawHttp(proxy.port, {path: '/api/v1/killswitch/status', headers: auth})).status, 404)
    const on = await post(apiPort, '/api/v1/killswitch', '{"active":true}', auth)
    assert.equal(on.status, 200)
    try {
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 403)
      const st = await rawHttp(apiPort, {path: '/api/v1/killswitch/status', headers: auth})
      assert.equal(st.status, 200)
      assert.equal(JSON.parse(st.body).sources.api, true)
      // The scheme in any case (RFC 9110 §11.1), as the scan API reads it; the token exactly.
      assert.equal((await rawHttp(apiPort, {path: '/api/v1/killswitch/status', headers: {Authorization: `bearer ${TOKEN}`}})).status, 200)
      assert.equal((await rawHttp(apiPort, {path: '/api/v1/killswitch/status', headers: {Authorization: `Bearer ${TOKEN.toUpperCase()}`}})).status, 401)
    } finally {
      assert.equal((await post(apiPort, '/api/v1/killswitch', '{"active":false}', auth)).status, 200)
    }
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 200)
  })

  it('writes the audit log to logging.file as well as stdout (output: both)', async () => {
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 200)
    assert.ok(await until(async () => readFileSync(auditFile, 'utf8').includes('"event":"allowed"'), 2000))
    const first = JSON.parse(readFileSync(auditFile, 'utf8').split('\n')[0]!)
    assert.equal(first.event, 'startup')
    assert.match(proxy.stdout(), /"event":"allowed"/)
  })

  it('closes an idle tunnel after forward_proxy.idle_timeout_seconds', async () => {
    const s = net.connect({host: '127.0.0.1', port: proxy.port})
    s.on('error', () => undefined)
    const closed = new Promise<number>((resolve) => s.on('close', () => resolve(Date.now())))
    s.write(`CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: x\r\n\r\n`)
    await new Promise<void>((resolve) => s.once('data', () => resolve()))
    // Plain HTTP inside the tunnel (allowed uninspected: the host is in raw_tunnel_hosts), then silence.
    s.write('GET /kib HTTP/1.1\r\nHost: x\r\n\r\n')
    const start = Date.now()
    const end = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 4000))])
    assert.notEqual(end, -1, 'idle tunnel not closed')
    assert.ok(end - start >= 900, `closed after ${end - start} ms`)
  })
})
