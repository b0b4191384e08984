/**
 * Policy outcomes that need their own proxy configuration: SSRF without any trust (a hostname
 * resolving to 127.0.0.1 is blocked), the per-domain rate limit (429 with the documented
 * headers) and SNI verification inside CONNECT tunnels.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import tlsMod from 'node:tls'
import {after, before, describe, it} from 'node:test'
import {
  baseConfig, makeSelfSignedCert, rawHttp, startHttpsUpstream, startHttpUpstream, startProxy, tempDir,
  type RunningProxy, type TlsMaterial, type Upstream,
} from './proxy-harness.js'

/** Opens a CONNECT tunnel and resolves with the socket after the proxy's reply head. */
async function openTunnel(port: number, target: string): Promise<{socket: net.Socket; head: string}> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect({host: '127.0.0.1', port})
    socket.on('error', reject)
    let got = ''
    const onData = (c: Buffer): void => {
      got += c.toString('latin1')
      if (got.includes('\r\n\r\n')) {
        socket.off('data', onData)
        resolve({socket, head: got})
      }
    }
    socket.on('data', onData)
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)
  })
}

describe('pipelock run: SSRF without trust', {timeout: 30_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  before(async () => {
    up = await startHttpUpstream()
    proxy = await startProxy(baseConfig())
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('blocks a hostname that resolves to 127.0.0.1 and loopback literals in any notation', async () => {
    for (const host of ['localhost', '127.0.0.1', '2130706433', '0x7f.1']) {
      const r = await rawHttp(proxy.port, {path: `http://${host}:${up.port}/kib`})
      assert.equal(r.status, 403, host)
      assert.equal(r.headers['x-pipelock-block-reason'], 'ssrf_private_ip', host)
      assert.equal(r.headers['x-pipelock-block-reason-layer'], 'ssrf', host)
    }
    const f = await rawHttp(proxy.port, {path: `/fetch?url=http://localhost:${up.port}/kib`})
    assert.equal(f.status, 403)
    assert.equal(JSON.parse(f.body).block_reason, 'SSRF blocked: localhost resolves to internal IP 127.0.0.1')
    const {socket, head} = await openTunnel(proxy.port, `localhost:${up.port}`)
    socket.destroy()
    assert.match(head, /^HTTP\/1\.1 403 /)
    assert.match(head, /X-Pipelock-Block-Reason: ssrf_private_ip/)
  })
})

describe('pipelock run: rate limit and SNI verification', {timeout: 30_000}, () => {
  let up: Upstream
  let tlsUp: Upstream
  let tls: TlsMaterial
  let proxy: RunningProxy
  before(async () => {
    const dir = tempDir()
    tls = makeSelfSignedCert(dir)
    up = await startHttpUpstream()
    tlsUp = await startHttpsUpstream(tls)
    proxy = await startProxy(
      baseConfig(['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 3', 'response_scanning:', '  action: strip'].join('\n')),
      {dir},
    )
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
    await tlsUp?.close()
  })

  it('returns 429 rate_limit once a domain exceeds max_requests_per_minute', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 200)
    const r = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})
    assert.equal(r.status, 429)
    assert.equal(r.headers['x-pipelock-block-reason'], 'rate_limit')
    assert.equal(r.headers['x-pipelock-block-reason-severity'], 'warn')
    assert.equal(r.headers['x-pipelock-block-reason-retry'], 'transient')
    assert.equal(r.headers['x-pipelock-block-reason-layer'], 'ratelimit')
    assert.equal(r.body, 'blocked: rate limit exceeded for 127.0.0.1\n')
    const f = await rawHttp(proxy.port, {path: `/fetch?url=http://127.0.0.1:${up.port}/kib`})
    assert.equal(f.status, 429)
  })

  it('lets a ClientHello whose SNI matches the CONNECT host through, end to end', async () => {
    const {socket, head} = await openTunnel(proxy.port, `localhost:${tlsUp.port}`)
    assert.match(head, /^HTTP\/1\.1 200 Connection Established\r\n\r\n$/)
    const body = await new Promise<string>((resolve, reject) => {
      const t = tlsMod.connect({socket, servername: 'localhost', ca: tls.cert}, () => {
        t.write('GET /kib HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
      })
      let got = ''
      t.on('data', (c: Buffer) => (got += c.toString()))
      t.on('end', () => resolve(got))
      t.on('error', reject)
    })
    assert.match(body, /^HTTP\/1\.1 200 OK/)
  })

  it('strips an injection phrase from a fetched page (response_scanning.action: strip)', async () => {
    // `localhost` is its own rate-limit key, separate from 127.0.0.1 used above.
    const f = await rawHttp(proxy.port, {path: `/fetch?url=http://localhost:${up.port}/injection`})
    assert.equal(f.status, 200, f.body)
    const j = JSON.parse(f.body)
    assert.equal(j.blocked, false)
    assert.match(j.content, /\[REDACTED: [^\]]+\]/)
    assert.doesNotMatch(j.content, /ignore all previous instructions/i)
  })

  it('closes a tunnel whose SNI does not match the CONNECT host, and audits it', async () => {
    const {socket, head} = await openTunnel(proxy.port, `localhost:${tlsUp.port}`)
    assert.match(head, /^HTTP\/1\.1 200 /)
    const outcome = await new Promise<string>((resolve) => {
      const t = tlsMod.connect({socket, servername: 'evil.example', rejectUnauthorized: false})
      t.on('secureConnect', () => resolve('handshake completed'))
      t.on('error', () => resolve('closed'))
      t.on('close', () => resolve('closed'))
    })
    assert.equal(outcome, 'closed')
    await new Promise((r) => setTimeout(r, 100))
    assert.match(proxy.stdout(), /"event":"sni_mismatch"[^\n]*"category":"mismatch"/)
  })
})
