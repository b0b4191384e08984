/**
 * The built `pipelock run` between real clients (curl, undici ProxyAgent, node http) and real
 * upstreams on 127.0.0.1: pass-through byte for byte, the block vocabulary, SSRF, redirects,
 * CONNECT/TLS, streaming, header hygiene, the kill switch and malformed input.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {entropyToMnemonic} from '@scure/bip39'
import {wordlist} from '@scure/bip39/wordlists/english.js'
import {ProxyAgent, request} from 'undici'
import {runCli} from '../helpers/cli.js'
import {
  baseConfig, KIB_BODY, makeSelfSignedCert, rawExchange, rawHttp, startHttpsUpstream, startHttpUpstream, startProxy, tempDir, until,
  type RunningProxy, type TlsMaterial, type Upstream,
} from './proxy-harness.js'

// Shaped like an AWS access key id but not the documented example (which is neutralised in doc context).
const AWS_KEY = 'AKIA' + 'Q3EGRZ7NXPLM4TWB'
const TOKEN = 'e2e-kill-switch-token-0123456789'
const hasCurl = spawnSync('curl', ['--version']).status === 0

/** curl runs asynchronously: the upstream servers live in this process and must keep serving. */
async function curl(args: string[], env?: NodeJS.ProcessEnv): Promise<{status: number | null; stdout: Buffer; stderr: string}> {
  return await new Promise((resolve) => {
    const p = spawn('curl', ['-s', '--max-time', '10', ...args], {env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe']})
    const out: Buffer[] = []
    let err = ''
    p.stdout.on('data', (c: Buffer) => out.push(c))
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    p.on('close', (status) => resolve({status, stdout: Buffer.concat(out), stderr: err}))
  })
}

function headerBlock(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))
  return line?.slice(line.indexOf(':') + 1).trim()
}

