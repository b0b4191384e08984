/**
 * Mediation envelopes through the built `pipelock run` (envelope spec §1, §4, §6, §8): what a
 * local origin receives on a forward request, a /fetch, a reverse-proxied request and a request
 * inside an intercepted HTTPS tunnel is checked by a small RFC 9421 verifier written here from
 * the RFC (not Pipelock's code); then two Pipelocks in a chain — the outer signs, the inner
 * verifies — with a tampered header, a replayed nonce and a missing envelope rejected and counted.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {createHash, createPublicKey, verify} from 'node:crypto'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type {AddressInfo, Socket} from 'node:net'
import net from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import http2 from 'node:http2'
import tls from 'node:tls'
import {EnvelopeSigner, serializeEnvelope} from '../../src/plugins/envelope/index.js'
import {encodePrivateKeyText, generateKeyPair, goPrivateKey, type Ed25519KeyPair} from '../../src/plugins/signing/index.js'
import WebSocket, {WebSocketServer} from 'ws'
import {runCli, runCliAsync} from '../helpers/cli.js'
import {interceptedUpstream, makeSelfSignedCert, rawExchange, rawHttp, reverseListenPort, type RunningProxy, startProxy, tempDir, tlsExchange, tlsThroughProxy, until, writeReceiptKeys, writeTestCa} from './proxy-harness.js'

const hasCurl = spawnSync('curl', ['--version']).status === 0

// ---- An RFC 9421 verifier written for this test (RFC 9421 §2.5, §3.2; RFC 9530; RFC 8032). ----

/** Top-level members of a Dictionary field: split on commas outside quotes and parentheses. */
function members(field: string): Map<string, string> {
  const out = new Map<string, string>()
  let depth = 0
  let quoted = false
  let cur = ''
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!
    if (quoted) {
      if (c === '\\') cur += c + field[++i]
      else {
        if (c === '"') quoted = false
        cur += c
      }
      continue
    }
    if (c === '"') quoted = true
    if (c === '(') depth++
    if (c === ')') depth--
    if (c === ',' && depth === 0) {
      const eq = cur.indexOf('=')
      out.set(cur.slice(0, eq).trim(), cur.slice(eq + 1).trim())
      cur = ''
      continue
    }
    cur += c
  }
  const eq = cur.indexOf('=')
  if (eq > 0) out.set(cur.slice(0, eq).trim(), cur.slice(eq + 1).trim())
  return out
}

interface Verdict {
  readonly ok: boolean
  readonly why: string
}

