// Gate parity (docs/architecture.md, "The gate"): the same agent and the same trigger through
// every HTTP transport — forward (absolute URI), /fetch, CONNECT, the reverse proxy and the /ws
// handshake — get the same verdict and the same X-Pipelock-Block-Reason, and each blocked request
// leaves exactly one block Decision in the flight recorder. A transport whose row in
// gate/transport-stages.ts dropped a stage fails its cell here.
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {rawExchange, rawHttp, startHttpUpstream, startProxy, tempDir, until, type RunningProxy, type Upstream, writeReceiptKeys} from './proxy-harness.js'

const AWS_KEY = 'AKIA' + 'Q3EGRZ7NXPLM4TWB'
const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-gate-parity').digest())
const TRANSPORTS = ['forward', 'fetch', 'connect', 'reverse', 'websocket'] as const
type Transport = (typeof TRANSPORTS)[number]

interface Outcome {
  readonly status: number
  readonly reason: string | undefined
}

interface Request {
  /** Agent name (X-Pipelock-Agent). */
  readonly agent: string
  readonly headers?: Record<string, string>
  /** host[:port] of the target (the reverse proxy's target is its fixed upstream). */
  readonly host: string
  /** Path and query on the target. */
  readonly path: string
}

describe('gate parity: one trigger, one verdict, one block reason on every transport', {timeout: 120_000}, () => {
  let up: Upstream
  let wsUp: {server: http.Server; port: number}
  let proxy: RunningProxy
  let reversePort = 0
  let dir = ''

  before(async () => {
    up = await startHttpUpstream()
    const server = http.createServer()
    new WebSocketServer({server}).on('connection', (s) => s.on('message', (m) => s.send(m)))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    wsUp = {server, port: (server.address() as AddressInfo).port}
    dir = tempDir('pipelock-parity-')
    writeReceiptKeys(dir, key)
    const budgets = TRANSPORTS.flatMap((t) => [`  capped-${t}:`, '    budget:', '      max_requests_per_session: 1'])
    // An agent in audit mode: what enforcement would block is recorded as would-block and passed.
    const auditors = ['  auditor:', '    enforce: false']
    proxy = await startProxy(
      [
        'forward_proxy:', '  enabled: true',
        'websocket_proxy:', '  enabled: true',
        'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
        'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
        'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
        `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
        'kill_switch:', `  sentinel_file: ${JSON.stringify(path.join(dir, 'kill-switch'))}`,
        'agents:', ...budgets, ...auditors,
      ].join('\n') + '\n',
      {dir, args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}`, '--reverse-listen', '127.0.0.1:0']},
    )
    reversePort = Number(/reverse proxy listening on 127\.0\.0\.1:(\d+)/.exec(proxy.stderr())![1])
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
    wsUp?.server.closeAllConnections()
    await new Promise<void>((r) => wsUp?.server.close(() => r()))
    rmSync(dir, {recursive: true, force: true})
  })

  /** Sends `r` through `t` and reads the status and block reason the client saw. */
  async function send(t: Transport, r: Request): Promise<Outcome> {
    const headers = {'X-Pipelock-Agent': r.agent, ...r.headers}
    switch (t) {
      case 'forward': {
        const res = await rawHttp(proxy.port, {path: `http://${r.host}${r.path}`, headers})
        return {status: res.status, reason: res.headers['x-pipelock-block-reason'] as string | undefined}
      }
      case 'fetch': {
        const res = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://${r.host}${r.path}`)}`, headers})
        return {status: res.status, reason: res.headers['x-pipelock-block-reason'] as string | undefined}
      }
      case 'connect': {
        // A tunnel names a host and port only: the trigger rides in the host or the headers.
        const lines = [`CONNECT ${r.host} HTTP/1.1`, `Host: ${r.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
        const raw = await rawExchange(proxy.port, lines.join('\r\n') + '\r\n\r\n', {untilHeaders: true})
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0)
        const reason = /\r\nX-Pipelock-Block-Reason: ([^\r]+)/i.exec(raw)?.[1]
        return {status, reason}
      }
      case 'reverse': {
        const res = await rawHttp(reversePort, {path: r.path, headers})
        return {status: res.status, reason: res.headers['x-pipelock-block-reason'] as string | undefined}
      }
      case 'websocket':
        return await new Promise<Outcome>((resolve, reject) => {
          const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://${r.host}${r.path}`)}`, {headers})
          ws.once('open', () => {
            ws.close()
            resolve({status: 101, reason: undefined})
          })
          ws.once('unexpected-response', (_req, res) => {
            res.resume()
            res.on('end', () => resolve({status: res.statusCode ?? 0, reason: res.headers['x-pipelock-block-reason'] as string | undefined}))
          })
          ws.once('error', reject)
        })
    }
  }

  const target = (t: Transport): string => (t === 'websocket' ? `127.0.0.1:${wsUp.port}` : t === 'connect' ? `127.0.0.1:${up.port}` : `127.0.0.1:${up.port}`)
  const blocked: Array<{transport: Transport; trigger: string}> = []
  const auditPassed: Transport[] = []

  async function cell(trigger: string, t: Transport, r: Request, want: {status: number; reason: string}): Promise<void> {
    const got = await send(t, r)
    assert.deepEqual(got, {status: want.status, reason: want.reason}, `${trigger} through ${t}`)
    blocked.push({transport: t, trigger})
  }

  it('a secret in the URL is dlp_match on every transport', async () => {
    for (const t of TRANSPORTS) {
      // CONNECT carries no path: the secret rides in the host name, which the URL scan reads too.
      const r: Request = t === 'connect'
        ? {agent: 'parity', host: `${AWS_KEY.toLowerCase()}.example.com:443`, path: '/'}
        : {agent: 'parity', host: target(t), path: `/kib?key=${AWS_KEY}`}
      await cell('url secret', t, r, {status: 403, reason: 'dlp_match'})
    }
  })

  it('a secret in a request header is dlp_match on every transport', async () => {
    for (const t of TRANSPORTS) {
      await cell('header secret', t, {agent: 'parity', host: target(t), path: '/kib', headers: {Authorization: `Bearer ${AWS_KEY}`}}, {status: 403, reason: 'dlp_match'})
    }
  })

  it('a private-address target is refused alike on every transport that dials the agent\'s choice', async () => {
    const reasons = new Set<string | undefined>()
    for (const t of TRANSPORTS.filter((x) => x !== 'reverse')) {
      const got = await send(t, {agent: 'parity', host: '10.1.2.3:80', path: '/'})
      assert.equal(got.status, 403, `private address through ${t}`)
      reasons.add(got.reason)
      blocked.push({transport: t, trigger: 'private address'})
    }
    assert.equal(reasons.size, 1, `one block reason for a private address: ${[...reasons].join(', ')}`)
  })

  it('an exhausted budget is a 429 data_budget on every transport, the reverse proxy included', async () => {
    for (const t of TRANSPORTS) {
      const agent = `capped-${t}`
      const first = await send(t, {agent, host: target(t), path: '/kib'})
      assert.ok(first.reason === undefined, `the first request of ${agent} passes (got ${first.status} ${first.reason})`)
      await cell('budget', t, {agent, host: target(t), path: '/kib'}, {status: 429, reason: 'data_budget'})
    }
  })

  it('audit mode (enforce: false): a secret in a header passes every transport, recorded as would-block', async () => {
    for (const t of TRANSPORTS) {
      const got = await send(t, {agent: 'auditor', host: target(t), path: '/kib', headers: {Authorization: `Bearer ${AWS_KEY}`}})
      assert.deepEqual(got, {status: t === 'websocket' ? 101 : 200, reason: undefined}, `audit mode through ${t}`)
      auditPassed.push(t)
    }
  })

  it('kill switch on: every transport refuses with kill_switch_active', async () => {
    const sentinel = path.join(dir, 'kill-switch')
    writeFileSync(sentinel, '')
    try {
      let last: Outcome | undefined
      const on = await until(async () => (last = await send('fetch', {agent: 'parity', host: target('fetch'), path: '/kib'})).reason === 'kill_switch_active', 3000)
      assert.ok(on, `kill switch not on within 3 s: ${JSON.stringify(last)}`)
      blocked.push({transport: 'fetch', trigger: 'kill switch (probe)'})
      for (const t of TRANSPORTS) {
        const got = await send(t, {agent: 'parity', host: target(t), path: '/kib'})
        assert.equal(got.reason, 'kill_switch_active', `kill switch through ${t}`)
        blocked.push({transport: t, trigger: 'kill switch'})
      }
    } finally {
      rmSync(sentinel, {force: true})
    }
  })

  it('each request left exactly one Decision in a chain that verifies, blocks and would-blocks as sent', async () => {
    await proxy.stop()
    const evidence = path.join(dir, 'evidence')
    const v = runCli(['verify-receipt', '--chain', evidence, '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)
    assert.equal(JSON.parse(v.stdout).valid, true)
    const records = readdirSync(evidence)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as {type: string; detail: {action_record?: Record<string, string>}})
      .filter((e) => e.type === 'action_receipt')
      .map((e) => e.detail.action_record!)
      // The clean CONNECT of the budget cell sends no TLS after its 200: the tunnel's own
      // first-bytes verdict (layer tunnel_plaintext) is the tunnel's linked second Decision.
      .filter((r) => r.request_id !== undefined && r.layer !== 'tunnel_plaintext')
    // A WebSocket connection that opened has one request Decision (the handshake) and one linked
    // connection Decision when it ends (closed, or cut by the kill switch); nothing else repeats.
    const perRequest = new Map<string, Array<Record<string, string>>>()
    for (const r of records) perRequest.set(r.request_id!, [...(perRequest.get(r.request_id!) ?? []), r])
    const twice = [...perRequest.values()].filter((rs) => rs.length > (rs[0]!.transport === 'websocket' && rs[0]!.verdict !== 'block' ? 2 : 1))
    assert.deepEqual(twice, [], 'requests with more than one request Decision')
    const first = [...perRequest.values()].map((rs) => rs[0]!)
    assert.equal(first.filter((r) => r.verdict === 'block').length, blocked.length, 'one block Decision per blocked request')
    assert.equal(first.filter((r) => r.verdict === 'warn').length, auditPassed.length, 'one would-block Decision per audit-mode request')
  })
})
