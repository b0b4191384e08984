/**
 * Class-preserving redaction (envelope-redaction Part II) through the built `pipelock run`:
 * Anthropic-, OpenAI- and Gemini-shaped bodies reach a local origin that records what it got,
 * with placeholders instead of the values; an unparseable body is refused; a request inside an
 * intercepted TLS tunnel is redacted too; the signed receipts carry the profile, the provider and
 * counts per class, never a value. Secrets are assembled at run time.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import {ProxyAgent, request} from 'undici'
import WebSocket, {WebSocketServer} from 'ws'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {freePort, makeSelfSignedCert, type RunningProxy, startHttpsUpstream, startProxy, tempDir, type Upstream, writeReceiptKeys, writeTestCa} from './proxy-harness.js'

const AWS = ['AKIA', 'IOSFODNN7', 'REDACTX'].join('')
/** One character too long for the redaction class (`\b` after 16), still a DLP hit. */
const AWS_LONG = ['AKIA', 'IOSFODNN7', 'REDACTXY'].join('')
const EMAIL = ['ops', '@', 'corp.example'].join('')
const GH = ['ghp_', 'a1b2c3d4e5f6g7h8i9j0', 'k1l2m3n4'].join('')
const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-redaction-key').digest())

interface Received {
  readonly path: string
  readonly contentLength: string | undefined
  readonly body: string
}

