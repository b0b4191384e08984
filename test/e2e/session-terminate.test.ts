/**
 * `pipelock session terminate` on a real `pipelock run`: the warning that in-flight connections
 * were cut appears only when the terminate cut some (the API's `connections_cut`), with the count.
 * A `/fetch`, forward-proxy or reverse-proxy request still waiting on a slow upstream is in-flight
 * work too: a terminate (or a reset) answers it with its block, recorded first, and aborts its
 * upstream request. A live `/ws` connection is closed 1008 `airlock_active`. A request held for an
 * operator's approval (a tainted session's write, `ask`) is cut the same way: the approval is
 * withdrawn, and a late answer lets nothing through.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import {after, before, describe, it} from 'node:test'
import {WebSocketServer} from 'ws'
import {stringify} from 'yaml'
import {runCli} from '../helpers/cli.js'
import {echoedWebSocket, presetConfig, rawHttp, reverseListenPort, type RunningProxy, startHttpUpstream, startProxy, tcpUpstream, until, type Upstream} from './proxy-harness.js'

const TOKEN = 'session-terminate-test-token'

function balanced(): string {
  const c = presetConfig('balanced')
  c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
  c.kill_switch.api_token = TOKEN
  c.websocket_proxy = {enabled: true}
  return stringify(c)
}

/** A WebSocket origin that echoes every message. */
async function echoServer(): Promise<{port: number; close: () => Promise<void>}> {
  const wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
  wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, {binary: isBinary})))
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  return {
    port: (wss.address() as net.AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

/** A CONNECT tunnel declared by `agent`; resolves once the 200 is in. */
async function tunnel(proxyPort: number, upstreamPort: number, agent: string): Promise<{closed: Promise<void>}> {
  const socket = net.connect({host: '127.0.0.1', port: proxyPort})
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    let head = ''
    socket.on('data', (c: Buffer) => {
      head += c.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      if (head.startsWith('HTTP/1.1 200 ')) resolve()
      else reject(new Error(`CONNECT refused: ${head}`))
    })
    socket.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nHost: 127.0.0.1:${upstreamPort}\r\nX-Pipelock-Agent: ${agent}\r\n\r\n`)
  })
  return {closed}
}

/** An origin that answers after 4 s, and notes each request the client abandoned before the answer. */
async function slowOrigin(): Promise<{port: number; abandoned: () => number; close: () => Promise<void>}> {
  let abandoned = 0
  const server = http.createServer((_req, res) => {
    const t = setTimeout(() => res.end('slow body done\n'), 4000)
    res.on('close', () => {
      if (!res.writableEnded) {
        abandoned++
        clearTimeout(t)
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as net.AddressInfo).port,
    abandoned: () => abandoned,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/** The proxy's JSON audit lines of `event`. */
function events(proxy: RunningProxy, event: string): Array<Record<string, unknown>> {
  return proxy.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === event)
}

describe('pipelock session terminate on a running proxy', {timeout: 60_000}, () => {
  let up: Upstream
  let tcp: Awaited<ReturnType<typeof tcpUpstream>>
  let slow: Awaited<ReturnType<typeof slowOrigin>>
  let echo: Awaited<ReturnType<typeof echoServer>>
  let proxy: RunningProxy
  let reversePort = 0
  before(async () => {
    up = await startHttpUpstream()
    tcp = await tcpUpstream(() => undefined)
    slow = await slowOrigin()
    echo = await echoServer()
    // The reverse listener's one upstream is the slow origin.
    proxy = await startProxy(balanced(), {args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${slow.port}`, '--reverse-listen', '127.0.0.1:0']})
    reversePort = reverseListenPort(proxy)
  })
  after(async () => {
    await proxy?.stop()
    await tcp?.close()
    await slow?.close()
    await echo?.close()
    await up?.close()
  })
  const inFlight = async (key: string): Promise<number> => {
    const r = await fetch(`http://${proxy.addr}/api/v1/sessions/${encodeURIComponent(key)}`, {headers: {Authorization: `Bearer ${TOKEN}`}})
    return r.status === 200 ? ((await r.json()) as {in_flight: number}).in_flight : -1
  }
  const terminate = (key: string, json = false): ReturnType<typeof runCli> =>
    runCli(['session', 'terminate', key, ...(json ? ['--json'] : []), '--api-url', proxy.addr, '--api-token', TOKEN], {env: {...process.env, PIPELOCK_API_URL: '', PIPELOCK_CONFIG: ''}})

  it('no warning when the session had no live connection', async () => {
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: {'X-Pipelock-Agent': 'calm'}})).status, 200)
    assert.deepEqual(terminate('calm|127.0.0.1'), {
      status: 0,
      stderr: '',
      stdout: 'terminated calm|127.0.0.1: previous_tier=none level=normal score=0.00 cee_cleared=false\n',
    })
  })

  it('warns with the count when it cut an open tunnel, and the tunnel closes', async () => {
    const t = await tunnel(proxy.port, tcp.port, 'busy')
    const r = terminate('busy|127.0.0.1')
    assert.deepEqual(r, {
      status: 0,
      stderr: 'WARNING: terminated session busy|127.0.0.1 — 1 in-flight connection was cut.\n',
      stdout: 'terminated busy|127.0.0.1: previous_tier=none level=normal score=0.00 cee_cleared=false\n',
    })
    await t.closed
  })

  it('--json carries connections_cut', async () => {
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: {'X-Pipelock-Agent': 'quiet'}})).status, 200)
    const r = terminate('quiet|127.0.0.1', true)
    assert.equal(r.status, 0)
    assert.equal(r.stderr, '')
    assert.equal(JSON.parse(r.stdout).connections_cut, 0)
  })

  it('cuts a /fetch and a forward-proxy request waiting on a slow upstream: 403 airlock_active, recorded, upstream aborted, counted', async () => {
    const key = 'waiting|127.0.0.1'
    const forward = rawHttp(proxy.port, {path: `http://127.0.0.1:${slow.port}/a`, headers: {'X-Pipelock-Agent': 'waiting'}})
    const fetched = rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${slow.port}/b`)}&agent=waiting`})
    assert.ok(await until(async () => (await inFlight(key)) === 2, 3000), 'both exchanges in flight')
    const r = terminate(key)
    assert.deepEqual(r, {
      status: 0,
      stderr: 'WARNING: terminated session waiting|127.0.0.1 — 2 in-flight connections were cut.\n',
      stdout: 'terminated waiting|127.0.0.1: previous_tier=none level=normal score=0.00 cee_cleared=false\n',
    })
    const [f, j] = await Promise.all([forward, fetched])
    // Answered at the cut (a 403 with the cut's text), not relayed after the upstream's answer.
    assert.equal(f.status, 403)
    assert.equal(f.body, 'airlock: request cut: session terminated\n')
    assert.equal(f.headers['x-pipelock-block-reason'], 'airlock_active')
    assert.equal(f.headers['x-pipelock-block-reason-layer'], undefined)
    assert.equal(j.status, 403)
    assert.deepEqual(JSON.parse(j.body), {url: `http://127.0.0.1:${slow.port}/b`, agent: 'waiting', blocked: true, block_reason: 'request cut: session terminated'})
    assert.equal(j.headers['x-pipelock-block-reason'], 'airlock_active')
    // The upstream requests were aborted, not left to finish.
    assert.ok(await until(async () => slow.abandoned() === 2, 3000), `abandoned ${slow.abandoned()}`)
    // One block Decision each, recorded (audit `blocked`), and nothing else for these two requests.
    const cuts = events(proxy, 'blocked').filter((e) => JSON.stringify(e).includes('request cut: session terminated'))
    assert.equal(cuts.length, 2, proxy.stdout())
    assert.equal(events(proxy, 'error').filter((e) => JSON.stringify(e).includes(`127.0.0.1:${slow.port}`)).length, 0)
  })

  it('a reset cuts them too, and says so in connections_cut', async () => {
    const key = 'again|127.0.0.1'
    const forward = rawHttp(proxy.port, {path: `http://127.0.0.1:${slow.port}/c`, headers: {'X-Pipelock-Agent': 'again'}})
    assert.ok(await until(async () => (await inFlight(key)) === 1, 3000))
    const r = await fetch(`http://${proxy.addr}/api/v1/sessions/${encodeURIComponent(key)}/reset`, {method: 'POST', headers: {Authorization: `Bearer ${TOKEN}`}})
    assert.equal(((await r.json()) as {connections_cut: number}).connections_cut, 1)
    const f = await forward
    assert.equal(f.status, 403)
    assert.equal(f.body, 'airlock: request cut: session reset\n')
  })

  it('cuts a reverse-proxy request waiting on its slow upstream: in flight, 403 airlock_active, recorded, upstream aborted, counted', async () => {
    const key = 'rev|127.0.0.1'
    const abandonedBefore = slow.abandoned()
    const reversed = rawHttp(reversePort, {path: '/r', headers: {'X-Pipelock-Agent': 'rev'}})
    assert.ok(await until(async () => (await inFlight(key)) === 1, 3000), 'the reverse exchange is in flight')
    assert.deepEqual(terminate(key), {
      status: 0,
      stderr: 'WARNING: terminated session rev|127.0.0.1 — 1 in-flight connection was cut.\n',
      stdout: 'terminated rev|127.0.0.1: previous_tier=none level=normal score=0.00 cee_cleared=false\n',
    })
    // Answered by the cut (the origin would answer 200 after 4 s), its upstream request aborted.
    const r = await reversed
    assert.equal(r.status, 403)
    assert.equal(r.body, '{"error":"blocked by pipelock","blocked":true,"block_reason":"request cut: session terminated","direction":"request"}\n')
    assert.equal(r.headers['x-pipelock-block-reason'], 'airlock_active')
    assert.equal(r.headers['x-pipelock-block-reason-layer'], undefined)
    assert.ok(await until(async () => slow.abandoned() === abandonedBefore + 1, 3000), `abandoned ${slow.abandoned()}`)
    const cuts = events(proxy, 'blocked').filter((e) => e.agent === 'rev' && JSON.stringify(e).includes('request cut: session terminated'))
    assert.equal(cuts.length, 1, proxy.stdout())
    assert.equal(events(proxy, 'error').filter((e) => e.agent === 'rev').length, 0)
  })

  it('closes a live /ws connection of the session with 1008 airlock_active, and counts it', async () => {
    const {closed} = await echoedWebSocket(proxy.addr, `ws://127.0.0.1:${echo.port}/`, 'socket')
    assert.deepEqual(terminate('socket|127.0.0.1'), {
      status: 0,
      stderr: 'WARNING: terminated session socket|127.0.0.1 — 1 in-flight connection was cut.\n',
      stdout: 'terminated socket|127.0.0.1: previous_tier=none level=normal score=0.00 cee_cleared=false\n',
    })
    const c = await closed
    assert.equal(c.code, 1008)
    const reason = JSON.parse(c.reason) as Record<string, string>
    assert.equal(reason.block_reason, 'airlock_active')
    assert.equal(reason.layer, 'airlock')
  })

  it('an exchange already answered is not counted', async () => {
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: {'X-Pipelock-Agent': 'done'}})).status, 200)
    assert.ok(await until(async () => (await inFlight('done|127.0.0.1')) === 0, 3000))
    assert.equal(JSON.parse(terminate('done|127.0.0.1', true).stdout).connections_cut, 0)
  })
})