/** Verifies the `pipelock1` signature of a received request with the signer's raw public key. */
function rfc9421Verify(req: http.IncomingMessage, body: Buffer, scheme: string, publicKey: Buffer): Verdict {
  const input = members(String(req.headers['signature-input'] ?? '')).get('pipelock1')
  const sig = members(String(req.headers.signature ?? '')).get('pipelock1')
  if (input === undefined || sig === undefined) return {ok: false, why: 'no pipelock1 member'}
  const close = input.indexOf(')')
  const components = [...input.slice(1, close).matchAll(/"([^"]+)"/g)].map((m) => m[1]!)
  const params = input.slice(close + 1)
  const created = Number(/;created=(\d+)/.exec(params)?.[1])
  const expires = Number(/;expires=(\d+)/.exec(params)?.[1])
  const now = Date.now() / 1000
  if (!(created <= now + 60 && expires > now - 60)) return {ok: false, why: 'outside created/expires'}
  const lines: string[] = []
  for (const c of components) {
    let v: string
    if (c === '@method') v = req.method ?? ''
    else if (c === '@target-uri') v = `${scheme}://${req.headers.host}${req.url}`
    else if (c === '@authority') v = String(req.headers.host).toLowerCase()
    else v = String(req.headers[c] ?? '')
    lines.push(`"${c}": ${v}`)
  }
  if (components.includes('content-digest')) {
    const want = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`
    if (req.headers['content-digest'] !== want) return {ok: false, why: 'content-digest mismatch'}
  } else if (body.length > 0) return {ok: false, why: 'body not covered'}
  lines.push(`"@signature-params": ${input}`)
  const key = createPublicKey({key: {kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url')}, format: 'jwk'})
  const ok = verify(null, Buffer.from(lines.join('\n')), key, Buffer.from(sig.slice(1, -1), 'base64'))
  return {ok, why: ok ? 'verified' : 'bad signature'}
}

interface Received {
  readonly req: http.IncomingMessage
  readonly body: Buffer
  readonly verdict: Verdict
}

function verifyingOrigin(scheme: 'http' | 'https', key: () => Buffer, seen: Received[]) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const verdict = rfc9421Verify(req, body, scheme, key())
      seen.push({req, body, verdict})
      res.writeHead(200, {'content-type': 'text/plain'})
      res.end(`origin: ${verdict.why}\n`)
    })
  }
}

async function listenOn(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as AddressInfo).port
}

function writeKey(dir: string, kp: Ed25519KeyPair): string {
  const file = path.join(dir, 'envelope.key')
  writeFileSync(file, encodePrivateKeyText(goPrivateKey(kp)), {mode: 0o600})
  return file
}

async function curl(args: string[]): Promise<{status: number | null; stdout: string; stderr: string}> {
  return await new Promise((resolve) => {
    const p = spawn('curl', ['-s', '--max-time', '10', ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    p.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

/** A request through the proxy as an absolute-URI forward request, with extra headers and a body. */
async function forward(proxyPort: number, url: string, opts: {method?: string; headers?: Record<string, string>; body?: string} = {}): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort, method: opts.method ?? 'GET', path: url, headers: opts.headers, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString()}))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

function signingConfig(keyFile: string, extra: string[] = []): string {
  return [
    'forward_proxy:', '  enabled: true',
    'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
    'mediation_envelope:', '  enabled: true', '  sign: true', `  signing_key_path: ${keyFile}`, '  trust_domain: a.test',
    ...extra,
  ].join('\n') + '\n'
}

describe('mediation envelope: an independent RFC 9421 verifier at the origin', {timeout: 90_000}, () => {
  const seen: Received[] = []
  const seenTls: Received[] = []
  let kp: Ed25519KeyPair
  let origin: http.Server
  let tlsOrigin: https.Server
  let port: number
  let tlsPort: number
  let proxy: RunningProxy
  let reverseBase: string
  let caFile: string

  before(async () => {
    const dir = tempDir('pl-envelope-')
    kp = generateKeyPair()
    origin = http.createServer(verifyingOrigin('http', () => kp.publicKey, seen))
    port = await listenOn(origin)
    const upTls = makeSelfSignedCert(dir)
    tlsOrigin = https.createServer({key: upTls.key, cert: upTls.cert}, verifyingOrigin('https', () => kp.publicKey, seenTls))
    tlsPort = await listenOn(tlsOrigin)
    const paths = writeTestCa(dir)
    caFile = paths.cert
    proxy = await startProxy(signingConfig(writeKey(dir, kp), ['websocket_proxy:', '  enabled: true', 'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`]), {
      dir, env: {SSL_CERT_FILE: upTls.certPath},
      args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${port}/base`, '--reverse-listen', '127.0.0.1:0'],
    })
    reverseBase = `http://127.0.0.1:${/reverse proxy listening on 127\.0\.0\.1:(\d+)/.exec(proxy.stderr())![1]}`
    assert.match(proxy.stderr(), /\n {2}Envelope: enabled \(mediation envelopes injected\)\n/)
  })

  after(async () => {
    await proxy?.stop()
    for (const s of [origin, tlsOrigin]) {
      s?.closeAllConnections()
      await new Promise<void>((r) => s?.close(() => r()))
    }
  })

  it('forward: a POST arrives signed over its body digest, and an agent-supplied envelope and pipelock signature never arrive', async () => {
    const body = JSON.stringify({hello: 'world'})
    const r = await forward(proxy.port, `http://127.0.0.1:${port}/v1/messages?beta=true`, {
      method: 'POST', body,
      headers: {'content-type': 'application/json', 'x-pipelock-agent': 'claude', 'pipelock-mediation': 'v=1, act="read", vd="allow", se="", actor="spiffe://evil.test/agent/x", aa="bound", ph=:AAAAAAAAAAAAAAAAAAAAAA==:, rid="x", ts=1', 'signature-input': 'pipelock1=("@method");tag="pipelock-mediation", sig1=("@method");tag="web-bot-auth"', signature: 'pipelock1=:YWJj:, sig1=:ZGVm:'},
    })
    assert.equal(r.status, 200, r.body)
    assert.equal(r.body, 'origin: verified\n')
    const got = seen.at(-1)!
    const env = String(got.req.headers['pipelock-mediation'])
    assert.match(env, /^v=1, act="write", vd="allow", se="external_write", actor="spiffe:\/\/a\.test\/agent\/claude", aa="self-declared", ph=:[A-Za-z0-9+/]{22}==:, rid="[0-9a-f-]{36}", ts=\d+, taint="trusted", auth="user_broad"$/)
    assert.match(String(got.req.headers['signature-input']), /^sig1=\("@method"\);tag="web-bot-auth", pipelock1=\("@method" "@target-uri" "content-digest" "pipelock-mediation"\);keyid="pipelock-mediation-v1";alg="ed25519";tag="pipelock-mediation";nonce="[0-9a-f]{32}";created=\d+;expires=\d+$/)
    assert.match(String(got.req.headers.signature), /^sig1=:ZGVm:, pipelock1=:[A-Za-z0-9+/]{86}==:$/)
    assert.ok(!env.includes('evil.test'))
  })

  it('/fetch: the GET pipelock builds arrives signed without a digest', async () => {
    const r = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${port}/page?x=1`)}`})
    assert.equal(r.status, 200, r.body)
    const got = seen.at(-1)!
    assert.equal(got.verdict.why, 'verified')
    assert.match(String(got.req.headers['pipelock-mediation']), /^v=1, act="read", vd="allow", se="external_read", actor="spiffe:\/\/a\.test\/agent\/anonymous", /)
    assert.match(String(got.req.headers['signature-input']), /^pipelock1=\("@method" "@target-uri" "pipelock-mediation"\);/)
    assert.equal(got.req.headers['content-digest'], undefined)
  })

  it('reverse proxy: the envelope signs the upstream URL, not the inbound path', async () => {
    const r = await forward(Number(new URL(reverseBase).port), '/v1/chat?q=2', {method: 'PUT', body: 'payload', headers: {'content-type': 'text/plain'}})
    assert.equal(r.status, 200, r.body)
    const got = seen.at(-1)!
    assert.equal(got.req.url, '/base/v1/chat?q=2')
    assert.equal(got.verdict.why, 'verified')
    assert.equal(got.body.toString(), 'payload')
  })

  it('TLS interception: a request inside the intercepted tunnel arrives signed for its https:// target', {skip: !hasCurl && 'curl not installed'}, async () => {
    const r = await curl(['--http1.1', '-x', `http://${proxy.addr}`, '--cacert', caFile, '-H', 'Content-Type: application/json', '-d', '{"q":1}', `https://127.0.0.1:${tlsPort}/inner?z=9`])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'origin: verified\n')
    assert.match(String(seenTls.at(-1)!.req.headers['signature-input']), /"content-digest"/)
  })

  it('/ws: the upstream handshake arrives signed for its http:// form (E6 fixed), as delegate/external_write', async () => {
    const handshakes: Received[] = []
    const wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
    wss.on('connection', (sock, req) => {
      handshakes.push({req, body: Buffer.alloc(0), verdict: rfc9421Verify(req, Buffer.alloc(0), 'http', kp.publicKey)})
      sock.close()
    })
    await new Promise<void>((r) => wss.once('listening', () => r()))
    const wsPort = (wss.address() as AddressInfo).port
    try {
      const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${wsPort}/stream?s=1`)}`)
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve())
        ws.once('error', () => resolve())
      })
      assert.equal(handshakes.length, 1)
      assert.equal(handshakes[0]!.verdict.why, 'verified')
      assert.match(String(handshakes[0]!.req.headers['pipelock-mediation']), /^v=1, act="delegate", vd="allow", se="external_write", /)
    } finally {
      await new Promise<void>((r) => wss.close(() => r()))
    }
  })

  it('the key directory publishes the signing key; other methods are refused', async () => {
    const r = await rawHttp(proxy.port, {path: '/.well-known/http-message-signatures-directory'})
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-type'], 'application/json')
    assert.equal(r.headers['cache-control'], 'public, max-age=300')
    assert.equal(r.body, JSON.stringify({keys: [{keyid: 'pipelock-mediation-v1', alg: 'ed25519', public_key: kp.publicKey.toString('hex'), use: 'pipelock-mediation'}]}) + '\n')
    const post = await rawHttp(proxy.port, {method: 'POST', path: '/.well-known/http-message-signatures-directory'})
    assert.equal(post.status, 405)
    assert.equal(post.body, 'method not allowed\n')
  })
})

