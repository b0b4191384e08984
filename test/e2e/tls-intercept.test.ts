/**
 * TLS interception (transports.md §2, §7) through the built `pipelock run`, with real clients:
 * curl (`--cacert`, default h2 and `--http1.1`), undici ProxyAgent with the CA, raw TLS over a
 * CONNECT socket (upgrade refusal, kill switch, idle), and a client that trusts only the origin's
 * CA. Instance A intercepts everything; instance B passes `localhost` through and intercepts
 * 127.0.0.1 (the two names of the one HTTPS upstream, whose certificate covers both).
 */
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import path from 'node:path'
import tls from 'node:tls'
import {ProxyAgent, request} from 'undici'
import {runCli} from '../helpers/cli.js'
import {caPaths, generateCa, writeCaFiles} from '../../src/plugins/tls/index.js'
import {assertRefusesToStart, interceptingWebSocketConfig, makeSelfSignedCert, type InterceptedWss, type RunningProxy, startHttpsUpstream, startInterceptedWss, startProxy, tempDir, tlsExchange as exchange, type TlsMaterial, tlsThroughProxy, until, type Upstream, writeTestCa} from './proxy-harness.js'

const AWS_KEY = 'AKIA' + 'Z7Q2W9E4R1T6Y3U8'
const hasCurl = spawnSync('curl', ['--version']).status === 0

