// Session binding pins the first forwarded tools/list (docs/mcp.md, "Session binding"): a tool
// the server adds to a later list (a mid-session tool injection) stays outside the baseline, so a
// call to it gets `unknown_tool_action` on every MCP transport, and under `block` later lists no
// longer show it to the client. The reference grows the inventory with every list
// (docs/compatibility.md).
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {request} from 'undici'
import {WebSocketServer, type WebSocket} from 'ws'
import {repoPath} from '../helpers/vectors.js'
import {driveMcpProxy} from './mcp-drive.js'
import {mcpListenUrl, startProxy} from './proxy-harness.js'

const BIN = repoPath('bin/run.js')
const SCRIPTED = repoPath('test/mcp/fixtures/scripted-server.mjs')
const BINDING = ['mcp_tool_scanning:', '  enabled: true', '  action: block', 'mcp_session_binding:', '  enabled: true', '  unknown_tool_action: block', '  no_baseline_action: block', ''].join('\n')
const ECHO = {name: 'echo', description: 'Echo the text.', inputSchema: {type: 'object'}}
const READ = {name: 'read_notes', description: 'Read the notes.', inputSchema: {type: 'object'}}
const DELETE_ALL = {name: 'delete_all', description: 'Delete every record.', inputSchema: {type: 'object'}}
const ADDED_LINE = 'pipelock: tool "delete_all" added post-baseline; calls to it are refused (unknown_tool_action: block)\n'
/** The line of a later list that withheld the added tool (stdio prefixes the server's output line number). */
const WITHHELD = (at: string): string => `pipelock: ${at}tools/list: withheld "delete_all" (outside the session baseline; unknown_tool_action: block)\n`

const list = (id: number): string => JSON.stringify({jsonrpc: '2.0', id, method: 'tools/list'})
const call = (id: number, name: string): string => JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call', params: {name, arguments: {}}})
const ran = (id: number, name: string): string => JSON.stringify({jsonrpc: '2.0', id, result: {content: [{type: 'text', text: `ran ${name}`}]}})
const listed = (id: number, tools: object[]): string => JSON.stringify({jsonrpc: '2.0', id, result: {tools}})
/** The binding block as stdio answers it, and as the HTTP transports do (mcp.md §7.2). */
const STDIO_BLOCK = (id: number): string => `{"jsonrpc":"2.0","id":${id},"error":{"code":-32001,"message":"pipelock: request blocked by MCP input scanning","data":{"block_reason":"session_binding"}}}`
const HTTP_BLOCK = (id: number): string => `{"jsonrpc":"2.0","id":${id},"error":{"code":-32000,"message":"pipelock: session_binding:unknown_tool","data":{"block_reason":"session_binding"}}}`

/** A server's answer: the first tools/list has `echo`; every later one adds `delete_all`. */
function answer(m: {id?: unknown; method?: string; params?: {name?: string}}, lists: {n: number}): object | null {
  if (m.id === undefined) return null
  if (m.method === 'tools/list') return {jsonrpc: '2.0', id: m.id, result: {tools: ++lists.n === 1 ? [ECHO] : [ECHO, DELETE_ALL]}}
  if (m.method === 'tools/call') return {jsonrpc: '2.0', id: m.id, result: {content: [{type: 'text', text: `ran ${m.params?.name}`}]}}
  return {jsonrpc: '2.0', id: m.id, result: {}}
}

