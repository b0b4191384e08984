import {describe, it, after} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import WebSocket, {WebSocketServer} from 'ws'
import {request} from 'undici'
import {cli, makeLab, promoteArgs, writeCandidate} from './learn-promote-harness.js'
import {learnLockLines} from '../helpers/lock-roster.js'
import {startProxy, stopProxyAndServer, type RunningProxy} from './proxy-harness.js'

// The live contract gate on the WebSocket handshake and on the reverse proxy (transports §5): the
// promoted contract of shop-agent lists only example.com hosts, so a /ws handshake to a loopback
// echo server and a reverse-proxied request to a loopback upstream are contract blocks for
// shop-agent (403 with the contract's block headers); an agent without one is denied too while
// contracts are live (issue 37), unless listed in learn_lock.unlocked_agents — then scanner-only.

const lab = makeLab()
const cand = writeCandidate(lab, 'cand', 1, 'ci-compile', 'enforce')
const promoted = cli(promoteArgs(lab, cand.file, ['--environment-id', 'prod']))

describe('learn_lock live on /ws and the reverse proxy', () => {
  let proxy: RunningProxy | undefined
  let wss: WebSocketServer | undefined
  let upstream: http.Server | undefined
  after(async () => {
    await proxy?.stop()
    for (const c of wss?.clients ?? []) c.terminate()
    wss?.close()
    upstream?.closeAllConnections()
    upstream?.close()
  })

  it('gates the handshake and the reverse request with the contract of the declared agent', async () => {
    assert.equal(promoted.code, 0, promoted.stderr)
    wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
    wss.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, {binary})))
    await new Promise<void>((r) => wss!.once('listening', () => r()))
    const wsPort = (wss.address() as AddressInfo).port
    upstream = http.createServer((_req, res) => res.end('ok'))
    await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r))
    const upPort = (upstream.address() as AddressInfo).port
    proxy = await startProxy(
      [
        'ssrf: {ip_allowlist: ["127.0.0.0/8"]}',
        'websocket_proxy: {enabled: true}',
        ...learnLockLines(lab.store, lab.roster, lab.fp),
        '  unlocked_agents: [someone-else]',
      ].join('\n') + '\n',
      {args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${upPort}`, '--reverse-listen', '127.0.0.1:0']},
    )
    const wsUrl = `ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${wsPort}/chat`)}`
    const handshake = (agent: string): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string} | 'open'> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(wsUrl, {headers: {'X-Pipelock-Agent': agent}})
        ws.once('open', () => {
          ws.close()
          resolve('open')
        })
        ws.once('unexpected-response', (_q, res) => {
          let body = ''
          res.on('data', (c: Buffer) => (body += c.toString()))
          res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
        })
        ws.once('error', reject)
      })
    const denied = await handshake('shop-agent')
    assert.notEqual(denied, 'open')
    if (denied === 'open') return
    assert.equal(denied.status, 403)
    assert.match(String(denied.headers['x-pipelock-block-reason']), /^contract_/)
    assert.equal(denied.headers['x-pipelock-block-reason-layer'], 'contract')
    assert.match(denied.body, /^WebSocket blocked: /)
    assert.equal(await handshake('someone-else'), 'open')
    const unlisted = await handshake('stranger')
    assert.notEqual(unlisted, 'open')
    if (unlisted === 'open') return
    assert.equal(unlisted.headers['x-pipelock-block-reason'], 'contract_default_deny')
    assert.equal(unlisted.body, 'WebSocket blocked: contract_default_deny: agent "stranger" has no active contract and is not listed in learn_lock.unlocked_agents\n')

    const revPort = /reverse proxy listening on 127\.0\.0\.1:(\d+)/.exec(proxy.stderr())![1]
    const rev = async (agent: string): Promise<{status: number; reason: unknown; body: string}> => {
      const r = await request(`http://127.0.0.1:${revPort}/items`, {headers: {'x-pipelock-agent': agent}})
      return {status: r.statusCode, reason: r.headers['x-pipelock-block-reason'], body: await r.body.text()}
    }
    const blocked = await rev('shop-agent')
    assert.equal(blocked.status, 403)
    assert.match(String(blocked.reason), /^contract_/)
    assert.equal(JSON.parse(blocked.body).direction, 'request')
    assert.deepEqual(await rev('someone-else'), {status: 200, reason: undefined, body: 'ok'})
    assert.equal((await rev('stranger')).reason, 'contract_default_deny')
  })
})

// A contract whose host-wide rule names 127.0.0.6 (port 80: a live contract blocks every
// non-default port, so this needs root, like the closed-loop test): the allowed WebSocket
// handshake opens, and a redirect chain is re-evaluated against the redirected URL — a hop to a
// host the contract does not list fails the whole request (transports §5, learn-lifecycle §7.6).
describe('learn_lock live: allowed WebSocket destinations and redirect chains', {timeout: 60_000}, () => {
  const lab2 = makeLab()
  const onHost = writeCandidate(lab2, 'onhost', -2, 'ci-compile', 'enforce', '127.0.0.6')
  const promotedOnHost = cli(promoteArgs(lab2, onHost.file, ['--environment-id', 'prod']))
  let proxy: RunningProxy | undefined
  let server: http.Server | undefined
  after(() => stopProxyAndServer(proxy, server))

  it('opens a contracted /ws destination and denies a redirect hop the contract does not list', async () => {
    assert.equal(promotedOnHost.code, 0, promotedOnHost.stderr)
    server = http.createServer((req, res) => {
      if (req.url === '/hop') {
        res.writeHead(302, {location: 'http://127.0.0.7/elsewhere'})
        res.end()
      } else res.end('fine')
    })
    const wss = new WebSocketServer({server, perMessageDeflate: false})
    wss.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, {binary})))
    await new Promise<void>((resolve, reject) => {
      server!.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on 127.0.0.6:80 (${e.code}); this test needs root to bind port 80`)))
      server!.listen(80, '127.0.0.6', () => resolve())
    })
    proxy = await startProxy(
      [
        'forward_proxy: {enabled: true}',
        'ssrf: {ip_allowlist: ["127.0.0.0/8"]}',
        'websocket_proxy: {enabled: true}',
        ...learnLockLines(lab2.store, lab2.roster, lab2.fp),
      ].join('\n') + '\n',
    )
    const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent('ws://127.0.0.6/socket')}`, {headers: {'X-Pipelock-Agent': 'shop-agent'}})
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())))
    ws.send('hello')
    assert.equal(await echoed, 'hello')
    ws.close()

    const fetched = await request(`http://127.0.0.1:${proxy.port}/fetch?url=${encodeURIComponent('http://127.0.0.6/ok')}`, {headers: {'x-pipelock-agent': 'shop-agent'}})
    assert.equal(fetched.statusCode, 200)
    await fetched.body.text()
    const hop = await request(`http://127.0.0.1:${proxy.port}/fetch?url=${encodeURIComponent('http://127.0.0.6/hop')}`, {headers: {'x-pipelock-agent': 'shop-agent'}})
    const body = (await hop.body.json()) as {block_reason: string}
    assert.equal(hop.statusCode, 403)
    assert.equal(hop.headers['x-pipelock-block-reason-layer'], 'contract')
    assert.match(body.block_reason, /^redirect to http:\/\/127\.0\.0\.7\/elsewhere: /)
  })
})