async function curl(args: string[]): Promise<{status: number | null; stdout: string; stderr: string}> {
  return await new Promise((resolve) => {
    const p = spawn('curl', ['-s', '--max-time', '10', ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    p.stdout.on('data', (c: Buffer) => (out += c.toString()))
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    p.on('close', (status) => resolve({status, stdout: out, stderr: err}))
  })
}

const closed = (s: tls.TLSSocket, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (s.destroyed) return resolve(true)
    const t = setTimeout(() => resolve(false), ms)
    s.once('close', () => (clearTimeout(t), resolve(true)))
  })

describe('TLS interception with real clients', {timeout: 90_000}, () => {
  let dir: string
  let upTls: TlsMaterial
  let up: Upstream
  let a: RunningProxy
  let b: RunningProxy
  let ca: string
  let sentinel: string
  let capture: string

  before(async () => {
    dir = tempDir('pl-intercept-')
    upTls = makeSelfSignedCert(dir)
    up = await startHttpsUpstream(upTls)
    const paths = writeTestCa(dir)
    ca = readFileSync(paths.cert, 'utf8')
    sentinel = path.join(dir, 'kill')
    capture = path.join(dir, 'capture')
    const common = (extra: string[]): string =>
      [
        'forward_proxy:', '  enabled: true', '  idle_timeout_seconds: 2',
        'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
        'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
        'request_body_scanning:', '  enabled: true', '  action: warn',
        'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`,
        ...extra,
      ].join('\n') + '\n'
    const env = {SSL_CERT_FILE: upTls.certPath}
    a = await startProxy(common(['response_scanning:', '  action: block', 'kill_switch:', `  sentinel_file: ${JSON.stringify(sentinel)}`, 'learn:', '  enabled: true', `  capture_dir: ${capture}`]), {env, dir: tempDir()})
    b = await startProxy(common(['  passthrough_domains: ["*.localhost"]', 'response_scanning:', '  action: strip']), {env, dir: tempDir()})
  })

  after(async () => {
    rmSync(sentinel, {force: true})
    await a?.stop()
    await b?.stop()
    await up?.close()
  })

  it('curl --cacert: default ALPN gives HTTP/2, --http1.1 gives 1.1; the upstream sees the request', {skip: !hasCurl && 'curl not installed'}, async () => {
    const h2 = await curl(['-x', `http://${a.addr}`, '--cacert', path.join(dir, 'ca', 'ca.pem'), '-w', '\n%{http_version}', `https://localhost:${up.port}/headers`])
    assert.equal(h2.status, 0, h2.stderr)
    const [body, version] = h2.stdout.split('\n')
    assert.equal(version, '2')
    const seen = JSON.parse(body!) as Record<string, string>
    assert.equal(seen.host, `localhost:${up.port}`)
    assert.equal(seen['accept-encoding'], undefined)
    const h1 = await curl(['--http1.1', '-x', `http://${a.addr}`, '--cacert', path.join(dir, 'ca', 'ca.pem'), '-w', '%{http_version}', '-o', '/dev/null', `https://127.0.0.1:${up.port}/kib`])
    assert.equal(h1.stdout, '1.1', h1.stderr)
  })

  it('a secret in an HTTPS POST body is blocked only where the tunnel is intercepted', {skip: !hasCurl && 'curl not installed'}, async () => {
    const args = (proxy: RunningProxy, host: string, caFile: string): string[] => [
      '--suppress-connect-headers', '-x', `http://${proxy.addr}`, '--cacert', caFile, '-H', 'Content-Type: application/json', '-d', JSON.stringify({k: AWS_KEY}), '-D', '-', `https://${host}:${up.port}/echo`,
    ]
    const blocked = await curl(args(a, 'localhost', path.join(dir, 'ca', 'ca.pem')))
    assert.equal(blocked.status, 0, blocked.stderr)
    assert.match(blocked.stdout, /^HTTP\/2 403 \r\n/)
    assert.match(blocked.stdout, /x-pipelock-block-reason: dlp_match\r\n/)
    assert.match(blocked.stdout, /x-pipelock-block-reason-layer: body_dlp\r\n/)
    assert.ok(blocked.stdout.endsWith('\r\n\r\nblocked: request body DLP match: AWS Access ID\n'), blocked.stdout)
    assert.ok(!blocked.stdout.includes(AWS_KEY))
    // Instance B passes localhost through (the wildcard covers the apex): the body leaves unseen.
    const passed = await curl(args(b, 'localhost', upTls.certPath))
    assert.equal(passed.status, 0, passed.stderr)
    // The origin answers itself (a Node https server without h2): HTTP/1.1 straight through the tunnel.
    assert.match(passed.stdout, /^HTTP\/1.1 200 OK\r\n/)
    assert.ok(passed.stdout.endsWith(JSON.stringify({k: AWS_KEY})))
  })

  it('passthrough: the client sees the origin certificate; intercepted: the Pipelock leaf', {skip: !hasCurl && 'curl not installed'}, async () => {
    const pinnedToCa = await curl(['-x', `http://${b.addr}`, '--cacert', path.join(dir, 'ca', 'ca.pem'), `https://localhost:${up.port}/kib`])
    assert.equal(pinnedToCa.status, 60, 'the origin cert does not chain to the Pipelock CA')
    const intercepted = await curl(['-x', `http://${b.addr}`, '--cacert', path.join(dir, 'ca', 'ca.pem'), '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${up.port}/kib`])
    assert.equal(intercepted.stdout, '200', intercepted.stderr)
    const s = await tlsThroughProxy(a.port, `127.0.0.1:${up.port}`, ca)
    const peer = s.getPeerX509Certificate()!
    assert.equal(peer.subjectAltName, 'IP Address:127.0.0.1')
    assert.equal(peer.issuer, 'O=Pipelock\nCN=Pipelock CA')
    s.destroy()
  })

  it('undici ProxyAgent with the CA: keep-alive requests; a client pinning another CA fails cleanly', async () => {
    const agent = new ProxyAgent({uri: `http://${a.addr}`, requestTls: {ca}})
    for (let i = 0; i < 3; i++) {
      const r = await request(`https://localhost:${up.port}/kib?i=${i}`, {dispatcher: agent})
      assert.equal(r.statusCode, 200)
      assert.equal((await r.body.arrayBuffer()).byteLength, 1024)
    }
    await agent.close()
    const pinned = new ProxyAgent({uri: `http://${a.addr}`, requestTls: {ca: upTls.cert}})
    await assert.rejects(request(`https://localhost:${up.port}/kib`, {dispatcher: pinned}), (e: Error & {code?: string}) => /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/.test(e.code ?? ''))
    await pinned.close()
    assert.ok(await until(async () => a.stdout().includes('"scanner":"tls_handshake_error"')), 'audit names the failed client handshake')
    // The proxy is still serving.
    const again = new ProxyAgent({uri: `http://${a.addr}`, requestTls: {ca}})
    assert.equal((await request(`https://localhost:${up.port}/kib`, {dispatcher: again})).statusCode, 200)
    await again.close()
  })

  it('a burst of 96 concurrent intercepted tunnels all complete through the set-up queue, each scanned', async () => {
    // Opened at once, these wait their turn in the set-up queue (client handshakes, first-request
    // pipelines and upstream connects paced across event-loop turns, at most 8 handshakes in
    // flight): every one must still be served by the Pipelock leaf, answer its own request, and
    // have its body scanned.
    const one = async (i: number): Promise<string> => {
      const host = i % 2 === 0 ? 'localhost' : '127.0.0.1'
      const s = await tlsThroughProxy(a.port, `${host}:${up.port}`, ca)
      try {
        assert.match(s.getPeerX509Certificate()!.issuer, /CN=Pipelock CA/)
        if (i % 8 === 7) {
          const body = JSON.stringify({k: AWS_KEY})
          return await exchange(s, `POST /echo HTTP/1.1\r\nHost: ${host}:${up.port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
        }
        return await exchange(s, `GET /kib?i=${i} HTTP/1.1\r\nHost: ${host}:${up.port}\r\n\r\n`)
      } finally {
        s.destroy()
      }
    }
    const answers = await Promise.all(Array.from({length: 96}, (_, i) => one(i)))
    answers.forEach((got, i) => {
      if (i % 8 === 7) {
        assert.match(got, /^HTTP\/1.1 403 /, `tunnel ${i}`)
        assert.match(got, /x-pipelock-block-reason-layer: body_dlp\r\n/i, `tunnel ${i}`)
        assert.ok(!got.includes(AWS_KEY), `tunnel ${i}`)
      } else {
        assert.match(got, /^HTTP\/1.1 200 /, `tunnel ${i}`)
        assert.equal(got.length - got.indexOf('\r\n\r\n') - 4, 1024, `tunnel ${i}`)
      }
    })
  })

  it('inner requests: authority mismatch 403, redirects relayed not followed, response injection blocked / stripped', async () => {
    const s = await tlsThroughProxy(a.port, `localhost:${up.port}`, ca)
    const fronted = await exchange(s, `GET /kib HTTP/1.1\r\nHost: other.example:${up.port}\r\n\r\n`)
    assert.match(fronted, /^HTTP\/1.1 403 /)
    assert.match(fronted, /x-pipelock-block-reason: authority_mismatch\r\n/i)
    assert.ok(fronted.endsWith('\r\n\r\nauthority mismatch: blocked\n'))
    const redirect = await exchange(s, `GET /redirect-ok HTTP/1.1\r\nHost: localhost:${up.port}\r\n\r\n`)
    assert.match(redirect, /^HTTP\/1.1 302 /)
    assert.match(redirect, /\r\nlocation: \/kib\r\n/i)
    const injected = await exchange(s, `GET /injection HTTP/1.1\r\nHost: localhost:${up.port}\r\n\r\n`)
    assert.match(injected, /^HTTP\/1.1 403 /)
    assert.ok(injected.endsWith('blocked: response contains injection\n'))
    s.destroy()
    const sb = await tlsThroughProxy(b.port, `127.0.0.1:${up.port}`, ca)
    const stripped = await exchange(sb, `GET /injection HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\n`)
    assert.match(stripped, /^HTTP\/1.1 200 /)
    assert.match(stripped, /\[REDACTED: /)
    assert.doesNotMatch(stripped, /Ignore all previous instructions/i)
    const gz = await exchange(sb, `GET /gzip HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\n`)
    assert.match(gz, /^HTTP\/1.1 403 /)
    sb.destroy()
  })

  it('HTTP/2 client streaming a body without Content-Length: the body is still scanned (and a clean one forwarded)', async () => {
    const post = async (body: string): Promise<{status: number; text: string}> => {
      const raw = await new Promise<import('node:net').Socket>((resolve, reject) => {
        const req = http.request({host: '127.0.0.1', port: a.port, method: 'CONNECT', path: `localhost:${up.port}`, agent: false})
        req.once('connect', (_res, socket) => resolve(socket))
        req.once('error', reject)
        req.end()
      })
      const session = http2.connect(`https://localhost:${up.port}`, {createConnection: () => tls.connect({socket: raw, ca, servername: 'localhost', ALPNProtocols: ['h2']})})
      try {
        return await new Promise((resolve, reject) => {
          const req = session.request({':method': 'POST', ':path': '/echo', 'content-type': 'application/json'})
          let status = 0
          let text = ''
          req.on('response', (h) => (status = Number(h[':status'])))
          req.on('data', (c: Buffer) => (text += c.toString()))
          req.on('end', () => resolve({status, text}))
          req.on('error', reject)
          // Two DATA frames, no content-length header.
          req.write(body.slice(0, 5))
          req.end(body.slice(5))
        })
      } finally {
        session.destroy()
      }
    }
    const secret = await post(JSON.stringify({k: AWS_KEY}))
    assert.equal(secret.status, 403)
    assert.equal(secret.text, 'blocked: request body DLP match: AWS Access ID\n')
    const clean = await post(JSON.stringify({k: 'hello'}))
    assert.equal(clean.status, 200)
    assert.equal(clean.text, JSON.stringify({k: 'hello'}))
  })

  it('Upgrade: websocket inside the tunnel is refused with a block while the WebSocket proxy is off', async () => {
    const s = await tlsThroughProxy(a.port, `localhost:${up.port}`, ca)
    const r = await exchange(s, `GET /ws HTTP/1.1\r\nHost: localhost:${up.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`)
    assert.match(r, /^HTTP\/1.1 403 Forbidden\r\n/)
    assert.match(r, /X-Pipelock-Block-Reason: not_enabled\r\n/)
    assert.match(r, /X-Pipelock-Block-Reason-Layer: intercept_websocket\r\n/)
    assert.ok(r.endsWith('blocked: WebSocket upgrade inside an intercepted tunnel needs websocket_proxy.enabled; enable it, or add the host to tls_interception.passthrough_domains\n'), r)
  })

  it('an idle intercepted tunnel closes after idle_timeout_seconds; an active one does not', async () => {
    const s = await tlsThroughProxy(a.port, `localhost:${up.port}`, ca)
    assert.match(await exchange(s, `GET /kib HTTP/1.1\r\nHost: localhost:${up.port}\r\n\r\n`), /^HTTP\/1.1 200 /)
    assert.equal(await closed(s, 1000), false, 'still open within the idle window')
    assert.equal(await closed(s, 4000), true, 'closed once idle for 2 s')
  })

  it('agents closing their intercepted tunnels together: each proxy side closes and is logged, the proxy keeps serving', async () => {
    // The proxy destroys an idle intercepted tunnel on the agent's EOF (no graceful TLS/TCP
    // shutdown toward a peer that is gone); the tunnel's own close (untrack, metrics, tunnel_close) still runs.
    const before = a.stdout().split('\n').filter((l) => l.includes('"event":"tunnel_close"')).length
    const tunnels = await Promise.all(Array.from({length: 8}, () => tlsThroughProxy(a.port, `localhost:${up.port}`, ca)))
    for (const s of tunnels) assert.match(await exchange(s, `GET /kib HTTP/1.1\r\nHost: localhost:${up.port}\r\n\r\n`), /^HTTP\/1.1 200 /)
    for (const s of tunnels) s.destroy()
    const closes = (): Array<Record<string, unknown>> => a.stdout().split('\n').filter((l) => l.includes('"event":"tunnel_close"')).slice(before).map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.ok(await until(async () => closes().length >= 8, 1500), `${closes().length} of 8 tunnel_close events within 1.5 s (the idle timeout is 2 s)`)
    for (const c of closes()) {
      assert.equal(c.target, `localhost:${up.port}`)
      // The agent side's bytes both ways: a TLS handshake and a 1 KiB response at least.
      assert.ok(typeof c.bytes === 'number' && c.bytes > 1024, `tunnel_close bytes ${String(c.bytes)}`)
    }
    const again = await tlsThroughProxy(a.port, `localhost:${up.port}`, ca)
    assert.match(await exchange(again, `GET /kib HTTP/1.1\r\nHost: localhost:${up.port}\r\n\r\n`), /^HTTP\/1.1 200 /)
    again.destroy()
  })

  it('the kill switch tears an open intercepted connection down at once', async () => {
    const s = await tlsThroughProxy(a.port, `localhost:${up.port}`, ca)
    assert.match(await exchange(s, `GET /kib HTTP/1.1\r\nHost: localhost:${up.port}\r\n\r\n`), /^HTTP\/1.1 200 /)
    const t0 = Date.now()
    writeFileSync(sentinel, '')
    try {
      assert.equal(await closed(s, 1500), true)
      assert.ok(Date.now() - t0 < 1500)
    } finally {
      rmSync(sentinel, {force: true})
    }
    assert.ok(await until(async () => (await request(`http://${a.addr}/health`)).statusCode === 200, 3000))
  })

  it('capture: intercepted requests are recorded with method and full path (intercept_url), the tunnel as connect_url', async () => {
    let lines: string[] = []
    assert.ok(
      await until(async () => {
        if (!existsSync(capture)) return false
        lines = []
        const walk = (d: string): void => {
          for (const n of readdirSync(d, {withFileTypes: true})) {
            if (n.isDirectory()) walk(path.join(d, n.name))
            else if (n.name.endsWith('.jsonl')) lines.push(...readFileSync(path.join(d, n.name), 'utf8').split('\n').filter((l) => l !== ''))
          }
        }
        walk(capture)
        return lines.some((l) => l.includes('intercept_url'))
      }, 5000),
    )
    const recs = lines.map((l) => JSON.parse(l) as {transport?: string; detail?: {subsurface?: string; request?: {method: string; url: string}}}).filter((r) => r.detail?.request !== undefined)
    const inner = recs.find((r) => r.detail!.subsurface === 'intercept_url' && r.detail!.request!.url.startsWith(`https://localhost:${up.port}/kib`))
    assert.ok(inner, 'an intercept_url record for GET /kib')
    assert.equal(inner.transport, 'connect')
    assert.equal(inner.detail!.request!.method, 'GET')
    assert.ok(recs.some((r) => r.detail!.subsurface === 'dlp_body_intercept' && r.detail!.request!.method === 'POST'), 'the blocked POST as dlp_body_intercept')
    assert.ok(recs.some((r) => r.detail!.subsurface === 'connect' && r.detail!.request!.method === 'CONNECT'), 'the tunnel itself')
  })
})

describe('TLS interception start-up checks (transports §2.1, §2.2)', () => {
  it('refuses a missing CA, a group/world-readable key, and a bad cert_ttl, one line each', () => {
    const d = tempDir('pl-intercept-start-')
    const p = caPaths(path.join(d, 'ca'))
    const cfg = (extra = ''): string => `forward_proxy:\n  enabled: true\ntls_interception:\n  enabled: true\n  ca_cert: ${p.cert}\n  ca_key: ${p.key}\n${extra}`
    assertRefusesToStart(cfg(), `CA cert not found at ${p.cert} (run 'pipelock tls init'): stat ${p.cert}: no such file or directory`)
    writeCaFiles(p, generateCa('Pipelock', 3_600_000, Date.now()), false)
    chmodSync(p.key, 0o644)
    assertRefusesToStart(cfg(), `CA key ${p.key} is too permissive (mode 0644): restrict to 0600 or 0640`)
    chmodSync(p.key, 0o640)
    // A config error: exit 2, like every CONFIG_INVALID.
    const file = path.join(d, 'ttl.yaml')
    writeFileSync(file, cfg('  cert_ttl: 1d\n'))
    const r = runCli(['run', '--config', file, '--listen', '127.0.0.1:0'])
    assert.equal(r.status, 2, r.stderr)
    assert.ok(r.stderr.includes(`${file}:7: invalid config: tls_interception.cert_ttl: time: invalid duration "1d" (a Go duration such as 24h or 90m) [CONFIG_INVALID]`), r.stderr)
  })
})

describe('wss:// inside an intercepted tunnel, with the WebSocket proxy on', {timeout: 60_000}, () => {
  let origin: InterceptedWss | undefined

  before(async () => {
    origin = await startInterceptedWss((wss) => wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, {binary: isBinary}))))
  })

  after(async () => {
    await origin?.close()
  })

  it('relays through the WebSocket pipeline: clean messages echo, a secret closes 1008 dlp_match', async () => {
    const ws = await origin!.connect('/')
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())))
    ws.send('hello through the tunnel')
    assert.equal(await echoed, 'hello through the tunnel')
    const closed = new Promise<{code: number; reason: string}>((resolve) => ws.once('close', (code, reason) => resolve({code, reason: reason.toString()})))
    ws.send(`key ${AWS_KEY}`)
    const c = await closed
    assert.equal(c.code, 1008)
    assert.equal((JSON.parse(c.reason) as {block_reason: string}).block_reason, 'dlp_match')
  })
})

