/**
 * `pipelock mcp proxy --upstream ws://…` with a tools/call still waiting on its server (a real `ws`
 * server that holds its answer to `slow` until the next message on the socket), through the built
 * CLI:
 * - the kill switch coming on (sentinel file) answers the waiting call at once with the error the
 *   gate gives a new call while it is on, recorded first; the connection stays, and the server's
 *   late answer is dropped: the client sees the answer to its next call, not that one;
 * - the session entering airlock drain answers the waiting call with `-32001 … live stream cut`
 *   before the WebSocket is closed (1008) and the bridge ends;
 * - a reused id sent under a reissued one that the server answers inside a JSON-RPC batch: the
 *   client's call is answered in its stead with its own id.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {request} from 'undici'
import {WebSocketServer, type WebSocket} from 'ws'
import {liveMcpProxy} from './mcp-drive.js'

const call = (id: number, name: string): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{}}}`
const done = (id: number, name: string): string => `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"${name} done"}]}}`

describe('mcp proxy --upstream ws://: a call waiting on the server is cut by the kill switch and the airlock', {timeout: 60_000}, () => {
  let wss: WebSocketServer
  let url = ''
  let dir = ''
  const held: Array<number | string> = []
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-ws-cut-'))
    wss = new WebSocketServer({port: 0, host: '127.0.0.1', handleProtocols: () => 'mcp'})
    wss.on('connection', (sock: WebSocket) => {
      // Held calls; one whose tag starts with `batch` is answered inside a JSON-RPC batch.
      const mine: Array<{id: number | string; batch: boolean}> = []
      sock.on('message', (data) => {
        const m = JSON.parse(data.toString())
        for (const h of mine.splice(0)) {
          const r = {jsonrpc: '2.0', id: h.id, result: {content: [{type: 'text', text: 'slow done'}]}}
          sock.send(JSON.stringify(h.batch ? [r] : r))
        }
        if (m.params?.name === 'slow') {
          mine.push({id: m.id, batch: String(m.params.arguments?.tag ?? '').startsWith('batch')})
          held.push(m.id)
          return
        }
        sock.send(JSON.stringify({jsonrpc: '2.0', id: m.id, result: {content: [{type: 'text', text: `${m.params?.name} done`}]}}))
      })
    })
    await new Promise((r) => wss.once('listening', r))
    url = `ws://127.0.0.1:${(wss.address() as {port: number}).port}/`
  })
  after(async () => {
    for (const c of wss.clients) c.terminate()
    await new Promise((r) => wss.close(r))
    rmSync(dir, {recursive: true, force: true})
  })

  function bridge(yaml: string) {
    return liveMcpProxy(dir, yaml, ['--upstream', url])
  }

  it('the kill switch: the waiting call gets the kill-switch error at once; the connection stays; the late answer is dropped', async () => {
    const sentinel = path.join(dir, 'kill')
    held.length = 0
    const {w, lines, until, send} = bridge(`kill_switch:\n  sentinel_file: ${sentinel}\n`)
    try {
      send(call(1, 'fast'))
      await until(() => lines().length === 1)
      send(call(2, 'slow'))
      await until(() => held.includes(2))
      writeFileSync(sentinel, '')
      await until(() => lines().length === 2)
      const ksError = '{"jsonrpc":"2.0","id":2,"error":{"code":-32004,"message":"Emergency deny-all active","data":{"block_reason":"kill_switch_active"}}}'
      assert.equal(lines()[1], ksError)
      assert.ok(w.err().includes('pipelock: response kill switch cut the exchange in flight (source=sentinel)\n'), w.err())
      // A new call while the switch is on gets the gate's answer: the same error.
      send(call(3, 'fast'))
      await until(() => lines().length === 3)
      assert.equal(lines()[2], ksError.replace('"id":2', '"id":3'))
      rmSync(sentinel)
      // The server answers the held call first, then this one: only this one reaches the client.
      send(call(4, 'fast'))
      await until(() => lines().length === 4)
      assert.equal(lines()[3], done(4, 'fast'))
      assert.ok(w.err().includes('pipelock: dropped the MCP server\'s late answer to id 2: the call was cut\n'), w.err())
      assert.equal(w.p.exitCode, null, 'the bridge keeps running')
    } finally {
      w.p.kill()
    }
  })

  it('a reused id answered inside a batch: the client\'s call gets the batch refusal with its own id', async () => {
    const sentinel = path.join(dir, 'kill-reuse-batch')
    held.length = 0
    const {w, lines, until, send} = bridge(`kill_switch:\n  sentinel_file: ${sentinel}\n`)
    try {
      send(call(2, 'slow'))
      await until(() => held.includes(2))
      writeFileSync(sentinel, '')
      await until(() => lines().length === 1)
      rmSync(sentinel)
      // Id 2 again: the server answers the cut call (dropped) and holds this one, sent as pipelock's.
      send('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"tag":"batch"}}}')
      await until(() => held.includes('pipelock-reissued-1'))
      // It answers that one inside a batch, then this one.
      send(call(3, 'fast'))
      await until(() => lines().length === 3)
      assert.deepEqual(lines().slice(1), [
        '{"jsonrpc":"2.0","id":2,"error":{"code":-32003,"message":"pipelock: upstream error: the server answered in a JSON-RPC batch, which MCP does not carry"}}',
        done(3, 'fast'),
      ])
      assert.ok(w.err().includes('pipelock: dropped the MCP server\'s late answer to id 2: the call was cut\n'), w.err())
    } finally {
      w.p.kill()
    }
  })

  it('airlock drain: the waiting call gets -32001 `live stream cut` before the WebSocket is closed; exit 1', async () => {
    const token = 'mcp-ws-cut-token'
    held.length = 0
    const {w, lines, until, send} = bridge(`session_profiling:\n  enabled: true\nairlock:\n  enabled: true\nkill_switch:\n  api_listen: "127.0.0.1:0"\n  api_token: ${token}\n`)
    const closed = new Promise<number | null>((resolve) => w.p.on('close', resolve))
    try {
      await until(() => /session admin API on \S+/.test(w.err()))
      send(call(1, 'slow'))
      await until(() => held.includes(1))
      const addr = /session admin API on (\S+)/.exec(w.err())![1]!
      const r = await request(`http://${addr}/api/v1/sessions/mcp-ws-1/airlock`, {method: 'POST', headers: {authorization: `Bearer ${token}`}, body: '{"tier":"drain"}'})
      assert.equal(r.statusCode, 200, await r.body.text())
      assert.equal(await closed, 1)
      assert.deepEqual(lines(), ['{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"pipelock: session in airlock drain: live stream cut","data":{"block_reason":"airlock_active"}}}'])
      // One cut, named once: the call's Decision (no second one for the connection).
      assert.equal(w.err().split('live stream cut: session mcp-ws-1 in airlock drain\n').length, 2, w.err())
      assert.match(w.err(), /upstream: connection cut: session mcp-ws-1 in airlock drain \[MCP_STREAM_FAILED\]\n$/)
    } finally {
      w.p.kill()
    }
  })
})
