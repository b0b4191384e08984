import {describe, it, after} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import WebSocket, {WebSocketServer} from 'ws'
import {request} from 'undici'
import {cli, makeLab, promoteArgs, writeCandidate} from './learn-promote-harness.js'
import {startProxy, type RunningProxy} from './proxy-harness.js'

// The live contract gate on the WebSocket handshake and on the reverse proxy (transports §5): the
// promoted contract of shop-agent lists only example.com hosts, so a /ws handshake to a loopback
// echo server and a reverse-proxied request to a loopback upstream are contract blocks for
// shop-agent (403 with the contract's block headers), and scanner-only for an agent without one.

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
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)))
    await new Promise<void>((r) => wss!.once('listening', () => r()))
    const wsPort = (wss.address() as AddressInfo).port
    upstream = http.createServer((_req, res) => res.end('ok'))
    await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r))
    const upPort = (upstream.address() as AddressInfo).port
    proxy = await startProxy(
      [
        'ssrf: {ip_allowlist: ["127.0.0.0/8"]}',
        'websocket_proxy: {enabled: true}',
        'learn_lock:',
        '  enabled: true',
        '  mode: live',
        `  store_dir: ${lab.store}`,
        `  roster_path: ${lab.roster}`,
        '  environment: {id: prod, tenant: "", deployment_id: ""}',
        `  pinned_root_fingerprint: ${lab.fp}`,
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
  })
})
