// Gate parity (docs/architecture.md, "The gate"): the same agent and the same trigger through
// every HTTP transport — forward (absolute URI), /fetch, CONNECT, a request inside a
// TLS-intercepted CONNECT, the reverse proxy and the /ws handshake — get the same verdict and the
// same X-Pipelock-Block-Reason, and each blocked request leaves exactly one block Decision in the
// flight recorder. A transport whose row in gate/transport-stages.ts dropped a stage fails its
// cell here. Where a cell does not apply to a transport, the cell says why.
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
import {learnLockLines} from '../helpers/lock-roster.js'
import {cli, makeLab, promoteArgs, writeCandidate} from './learn-promote-harness.js'
import {makeSelfSignedCert, rawExchange, rawHttp, reverseListenPort, type RunningProxy, startHttpsUpstream, startHttpUpstream, startProxy, tempDir, tlsExchange, tlsThroughProxy, until, type Upstream, writeReceiptKeys, writeTestCa} from './proxy-harness.js'

const AWS_KEY = 'AKIA' + 'Q3EGRZ7NXPLM4TWB'
const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-gate-parity').digest())
// A configured (not core) DLP pattern: an exception can waive it (core protections cannot).
const FIXTURE_TOKEN = ['fxt', '_q3egrz7nxplm4twb'].join('')
const ADMIN_TOKEN = 'gate-parity-admin-token'
const TRANSPORTS = ['forward', 'fetch', 'connect', 'intercept', 'reverse', 'websocket'] as const
type Transport = (typeof TRANSPORTS)[number]

interface Outcome {
  readonly status: number
  readonly reason: string | undefined
  /** X-Pipelock-Block-Reason-Receipt: the receipt that recorded the block. */
  readonly receipt?: string | undefined
}

interface Request {
  /** Agent name (X-Pipelock-Agent). */
  readonly agent: string
  readonly headers?: Record<string, string>
  /** host[:port] of the target (the reverse proxy's target is its fixed upstream; an intercepted request's is its tunnel's). */
  readonly host: string
  /** Path and query on the target. */
  readonly path: string
  /** Method and body (forward, intercept, reverse; /fetch and the handshake are GETs, CONNECT is CONNECT). */
  readonly method?: string
  readonly body?: string
}

const receiptOf = (h: http.IncomingHttpHeaders): string | undefined => h['x-pipelock-block-reason-receipt'] as string | undefined