const NOTE = 'note: runtime proxy verification reads trusted keys from pipelock.yaml mediation_envelope.verify_inbound.trust_list; this trust store is for operator workflows until runtime trust-store loading is added.\n'

describe('pipelock envelope trust', {timeout: 90_000}, () => {
  const seen: Received[] = []
  let kp: Ed25519KeyPair
  let origin: http.Server
  let port: number
  let proxy: RunningProxy
  let store: string

  before(async () => {
    const dir = tempDir('pl-envelope-trust-')
    store = path.join(dir, 'state', 'trust.json')
    kp = generateKeyPair()
    origin = http.createServer(verifyingOrigin('http', () => kp.publicKey, seen))
    port = await listenOn(origin)
    proxy = await startProxy(signingConfig(writeKey(dir, kp)), {dir})
  })

  after(async () => {
    await proxy?.stop()
    origin?.closeAllConnections()
    await new Promise<void>((r) => origin?.close(() => r()))
  })

  it('add --source fetches the key a running proxy publishes; list, --json, remove', () => {
    const src = `http://127.0.0.1:${proxy.port}/.well-known/http-message-signatures-directory`
    const add = runCli(['envelope', 'trust', 'add', 'spiffe://a.test/agent/claude', '--source', src, '--store', store])
    assert.equal(add.status, 0, add.stderr)
    assert.equal(add.stdout, 'trusted\tspiffe://a.test/agent/claude\n')
    assert.equal(add.stderr, NOTE)
    assert.equal(runCli(['envelope', 'trust', 'add', 'spiffe://a.test/agent/claude', '--source', src, '--store', store]).stdout, 'already trusted\tspiffe://a.test/agent/claude\n')
    const other = 'ab'.repeat(32)
    assert.equal(runCli(['envelope', 'trust', 'add', 'b.test', '--key', other, '--store', store]).stdout, 'trusted\tb.test\n')
    const json = runCli(['envelope', 'trust', 'list', '--json', '--store', store])
    const records = JSON.parse(json.stdout) as Array<Record<string, string>>
    assert.deepEqual(records.map((r) => Object.keys(r)), [['trust_domain', 'spiffe_id', 'key_hex', 'key_source', 'added_at'], ['trust_domain', 'key_hex', 'added_at']])
    assert.equal(records[0]!.key_hex, kp.publicKey.toString('hex'))
    const t = (r: Record<string, string>): string => r.added_at!.replace(/\.\d+/, '')
    const hex = kp.publicKey.toString('hex')
    const srcCol = src.padEnd(src.length + 2)
    assert.equal(runCli(['envelope', 'trust', 'list', '--store', store]).stdout, [
      `TRUST_DOMAIN  SPIFFE_ID                     KEY                  ${'SOURCE'.padEnd(src.length + 2)}ADDED_AT`,
      `a.test        spiffe://a.test/agent/claude  ${hex.slice(0, 12)}...${hex.slice(-4)}  ${srcCol}${t(records[0]!)}`,
      `b.test        -                             abababababab...abab  ${'-'.padEnd(src.length + 2)}${t(records[1]!)}`,
    ].join('\n') + '\n')
    assert.equal(runCli(['envelope', 'trust', 'remove', 'b.test', '--store', store]).stdout, 'removed\tb.test\n')
    const gone = runCli(['envelope', 'trust', 'remove', 'b.test', '--store', store])
    assert.equal(gone.status, 2)
    assert.match(gone.stderr, /^trust target "b\.test" is not present \[ENVELOPE_TRUST_INVALID\]/)
    assert.equal(runCli(['envelope', 'trust', 'list', '--json', '--store', path.join(path.dirname(store), 'none.json')]).stdout, 'null\n')
    assert.equal(runCli(['envelope', 'trust', 'verify', '--store', store]).stdout, 'trust store ready\t1 trusted peer(s)\n')
  })

  it('add --source names why the directory could not be fetched: connection refused, a 404 from a peer that signs nothing, or a page that is not JSON', async () => {
    const closed = http.createServer()
    const closedPort = await listenOn(closed)
    await new Promise<void>((r) => closed.close(() => r()))
    const refused = runCli(['envelope', 'trust', 'add', 'x.test', '--source', `http://127.0.0.1:${closedPort}/.well-known/http-message-signatures-directory`, '--store', store])
    assert.equal(refused.status, 2)
    assert.equal(refused.stderr, NOTE + `fetch http://127.0.0.1:${closedPort}/.well-known/http-message-signatures-directory: connection refused (ECONNREFUSED) [ENVELOPE_TRUST_INVALID]\n`)
    const unsigned = http.createServer((_q, s) => s.writeHead(404, {'content-type': 'text/plain; charset=utf-8'}).end('404 page not found\n'))
    const unsignedPort = await listenOn(unsigned)
    try {
      const src = `http://127.0.0.1:${unsignedPort}/.well-known/http-message-signatures-directory`
      // Async: the 404 server runs in this process and must answer while the CLI waits.
      const r = await runCliAsync(['envelope', 'trust', 'add', 'x.test', '--source', src, '--store', store])
      assert.equal(r.status, 2)
      assert.equal(r.stderr, NOTE + `directory returned HTTP 404 from ${src} [ENVELOPE_TRUST_INVALID]; hint: a Pipelock serves its key there only while it signs (mediation_envelope.enabled and sign: true, with signing_key_path); check the URL and the peer's config\n`)
    } finally {
      unsigned.closeAllConnections()
      await new Promise<void>((r) => unsigned.close(() => r()))
    }
    // A web page where the directory should be: its type and first line, control characters shown as ?.
    const page = http.createServer((_q, s) => s.writeHead(200, {'content-type': 'text/html'}).end('<!DOCTYPE html>\u001b[2J<html><head><title>Sign in to continue</title></head></html>\n'))
    const pagePort = await listenOn(page)
    try {
      const src = `http://127.0.0.1:${pagePort}/`
      const r = await runCliAsync(['envelope', 'trust', 'add', 'x.test', '--source', src, '--store', store])
      assert.equal(r.status, 2)
      assert.equal(r.stderr, NOTE + `directory from ${src} is not JSON (Content-Type text/html; it begins "<!DOCTYPE html>?[2J<html><head><title>Si…") [ENVELOPE_TRUST_INVALID]; hint: --source takes the peer's key directory, /.well-known/http-message-signatures-directory on its listener\n`)
    } finally {
      page.closeAllConnections()
      await new Promise<void>((r) => page.close(() => r()))
    }
  })

  it('verify --stdin accepts a request captured at the origin and refuses it altered (exit 3)', async () => {
    const r = await forward(proxy.port, `http://127.0.0.1:${port}/capture?x=1`, {method: 'POST', body: '{"a":1}', headers: {'content-type': 'application/json', 'x-pipelock-agent': 'claude'}})
    assert.equal(r.body, 'origin: verified\n')
    const got = seen.at(-1)!
    const lines = [`${got.req.method} ${got.req.url} HTTP/1.1`]
    for (let i = 0; i < got.req.rawHeaders.length; i += 2) lines.push(`${got.req.rawHeaders[i]}: ${got.req.rawHeaders[i + 1]}`)
    const raw = lines.join('\r\n') + '\r\n\r\n' + got.body.toString()
    const ok = runCli(['envelope', 'trust', 'verify', '--stdin', '--store', store], {input: raw})
    assert.equal(ok.status, 0, ok.stderr)
    assert.equal(ok.stdout, 'verified\tactor=spiffe://a.test/agent/claude\ttrust_domain=a.test\n')
    const bad = runCli(['envelope', 'trust', 'verify', '--stdin', '--store', store], {input: raw.replace('{"a":1}', '{"a":2}')})
    assert.equal(bad.status, 3)
    assert.match(bad.stderr, /^verification failed: content-digest mismatch \[ENVELOPE_VERIFY_FAILED\]/)
    const json = runCli(['envelope', 'trust', 'verify', '--stdin', '--json', '--store', store], {input: raw})
    assert.deepEqual(JSON.parse(json.stdout), {verified: true, actor: 'spiffe://a.test/agent/claude', trust_domain: 'a.test'})
  })
})

