/**
 * A client that hangs up in the middle of its request body (forward proxy, a request inside an
 * intercepted tunnel, reverse proxy): nothing is forwarded, the audit log says the client closed
 * the connection (event `client_closed`), no block is recorded, and with adaptive enforcement on
 * the hang-ups do not escalate the session. A body really over `max_body_bytes` still blocks.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import http from 'node:http'
import {connect as netConnect, type Socket} from 'node:net'
import tls from 'node:tls'
import {after, before, describe, it} from 'node:test'
import {interceptingConfig, makeSelfSignedCert, rawExchange, rawHttp, reverseListenPort, type RunningProxy, startHttpsUpstream, startProxy, startRoutedUpstream, tempDir, tlsThroughProxy, until, type Upstream, writeTestCa} from './proxy-harness.js'

interface Line {
  event: string
  message: string
  [k: string]: unknown
}

const lines = (p: RunningProxy): Line[] => p.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line)

/** 10 of 1000 announced bytes, then the writing side closes: the body never completes. */
const partial = (target: string, agent: string, host = '127.0.0.1'): string =>
  `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nX-Pipelock-Agent: ${agent}\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789`

describe('pipelock run: a client that hangs up mid-body', {timeout: 60_000}, () => {
  let up: Upstream
  let upTls: Upstream
  let proxy: RunningProxy
  let reversePort: number
  let ca: string
  let forwarded = 0
  // Answers to /slow the upstream stopped writing because the proxy let go of them.
  let slowLetGo = 0

  before(async () => {
    const dir = tempDir('pl-client-abort-')
    const handler: http.RequestListener = (req, res) => {
      if (req.url === '/slow') {
        // A 5 s body, a chunk every 100 ms: the proxy buffers it to scan it.
        res.writeHead(200, {'content-type': 'text/plain'})
        let n = 0
        const tick = setInterval(() => (++n === 50 ? (clearInterval(tick), res.end('end\n')) : res.write('chunk\n')), 100)
        res.on('close', () => {
          clearInterval(tick)
          if (!res.writableFinished) slowLetGo++
        })
        return void req.resume()
      }
      req.resume()
      req.on('end', () => {
        forwarded++
        res.end('ok\n')
      })
    }
    up = await startRoutedUpstream(handler)
    const mat = makeSelfSignedCert(dir)
    upTls = await startHttpsUpstream(mat)
    const paths = writeTestCa(dir)
    ca = readFileSync(paths.cert, 'utf8')
    proxy = await startProxy(interceptingConfig(paths, [
      'request_body_scanning:', '  enabled: true', '  action: block', '  max_body_bytes: 100',
      'session_profiling:', '  enabled: true',
      'adaptive_enforcement:', '  enabled: true',
      // Taint would refuse a POST after the first response: the body must be read.
      'taint:', '  enabled: false',
    ]), {env: {SSL_CERT_FILE: mat.certPath}, args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}`, '--reverse-listen', '127.0.0.1:0']})
    reversePort = reverseListenPort(proxy)
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
    await upTls?.close()
  })

  it('forward proxy: recorded as client_closed, not a DLP block, and never escalates', async () => {
    // Seven hang-ups would reach critical (7 × 3.0 ≥ 20) if each scored as a block.
    for (let i = 0; i < 7; i++) await rawExchange(proxy.port, partial(`http://127.0.0.1:${up.port}/post`, 'uploader'), {halfClose: true, waitMs: 2000})
    assert.ok(await until(async () => lines(proxy).filter((l) => l.event === 'client_closed' && l.agent === 'uploader').length === 7), proxy.stdout())
    const closed = lines(proxy).find((l) => l.event === 'client_closed' && l.agent === 'uploader')!
    assert.deepEqual({level: closed.level, message: closed.message, method: closed.method, url: closed.url, detail: closed.detail}, {
      level: 'info', message: 'client closed the connection', method: 'POST', url: `http://127.0.0.1:${up.port}/post`,
      detail: 'client closed the connection during the request body (nothing forwarded)',
    })
    assert.equal(lines(proxy).filter((l) => l.event === 'blocked' || l.event === 'adaptive_escalation' || l.event === 'error').length, 0, proxy.stdout())
    assert.equal(forwarded, 0)
    // The agent is still at level normal: a clean request passes.
    const ok = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/ok`, headers: {'X-Pipelock-Agent': 'uploader'}})
    assert.equal(ok.status, 200)
  })

  it('forward proxy: an agent gone while its answer is buffered lets the upstream go, recorded as client_closed', async () => {
    const s = await new Promise<Socket>((resolve) => {
      const c = netConnect({host: '127.0.0.1', port: proxy.port}, () => resolve(c))
    })
    s.on('error', () => undefined)
    s.write(`GET http://127.0.0.1:${up.port}/slow HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nX-Pipelock-Agent: reader\r\n\r\n`)
    await new Promise((r) => setTimeout(r, 400))
    // A reset: a FIN alone may be a half-close whose client still reads its answer (it gets it).
    s.resetAndDestroy()
    // Within the 5 s the body takes: the proxy stopped reading it.
    assert.ok(await until(async () => slowLetGo === 1), proxy.stdout())
    assert.ok(await until(async () => lines(proxy).some((l) => l.event === 'client_closed' && l.agent === 'reader')), proxy.stdout())
    const closed = lines(proxy).find((l) => l.event === 'client_closed' && l.agent === 'reader')!
    assert.equal(closed.detail, 'client closed the connection before the response was relayed (the response body was not read on)')
    assert.equal(lines(proxy).filter((l) => l.agent === 'reader' && (l.event === 'allowed' || l.event === 'error')).length, 0, proxy.stdout())
  })

  it('forward proxy: a body over max_body_bytes still blocks', async () => {
    const r = await rawHttp(proxy.port, {method: 'POST', path: `http://127.0.0.1:${up.port}/post`, headers: {'Content-Type': 'text/plain'}, body: 'x'.repeat(101)})
    assert.equal(r.status, 403)
    assert.equal(r.headers['x-pipelock-block-reason'], 'dlp_match')
    assert.ok(await until(async () => lines(proxy).some((l) => l.event === 'blocked' && l.block_reason === 'dlp_match' && l.reason === 'request body exceeds max_body_bytes (100)')), proxy.stdout())
  })

  it('reverse proxy: recorded as client_closed, not a DLP block', async () => {
    const before = forwarded
    await rawExchange(reversePort, partial('/post', 'rev'), {halfClose: true, waitMs: 2000})
    assert.ok(await until(async () => lines(proxy).some((l) => l.event === 'client_closed' && l.agent === 'rev')), proxy.stdout())
    assert.equal(lines(proxy).filter((l) => l.event === 'blocked' && l.agent === 'rev').length, 0, proxy.stdout())
    assert.equal(forwarded, before)
  })

  it('intercepted tunnel: recorded as client_closed, not a DLP block', async () => {
    const s: tls.TLSSocket = await tlsThroughProxy(proxy.port, `127.0.0.1:${upTls.port}`, ca)
    s.on('error', () => undefined)
    await new Promise<void>((r) => s.write(partial('/post', 'tunnel', `127.0.0.1:${upTls.port}`), () => r()))
    await new Promise((r) => setTimeout(r, 200))
    s.destroy()
    const url = `https://127.0.0.1:${upTls.port}/post`
    assert.ok(await until(async () => lines(proxy).some((l) => l.event === 'client_closed' && l.url === url)), proxy.stdout())
    assert.equal(lines(proxy).filter((l) => l.event === 'blocked' && l.url === url).length, 0, proxy.stdout())
  })
})