describe('pipelock run: transports on real sockets', {timeout: 60_000}, () => {
  let up: Upstream
  let tlsUp: Upstream
  let tls: TlsMaterial
  let proxy: RunningProxy
  let dir: string
  let sentinel: string

  before(async () => {
    dir = tempDir()
    tls = makeSelfSignedCert(dir)
    up = await startHttpUpstream()
    tlsUp = await startHttpsUpstream(tls)
    sentinel = path.join(dir, 'kill-switch')
    proxy = await startProxy(
      baseConfig(
        [
          // Trust the loopback upstream by IP, the spec's mechanism (§5.12): nothing else internal.
          'ssrf:',
          '  ip_allowlist: ["127.0.0.1/32"]',
          'fetch_proxy:',
          '  monitoring:',
          '    max_requests_per_minute: 100000',
          'kill_switch:',
          `  sentinel_file: ${JSON.stringify(sentinel)}`,
          `  api_token: ${TOKEN}`,
          'health_watchdog:',
          '  expose_subsystems: true',
          'response_scanning:',
          '  action: block',
        ].join('\n'),
      ),
      {dir, env: {NODE_EXTRA_CA_CERTS: tls.certPath}},
    )
  })

  after(async () => {
    rmSync(sentinel, {force: true})
    await proxy?.stop()
    await up?.close()
    await tlsUp?.close()
  })

  it('passes a clean plain-HTTP GET byte for byte (curl -x)', {skip: !hasCurl}, async () => {
    const r = await curl(['-x', `http://${proxy.addr}`, `http://127.0.0.1:${up.port}/kib`])
    assert.equal(r.status, 0, r.stderr)
    assert.ok(r.stdout.equals(KIB_BODY))
  })

  it('tunnels TLS end to end through CONNECT (undici ProxyAgent, as HTTPS_PROXY would)', async () => {
    const agent = new ProxyAgent({uri: `http://${proxy.addr}`, requestTls: {ca: tls.cert}})
    try {
      const res = await request(`https://127.0.0.1:${tlsUp.port}/kib`, {dispatcher: agent})
      assert.equal(res.statusCode, 200)
      assert.ok(Buffer.from(await res.body.arrayBuffer()).equals(KIB_BODY))
    } finally {
      await agent.close()
    }
  })

  it('tunnels TLS with curl and HTTPS_PROXY', {skip: !hasCurl}, async () => {
    const r = await curl(['--cacert', tls.certPath, `https://127.0.0.1:${tlsUp.port}/kib`], {
      ...process.env, HTTPS_PROXY: `http://${proxy.addr}`, https_proxy: `http://${proxy.addr}`,
    })
    assert.equal(r.status, 0, r.stderr)
    assert.ok(r.stdout.equals(KIB_BODY))
  })

  it('serves /fetch with text extraction over HTTP and HTTPS', async () => {
    for (const target of [`http://127.0.0.1:${up.port}/page`, `https://127.0.0.1:${tlsUp.port}/page`]) {
      const r = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(target)}&agent=e2e-agent`})
      assert.equal(r.status, 200, r.body)
      const j = JSON.parse(r.body)
      assert.equal(j.blocked, false)
      assert.equal(j.url, target)
      assert.equal(j.agent, 'e2e-agent')
      assert.equal(j.status_code, 200)
      assert.equal(j.title, 'Test Page')
      assert.equal(j.content, 'Hello\nPlain & simple.')
    }
  })

  it('blocks an AWS key in the URL with dlp_match and never echoes it', async () => {
    const fwd = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/upload?key=${AWS_KEY}`})
    assert.equal(fwd.status, 403)
    assert.equal(fwd.headers['x-pipelock-block-reason'], 'dlp_match')
    assert.equal(fwd.headers['x-pipelock-block-reason-version'], '1')
    assert.equal(fwd.headers['x-pipelock-block-reason-severity'], 'critical')
    assert.equal(fwd.headers['x-pipelock-block-reason-retry'], 'none')
    assert.match(fwd.headers['x-pipelock-block-reason-layer'] as string, /^(core_dlp|dlp)$/)
    assert.match(fwd.body, /^blocked: /)
    const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/x?token=${AWS_KEY}`)}`})
    assert.equal(fetched.status, 403)
    assert.equal(fetched.headers['x-pipelock-block-reason'], 'dlp_match')
    const j = JSON.parse(fetched.body)
    assert.equal(j.blocked, true)
    assert.equal(j.url, `http://127.0.0.1:${up.port}/[redacted]`)
    for (const text of [fwd.body, JSON.stringify(fwd.headers), fetched.body, JSON.stringify(fetched.headers)]) assert.ok(!text.includes(AWS_KEY))
    // Blocked before the DLP stage (blocklist) with a key in the query: still never logged.
    const early = await rawHttp(proxy.port, {path: `http://pastebin.com/raw/x?key=${AWS_KEY}`})
    assert.equal(early.headers['x-pipelock-block-reason'], 'domain_blocklist')
    assert.ok(!early.body.includes(AWS_KEY))
    await new Promise((r) => setTimeout(r, 100))
    assert.ok(!proxy.stdout().includes(AWS_KEY), 'audit log must not contain the key')
    assert.ok(!proxy.stderr().includes(AWS_KEY), 'stderr must not contain the key')
    assert.match(proxy.stdout(), /"event":"blocked"[^\n]*"block_reason":"dlp_match"/)
  })

  it('blocks the cloud metadata address as ssrf_metadata on every transport', async () => {
    const fwd = await rawHttp(proxy.port, {path: 'http://169.254.169.254/latest/meta-data/'})
    assert.equal(fwd.status, 403)
    assert.equal(fwd.headers['x-pipelock-block-reason'], 'ssrf_metadata')
    const f = await rawHttp(proxy.port, {path: '/fetch?url=http://169.254.169.254/latest/'})
    assert.equal(f.status, 403)
    assert.equal(JSON.parse(f.body).blocked, true)
    const c = await rawExchange(proxy.port, 'CONNECT 169.254.169.254:443 HTTP/1.1\r\nHost: 169.254.169.254:443\r\n\r\n')
    assert.match(c, /^HTTP\/1\.1 403 /)
    assert.equal(headerBlock(c, 'X-Pipelock-Block-Reason'), 'ssrf_metadata')
    assert.match(c, /CONNECT blocked: /)
  })

  it('blocks a blocklisted host (forward and CONNECT) with domain_blocklist', async () => {
    const fwd = await rawHttp(proxy.port, {path: 'http://pastebin.com/raw/abc'})
    assert.equal(fwd.status, 403)
    assert.equal(fwd.headers['x-pipelock-block-reason'], 'domain_blocklist')
    assert.equal(fwd.headers['x-pipelock-block-reason-layer'], 'blocklist')
    assert.equal(fwd.body, 'blocked: domain blocked: pastebin.com matches *.pastebin.com\n')
    const c = await rawExchange(proxy.port, 'CONNECT pastebin.com:443 HTTP/1.1\r\nHost: pastebin.com:443\r\n\r\n')
    assert.match(c, /^HTTP\/1\.1 403 /)
    assert.equal(headerBlock(c, 'X-Pipelock-Block-Reason'), 'domain_blocklist')
  })

  it('re-scans every redirect hop', async () => {
    const bad = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/redirect-metadata`})
    assert.equal(bad.status, 403)
    assert.equal(bad.headers['x-pipelock-block-reason'], 'redirect_scan_denied')
    assert.equal(bad.headers['x-pipelock-block-reason-layer'], 'ssrf_metadata')
    const ok = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/redirect-ok`})
    assert.equal(ok.status, 200)
    assert.equal(ok.body, KIB_BODY.toString())
  })

  it('blocks an injection phrase in a fetched page (response_scanning.action: block)', async () => {
    const f = await rawHttp(proxy.port, {path: `/fetch?url=http://127.0.0.1:${up.port}/injection`})
    assert.equal(f.status, 403)
    assert.equal(f.headers['x-pipelock-block-reason'], 'prompt_injection')
    assert.equal(f.headers['x-pipelock-block-reason-layer'], 'response_scan')
    assert.equal(JSON.parse(f.body).blocked, true)
    const fwd = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/injection`})
    assert.equal(fwd.status, 403)
    assert.equal(fwd.body, 'blocked: response contains injection\n')
    assert.equal(fwd.headers['x-pipelock-block-reason'], 'prompt_injection')
  })

  it('terminates an SSE stream at the event that carries an injection', async () => {
    const r = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/events-injection`})
    assert.equal(r.status, 200)
    assert.equal(r.body, 'data: hello\n\n')
  })

  it('an SSE event over max_event_bytes ends the stream as a size block, and an upstream that fails mid-stream is no block at all', async () => {
    const big = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/events-oversized`})
    assert.equal(big.body, 'data: hello\n\n')
    // A block's audit line redacts the URL: it is found by the request id of the stream's own lines.
    const idOf = (name: string): string | undefined => /"request_id":"(req-\d+)"/.exec(proxy.stdout().split('\n').find((l) => l.includes('"event":"allowed"') && l.includes(name)) ?? '')?.[1]
    const blockedOf = (name: string): string | undefined => proxy.stdout().split('\n').find((l) => l.includes('"event":"blocked"') && idOf(name) !== undefined && l.includes(`"request_id":"${idOf(name)}"`))
    assert.ok(await until(async () => blockedOf('events-oversized') !== undefined, 3000), proxy.stdout())
    const line = blockedOf('events-oversized')!
    assert.match(line, /"block_reason":"data_budget"/)
    assert.match(line, /an event whose data is larger than response_scanning\.sse_streaming\.max_event_bytes \(65536\)/)
    await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/events-broken`}).catch(() => undefined)
    assert.ok(await until(async () => /SSE stream ended by an upstream error[^\n]*events-broken/.test(proxy.stdout()), 3000), proxy.stdout())
    assert.equal(blockedOf('events-broken'), undefined, 'an upstream failure is not recorded as a block')
  })

  it('blocks secrets in request headers and bodies (header_dlp, body_dlp)', async () => {
    const h = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: {Authorization: `AWS ${AWS_KEY}`}})
    assert.equal(h.status, 403)
    assert.equal(h.headers['x-pipelock-block-reason'], 'dlp_match')
    assert.equal(h.headers['x-pipelock-block-reason-layer'], 'header_dlp')
    const post = (body: string) => new Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}>((resolve, reject) => {
      const req = http.request({host: '127.0.0.1', port: proxy.port, method: 'POST', path: `http://127.0.0.1:${up.port}/echo`, headers: {'content-type': 'application/json'}, agent: false}, (res) => {
        let b = ''
        res.on('data', (c) => (b += c))
        res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: b}))
      })
      req.on('error', reject)
      req.end(body)
    })
    const leak = await post(JSON.stringify({note: 'upload', key: AWS_KEY}))
    assert.equal(leak.status, 403)
    assert.equal(leak.headers['x-pipelock-block-reason-layer'], 'body_dlp')
    assert.ok(!leak.body.includes(AWS_KEY))
    // A clean body is relayed byte for byte.
    assert.deepEqual(await post('{"hello":"world"}').then((r) => [r.status, r.body]), [200, '{"hello":"world"}'])
    // A chat request with six tools holds the key `type` twelve times, a checksum-valid phrase
    // once sorted: relayed, since a phrase across texts is read in their order.
    const tools = Array.from({length: 6}, (_, i) => ({type: 'function', function: {name: `tool_${i}`, parameters: {type: 'object', properties: {}}}}))
    const chat = JSON.stringify({model: 'gpt-4o', messages: [{role: 'user', content: 'list the files'}], tools})
    assert.deepEqual(await post(chat).then((r) => [r.status, r.body]), [200, chat])
    // An image in a chat request: base64 holding a mixed-case run that the case-insensitive AWS
    // key regex matches (`A3T…`), which no key ID is (issued in upper case).
    const image = Buffer.alloc(3000, 0x5a).toString('base64').slice(0, 2000) + 'A3T' + 'w3c5Q2nCRk9tdOoZ8' + 'Zm9v'
    const vision = JSON.stringify({model: 'claude-sonnet-4', messages: [{role: 'user', content: [{type: 'image', source: {type: 'base64', media_type: 'image/png', data: image}}]}]})
    assert.deepEqual(await post(vision).then((r) => [r.status, r.body.length]), [200, vision.length])
    // A mnemonic as an array of its words, in order, is a seed phrase.
    const mnemonic = entropyToMnemonic(createHash('sha256').update('e2e mnemonic').digest().subarray(0, 16), wordlist).split(' ')
    const words = await post(JSON.stringify({mnemonic}))
    assert.deepEqual([words.status, words.headers['x-pipelock-block-reason-layer']], [403, 'body_dlp'])
  })

  it('answers a body over max_body_bytes with the 403 it logs, not an empty reply (curl sends Expect: 100-continue)', async () => {
    // The default limit is 5 MiB; one byte more is refused whole, never streamed unscanned.
    const body = Buffer.alloc(5 * 1024 * 1024 + 1, 0x61)
    const post = await new Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}>((resolve, reject) => {
      const req = http.request({host: '127.0.0.1', port: proxy.port, method: 'POST', path: `http://127.0.0.1:${up.port}/echo`, headers: {'content-type': 'text/plain', 'content-length': body.length, expect: '100-continue'}, agent: false}, (res) => {
        let b = ''
        res.on('data', (c) => (b += c))
        res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: b}))
      })
      req.on('continue', () => req.end(body))
      req.on('error', reject)
    })
    assert.equal(post.status, 403)
    assert.equal(post.headers['x-pipelock-block-reason'], 'dlp_match')
    assert.equal(post.headers['x-pipelock-block-reason-layer'], 'body_dlp')
    assert.match(post.body, /blocked/)
  })

  it('applies the media policy (GIF is not an allowed image type)', async () => {
    const f = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/gif`})
    assert.equal(f.status, 403)
    assert.equal(f.headers['x-pipelock-block-reason'], 'media_policy')
    assert.equal(f.body, 'blocked: media_policy: image type "image/gif" not in allowed list\n')
  })

  it('answers 502 when an allowed upstream cannot be reached, and logs an error (not a block)', async () => {
    const fwd = await rawHttp(proxy.port, {path: 'http://127.0.0.1:1/'})
    assert.equal(fwd.status, 502)
    assert.equal(fwd.body, 'forward proxy fetch failed\n')
    assert.equal(fwd.headers['x-pipelock-block-reason'], undefined)
    const f = await rawHttp(proxy.port, {path: '/fetch?url=http://127.0.0.1:1/'})
    assert.equal(f.status, 502)
    assert.deepEqual(JSON.parse(f.body), {url: 'http://127.0.0.1:1/', error: 'fetch failed: connection refused (ECONNREFUSED)', blocked: false})
    const c = await rawExchange(proxy.port, 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n')
    assert.match(c, /^HTTP\/1\.1 502 /)
    assert.match(c, /tunnel dial failed/)
    await new Promise((r) => setTimeout(r, 50))
    assert.match(proxy.stdout(), /"event":"error"[^\n]*"status_code":502/)
  })

  it('refuses compressed upstream bodies as compressed_response', async () => {
    const r = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/gzip`})
    assert.equal(r.status, 403)
    assert.equal(r.headers['x-pipelock-block-reason'], 'compressed_response')
  })

  it('flushes SSE events as they arrive', async () => {
    const firstAt = await new Promise<{first: number; end: number; body: string}>((resolve, reject) => {
      const start = Date.now()
      let first = 0
      let body = ''
      const req = http.request({host: '127.0.0.1', port: proxy.port, path: `http://127.0.0.1:${up.port}/sse`, agent: false}, (res) => {
        res.on('data', (c: Buffer) => {
          if (first === 0) first = Date.now() - start
          body += c.toString()
        })
        res.on('end', () => resolve({first, end: Date.now() - start, body}))
      })
      req.on('error', reject)
      req.end()
    })
    assert.equal(firstAt.body, 'data: first\n\ndata: second\n\n')
    // The upstream holds the second event for 300 ms: the first must reach us well before the end.
    assert.ok(firstAt.first < firstAt.end - 150, `first chunk at ${firstAt.first} ms, end at ${firstAt.end} ms`)
  })

  it('strips identity, forwarding, hop-by-hop and Accept-Encoding headers upstream', async () => {
    const r = await rawHttp(proxy.port, {
      path: `http://127.0.0.1:${up.port}/headers`,
      headers: {'X-Pipelock-Agent': 'claude', 'X-Forwarded-For': '10.0.0.1', Forwarded: 'for=1.2.3.4', Via: '1.1 x', 'Accept-Encoding': 'gzip', 'X-Custom': 'kept', Connection: 'X-Custom-Hop', 'X-Custom-Hop': 'gone'},
    })
    assert.equal(r.status, 200)
    const h = JSON.parse(r.body) as Record<string, string>
    for (const k of ['x-pipelock-agent', 'x-forwarded-for', 'forwarded', 'via', 'accept-encoding', 'x-custom-hop']) assert.equal(h[k], undefined, k)
    assert.equal(h['x-custom'], 'kept')
  })

  it('reports /health, /stats and /metrics', async () => {
    const h = await rawHttp(proxy.port, {path: '/health'})
    assert.equal(h.status, 200)
    const hj = JSON.parse(h.body)
    assert.equal(hj.status, 'healthy')
    assert.equal(hj.forward_proxy_enabled, true)
    assert.equal(hj.kill_switch_active, false)
    assert.deepEqual(Object.keys(hj.subsystems).sort(), ['config', 'killswitch', 'scanner', 'session', 'watchdog'])
    const s = JSON.parse((await rawHttp(proxy.port, {path: '/stats'})).body)
    assert.ok(s.requests.total > 0)
    assert.ok(s.requests.blocked > 0)
    const m = await rawHttp(proxy.port, {path: '/metrics'})
    assert.match(m.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/)
    assert.match(m.body, /^pipelock_requests_total\{agent="_default",result="blocked"\} \d+$/m)
    assert.match(m.body, /^pipelock_info\{version="[^"]+"\} 1$/m)
    assert.match(m.body, /^pipelock_kill_switch_active\{source="sentinel"\} 0$/m)
    // Capture is off here: its counters read 0, never an absent series an alert would miss.
    for (const family of ['pipelock_learn_capture_records_total', 'pipelock_learn_capture_dropped_total', 'pipelock_capture_dropped_total']) assert.match(m.body, new RegExp(`^${family} 0$`, 'm'))
    assert.match(m.body, /^pipelock_capture_session_id_sanitized_total\{reason="unsafe_path"\} 0$/m)
  })

  it('pipelock healthcheck exits 0 against the proxy and 1 against a closed port', () => {
    const ok = runCli(['healthcheck', '--addr', proxy.addr])
    assert.equal(ok.status, 0, ok.stderr)
    assert.equal(ok.stdout, 'healthy (HTTP 200)\n')
    assert.equal(JSON.parse(runCli(['healthcheck', '--addr', proxy.addr, '--json']).stdout).kill_switch_active, false)
    const bad = runCli(['healthcheck', '--addr', '127.0.0.1:1'])
    assert.equal(bad.status, 1)
    const notAddr = runCli(['healthcheck', '--addr', 'notaport'])
    assert.deepEqual([notAddr.status, notAddr.stdout], [1, 'unhealthy: --addr "notaport" is not host:port\n'])
  })

  it('kill switch sentinel flips every transport to deny within a second, and back', async () => {
    // A live tunnel opened before activation must be torn down.
    const tunnel = net.connect({host: '127.0.0.1', port: proxy.port})
    const tunnelClosed = new Promise<void>((resolve) => tunnel.on('close', () => resolve()))
    tunnel.on('error', () => undefined)
    tunnel.write(`CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\n`)
    await new Promise<void>((resolve) => tunnel.once('data', () => resolve()))

    writeFileSync(sentinel, '')
    try {
      assert.ok(await until(async () => (await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status === 403, 1500), 'forward not denied within a second')
      const fwd = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})
      assert.equal(fwd.headers['x-pipelock-block-reason'], 'kill_switch_active')
      assert.equal(fwd.headers['x-pipelock-block-reason-layer'], 'kill_switch')
      assert.equal(fwd.body, 'blocked: kill_switch_active\n')
      // The exemption is for the proxy's own /health only, never a target's /health (§24 #15).
      const targetHealth = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/health`})
      assert.equal(targetHealth.status, 403)
      // Denied before any scan, yet a secret in the target never reaches the audit log.
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/x?k=${AWS_KEY}`})).status, 403)
      const fetched = await rawHttp(proxy.port, {path: `/fetch?url=http://127.0.0.1:${up.port}/kib`})
      assert.equal(fetched.status, 503)
      assert.deepEqual(JSON.parse(fetched.body), {error: 'kill_switch_active', message: 'Emergency deny-all active'})
      // Every transport names the kill switch the same way (gate parity): /fetch too.
      assert.equal(fetched.headers['x-pipelock-block-reason'], 'kill_switch_active')
      const c = await rawExchange(proxy.port, `CONNECT 127.0.0.1:${tlsUp.port} HTTP/1.1\r\nHost: x\r\n\r\n`)
      assert.match(c, /^HTTP\/1\.1 503 /)
      const stats = await rawHttp(proxy.port, {path: '/stats'})
      assert.equal(stats.status, 503, '/stats is not exempt')
      const health = await rawHttp(proxy.port, {path: '/health'})
      assert.equal(health.status, 200)
      assert.equal(JSON.parse(health.body).kill_switch_active, true)
      // Still healthy (exit 0: /health is exempt), but the healthcheck line says the switch is on.
      assert.deepEqual(runCli(['healthcheck', '--addr', proxy.addr]), {status: 0, stdout: 'healthy (HTTP 200, kill switch active)\n', stderr: ''})
      assert.equal((await rawHttp(proxy.port, {path: '/metrics'})).status, 200)
      await Promise.race([tunnelClosed, new Promise((_, rej) => setTimeout(() => rej(new Error('tunnel not torn down')), 2000))])
    } finally {
      rmSync(sentinel, {force: true})
    }
    assert.ok(await until(async () => (await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status === 200, 1500), 'not restored within a second')
    assert.match(proxy.stdout(), /"event":"kill_switch_deny"/)
    assert.ok(!proxy.stdout().includes(AWS_KEY))
  })

  it('kill switch API: bearer token, status, toggle on and off', async () => {
    const unauth = await rawHttp(proxy.port, {path: '/api/v1/killswitch/status'})
    assert.equal(unauth.status, 401)
    assert.equal(unauth.headers['www-authenticate'], 'Bearer realm="pipelock"')
    const auth = {Authorization: `Bearer ${TOKEN}`}
    const st = await rawHttp(proxy.port, {path: '/api/v1/killswitch/status', headers: auth})
    assert.deepEqual(JSON.parse(st.body), {active: false, sources: {config: false, api: false, signal: false, sentinel: false}})
    const wrongMethod = await rawHttp(proxy.port, {path: '/api/v1/killswitch', headers: auth})
    assert.equal(wrongMethod.status, 405)
    assert.equal(wrongMethod.headers.allow, 'POST')
    const post = async (body: string): Promise<{status: number; body: string}> =>
      await new Promise((resolve, reject) => {
        const req = http.request({host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/api/v1/killswitch', headers: {...auth, 'Content-Type': 'application/json'}, agent: false}, (res) => {
          let b = ''
          res.on('data', (c) => (b += c))
          res.on('end', () => resolve({status: res.statusCode ?? 0, body: b}))
        })
        req.on('error', reject)
        req.end(body)
      })
    assert.equal((await post('{"active":true,"extra":1}')).status, 400)
    const on = await post('{"active":true}')
    assert.equal(on.status, 200)
    assert.deepEqual(JSON.parse(on.body), {active: true, source: 'api', message: 'Emergency deny-all active'})
    try {
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 403)
      // The API itself stays reachable while the switch is on (api_exempt).
      assert.equal((await rawHttp(proxy.port, {path: '/api/v1/killswitch/status', headers: auth})).status, 200)
    } finally {
      const off = await post('{"active":false}')
      assert.equal(off.status, 200)
    }
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 200)
  })

  it('/fetch: a target whose path or query a request cannot carry is a 400 naming the URL and the character, after the URL scanners', async () => {
    const fetchOf = (u: string) => rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(u)}`})
    const base = `http://127.0.0.1:${up.port}`
    const cases: Array<[string, string]> = [
      [`${base}/a b`, 'U+0020, which cannot be sent in a request: percent-encode it (%20)'],
      [`${base}/?q=a b`, 'U+0020, which cannot be sent in a request: percent-encode it (%20)'],
      [`${base}/a<b>`, '"<", which cannot be sent in a request: percent-encode it (%3C)'],
      [`${base}/\u4e2d`, '"\u4e2d", which cannot be sent in a request: percent-encode it (%E4%B8%AD)'],
    ]
    for (const [u, why] of cases) {
      const r = await fetchOf(u)
      assert.equal(r.status, 400, u)
      assert.deepEqual(JSON.parse(r.body), {url: u, error: `invalid URL: the URL's path or query holds ${why}`, blocked: false})
    }
    // The same target percent-encoded is fetched.
    assert.equal((await fetchOf(`${base}/a%20b`)).status, 200)
    // A target the URL scanners block is blocked first, space or not.
    const secret = await fetchOf(`${base}/?k=AKIAQ3EGRZ7NXPLM4TWB x`)
    assert.equal(secret.status, 403)
    assert.equal(secret.headers['x-pipelock-block-reason-layer'], 'core_dlp')
  })

  it('survives malformed requests and keeps serving', async () => {
    const badLine = await rawExchange(proxy.port, 'THIS IS NOT HTTP\r\n\r\n')
    assert.match(badLine, /^HTTP\/1\.1 400 /)
    const huge = await rawExchange(proxy.port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`)
    assert.match(huge, /^HTTP\/1\.1 431 /)
    const invalidUrl = await rawHttp(proxy.port, {path: 'http://'})
    assert.ok(invalidUrl.status >= 400 && invalidUrl.status < 500, String(invalidUrl.status))
    const badFetch = await rawHttp(proxy.port, {path: '/fetch?url=ftp://example.com/'})
    assert.equal(badFetch.status, 400)
    assert.deepEqual(JSON.parse(badFetch.body), {url: 'ftp://example.com/', error: 'invalid URL: must be http or https', blocked: false})
    // A target that does not parse says why, and is echoed as it was received (not decoded into one that would parse).
    for (const [sent, url] of [['http://%2565xt.example.test:23410/x', 'http://%65xt.example.test:23410/x'], ['http://%2531%2532%2537.0.0.1:23410/s25', 'http://%31%32%37.0.0.1:23410/s25']]) {
      const unparsable = await rawHttp(proxy.port, {path: `/fetch?url=${sent}`})
      assert.equal(unparsable.status, 400)
      assert.deepEqual(JSON.parse(unparsable.body), {url, error: 'invalid URL: invalid character in host name', blocked: false})
    }
    const badEscape = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent('http://example.test/%zz')}`})
    assert.deepEqual(JSON.parse(badEscape.body), {url: 'http://example.test/%zz', error: 'invalid URL: invalid URL escape', blocked: false})
    // ... unless DLP finds something in it.
    const secretInBad = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://%65x.example.test/?k=${AWS_KEY}`)}`})
    assert.deepEqual(JSON.parse(secretInBad.body), {url: 'http://%65x.example.test/[redacted]', error: 'invalid URL: invalid character in host name', blocked: false})
    const missing = await rawHttp(proxy.port, {path: '/fetch'})
    assert.equal(missing.status, 400)
    const badConnect = await rawExchange(proxy.port, 'CONNECT not a target HTTP/1.1\r\n\r\n')
    assert.match(badConnect, /^HTTP\/1\.1 400 /)
    // Half-closed socket mid-headers: a clean close, no crash.
    const half = await rawExchange(proxy.port, 'GET /health HTTP/1.1\r\nHost: x\r\n', {halfClose: true, waitMs: 1500})
    assert.ok(half === '' || /^HTTP\/1\.1 [24]\d\d /.test(half), half.slice(0, 40))
    // Garbage inside a CONNECT tunnel where TLS is expected but mangled: closed silently.
    const h = await rawHttp(proxy.port, {path: '/health'})
    assert.equal(h.status, 200)
    assert.equal(proxy.proc.exitCode, null)
  })
})