describe('mediation envelope: two Pipelocks in a chain (outer signs, inner verifies)', {timeout: 90_000}, () => {
  const seen: Received[] = []
  let origin: http.Server
  let port: number
  let outer: RunningProxy
  let inner: RunningProxy
  let relay: net.Server
  let relayPort: number
  const captured: Buffer[] = []

  before(async () => {
    const kp = generateKeyPair()
    origin = http.createServer(verifyingOrigin('http', () => kp.publicKey, seen))
    port = await listenOn(origin)
    const dirA = tempDir('pl-envelope-a-')
    outer = await startProxy(signingConfig(writeKey(dirA, kp)), {dir: dirA})
    inner = await startProxy([
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'mediation_envelope:', '  verify_inbound:', '    enabled: true', '    trust_list:',
      '      - key_id: pipelock-mediation-v1', `        public_key: "${kp.publicKey.toString('hex')}"`, '        trust_domains: [a.test]',
    ].join('\n') + '\n')
    // A byte-for-byte TCP relay in front of the inner proxy records what the outer one sent (the
    // Host header names the relay, so the inner proxy rebuilds the same @target-uri).
    relay = net.createServer((client: Socket) => {
      const up = net.connect({host: '127.0.0.1', port: inner.port})
      client.on('data', (c: Buffer) => captured.push(c))
      client.pipe(up).pipe(client)
      client.on('error', () => up.destroy())
      up.on('error', () => client.destroy())
    })
    relayPort = await listenOn(relay as unknown as http.Server)
  })

  after(async () => {
    await outer?.stop()
    await inner?.stop()
    relay?.close()
    origin?.closeAllConnections()
    await new Promise<void>((r) => origin?.close(() => r()))
  })

  const metric = async (result: string): Promise<number> => {
    const m = await rawHttp(inner.port, {path: '/metrics'})
    return Number(new RegExp(`^pipelock_envelope_verify_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(m.body)?.[1] ?? 0)
  }

  it('start-up says what each one does: the outer signs (and where its key is), the inner refuses unsigned requests', () => {
    const lines = (p: RunningProxy): string[] => p.stderr().split('\n').filter((l) => l.startsWith('pipelock: envelope: '))
    assert.deepEqual(lines(outer), [
      `pipelock: envelope: forwarded requests carry a signed Pipelock-Mediation header (key_id pipelock-mediation-v1, actor spiffe://a.test/agent/<agent>); public key at http://127.0.0.1:${outer.port}/.well-known/http-message-signatures-directory`,
    ])
    assert.deepEqual(lines(inner), [
      'pipelock: envelope: verify_inbound on: a request to /fetch, the forward proxy, CONNECT, the reverse proxy or /ws without a valid Pipelock-Mediation signature from one of 1 trusted key is refused (403 envelope_verify_failed)',
    ])
  })

  it('the outer /fetch reaches the inner /fetch signed; the inner verifies, strips and fetches', async () => {
    const innerUrl = `http://127.0.0.1:${relayPort}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${port}/data`)}`
    const r = await rawHttp(outer.port, {path: `/fetch?url=${encodeURIComponent(innerUrl)}`})
    assert.equal(r.status, 200, r.body)
    assert.match(r.body, /origin: no pipelock1 member/, 'the inner proxy does not pass the outer envelope on')
    assert.equal(seen.at(-1)!.req.headers['pipelock-mediation'], undefined)
    assert.equal(await metric('verified'), 1)
  })

  it('a replayed request, a tampered envelope and a request without one are refused and counted', async () => {
    const request = Buffer.concat(captured).toString('latin1')
    assert.match(request, /^GET \/fetch\?url=/)
    const once = request.slice(0, request.indexOf('\r\n\r\n') + 4).replace(/\r\nconnection: [^\r]*/i, '') .replace(/\r\n\r\n$/, '\r\nconnection: close\r\n\r\n')
    const replayed = await rawExchange(inner.port, once)
    assert.match(replayed, /^HTTP\/1\.1 403 /)
    assert.match(replayed, /\r\nX-Pipelock-Block-Reason: envelope_verify_failed\r\n/i)
    assert.match(replayed, /inbound_verify_replay/)
    const tampered = await rawExchange(inner.port, once.replace('act="read"', 'act="write"'))
    assert.match(tampered, /inbound_verify_signature/)
    const missing = await rawHttp(inner.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${port}/data`)}`})
    assert.equal(missing.status, 403)
    assert.match(missing.body, /inbound_verify_missing/)
    assert.equal(await metric('failed'), 2)
    assert.equal(await metric('missing'), 1)
    assert.equal(await metric('verified'), 1)
    // E8 fixed: a reload keeps the replay cache, so the captured request stays refused.
    const cfgFile = path.join(inner.dir, 'pipelock.yaml')
    writeFileSync(cfgFile, readFileSync(cfgFile, 'utf8') + 'fetch_proxy:\n  timeout_seconds: 29\n')
    inner.proc.kill('SIGHUP')
    assert.ok(await until(async () => /"event":"config_reload"[^\n]*"status":"success"/.test(inner.stdout())), inner.stderr())
    assert.match(await rawExchange(inner.port, once), /inbound_verify_replay/)
  })
})

describe('mediation envelope: check and run agree; hot reload rotates the key and warns', {timeout: 90_000}, () => {
  it('a missing signing key fails pipelock check and pipelock run with the same line', () => {
    const dir = tempDir('pl-envelope-check-')
    const missing = path.join(dir, 'absent.key')
    const file = path.join(dir, 'bad.yaml')
    writeFileSync(file, signingConfig(missing))
    const check = runCli(['check', '--config', file])
    assert.equal(check.status, 1)
    // In words, as the other files a config names (dlp.secrets_file, redaction entries_file): no errno, no syscall.
    const line = `mediation_envelope.signing_key_path: "${missing}" cannot be read: no such file or directory`
    assert.ok(check.stderr.includes(line), check.stderr)
    const run = runCli(['run', '--config', file, '--listen', '127.0.0.1:0'])
    assert.equal(run.status, 2, run.stderr)
    assert.ok(run.stderr.includes(line + ' [CONFIG_INVALID]'), run.stderr)
    const good = path.join(dir, 'good.yaml')
    writeFileSync(good, signingConfig(writeKey(dir, generateKeyPair())) + ['  verify_inbound:', '    enabled: true', '    trust_list:', `      - {key_id: peer, public_key: "${'ab'.repeat(32)}"}`].join('\n') + '\n')
    const ok = runCli(['check', '--config', good])
    assert.equal(ok.status, 0, ok.stderr)
    assert.match(ok.stdout, /\n  Enabled: [^\n]*mediation_envelope, mediation_envelope\.verify_inbound[^\n]*\n  Refused:        \(none\)\n$/)
  })

  it('a trust_list well_known_url is named as informational: nothing is fetched from it', () => {
    const dir = tempDir('pl-envelope-wk-')
    const file = path.join(dir, 'wk.yaml')
    writeFileSync(file, ['mediation_envelope:', '  verify_inbound:', '    enabled: true', '    trust_list:',
      `      - {key_id: peer, public_key: "${'ab'.repeat(32)}", well_known_url: "https://peer.example/.well-known/http-message-signatures-directory"}`, ''].join('\n'))
    const check = runCli(['check', '--config', file])
    assert.equal(check.status, 0, check.stderr)
    assert.ok(check.stderr.split('\n').includes('WARNING: mediation_envelope.verify_inbound.trust_list[0].well_known_url: is informational: verification uses public_key, and nothing is fetched from this URL (pipelock envelope trust add --source fetches a key once)'), check.stderr)
  })

  it('SIGHUP re-reads the key (the directory serves the new one); turning signing off warns and the directory answers 404', async () => {
    const dir = tempDir('pl-envelope-reload-')
    const k1 = generateKeyPair()
    const keyFile = writeKey(dir, k1)
    const proxy = await startProxy(signingConfig(keyFile), {dir})
    const served = async (): Promise<string> => (await rawHttp(proxy.port, {path: '/.well-known/http-message-signatures-directory'})).body
    try {
      assert.match(await served(), new RegExp(k1.publicKey.toString('hex')))
      const k2 = generateKeyPair()
      writeKey(dir, k2)
      const cfgFile = path.join(dir, 'pipelock.yaml')
      writeFileSync(cfgFile, readFileSync(cfgFile, 'utf8') + 'fetch_proxy:\n  timeout_seconds: 29\n')
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => (await served()).includes(k2.publicKey.toString('hex')), 5000), proxy.stderr())
      writeFileSync(cfgFile, readFileSync(cfgFile, 'utf8').replace('  sign: true\n', '  sign: false\n'))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => (await rawHttp(proxy.port, {path: '/.well-known/http-message-signatures-directory'})).status === 404, 5000), proxy.stderr())
      assert.match(proxy.stderr(), /\nWARNING: config reload: mediation_envelope\.sign: true -> false \(envelopes are no longer signed\)\n/)
    } finally {
      await proxy.stop()
    }
  })
})

describe('mediation envelope: inbound verification refuses an unsigned request alike on every verifying transport', {timeout: 90_000}, () => {
  it('fetch, forward, CONNECT, reverse and /ws answer 403 envelope_verify_failed, counted as missing', async () => {
    const seen: Received[] = []
    const origin = http.createServer(verifyingOrigin('http', () => Buffer.alloc(32), seen))
    const port = await listenOn(origin)
    const proxy = await startProxy([
      'forward_proxy:', '  enabled: true', 'websocket_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'mediation_envelope:', '  verify_inbound:', '    enabled: true', '    trust_list:', `      - {key_id: peer, public_key: "${'ab'.repeat(32)}"}`,
    ].join('\n') + '\n', {args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${port}`, '--reverse-listen', '127.0.0.1:0']})
    try {
      const reversePort = reverseListenPort(proxy)
      const reason = (h: http.IncomingHttpHeaders): unknown => h['x-pipelock-block-reason']
      const fetchR = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${port}/x`)}`})
      const fwd = await rawHttp(proxy.port, {path: `http://127.0.0.1:${port}/x`})
      const rev = await rawHttp(reversePort, {path: '/x'})
      const connect = await rawExchange(proxy.port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, {untilHeaders: true})
      const ws = await new Promise<{status: number; reason: unknown}>((resolve, reject) => {
        const c = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${port}/x`)}`)
        c.once('unexpected-response', (_q, res) => {
          res.resume()
          resolve({status: res.statusCode ?? 0, reason: res.headers['x-pipelock-block-reason']})
        })
        c.once('open', () => reject(new Error('opened')))
        c.once('error', () => undefined)
      })
      assert.deepEqual(
        [[fetchR.status, reason(fetchR.headers)], [fwd.status, reason(fwd.headers)], [rev.status, reason(rev.headers)], [ws.status, ws.reason]],
        Array(4).fill([403, 'envelope_verify_failed']),
      )
      assert.match(connect, /^HTTP\/1\.1 403 [^\r]*\r\n/)
      assert.match(connect, /\r\nX-Pipelock-Block-Reason: envelope_verify_failed\r\n/i)
      assert.equal(seen.length, 0, 'nothing reached the origin')
      const m = await rawHttp(proxy.port, {path: '/metrics'})
      assert.match(m.body, /^pipelock_envelope_verify_total\{result="missing"\} 5$/m)
    } finally {
      await proxy.stop()
      origin.closeAllConnections()
      await new Promise<void>((r) => origin.close(() => r()))
    }
  })
})