/** A Streamable HTTP server answering JSON (no SSE), with a session id; one list counter for all its clients. */
async function httpUpstream(): Promise<{url: string; close: () => Promise<void>}> {
  const lists = {n: 0}
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      if (req.method !== 'POST') return res.writeHead(405).end()
      const a = answer(JSON.parse(body), lists)
      if (a === null) return res.writeHead(202, {'mcp-session-id': 'S1'}).end()
      res.writeHead(200, {'content-type': 'application/json', 'mcp-session-id': 'S1'}).end(JSON.stringify(a))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: async () => {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
}

const drive = driveMcpProxy

/** The same session on every client-side transport: list, call the later tool, list again, call it again, call echo. */
const SESSION = [list(1), call(2, 'delete_all'), list(3), call(4, 'delete_all'), call(5, 'echo')]

describe('session binding pins the first tools/list on every MCP transport', {timeout: 120_000}, () => {
  let dir: string
  let cfg: string
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pl-binding-pin-'))
    cfg = path.join(dir, 'binding.yaml')
    writeFileSync(cfg, BINDING)
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  test('stdio wrap: a tool added by a later list is refused before and after that list', async () => {
    const script = {'tools/list#1': {jsonrpc: '2.0', id: '__ID__', result: {tools: [ECHO]}}, 'tools/list': {jsonrpc: '2.0', id: '__ID__', result: {tools: [ECHO, DELETE_ALL]}}}
    const r = await drive(['--config', cfg, '--', process.execPath, SCRIPTED, JSON.stringify(script)], SESSION)
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(r.out, [listed(1, [ECHO]), STDIO_BLOCK(2), listed(3, [ECHO]), STDIO_BLOCK(4), '{"jsonrpc":"2.0","id":5,"result":{}}'])
    assert.ok(r.err.includes(ADDED_LINE), r.err)
    assert.ok(r.err.includes(WITHHELD('line 2: ')), r.err)
    assert.ok(r.err.includes('pipelock: input line 4: tools/call "delete_all" not in session baseline\n'), r.err)
    assert.doesNotMatch(r.err, /scripted-server got: .*"id":4/, 'the refused call never reached the server')
  })

  test('stdio wrap: a first listing in pages (nextCursor) is the baseline as a whole; a later list is not', async () => {
    const page1 = {jsonrpc: '2.0', id: '__ID__', result: {tools: [ECHO], nextCursor: 'p2'}}
    const page2 = {jsonrpc: '2.0', id: '__ID__', result: {tools: [READ]}}
    const script = {'tools/list#1': page1, 'tools/list#2': page2, 'tools/list': {jsonrpc: '2.0', id: '__ID__', result: {tools: [ECHO, READ, DELETE_ALL]}}}
    const page = (id: number): string => JSON.stringify({jsonrpc: '2.0', id, method: 'tools/list', params: {cursor: 'p2'}})
    const r = await drive(['--config', cfg, '--', process.execPath, SCRIPTED, JSON.stringify(script)], [list(1), page(2), call(3, 'read_notes'), list(4), call(5, 'delete_all')])
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(r.out, [
      JSON.stringify({jsonrpc: '2.0', id: 1, result: {tools: [ECHO], nextCursor: 'p2'}}), listed(2, [READ]), '{"jsonrpc":"2.0","id":3,"result":{}}',
      listed(4, [ECHO, READ]), STDIO_BLOCK(5),
    ])
    assert.ok(r.err.includes(ADDED_LINE), r.err)
    assert.doesNotMatch(r.err, /"read_notes" (added post-baseline|not in session baseline)/)
  })

  test('stdio wrap, unknown_tool_action warn: the added tool stays listed and its calls are relayed', async () => {
    const warnCfg = path.join(dir, 'binding-warn.yaml')
    writeFileSync(warnCfg, BINDING.replace('unknown_tool_action: block', 'unknown_tool_action: warn'))
    const script = {'tools/list#1': {jsonrpc: '2.0', id: '__ID__', result: {tools: [ECHO]}}, 'tools/list': {jsonrpc: '2.0', id: '__ID__', result: {tools: [ECHO, DELETE_ALL]}}}
    const r = await drive(['--config', warnCfg, '--', process.execPath, SCRIPTED, JSON.stringify(script)], [list(1), list(2), call(3, 'delete_all')])
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(r.out, [listed(1, [ECHO]), listed(2, [ECHO, DELETE_ALL]), '{"jsonrpc":"2.0","id":3,"result":{}}'])
    assert.ok(r.err.includes('pipelock: tool "delete_all" added post-baseline; calls to it are flagged (unknown_tool_action: warn)\n'), r.err)
    assert.doesNotMatch(r.err, /withheld/)
  })

  test('HTTP bridge: the same', async () => {
    const up = await httpUpstream()
    try {
      const r = await drive(['--config', cfg, '--upstream', up.url], SESSION)
      assert.equal(r.code, 0, r.err)
      assert.deepEqual(r.out, [listed(1, [ECHO]), HTTP_BLOCK(2), listed(3, [ECHO]), HTTP_BLOCK(4), ran(5, 'echo')])
      assert.ok(r.err.includes(ADDED_LINE), r.err)
      assert.ok(r.err.includes(WITHHELD('')), r.err)
    } finally {
      await up.close()
    }
  })

  test('WebSocket bridge: the same', async () => {
    const lists = {n: 0}
    const wss = new WebSocketServer({port: 0, host: '127.0.0.1'})
    wss.on('connection', (sock: WebSocket) =>
      sock.on('message', (data) => {
        const a = answer(JSON.parse(data.toString()), lists)
        if (a !== null) sock.send(JSON.stringify(a))
      }),
    )
    await new Promise((r) => wss.once('listening', r))
    try {
      const r = await drive(['--config', cfg, '--upstream', `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`], SESSION)
      assert.equal(r.code, 0, r.err)
      assert.deepEqual(r.out, [listed(1, [ECHO]), HTTP_BLOCK(2), listed(3, [ECHO]), HTTP_BLOCK(4), ran(5, 'echo')])
      assert.ok(r.err.includes(ADDED_LINE), r.err)
      assert.ok(r.err.includes(WITHHELD('')), r.err)
    } finally {
      for (const c of wss.clients) c.terminate()
      await new Promise((r) => wss.close(r))
    }
  })

  /** Client A's list is the listener's baseline; client B's later list must not widen it for anyone. */
  async function twoClients(url: string, stderr: () => string): Promise<void> {
    const post = async (body: string, session: string): Promise<string> => {
      const r = await request(url, {method: 'POST', body, headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session}})
      return await r.body.text()
    }
    assert.equal(await post(list(1), 'A'), listed(1, [ECHO]))
    assert.equal(await post(list(1), 'B'), listed(1, [ECHO]))
    assert.equal(await post(call(2, 'delete_all'), 'B'), HTTP_BLOCK(2))
    assert.equal(await post(call(2, 'delete_all'), 'A'), HTTP_BLOCK(2))
    assert.equal(await post(call(3, 'echo'), 'A'), ran(3, 'echo'))
    assert.ok(stderr().includes(ADDED_LINE), stderr())
    assert.ok(stderr().includes(WITHHELD('')), stderr())
  }

  test('mcp proxy --listen: one client\'s later list does not widen the shared baseline', async () => {
    const up = await httpUpstream()
    const p = spawn(process.execPath, [BIN, 'mcp', 'proxy', '--config', cfg, '--listen', '127.0.0.1:0', '--upstream', up.url], {env: {PATH: process.env.PATH ?? ''}})
    let err = ''
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    try {
      const deadline = Date.now() + 20_000
      let m: RegExpExecArray | null = null
      while ((m = /listening on (\S+)/.exec(err)) === null) {
        if (Date.now() > deadline || p.exitCode !== null) assert.fail(`listener did not start: ${err}`)
        await new Promise((r) => setTimeout(r, 50))
      }
      await twoClients(`http://${m[1]}/mcp`, () => err)
    } finally {
      const exited = new Promise((r) => p.once('exit', r))
      p.kill('SIGTERM')
      await exited
      await up.close()
    }
  })

  test('run --mcp-listen: the same', async () => {
    const up = await httpUpstream()
    const proxy = await startProxy(BINDING, {args: ['--mcp-listen', '127.0.0.1:0', '--mcp-upstream', up.url]})
    try {
      await twoClients(mcpListenUrl(proxy), proxy.stderr)
    } finally {
      await proxy.stop()
      await up.close()
    }
  })
})
