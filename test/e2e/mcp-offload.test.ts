import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {after, before, describe, test} from 'node:test'
import {WebSocketServer, type WebSocket} from 'ws'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {resolveConfig} from '../../src/plugins/config/index.js'
import type {McpDecision} from '../../src/plugins/mcp/index.js'
import {buildMcpRuntime, resolveMcpRuntime, startMcpListener, type McpRuntime, type RunningListener} from '../../src/plugins/mcp-proxy/index.js'
import {startHttpFixture} from '../mcp/fixtures/fixture-tools.js'
import {rejection, wrapMcpProxy} from '../helpers/mcp.js'
import {repoPath} from '../helpers/vectors.js'

// Large MCP messages are scanned on the worker pool (mcp.md §4.7 note 4, §18.4): with real SDK
// clients and real sockets, another session's small call is answered while a multi-MiB call is
// still being scanned, a session's own later message never overtakes its large one, and the built
// CLI forwards or blocks large messages exactly as it does small ones. No timing assertions: the
// tests wait for the pool to report the large job running, then check the order of events.

const WORDS = 'the quick brown fox jumps over the lazy dog while reading the quarterly report aloud '
const prose = (n: number): string => WORDS.repeat(Math.ceil(n / WORDS.length)).slice(0, n)
const SECRET = 'AKIA' + 'QYLPMN5HHHFPZAM2'

/** Yields to the event loop until `cond` holds (bounded by the test timeout, no clock). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r))
}

const textOf = (r: unknown): string => ((r as {content: Array<{text: string}>}).content[0]!.text)

describe('listener: sessions are not stalled by another session\'s large message', {timeout: 300_000}, () => {
  let fixture: Awaited<ReturnType<typeof startHttpFixture>>
  let runtime: McpRuntime
  let listener: RunningListener
  const decisions: McpDecision[] = []
  const clients: Client[] = []

  before(async () => {
    fixture = await startHttpFixture()
    const config = resolveMcpRuntime(resolveConfig({}, {env: {}}).config, 'listener').config
    runtime = buildMcpRuntime(config, {})
    listener = await startMcpListener({listen: '127.0.0.1:0', upstream: fixture.url, config, runtime, recorder: {record: (d) => void decisions.push(d as McpDecision)}, log: () => undefined})
  })
  after(async () => {
    for (const c of clients) await c.close()
    await listener.close()
    runtime.close()
    await fixture.close()
  })

  async function connect(name: string): Promise<Client> {
    const c = new Client({name, version: '1.0.0'}, {capabilities: {}})
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://${listener.address}/mcp`)))
    clients.push(c)
    return c
  }
  const requestIndex = (pred: (d: McpDecision) => boolean): number => decisions.findIndex((d) => d.direction === 'request' && d.method === 'tools/call' && pred(d))
  const isBig = (d: McpDecision): boolean => (d.args as Map<string, unknown> | undefined)?.get('text') !== 'tiny'

  test('session B\'s tiny call is answered while session A\'s 1.5 MiB call is still on the pool', async () => {
    const a = await connect('session-a')
    const b = await connect('session-b')
    const big = prose(1_500_000)
    let aAnswered = false
    const pa = a.callTool({name: 'echo', arguments: {text: big}}, undefined, {timeout: 240_000}).then((r) => {
      aAnswered = true
      return r
    })
    // A's request is in a worker now.
    await until(() => runtime.offload.stats()?.running === 1)
    const rb = await b.callTool({name: 'echo', arguments: {text: 'tiny'}})
    assert.equal(textOf(rb), 'tiny')
    assert.equal(aAnswered, false, 'B was answered while A was still being scanned')
    assert.ok(requestIndex((d) => !isBig(d)) >= 0)
    assert.equal(requestIndex(isBig), -1, 'A\'s request is not decided yet')
    const ra = await pa
    assert.equal(textOf(ra), big, 'A\'s result is forwarded byte for byte')
    // Both directions of A went through the pool.
    assert.ok(runtime.offload.stats()!.started >= 1)
    assert.equal(runtime.offload.stats()!.crashed, 0)
  })

  test('within one session a later small call is decided after the large one before it (lane order)', async () => {
    decisions.length = 0
    const a = await connect('session-c')
    const big = prose(1_000_000)
    const pBig = a.callTool({name: 'echo', arguments: {text: big}}, undefined, {timeout: 240_000})
    await until(() => runtime.offload.stats()?.running === 1)
    let bigDecidedWhenSmallAnswered = false
    const small = await a.callTool({name: 'echo', arguments: {text: 'tiny'}}, undefined, {timeout: 240_000})
    bigDecidedWhenSmallAnswered = requestIndex(isBig) >= 0
    assert.equal(textOf(small), 'tiny')
    assert.ok(bigDecidedWhenSmallAnswered, 'the small call waited for the large one of its session')
    assert.ok(requestIndex(isBig) < requestIndex((d) => !isBig(d)), 'decision order is arrival order')
    assert.equal(textOf(await pBig), big)
  })
})

describe('WebSocket bridge: frames stay in order around the pool', {timeout: 120_000}, () => {
  let wss: WebSocketServer
  let url: string
  before(async () => {
    wss = new WebSocketServer({port: 0, host: '127.0.0.1'})
    wss.on('connection', (sock: WebSocket) => {
      sock.on('message', (data) => {
        const m = JSON.parse(data.toString())
        if (m.id === undefined) return
        // A large result and, right behind it, a small notification.
        sock.send(JSON.stringify({jsonrpc: '2.0', id: m.id, result: {content: [{type: 'text', text: prose(400_000)}]}}))
        sock.send('{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"after"}}')
      })
    })
    await new Promise((r) => wss.once('listening', r))
    url = `ws://127.0.0.1:${(wss.address() as {port: number}).port}/`
  })
  after(async () => {
    for (const c of wss.clients) c.terminate()
    await new Promise((r) => wss.close(r))
  })

  test('a small frame right after a large one reaches the client after it', async () => {
    const p = spawn(process.execPath, [repoPath('bin/run.js'), 'mcp', 'proxy', '--upstream', url], {env: {PATH: process.env.PATH ?? ''}})
    let out = ''
    let err = ''
    p.stdout.on('data', (c: Buffer) => (out += c.toString()))
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    p.stdin.write('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}\n')
    await until(() => out.split('\n').length >= 3 || p.exitCode !== null)
    p.stdin.end()
    await new Promise((r) => p.on('close', r))
    const lines = out.split('\n').filter((l) => l !== '')
    assert.equal(lines.length, 2, err)
    assert.equal(lines[0], JSON.stringify({jsonrpc: '2.0', id: 1, result: {content: [{type: 'text', text: prose(400_000)}]}}))
    assert.equal(lines[1], '{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"after"}}')
  })
})

describe('stdio wrap (built CLI, SDK client and server): large messages through the pool', {timeout: 180_000}, () => {
  test('a clean 300 KiB call round-trips byte for byte; a 300 KiB call with a secret is blocked with the inline error', async () => {
    const w = await wrapMcpProxy(['--', process.execPath, repoPath('dist/test/mcp/fixtures/sdk-server.js')], {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ''}, 'pipelock-offload-e2e')
    try {
      const big = prose(300_000)
      assert.equal(textOf(await w.client.callTool({name: 'echo', arguments: {text: big}}, undefined, {timeout: 120_000})), big)
      const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: `${big} ${SECRET}`}}, undefined, {timeout: 120_000}))
      assert.equal(e.code, -32001)
      assert.match(w.stderr(), /blocked tools\/call request \(AWS Access ID\)/)
    } finally {
      await w.close()
    }
  })
})