describe('mediation envelope: rid names the receipt', {timeout: 60_000}, () => {
  it('the envelope rid of a forwarded request is the action_id of the receipt that records it', async () => {
    const seen: Received[] = []
    const kp = generateKeyPair()
    const origin = http.createServer(verifyingOrigin('http', () => kp.publicKey, seen))
    const port = await listenOn(origin)
    const dir = tempDir('pl-envelope-rid-')
    writeReceiptKeys(dir, generateKeyPair())
    const evidence = path.join(dir, 'evidence')
    const proxy = await startProxy(signingConfig(writeKey(dir, kp), [
      'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(evidence)}`, `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
    ]), {dir})
    try {
      const r = await forward(proxy.port, `http://127.0.0.1:${port}/rid`)
      assert.equal(r.body, 'origin: verified\n')
      const rid = /rid="([0-9a-f-]+)"/.exec(String(seen.at(-1)!.req.headers['pipelock-mediation']))![1]!
      const receipts = (): string => readdirSync(evidence).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(evidence, f), 'utf8')).join('')
      assert.ok(await until(async () => receipts().includes(`"action_id":"${rid}"`), 5000), `no receipt with action_id ${rid}`)
    } finally {
      await proxy.stop()
      origin.closeAllConnections()
      await new Promise<void>((r) => origin.close(() => r()))
    }
  })
})