describe('the kill switch inside an intercepted tunnel honours allowlist_ips (transports §2.9 step 5)', {timeout: 60_000}, () => {
  let dir: string
  let up: Upstream
  let proxy: RunningProxy
  let ca: string

  before(async () => {
    dir = tempDir('pl-intercept-ks-')
    const upTls = makeSelfSignedCert(dir)
    up = await startHttpsUpstream(upTls)
    const intercepting = interceptingWebSocketConfig(dir)
    ca = intercepting.ca
    // The switch is on from the start; the test client (127.0.0.1) is allowlisted.
    const config = intercepting.config + ['kill_switch:', '  enabled: true', '  allowlist_ips: ["127.0.0.1/32"]'].join('\n') + '\n'
    proxy = await startProxy(config, {env: {SSL_CERT_FILE: upTls.certPath}, dir: tempDir()})
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('an allowlisted client\'s inner request passes like its CONNECT did (the kill-switch stage, not a check of its own)', async () => {
    const s = await tlsThroughProxy(proxy.port, `localhost:${up.port}`, ca)
    try {
      const raw = await exchange(s, `GET /kib HTTP/1.1\r\nHost: localhost:${up.port}\r\nConnection: close\r\n\r\n`)
      assert.match(raw, /^HTTP\/1\.1 200 /)
    } finally {
      s.destroy()
    }
  })
})