describe('gate parity: one trigger, one verdict, one block reason on every transport', {timeout: 120_000}, () => {
  let up: Upstream
  let tlsUp: Upstream
  let ca = ''
  let wsUp: {server: http.Server; port: number}
  let proxy: RunningProxy
  let reversePort = 0
  let dir = ''
  /** The proxy a cell goes through: the main one, or the one under live contracts. */
  let on: {proxy: RunningProxy; reversePort: number}
  let locked: {proxy: RunningProxy; reversePort: number; evidence: string; pub: string}
  const lockedBlocks: Transport[] = []

  before(async () => {
    up = await startHttpUpstream()
    const server = http.createServer()
    new WebSocketServer({server}).on('connection', (s) => s.on('message', (m) => s.send(m)))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    wsUp = {server, port: (server.address() as AddressInfo).port}
    dir = tempDir('pipelock-parity-')
    writeReceiptKeys(dir, key)
    // TLS interception: `localhost` (the HTTPS upstream) is intercepted; 127.0.0.1 passes
    // through, so the plain CONNECT column stays an opaque tunnel.
    const tlsMaterial = makeSelfSignedCert(dir)
    tlsUp = await startHttpsUpstream(tlsMaterial)
    const paths = writeTestCa(dir)
    ca = readFileSync(paths.cert, 'utf8')
    // An intercepted request's budget also counts the CONNECT that opened its tunnel.
    const budgets = TRANSPORTS.flatMap((t) => [`  capped-${t}:`, '    budget:', `      max_requests_per_session: ${t === 'intercept' ? 2 : 1}`])
    // An agent in audit mode: what enforcement would block is recorded as would-block and passed.
    const auditors = ['  auditor:', '    enforce: false']
    proxy = await startProxy(
      [
        'forward_proxy:', '  enabled: true',
        'websocket_proxy:', '  enabled: true',
        'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
        'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`, '  passthrough_domains: ["127.0.0.1"]',
        'dlp:', '  patterns:', '    - name: Fixture Token', '      regex: fxt_[a-z0-9]{16}', '      severity: critical',
        'session_profiling:', '  enabled: true',
        'airlock:', '  enabled: true',
        'cross_request_detection:', '  enabled: true', '  action: block', '  fragment_reassembly:', '    enabled: true', '    max_buffer_bytes: 65536', '    window_minutes: 5',
        'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
        'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
        `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
        'kill_switch:', `  sentinel_file: ${JSON.stringify(path.join(dir, 'kill-switch'))}`, `  api_token: ${ADMIN_TOKEN}`,
        'agents:', ...budgets, ...auditors,
      ].join('\n') + '\n',
      {dir, env: {SSL_CERT_FILE: tlsMaterial.certPath}, args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}`, '--reverse-listen', '127.0.0.1:0']},
    )
    reversePort = reverseListenPort(proxy)
    on = {proxy, reversePort}
    // A second proxy with live contracts (learn_lock): shop-agent has a promoted contract, an
    // agent with none is denied unless listed in unlocked_agents. Its receipts are signed with the
    // lab's roster key.
    const lab = makeLab()
    const promoted = cli(promoteArgs(lab, writeCandidate(lab, 'cand', 1, 'ci-compile', 'enforce').file, ['--environment-id', 'prod']))
    assert.equal(promoted.code, 0, promoted.stderr)
    const lockedDir = tempDir('pipelock-parity-locked-')
    const lockedProxy = await startProxy(
      [
        'forward_proxy:', '  enabled: true',
        'websocket_proxy:', '  enabled: true',
        'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
        'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`, '  passthrough_domains: ["127.0.0.1"]',
        'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(lockedDir, 'evidence'))}`,
        `  signing_key_path: ${JSON.stringify(path.join(lab.ks, 'agents', 'receipt-signing', 'id_ed25519'))}`,
        ...learnLockLines(lab.store, lab.roster, lab.fp),
        '  unlocked_agents: [someone-else]',
      ].join('\n') + '\n',
      {dir: lockedDir, env: {SSL_CERT_FILE: tlsMaterial.certPath}, args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}`, '--reverse-listen', '127.0.0.1:0']},
    )
    locked = {
      proxy: lockedProxy, reversePort: reverseListenPort(lockedProxy),
      evidence: path.join(lockedDir, 'evidence'), pub: path.join(lab.ks, 'agents', 'receipt-signing', 'id_ed25519.pub'),
    }
  })

  after(async () => {
    await proxy?.stop()
    await locked?.proxy.stop()
    await up?.close()
    await tlsUp?.close()
    wsUp?.server.closeAllConnections()
    await new Promise<void>((r) => wsUp?.server.close(() => r()))
    rmSync(dir, {recursive: true, force: true})
  })

  /**
   * Inside one intercepted tunnel (the CONNECT carries the agent's name): each of `rs` in turn on
   * the same TLS connection. A refused CONNECT is what the client saw for every request.
   */
  async function intercepted(rs: readonly Request[]): Promise<Outcome[]> {
    let s: Awaited<ReturnType<typeof tlsThroughProxy>>
    try {
      s = await tlsThroughProxy(on.proxy.port, `localhost:${tlsUp.port}`, ca, 'localhost', {'X-Pipelock-Agent': rs[0]!.agent})
    } catch (e) {
      const {status, headers} = e as {status?: number; headers?: http.IncomingHttpHeaders}
      if (status === undefined) throw e
      return rs.map(() => ({status, reason: headers!['x-pipelock-block-reason'] as string | undefined, receipt: receiptOf(headers!)}))
    }
    const out: Outcome[] = []
    try {
      for (const r of rs) {
        const body = r.body ?? ''
        const head = [`${r.method ?? 'GET'} ${r.path} HTTP/1.1`, `Host: localhost:${tlsUp.port}`, `X-Pipelock-Agent: ${r.agent}`, ...Object.entries(r.headers ?? {}).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${Buffer.byteLength(body)}`]
        const raw = await tlsExchange(s, head.join('\r\n') + '\r\n\r\n' + body)
        out.push({status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), reason: /\r\nX-Pipelock-Block-Reason: ([^\r]+)/i.exec(raw)?.[1], receipt: /\r\nX-Pipelock-Block-Reason-Receipt: ([^\r]+)/i.exec(raw)?.[1]})
      }
    } finally {
      s.destroy()
    }
    return out
  }

  /** Sends `r` through `t` and reads the status and block reason the client saw. */
  async function send(t: Transport, r: Request): Promise<Outcome> {
    const headers = {'X-Pipelock-Agent': r.agent, ...r.headers}
    const http1 = async (port: number, p: string, withBody: boolean): Promise<Outcome> => {
      const res = await rawHttp(port, {path: p, headers, ...(withBody && r.method !== undefined ? {method: r.method} : {}), ...(withBody && r.body !== undefined ? {body: r.body} : {})})
      return {status: res.status, reason: res.headers['x-pipelock-block-reason'] as string | undefined, receipt: receiptOf(res.headers)}
    }
    switch (t) {
      case 'forward':
        return await http1(on.proxy.port, `http://${r.host}${r.path}`, true)
      case 'fetch':
        return await http1(on.proxy.port, `/fetch?url=${encodeURIComponent(`http://${r.host}${r.path}`)}`, false)
      case 'connect': {
        // A tunnel names a host and port only: the trigger rides in the host or the headers.
        const lines = [`CONNECT ${r.host} HTTP/1.1`, `Host: ${r.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
        const raw = await rawExchange(on.proxy.port, lines.join('\r\n') + '\r\n\r\n', {untilHeaders: true})
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0)
        const reason = /\r\nX-Pipelock-Block-Reason: ([^\r]+)/i.exec(raw)?.[1]
        return {status, reason, receipt: /\r\nX-Pipelock-Block-Reason-Receipt: ([^\r]+)/i.exec(raw)?.[1]}
      }
      case 'intercept':
        return (await intercepted([r]))[0]!
      case 'reverse':
        return await http1(on.reversePort, r.path, true)
      case 'websocket':
        return await new Promise<Outcome>((resolve, reject) => {
          const ws = new WebSocket(`ws://${on.proxy.addr}/ws?url=${encodeURIComponent(`ws://${r.host}${r.path}`)}`, {headers})
          ws.once('open', () => {
            ws.close()
            resolve({status: 101, reason: undefined})
          })
          ws.once('unexpected-response', (_req, res) => {
            res.resume()
            res.on('end', () => resolve({status: res.statusCode ?? 0, reason: res.headers['x-pipelock-block-reason'] as string | undefined, receipt: receiptOf(res.headers)}))
          })
          ws.once('error', reject)
        })
    }
  }

  /** The admin API on the main listener (exceptions, sessions). */
  async function admin(method: string, p: string, body?: string): Promise<{status: number; body: string}> {
    const res = await rawHttp(proxy.port, {method, path: p, headers: {Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json'}, ...(body !== undefined ? {body} : {})})
    return {status: res.status, body: res.body}
  }

  const target = (t: Transport): string => (t === 'websocket' ? `127.0.0.1:${wsUp.port}` : t === 'intercept' ? `localhost:${tlsUp.port}` : `127.0.0.1:${up.port}`)
  const blocked: Array<{transport: Transport; trigger: string}> = []
  const auditPassed: Transport[] = []

  async function cell(trigger: string, t: Transport, r: Request, want: {status: number; reason: string}): Promise<void> {
    const got = await send(t, r)
    assert.deepEqual({status: got.status, reason: got.reason}, {status: want.status, reason: want.reason}, `${trigger} through ${t}`)
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
    // Not the reverse proxy (its upstream is the operator's), nor an intercepted request (its
    // target is its tunnel's: a private address is refused on the CONNECT, the connect column).
    for (const t of TRANSPORTS.filter((x) => x !== 'reverse' && x !== 'intercept')) {
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
      if (t === 'intercept') {
        // The CONNECT spends one request, the first inner request the second; the next inner request is over.
        const [first, second] = await intercepted([{agent, host: target(t), path: '/kib'}, {agent, host: target(t), path: '/kib'}])
        assert.deepEqual(first, {status: 200, reason: undefined, receipt: undefined}, 'the first inner request passes')
        assert.deepEqual({status: second!.status, reason: second!.reason}, {status: 429, reason: 'data_budget'}, 'budget through intercept')
        blocked.push({transport: t, trigger: 'budget'})
        continue
      }
      const first = await send(t, {agent, host: target(t), path: '/kib'})
      assert.ok(first.reason === undefined, `the first request of ${agent} passes (got ${first.status} ${first.reason})`)
      await cell('budget', t, {agent, host: target(t), path: '/kib'}, {status: 429, reason: 'data_budget'})
    }
  })

  it('audit mode (enforce: false): a secret in a header passes every transport, recorded as would-block', async () => {
    for (const t of TRANSPORTS) {
      const got = await send(t, {agent: 'auditor', host: target(t), path: '/kib', headers: {Authorization: `Bearer ${AWS_KEY}`}})
      assert.deepEqual({status: got.status, reason: got.reason}, {status: t === 'websocket' ? 101 : 200, reason: undefined}, `audit mode through ${t}`)
      auditPassed.push(t)
    }
  })

  it('a granted one-use exception lets one request through on every transport, then the block stands again', async () => {
    for (const t of TRANSPORTS) {
      const host = target(t).split(':')[0]!
      const g = await admin('POST', '/api/v1/exceptions', JSON.stringify({host, pattern: 'fixture token', uses: 1, expires_in_seconds: 3600, granted_by: 'parity', reason: `gate parity ${t}`}))
      assert.equal(g.status, 201, g.body)
      const r: Request = {agent: `excepted-${t}`, host: target(t), path: '/kib', headers: {Authorization: `Bearer ${FIXTURE_TOKEN}`}}
      const used = await send(t, r)
      assert.deepEqual({status: used.status, reason: used.reason}, {status: t === 'websocket' ? 101 : 200, reason: undefined}, `the exception waives the block once through ${t}`)
      await cell('exception used up', t, r, {status: 403, reason: 'dlp_match'})
    }
  })

  it('a session the airlock holds at hard: writes refused with airlock_active on every transport, reads pass where a transport is read-only', async () => {
    const agent = 'held'
    const key = encodeURIComponent(`${agent}|127.0.0.1`)
    // The session exists once it sent a request; the operator moves it to hard (the session API
    // allows ten moves a minute, so one session is held for every transport).
    assert.equal((await send('fetch', {agent, host: target('fetch'), path: '/kib'})).status, 200)
    const moved = await admin('POST', `/api/v1/sessions/${key}/airlock`, '{"tier":"hard"}')
    assert.equal(moved.status, 200, moved.body)
    try {
      for (const t of TRANSPORTS) {
        if (t === 'fetch') {
          // /fetch is a read (a GET the proxy makes itself): hard lets reads through (OP §6 item 3).
          const read = await send(t, {agent, host: target(t), path: '/kib'})
          assert.deepEqual({status: read.status, reason: read.reason}, {status: 200, reason: undefined}, 'a read through fetch at hard')
          continue
        }
        // A write where the transport carries one; CONNECT and the handshake are refused whatever they carry.
        await cell('airlock hard', t, {agent, host: target(t), path: '/echo', method: 'POST', body: 'x'}, {status: 403, reason: 'airlock_active'})
      }
    } finally {
      // Released: the hold also follows the client address of unbound identities (issue 37).
      assert.equal((await admin('POST', `/api/v1/sessions/${key}/airlock`, '{"tier":"none"}')).status, 200)
    }
  })

  it('a secret split across two requests of one session is cross_request_deny on every transport that carries it', async () => {
    // Not CONNECT (a tunnel names a host only, which cannot carry an upper-case key's fragments;
    // the intercept column sends them inside the tunnel), nor the /ws handshake (its row skips the
    // stage: each message is admitted by the relay).
    for (const t of TRANSPORTS.filter((x) => x !== 'connect' && x !== 'websocket')) {
      const agent = `split-${t}`
      const first = await send(t, {agent, host: target(t), path: '/kib?a=AKIAIOSF'})
      assert.deepEqual({status: first.status, reason: first.reason}, {status: 200, reason: undefined}, `the first half passes through ${t}`)
      await cell('cross-request fragments', t, {agent, host: target(t), path: '/kib?a=ODNN7REALKEY'}, {status: 403, reason: 'cross_request_deny'})
      // Every unbound name from this address shares one window (docs/cross-request.md): the
      // reset clears it, so the next transport's first half starts clean.
      const reset = await admin('POST', `/api/v1/sessions/${encodeURIComponent(`${agent}|127.0.0.1`)}/reset`)
      assert.equal(reset.status, 200, reset.body)
    }
  })

  it('a contract default deny (live contracts, an agent with none) is contract_default_deny on every transport', async () => {
    on = locked
    try {
      for (const t of TRANSPORTS) {
        // An intercepted request's agent is its tunnel's: the CONNECT that opens it is refused first.
        const got = await send(t, {agent: 'stranger', host: target(t), path: '/kib'})
        assert.deepEqual({status: got.status, reason: got.reason}, {status: 403, reason: 'contract_default_deny'}, `contract default deny through ${t}`)
        lockedBlocks.push(t)
      }
      // An agent listed as unlocked is scanner-only: it passes.
      const unlocked = await send('forward', {agent: 'someone-else', host: target('forward'), path: '/kib'})
      assert.equal(unlocked.status, 200)
    } finally {
      on = {proxy, reversePort}
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
      // An intercepted request: its tunnel's CONNECT is refused before any request rides in it.
      for (const t of TRANSPORTS) {
        const got = await send(t, {agent: 'parity', host: target(t), path: '/kib'})
        assert.equal(got.reason, 'kill_switch_active', `kill switch through ${t}`)
        assert.match(got.receipt ?? '', /^[0-9A-HJKMNP-TV-Z]{26}$/, `the kill-switch block names its receipt through ${t}`)
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

  it('under live contracts too: one Decision per request, in a chain that verifies', async () => {
    await locked.proxy.stop()
    const v = runCli(['verify-receipt', '--chain', locked.evidence, '--key', locked.pub, '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)
    assert.equal(JSON.parse(v.stdout).valid, true)
    const records = readdirSync(locked.evidence)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(path.join(locked.evidence, f), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as {type: string; detail: {action_record?: Record<string, string>}})
      .filter((e) => e.type === 'action_receipt')
      .map((e) => e.detail.action_record!)
      .filter((r) => r.request_id !== undefined)
    const ids = records.map((r) => r.request_id)
    assert.equal(new Set(ids).size, ids.length, 'requests with more than one Decision')
    assert.equal(records.filter((r) => r.verdict === 'block' && r.layer === 'contract').length, lockedBlocks.length, 'one contract block Decision per transport')
  })
})