/** An origin that serves a page on GET and notes every request it receives. */
async function recordingOrigin(): Promise<{port: number; seen: string[]; close: () => Promise<void>}> {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    req.resume()
    res.writeHead(200, {'content-type': 'text/html; charset=utf-8'})
    res.end('<html><head><title>Page</title></head><body><p>Plain page.</p></body></html>')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

describe('pipelock session terminate cuts a request held for an operator', {timeout: 60_000}, () => {
  let origin: Awaited<ReturnType<typeof recordingOrigin>>
  let proxy: RunningProxy
  before(async () => {
    origin = await recordingOrigin()
    // A tainted session's write is held for an operator (`ask`) once an approval channel exists.
    const config = [
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'forward_proxy:', '  enabled: true',
      'response_scanning:', '  action: ask', '  ask_timeout_seconds: 60',
      'session_profiling:', '  enabled: true',
      'kill_switch:', `  api_token: ${TOKEN}`,
    ].join('\n') + '\n'
    proxy = await startProxy(config)
  })
  after(async () => {
    await proxy?.stop()
    await origin?.close()
  })
  const api = async (method: string, path: string, body?: string): Promise<{status: number; json: () => Record<string, unknown>}> => {
    const r = await fetch(`http://${proxy.addr}${path}`, {method, headers: {Authorization: `Bearer ${TOKEN}`}, ...(body !== undefined ? {body} : {})})
    const text = await r.text()
    return {status: r.status, json: () => JSON.parse(text) as Record<string, unknown>}
  }
  const approvals = async (all = false): Promise<Array<Record<string, unknown>>> => (await api('GET', `/api/v1/approvals${all ? '?status=all' : ''}`)).json().approvals as Array<Record<string, unknown>>

  for (const action of ['terminate', 'reset'] as const) {
    it(`${action}: the held write is answered 403 airlock_active, its approval withdrawn, a late approval lets nothing through`, async () => {
      const ip = action === 'terminate' ? '127.0.0.31' : '127.0.0.32'
      const agent = `held-${action}`
      const key = `${agent}|${ip}`
      const base = `http://127.0.0.1:${origin.port}`
      const fwd = (p: string, method = 'GET') => rawHttp(proxy.port, {method, path: `${base}${p}`, headers: {'X-Pipelock-Agent': agent}, from: ip, ...(method === 'POST' ? {body: 'a=b'} : {})})
      // A read of an external page taints the session; its write is then held for an operator.
      assert.equal((await fwd(`/page-${action}`)).status, 200)
      const held = fwd(`/upload-${action}`, 'POST')
      let id = ''
      assert.ok(await until(async () => {
        const p = (await approvals()).find((a) => a.session_key === key)
        id = String(p?.id ?? '')
        return p !== undefined
      }, 5000), 'the write is held')
      // Waiting for its operator, the request is in flight.
      assert.equal((await api('GET', `/api/v1/sessions/${encodeURIComponent(key)}`)).json().in_flight, 1)
      if (action === 'terminate') {
        assert.deepEqual(runCli(['session', 'terminate', key, '--api-url', proxy.addr, '--api-token', TOKEN], {env: {...process.env, PIPELOCK_API_URL: '', PIPELOCK_CONFIG: ''}}), {
          status: 0,
          stderr: `WARNING: terminated session ${key} — 1 in-flight connection was cut.\n`,
          stdout: `terminated ${key}: previous_tier=none level=normal score=0.00 cee_cleared=false\n`,
        })
      } else {
        const r = await api('POST', `/api/v1/sessions/${encodeURIComponent(key)}/reset`)
        assert.equal(r.json().connections_cut, 1)
      }
      const detail = action === 'terminate' ? 'request cut: session terminated' : 'request cut: session reset'
      // Answered by the cut, not by an operator or the 60 s ask timeout (both would say otherwise).
      const answered = await held
      assert.equal(answered.status, 403)
      assert.equal(answered.body, `airlock: ${detail}\n`)
      assert.equal(answered.headers['x-pipelock-block-reason'], 'airlock_active')
      // The approval is withdrawn: no longer pending (its slot is free), cancelled with the cut's reason.
      assert.equal((await approvals()).filter((a) => a.session_key === key).length, 0)
      const gone = (await approvals(true)).find((a) => a.id === id)
      assert.deepEqual([gone?.status, gone?.decision_reason], ['cancelled', detail])
      // An approval arriving late is refused and lets nothing through.
      const late = await api('POST', `/api/v1/approvals/${encodeURIComponent(id)}`, JSON.stringify({decision: 'allow', decided_by: 'carol'}))
      assert.equal(late.status, 409)
      await new Promise((r) => setTimeout(r, 200))
      assert.deepEqual(origin.seen.filter((l) => l.includes(`-${action}`)), [`GET /page-${action}`])
      // One block Decision for the held request, recorded.
      const cuts = events(proxy, 'blocked').filter((e) => e.agent === agent && JSON.stringify(e).includes(detail))
      assert.equal(cuts.length, 1, proxy.stdout())
    })
  }
})