describe('mediation envelope: redirect refresh', {timeout: 60_000}, () => {
  it('a 307 hop is re-signed with hop=1 and the replayed body digested; a 303 drops to GET without a digest', async () => {
    const seen: Received[] = []
    const kp = generateKeyPair()
    const verifying = verifyingOrigin('http', () => kp.publicKey, seen)
    const origin = http.createServer((req, res) => {
      if (req.url === '/r307' || req.url === '/r303') {
        req.resume()
        req.on('end', () => {
          seen.push({req, body: Buffer.alloc(0), verdict: {ok: true, why: 'redirect'}})
          res.writeHead(req.url === '/r307' ? 307 : 303, {location: '/landed'})
          res.end()
        })
        return
      }
      verifying(req, res)
    })
    const port = await listenOn(origin)
    const dir = tempDir('pl-envelope-redirect-')
    const proxy = await startProxy(signingConfig(writeKey(dir, kp)), {dir})
    try {
      const r = await forward(proxy.port, `http://127.0.0.1:${port}/r307`, {method: 'POST', body: '{"a":1}', headers: {'content-type': 'application/json'}})
      assert.equal(r.body, 'origin: verified\n')
      const [first, landed] = seen.slice(-2)
      assert.doesNotMatch(String(first!.req.headers['pipelock-mediation']), /hop=/)
      assert.match(String(landed!.req.headers['pipelock-mediation']), /, hop=1$/)
      assert.match(String(landed!.req.headers['signature-input']), /"content-digest"/)
      assert.notEqual(/nonce="(\w+)"/.exec(String(first!.req.headers['signature-input']))![1], /nonce="(\w+)"/.exec(String(landed!.req.headers['signature-input']))![1])
      const g = await forward(proxy.port, `http://127.0.0.1:${port}/r303`, {method: 'POST', body: '{"a":1}', headers: {'content-type': 'application/json'}})
      assert.equal(g.body, 'origin: verified\n')
      const after303 = seen.at(-1)!
      assert.equal(after303.req.method, 'GET')
      assert.match(String(after303.req.headers['pipelock-mediation']), /^v=1, act="read", vd="allow", se="external_read", .*, hop=1$/)
      assert.doesNotMatch(String(after303.req.headers['signature-input']), /content-digest/)
    } finally {
      await proxy.stop()
      origin.closeAllConnections()
      await new Promise<void>((r) => origin.close(() => r()))
    }
  })
})