async function recordingOrigin(): Promise<{port: number; got: Received[]; close(): Promise<void>}> {
  const got: Received[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      got.push({path: req.url ?? '', contentLength: req.headers['content-length'], body: Buffer.concat(chunks).toString('utf8')})
      res.writeHead(200, {'content-type': 'application/json'})
      res.end('{"ok":true}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {port: (server.address() as AddressInfo).port, got, close: () => new Promise<void>((r) => server.close(() => r()))}
}

async function post(proxy: RunningProxy, url: string, body: string, contentType = 'application/json'): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> {
  const u = new URL(url)
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxy.port, method: 'POST', path: url, agent: false, headers: {host: u.host, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body))}}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('redaction through pipelock run', {timeout: 90_000}, () => {
  let dir: string
  let origin: Awaited<ReturnType<typeof recordingOrigin>>
  let https: Upstream
  let proxy: RunningProxy
  let ca: string
  let wss: WebSocketServer
  let wsGot: string[]
  /** Request bodies and messages scanned (or redacted) on the scan pool so far. */
  const offloadedRequests = async (): Promise<number> => {
    const sample = 'pipelock_scan_offload_total{outcome="scanned",surface="request_body"}'
    const text = await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text()
    const line = text.split('\n').find((l) => l.startsWith(sample + ' '))
    return line === undefined ? 0 : Number(line.slice(sample.length + 1))
  }
  let reversePort: number
  let metricsPort: number

  before(async () => {
    dir = tempDir('pl-redaction-')
    writeReceiptKeys(dir, key)
    origin = await recordingOrigin()
    const upTls = makeSelfSignedCert(dir)
    https = await startHttpsUpstream(upTls)
    const paths = writeTestCa(dir)
    ca = readFileSync(paths.cert, 'utf8')
    wsGot = []
    wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
    wss.on('connection', (ws) => ws.on('message', (d) => {
      wsGot.push(d.toString())
      ws.send('ack')
    }))
    await new Promise<void>((r) => wss.once('listening', () => r()))
    reversePort = await freePort()
    metricsPort = await freePort()
    const config = [
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'request_body_scanning:', '  enabled: true', '  action: warn',
      // The reference's rule (R6): a critical DLP hit in the original body is excused only for these hosts.
      'response_scanning:', '  exempt_domains: ["127.0.0.1"]',
      `metrics_listen: 127.0.0.1:${metricsPort}`,
      'websocket_proxy:', '  enabled: true',
      'reverse_proxy:', '  enabled: true', `  listen: 127.0.0.1:${reversePort}`, `  upstream: http://127.0.0.1:${origin.port}`,
      'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`,
      'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`, `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
      'redaction:',
      '  enabled: true',
      '  default_profile: llm',
      '  profiles:',
      '    llm:',
      '      classes: [aws-access-key, github-token, email, ipv4]',
      // The built-in provider profiles, pointed at the local origin (same name replaces).
      '  providers:',
      '    anthropic: {host_patterns: ["127.0.0.1"], path_prefixes: ["/v1/messages"]}',
      '    openai: {host_patterns: ["127.0.0.1"], path_prefixes: ["/v1/chat/completions", "/v1/responses"]}',
      '    gemini: {host_patterns: ["127.0.0.1"], path_prefixes: ["/v1beta/models/"]}',
    ].join('\n') + '\n'
    proxy = await startProxy(config, {dir, env: {SSL_CERT_FILE: upTls.certPath}})
  })

  after(async () => {
    await proxy?.stop()
    await origin?.close()
    await https?.close()
    for (const c of wss?.clients ?? []) c.terminate()
    await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()))
    rmSync(dir, {recursive: true, force: true})
  })

  const cases: [string, string, string, string][] = [
    [
      'anthropic', '/v1/messages',
      JSON.stringify({model: 'claude-sonnet-4-5', max_tokens: 1024, system: `deploy with ${AWS}`, messages: [{role: 'user', content: [{type: 'text', text: `ssh to 10.0.0.5 and mail ${EMAIL}`}]}]}),
      '{"model":"claude-sonnet-4-5","max_tokens":1024,"system":"deploy with <pl:aws-access-key:1>","messages":[{"role":"user","content":[{"type":"text","text":"ssh to <pl:ipv4:1> and mail <pl:email:1>"}]}]}',
    ],
    [
      'openai', '/v1/chat/completions',
      JSON.stringify({model: 'gpt-4o', temperature: 0.2, messages: [{role: 'system', content: `token ${GH}`}, {role: 'user', content: `ping 10.0.0.5 then 10.0.0.6, cc ${EMAIL}`}], tools: [{type: 'function', function: {name: 'mail', description: `sends as ${EMAIL}`}}]}),
      '{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"system","content":"token <pl:github-token:1>"},{"role":"user","content":"ping <pl:ipv4:1> then <pl:ipv4:2>, cc <pl:email:1>"}],"tools":[{"type":"function","function":{"name":"mail","description":"sends as <pl:email:1>"}}]}',
    ],
    [
      'gemini', '/v1beta/models/gemini-2.0-flash:generateContent',
      JSON.stringify({contents: [{role: 'user', parts: [{text: `host 192.0.2.7, owner ${EMAIL}`}]}], systemInstruction: {parts: [{text: 'be brief'}]}, generationConfig: {temperature: 0}}),
      '{"contents":[{"role":"user","parts":[{"text":"host <pl:ipv4:1>, owner <pl:email:1>"}]}],"systemInstruction":{"parts":[{"text":"be brief"}]},"generationConfig":{"temperature":0}}',
    ],
  ]

  for (const [provider, p, body, want] of cases) {
    it(`${provider}-shaped body: the origin receives placeholders, with its Content-Length`, async () => {
      const before = origin.got.length
      const r = await post(proxy, `http://127.0.0.1:${origin.port}${p}`, body)
      assert.equal(r.status, 200, r.body)
      const got = origin.got[before]!
      assert.equal(got.path, p)
      assert.equal(got.body, want)
      assert.equal(got.contentLength, String(Buffer.byteLength(want)))
    })
  }

  it('the same body twice is redacted to the same bytes', async () => {
    const [, p, body] = cases[1]!
    const n = origin.got.length
    await post(proxy, `http://127.0.0.1:${origin.port}${p}`, body)
    await post(proxy, `http://127.0.0.1:${origin.port}${p}`, body)
    assert.equal(origin.got[n]!.body, origin.got[n + 1]!.body)
  })

  it('DLP runs after redaction and still sees what redaction missed', async () => {
    const n = origin.got.length
    const r = await post(proxy, `http://127.0.0.1:${origin.port}/v1/messages`, JSON.stringify({system: `deploy with ${AWS_LONG}`}))
    assert.equal(r.status, 403)
    assert.equal(r.headers['x-pipelock-block-reason'], 'dlp_match')
    assert.equal(origin.got.length, n)
  })

  it('a body that cannot be parsed is refused (403 redaction_failure) and never reaches the origin', async () => {
    const n = origin.got.length
    const bad = await post(proxy, `http://127.0.0.1:${origin.port}/v1/messages`, '{"messages": [', 'application/json')
    assert.equal(bad.status, 403)
    assert.equal(bad.headers['x-pipelock-block-reason'], 'redaction_failure')
    assert.equal(bad.body, 'blocked: redaction blocked request: body_unparseable\n')
    const text = await post(proxy, `http://127.0.0.1:${origin.port}/v1/messages`, `mail ${EMAIL}`, 'text/plain')
    assert.equal(text.status, 403)
    assert.equal(text.body, 'blocked: redaction blocked request: non_json_body\n')
    assert.equal(origin.got.length, n)
  })

  it('a request inside an intercepted HTTPS tunnel is redacted', async () => {
    const agent = new ProxyAgent({uri: `http://${proxy.addr}`, requestTls: {ca}})
    try {
      const r = await request(`https://127.0.0.1:${https.port}/echo`, {dispatcher: agent, method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({note: `reach ${EMAIL} at 10.1.2.3`})})
      assert.equal(r.statusCode, 200)
      // The origin echoes the body it received.
      assert.equal(await r.body.text(), '{"note":"reach <pl:email:1> at <pl:ipv4:1>"}')
    } finally {
      await agent.close()
    }
  })

  it('the reverse proxy forwards the redacted body', async () => {
    const n = origin.got.length
    const r = await request(`http://127.0.0.1:${reversePort}/v1/messages`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({system: `page ${EMAIL}`})})
    assert.equal(r.statusCode, 200)
    await r.body.text()
    assert.equal(origin.got[n]!.body, '{"system":"page <pl:email:1>"}')
  })

  it('outbound WebSocket JSON messages are redacted; a non-JSON message closes the connection (1008)', async () => {
    const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/chat`)}`)
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject))
    const acked = new Promise<void>((r) => ws.once('message', () => r()))
    ws.send(JSON.stringify({type: 'message', text: `call 10.9.8.7 or ${EMAIL}`}))
    await acked
    assert.deepEqual(wsGot, ['{"type":"message","text":"call <pl:ipv4:1> or <pl:email:1>"}'])
    // A 300 KB message is redacted on the scan pool, in its turn.
    const before = await offloadedRequests()
    const prose = 'the agent reads the file and then it writes a summary of what changed in the build '.repeat(3_600)
    const bigAcked = new Promise<void>((r) => ws.once('message', () => r()))
    ws.send(JSON.stringify({type: 'message', text: `${prose} mail ${EMAIL}`}))
    await bigAcked
    assert.deepEqual(wsGot.slice(1), [JSON.stringify({type: 'message', text: `${prose} mail <pl:email:1>`})])
    // The redaction, the body scan and the tail's text DLP of the redacted message.
    assert.equal(await offloadedRequests() - before, 3)
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
    ws.send(`plain text to ${EMAIL}`)
    assert.equal(await closed, 1008)
    assert.equal(wsGot.length, 2)
  })

  it('pipelock_body_redactions_total counts replaced values by transport, provider and class', async () => {
    const r = await request(`http://127.0.0.1:${metricsPort}/metrics`)
    const text = await r.body.text()
    assert.ok(text.includes('pipelock_body_redactions_total{agent="_default",class="aws-access-key",parser="json",provider="anthropic",transport="forward"} 1'), text.split('\n').filter((l) => l.includes('redactions')).join('\n'))
    assert.ok(text.includes('pipelock_body_redactions_total{agent="_default",class="email",parser="json",provider="generic-json",transport="intercept"} 1'))
    assert.ok(!text.includes(EMAIL))
  })

  it('signed receipts name the profile, the provider and counts per class; no value is written', async () => {
    const evidence = path.join(dir, 'evidence')
    const records = readdirSync(evidence).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').trim().split('\n'))
      .filter((l) => l.includes('"type":"action_receipt"')).map((l) => JSON.parse(l).detail.action_record as Record<string, unknown>)
    const redacted = records.filter((r) => r.redaction !== undefined).map((r) => r.redaction)
    assert.deepEqual(redacted.slice(0, 3), [
      {profile: 'llm', provider: 'anthropic', parser: 'json', total_redactions: 3, by_class: {'aws-access-key': 1, email: 1, ipv4: 1}},
      {profile: 'llm', provider: 'openai', parser: 'json', total_redactions: 4, by_class: {email: 1, 'github-token': 1, ipv4: 2}},
      {profile: 'llm', provider: 'gemini', parser: 'json', total_redactions: 2, by_class: {email: 1, ipv4: 1}},
    ])
    assert.ok(redacted.some((r) => (r as {provider: string}).provider === 'generic-json'), 'the intercepted request has its receipt')
    // Two refused HTTP bodies and the refused WebSocket message.
    const blocked = records.filter((r) => r.layer === 'redaction')
    assert.equal(blocked.length, 3)
    for (const secret of [AWS, AWS_LONG, EMAIL, GH, '10.0.0.5', '10.9.8.7']) assert.ok(!proxy.stdout().includes(secret), 'the audit log holds a redacted value')
    for (const f of readdirSync(evidence)) {
      const text = readFileSync(path.join(evidence, f), 'utf8')
      for (const secret of [AWS, AWS_LONG, EMAIL, GH, '10.0.0.5', '10.9.8.7']) assert.ok(!text.includes(secret), `${f} holds a redacted value`)
    }
  })

  it('a 600 KB chat body is redacted on the scan pool to the bytes the event loop would write', async () => {
    const before = await offloadedRequests()
    const prose = 'the agent reads the file and then it writes a summary of what changed in the build '.repeat(24)
    const messages = (mail: string, ip: string): Array<{role: string; content: string}> => Array.from({length: 300}, (_, i) => ({role: i % 2 ? 'assistant' : 'user', content: i % 50 === 7 ? `${prose} mail ${mail} from ${ip}` : prose}))
    const body = JSON.stringify({model: 'gpt-4o', messages: messages(EMAIL, '10.0.0.5')})
    assert.ok(body.length > 600_000)
    const n = origin.got.length
    const r = await post(proxy, `http://127.0.0.1:${origin.port}/v1/chat/completions`, body)
    assert.equal(r.status, 200, r.body)
    const want = JSON.stringify({model: 'gpt-4o', messages: messages('<pl:email:1>', '<pl:ipv4:1>')})
    assert.equal(origin.got[n]!.body, want)
    assert.equal(origin.got[n]!.contentLength, String(Buffer.byteLength(want)))
    // The redaction, and the body scans of the original and of what is forwarded: all on the pool.
    assert.equal(await offloadedRequests() - before, 3)
  })
})

