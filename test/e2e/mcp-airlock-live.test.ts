/**
 * The airlock on live MCP connections of `pipelock run --mcp-listen`, on the built CLI with real
 * sockets (operations §6 item 4; issue 37 item 1 on MCP):
 * - an exchange whose SSE answer is still streaming is cut when the operator moves its session to
 *   drain through the admin API: the pending request gets `-32001 … live stream cut`
 *   (`airlock_active`) as its last event, the upstream stream is closed, and a signed receipt
 *   (layer `airlock`) records the cut in the chain that verifies;
 * - a terminate of the session cuts it the same way, and the error, stderr line and receipt say
 *   `terminated` (the tier after the terminate, `none`, does not tell the cause);
 * - the kill switch thrown through the admin API cuts an SSE answer still streaming the same way:
 *   the pending request gets the kill-switch error (`-32004`, `kill_switch_active`) as its last
 *   event, the upstream stream is closed, and a receipt (layer `kill_switch`) records the cut;
 * - a listener client is an unbound identity: a session quarantined under another name from the
 *   same address (HTTP traffic with `X-Pipelock-Agent`) holds its MCP writes too, and the release
 *   of that one session frees them; a client whose address a `source_cidrs` binds is in its
 *   agent's HTTP session (`<agent>|<ip>`), so that session's quarantine holds its MCP writes.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {mcpListenUrl, otherHostAddress, rawHttp, startHttpUpstream, startProxy, tempDir, until, writeReceiptKeys, type RunningProxy, type Upstream} from './proxy-harness.js'

const TOKEN = 'mcp-airlock-live-token'
const signingKey = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-mcp-airlock-live').digest())
const PROGRESS = '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}'

/**
 * A raw Streamable HTTP MCP server: `watch` answers with an SSE stream that sends one progress
 * notification and then stays open (a long-running tool); every other call answers at once.
 */