describe('mediation envelope: replay-cache evictions are counted and logged (spec §6.5, E9)', {timeout: 90_000}, () => {
  it('three signed requests through a verifier bounded at two nonces: one live eviction on /metrics and in the audit log', async () => {
    const kp = generateKeyPair()
    const origin = http.createServer((_req, res) => void res.end('ok\n'))
    const port = await listenOn(origin)
    const dirA = tempDir('pl-envelope-evict-a-')
    const outer = await startProxy(signingConfig(writeKey(dirA, kp)), {dir: dirA})
    const inner = await startProxy([
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'mediation_envelope:', '  verify_inbound:', '    enabled: true', '    replay_cache:', '      max_entries: 2', '    trust_list:',
      '      - key_id: pipelock-mediation-v1', `        public_key: "${kp.publicKey.toString('hex')}"`, '        trust_domains: [a.test]',
    ].join('\n') + '\n')
    const evictions = async (): Promise<string> => (await rawHttp(inner.port, {path: '/metrics'})).body.split('\n').filter((l) => l.includes('pipelock_envelope_replay_evictions_total')).join('\n')
    try {
      assert.equal(await evictions(), [
        '# HELP pipelock_envelope_replay_evictions_total Live nonces evicted from the inbound replay cache at max_entries (a replay of an evicted nonce is no longer detected).',
        '# TYPE pipelock_envelope_replay_evictions_total counter',
        'pipelock_envelope_replay_evictions_total 0',
      ].join('\n'))
      const innerUrl = `http://127.0.0.1:${inner.port}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${port}/x`)}`
      for (let i = 0; i < 3; i++) {
        const r = await rawHttp(outer.port, {path: `/fetch?url=${encodeURIComponent(innerUrl)}`})
        assert.equal(r.status, 200, r.body)
      }
      assert.match(await evictions(), /^pipelock_envelope_replay_evictions_total 1$/m)
      assert.ok(await until(async () => /"event":"mediation_envelope_replay_eviction"[^\n]*"evicted":1/.test(inner.stdout())), inner.stdout())
    } finally {
      await outer.stop()
      await inner.stop()
      origin.closeAllConnections()
      await new Promise<void>((r) => origin.close(() => r()))
    }
  })
})

describe('mediation envelope: inbound verification inside an intercepted tunnel (transports §2.9 step 2)', {timeout: 90_000}, () => {
  let proxy: RunningProxy
  let up: Awaited<ReturnType<typeof interceptedUpstream>>['up']
  let ca: string
  let target: string
  const kp = generateKeyPair()
  const signer = new EnvelopeSigner({keyPair: kp, keyId: 'peer', components: ['@method', '@target-uri', 'content-digest', 'pipelock-mediation'], lifetimeSeconds: 60, maxBodyBytes: 1 << 20})
  let rid = 0

  /** The headers of a request signed by the trusted peer, as `signer` signs it for `targetUri`. */
  const signed = (method: string, targetUri: string, authority: string, extra: Record<string, string> = {}, body: Buffer | null = null): Record<string, string> => {
    const envelope = serializeEnvelope({v: 1, act: method === 'POST' ? 'write' : 'read', vd: 'allow', se: 'none', actor: 'spiffe://a.test/agent/peer', aa: 'bound', ph: Buffer.alloc(16), rid: `r${++rid}`, ts: Math.floor(Date.now() / 1000)})
    const headers: Record<string, string> = {...extra, 'pipelock-mediation': envelope}
    signer.sign({method, targetUri, authority, headers, body})
    return headers
  }
  const lines = (h: Record<string, string>): string => Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  const metric = async (series: string): Promise<number> => {
    const m = await rawHttp(proxy.port, {path: '/metrics'})
    return Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(m.body)?.[1] ?? 0)
  }

  before(async () => {
    const dir = tempDir('pl-envelope-intercept-')
    const u = await interceptedUpstream(dir)
    ;({up, ca} = u)
    const {upTls, paths} = u
    target = `localhost:${up.port}`
    proxy = await startProxy([
      'forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`,
      'mediation_envelope:', '  verify_inbound:', '    enabled: true', '    trust_list:',
      `      - {key_id: peer, public_key: "${kp.publicKey.toString('hex')}", trust_domains: [a.test]}`,
    ].join('\n') + '\n', {env: {SSL_CERT_FILE: upTls.certPath}, dir})
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('start-up names the requests inside intercepted tunnels among those it verifies', () => {
    assert.ok(proxy.stderr().split('\n').includes('pipelock: envelope: verify_inbound on: a request to /fetch, the forward proxy, CONNECT and each request inside an intercepted tunnel, the reverse proxy or /ws without a valid Pipelock-Mediation signature from one of 1 trusted key is refused (403 envelope_verify_failed)'), proxy.stderr())
  })

  it('HTTP/1.1: a signed request passes; an unsigned one, one signed for another path and one whose body changed are refused', async () => {
    const s = await tlsThroughProxy(proxy.port, target, ca, 'localhost', signed('CONNECT', `http://${target}/`, target, {host: target}))
    try {
      const ok = await tlsExchange(s, `GET /hello HTTP/1.1\r\n${lines(signed('GET', `https://${target}/hello`, target, {host: target}))}\r\n`)
      assert.match(ok, /^HTTP\/1\.1 200 /, ok)
      const unsigned = await tlsExchange(s, `GET /hello HTTP/1.1\r\nhost: ${target}\r\n\r\n`)
      assert.match(unsigned, /^HTTP\/1\.1 403 /, unsigned)
      assert.match(unsigned, /\r\nX-Pipelock-Block-Reason: envelope_verify_failed\r\n/i)
      assert.match(unsigned, /inbound_verify_missing/)
      const moved = await tlsExchange(s, `GET /other HTTP/1.1\r\n${lines(signed('GET', `https://${target}/hello`, target, {host: target}))}\r\n`)
      assert.match(moved, /^HTTP\/1\.1 403 [^]*inbound_verify_signature/, moved)
      const body = Buffer.from('{"a":1}')
      const post = signed('POST', `https://${target}/hello`, target, {host: target, 'content-type': 'application/json', 'content-length': String(body.length)}, body)
      const altered = await tlsExchange(s, `POST /hello HTTP/1.1\r\n${lines(post)}\r\n{"a":2}`)
      assert.match(altered, /^HTTP\/1\.1 403 [^]*inbound_verify_digest/, altered)
    } finally {
      s.destroy()
    }
    assert.equal(await metric('pipelock_envelope_verify_total{result="verified"}'), 2, 'the CONNECT and one inner request')
    assert.equal(await metric('pipelock_envelope_verify_total{result="missing"}'), 1)
    assert.equal(await metric('pipelock_envelope_verify_total{result="failed"}'), 2)
    assert.equal(await metric('pipelock_tls_request_blocked_total{reason="mediation_envelope"}'), 3)
  })

  it('HTTP/2: the signature covers https://<:authority><:path>', async () => {
    const raw = await new Promise<net.Socket>((resolve, reject) => {
      const req = http.request({host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: target, agent: false, headers: signed('CONNECT', `http://${target}/`, target, {host: target})})
      req.once('connect', (res, socket) => (res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT ${res.statusCode}`))))
      req.once('error', reject)
      req.end()
    })
    const session = http2.connect(`https://${target}`, {createConnection: () => tls.connect({socket: raw, ca, servername: 'localhost', ALPNProtocols: ['h2']})})
    session.on('error', () => undefined)
    const get = (headers: Record<string, string>): Promise<{status: number; reason: unknown}> => new Promise((resolve, reject) => {
      const r = session.request({':method': 'GET', ':path': '/h2', ...headers})
      r.on('response', (h) => {
        r.resume()
        r.on('end', () => resolve({status: Number(h[':status']), reason: h['x-pipelock-block-reason']}))
      })
      r.on('error', reject)
      r.end()
    })
    try {
      assert.deepEqual(await get(signed('GET', `https://${target}/h2`, target)), {status: 200, reason: undefined})
      assert.deepEqual(await get({}), {status: 403, reason: 'envelope_verify_failed'})
    } finally {
      session.close()
      raw.destroy()
    }
  })
})