describe('redaction: check and run agree', () => {
  it('an unreadable entries_file: the same one line from check and from run', () => {
    const dir = tempDir('pl-redaction-check-')
    const missing = path.join(dir, 'gone.yaml')
    const config = [
      'request_body_scanning:', '  enabled: true',
      'redaction:', '  enabled: true', '  default_profile: p', '  profiles:', '    p: {dictionaries: [names]}',
      '  dictionaries:', `    names: {class: person, entries_file: ${JSON.stringify(missing)}}`,
    ].join('\n') + '\n'
    const file = path.join(dir, 'p.yaml')
    writeFileSync(file, config)
    const message = `invalid config: redaction: redact: dictionary "names": entries_file "${missing}" cannot be read: no such file or directory`
    const check = runCli(['check', '--config', file])
    assert.equal(check.status, 1)
    assert.ok(check.stderr.includes(message), check.stderr)
    const run = runCli(['run', '--config', file, '--listen', '127.0.0.1:0'])
    assert.notEqual(run.status, 0)
    assert.ok(run.stderr.includes(message), run.stderr)
    // With the file present (relative to the config file), both accept it and run no longer refuses the section.
    writeFileSync(path.join(dir, 'names.yaml'), '- Alice Example\n')
    writeFileSync(file, config.replace(JSON.stringify(missing), 'names.yaml'))
    const ok = runCli(['check', '--config', file, '--json'])
    assert.equal(ok.status, 0, ok.stderr)
    const report = JSON.parse(ok.stdout) as {enabled: string[]; refused: string[]}
    assert.ok(report.enabled.includes('redaction'))
    assert.deepEqual(report.refused, [])
    rmSync(dir, {recursive: true, force: true})
  })
})