async function startStreamingServer(): Promise<{url: string; streamsClosed: () => number; close: () => Promise<void>}> {
  let closed = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {id?: number; method: string; params?: {name?: string; arguments?: unknown}}
      if (msg.id === undefined) return void res.writeHead(202).end()
      if (msg.method === 'tools/call' && msg.params?.name === 'watch') {
        res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-cache'})
        res.write(`data: ${PROGRESS}\n\n`)
        res.once('close', () => closed++)
        return
      }
      const body = JSON.stringify({jsonrpc: '2.0', id: msg.id, result: {content: [{type: 'text', text: `${msg.params?.name ?? msg.method} done`}]}})
      res.writeHead(200, {'content-type': 'application/json'}).end(body)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    streamsClosed: () => closed,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/** A JSON-RPC POST to the MCP listener from `from`; resolves with the whole body once the response ends. */
async function mcpPost(url: string, body: string, from = '127.0.0.1', onFirstData?: (text: string) => void): Promise<{status: number; type: string; body: string}> {
  const u = new URL(url)
  return await new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, localAddress: from,
      headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'},
    }, (res) => {
      let text = ''
      let first = true
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
        if (first) onFirstData?.(text)
        first = false
      })
      res.on('end', () => resolve({status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const call = (id: number, name: string): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{"path":"/tmp/x"}}}`

describe('pipelock run --mcp-listen: the airlock cuts live MCP streams and holds an unbound client by its address', {timeout: 120_000}, () => {
  let mcp: Awaited<ReturnType<typeof startStreamingServer>>
  let up: Upstream
  let proxy: RunningProxy
  let dir = ''
  let url = ''
  const api = async (key: string, tier: string) =>
    await rawHttp(proxy.port, {method: 'POST', path: `/api/v1/sessions/${encodeURIComponent(key)}/airlock`, headers: {authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json'}, body: JSON.stringify({tier})})
  const forward = async (agent: string, from: string) =>
    await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: {'X-Pipelock-Agent': agent}, from})

  before(async () => {
    mcp = await startStreamingServer()
    up = await startHttpUpstream()
    dir = tempDir('pipelock-mcp-airlock-')
    writeReceiptKeys(dir, signingKey)
    const c = {
      forward_proxy: {enabled: true},
      ssrf: {ip_allowlist: ['127.0.0.1/32']},
      session_profiling: {enabled: true},
      airlock: {enabled: true},
      kill_switch: {api_token: TOKEN},
      flight_recorder: {enabled: true, dir: path.join(dir, 'evidence'), signing_key_path: path.join(dir, 'receipt.key')},
      // 127.0.0.5 is bound to `builder` by the deployment; every other address is unbound.
      agents: {builder: {source_cidrs: ['127.0.0.5/32']}},
      cross_request_detection: {enabled: true, action: 'block', fragment_reassembly: {enabled: true, max_buffer_bytes: 65536, window_minutes: 5}},
    }
    proxy = await startProxy(stringify(c), {dir, args: ['--mcp-listen', '127.0.0.1:0', '--mcp-upstream', mcp.url]})
    url = mcpListenUrl(proxy)
  })
  after(async () => {
    await proxy?.stop()
    await mcp?.close()
    await up?.close()
  })

  it('an open SSE answer is cut when its session goes to drain: the error event, the upstream closed, a receipt', async () => {
    const from = '127.0.0.3'
    let streaming!: () => void
    const started = new Promise<void>((r) => (streaming = r))
    const exchange = mcpPost(url, call(1, 'watch'), from, () => streaming())
    await started
    const moved = await api(from, 'drain')
    assert.equal(moved.status, 200, moved.body)
    const r = await exchange
    assert.equal(r.status, 200)
    assert.equal(r.type, 'text/event-stream')
    assert.equal(r.body, `data: ${PROGRESS}\n\n` +
      'data: {"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"pipelock: session in airlock drain: live stream cut","data":{"block_reason":"airlock_active"}}}\n\n')
    assert.ok(await until(async () => mcp.streamsClosed() === 1), 'the upstream stream is closed')
    assert.ok(proxy.stderr().includes(`pipelock: live stream cut: session ${from} in airlock drain\n`), proxy.stderr())
    // Drain refuses the next message; a new stream is not opened.
    const next = await mcpPost(url, call(2, 'watch'), from)
    assert.equal(next.body, '{"jsonrpc":"2.0","id":2,"error":{"code":-32001,"message":"pipelock: session in airlock drain: unclassified tool call refused","data":{"block_reason":"airlock_active"}}}')
    assert.equal((await api(from, 'none')).status, 200)
  })

  it('an unbound client is held by a quarantine its address earned under another name; one release frees it', async () => {
    const from = '127.0.0.4'
    assert.equal((await forward('evil', from)).status, 200)
    assert.equal((await api(`evil|${from}`, 'hard')).status, 200)
    const write = await mcpPost(url, call(3, 'write_file'), from)
    assert.equal(write.body, '{"jsonrpc":"2.0","id":3,"error":{"code":-32001,"message":"pipelock: session in airlock hard: write tool call refused","data":{"block_reason":"airlock_active"}}}')
    assert.ok(proxy.stderr().includes(`pipelock: input: client address ${from} in airlock hard (session evil|${from}; the identity is not bound)\n`), proxy.stderr())
    // Hard lets reads through, as for the session's own tier.
    assert.equal(JSON.parse((await mcpPost(url, call(4, 'read_file'), from)).body).result.content[0].text, 'read_file done')
    // Another loopback address is the same client host; another host is its own.
    const alias = await mcpPost(url, call(5, 'write_file'), '127.0.0.6')
    assert.equal(alias.body, '{"jsonrpc":"2.0","id":5,"error":{"code":-32001,"message":"pipelock: session in airlock hard: write tool call refused","data":{"block_reason":"airlock_active"}}}')
    assert.equal(JSON.parse((await mcpPost(url, call(5, 'write_file'), otherHostAddress())).body).result.content[0].text, 'write_file done')
    assert.equal((await api(`evil|${from}`, 'none')).status, 200)
    assert.equal(JSON.parse((await mcpPost(url, call(6, 'write_file'), from)).body).result.content[0].text, 'write_file done')
  })

  it('a client whose address a source CIDR binds is in its HTTP session: that session\'s quarantine holds its MCP writes; a release frees them', async () => {
    const from = '127.0.0.5'
    // Its HTTP traffic is `builder`'s session whatever name it sends; its MCP calls are the same session.
    assert.equal((await forward('anyone', from)).status, 200)
    assert.equal((await api(`builder|${from}`, 'hard')).status, 200)
    const write = await mcpPost(url, call(7, 'write_file'), from)
    assert.equal(write.body, '{"jsonrpc":"2.0","id":7,"error":{"code":-32001,"message":"pipelock: session in airlock hard: write tool call refused","data":{"block_reason":"airlock_active"}}}')
    assert.equal((await api(`builder|${from}`, 'none')).status, 200)
    const w8 = await mcpPost(url, call(8, 'write_file'), from)
    assert.equal(JSON.parse(w8.body).result?.content[0].text, 'write_file done', w8.body)
  })

  it('the kill switch cuts an SSE answer still streaming: the kill-switch error as its last event, the upstream closed', async () => {
    const from = '127.0.0.7'
    let streaming!: () => void
    const started = new Promise<void>((r) => (streaming = r))
    const closedBefore = mcp.streamsClosed()
    const exchange = mcpPost(url, call(9, 'watch'), from, () => streaming())
    await started
    const on = await rawHttp(proxy.port, {method: 'POST', path: '/api/v1/killswitch', headers: {authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json'}, body: '{"active":true}'})
    assert.equal(on.status, 200, on.body)
    try {
      const r = await exchange
      assert.equal(r.type, 'text/event-stream')
      const events = r.body.split('\n\n').filter((e) => e !== '')
      assert.equal(events[0], `data: ${PROGRESS}`)
      const last = JSON.parse(events.at(-1)!.replace(/^data: /, '')) as {id: number; error: {code: number; data: {block_reason: string}}}
      assert.deepEqual([last.id, last.error.code, last.error.data.block_reason], [9, -32004, 'kill_switch_active'])
      assert.ok(await until(async () => mcp.streamsClosed() === closedBefore + 1), 'the upstream stream is closed')
      assert.ok(proxy.stderr().includes('pipelock: response kill switch cut the exchange in flight (source=api)\n'), proxy.stderr())
    } finally {
      const off = await rawHttp(proxy.port, {method: 'POST', path: '/api/v1/killswitch', headers: {authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json'}, body: '{"active":false}'})
      assert.equal(off.status, 200, off.body)
    }
    // Off again: the next call is answered.
    assert.equal(JSON.parse((await mcpPost(url, call(10, 'read_file'), from)).body).result.content[0].text, 'read_file done')
  })

  it('a terminate of the session cuts an open SSE answer and records the terminate, not a reset', async () => {
    const from = '127.0.0.8'
    let streaming!: () => void
    const started = new Promise<void>((r) => (streaming = r))
    const exchange = mcpPost(url, call(11, 'watch'), from, () => streaming())
    await started
    const r = await rawHttp(proxy.port, {method: 'POST', path: `/api/v1/sessions/${from}/terminate`, headers: {authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json'}, body: '{}'})
    assert.equal(r.status, 200, r.body)
    assert.equal((JSON.parse(r.body) as {connections_cut: number}).connections_cut, 1)
    assert.equal((await exchange).body, `data: ${PROGRESS}\n\n` +
      'data: {"jsonrpc":"2.0","id":11,"error":{"code":-32001,"message":"pipelock: session terminated: live stream cut","data":{"block_reason":"airlock_active"}}}\n\n')
    assert.ok(proxy.stderr().includes(`pipelock: live stream cut: session ${from} terminated\n`), proxy.stderr())
  })

  it('a key split across two tool calls from two loopback addresses is refused on the second: one client host, one window; a bound client keeps its own', async () => {
    const withArg = (id: number, note: string): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"read_file","arguments":{"note":"${note}"}}}`
    assert.equal(JSON.parse((await mcpPost(url, withArg(21, 'AKIAZ7QW3E'), '127.0.0.11')).body).result.content[0].text, 'read_file done')
    const second = JSON.parse((await mcpPost(url, withArg(22, 'RT5YUI4OPL'), '127.0.0.12')).body) as {error?: {data?: {block_reason?: string}}}
    assert.equal(second.error?.data?.block_reason, 'cross_request_deny', JSON.stringify(second))
    // 127.0.0.5 is bound to `builder`: its window is its session's, apart from the host's.
    assert.equal(JSON.parse((await mcpPost(url, withArg(23, 'RT5YUI4OPL'), '127.0.0.5')).body).result.content[0].text, 'read_file done')
  })

  it('each cut is one signed receipt (layer airlock, layer kill_switch) in the chain, which verifies', async () => {
    assert.equal(await proxy.stop(), 0)
    const evidence = path.join(dir, 'evidence')
    const records = readdirSync(evidence).filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').split('\n').filter((l) => l.trim() !== ''))
      .map((l) => JSON.parse(l) as {type: string; detail: {action_record?: Record<string, string>}})
      .filter((e) => e.type === 'action_receipt' && e.detail.action_record !== undefined)
      .map((e) => e.detail.action_record!)
    const cuts = records.filter((r) => r.transport === 'mcp_http_listener' && r.layer === 'airlock' && r.target === 'response:1')
    assert.equal(cuts.length, 1, JSON.stringify(records.filter((r) => r.layer === 'airlock')))
    assert.deepEqual([cuts[0]!.verdict, cuts[0]!.pattern], ['block', 'airlock:drain'])
    const terminated = records.filter((r) => r.transport === 'mcp_http_listener' && r.layer === 'airlock' && r.target === 'response:11')
    assert.deepEqual(terminated.map((r) => [r.verdict, r.pattern]), [['block', 'airlock:session_terminated']])
    const switched = records.filter((r) => r.transport === 'mcp_http_listener' && r.layer === 'kill_switch')
    assert.deepEqual(switched.map((r) => [r.verdict, r.target, r.pattern]), [['block', 'response:9', 'kill_switch:api']], JSON.stringify(switched))
    const v = runCli(['verify-receipt', '--chain', evidence, '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)
    assert.equal(JSON.parse(v.stdout).valid, true)
  })
})
