/**
 * `pipelock mcp proxy --upstream http://…` with a tools/call whose answer the server holds open (a
 * real HTTP server that answers `slow` with SSE headers and no event), through the built CLI:
 * - the kill switch coming on (sentinel file) answers the waiting call at once with the error the
 *   gate gives a new call while it is on, recorded first, and aborts its POST; the bridge goes on;
 * - the session entering airlock hard answers it with `-32001 … live stream cut` and aborts it;
 * - SIGTERM ends the bridge while its client's stdin is still open;
 * - a call held behind an `initialize` whose answer the server delays, cut there, is answered by
 *   the cut and its POST is never sent;
 * - a call sent under a reissued id whose POST fails is over: a cancellation naming the client's id
 *   goes up as sent, not under the reissued id.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {request} from 'undici'
import {liveMcpProxy} from './mcp-drive.js'

const call = (id: number, name: string): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{}}}`
const done = (id: number, name: string): string => `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"${name} done"}]}}`

describe('mcp proxy --upstream http://: a POST whose SSE answer the server holds open is cut by the kill switch and the airlock', {timeout: 60_000}, () => {
  let server: http.Server
  let url = ''
  let dir = ''
  /** Ids of the held calls, and of those whose POST the bridge closed. */
  const held: number[] = []
  const aborted: number[] = []
  /** The id of every POST the server received, in order. */
  const received: Array<number | string> = []
  /** Every POST body the server received. */
  const bodies: string[] = []
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-http-cut-'))
    server = http.createServer((req, res) => {
      if (req.method !== 'POST') return void res.writeHead(405).end()
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        const m = JSON.parse(body)
        received.push(m.id)
        bodies.push(body)
        if (m.id === undefined) return void res.writeHead(202).end()
        // Accepted: its answer would come on the GET stream (none is opened: no session id).
        if (m.params?.name === 'queued') return void res.writeHead(202).end()
        if (m.params?.name === 'fail') return void res.writeHead(500).end('broken')
        // The answer to initialize (and the session id it issues) is delayed until the bridge gives up.
        if (m.method === 'initialize') return void res.on('close', () => aborted.push(m.id))
        if (m.params?.name === 'slow') {
          held.push(m.id)
          res.on('close', () => aborted.push(m.id))
          res.writeHead(200, {'content-type': 'text/event-stream'})
          res.flushHeaders()
          return
        }
        res.writeHead(200, {'content-type': 'application/json'}).end(done(m.id, m.params?.name))
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as {port: number}).port}/mcp`
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
    rmSync(dir, {recursive: true, force: true})
  })

  function bridge(yaml: string) {
    return liveMcpProxy(dir, yaml, ['--upstream', url])
  }

  it('the kill switch: the held call gets the kill-switch error at once and its POST is aborted; the bridge goes on', async () => {
    const sentinel = path.join(dir, 'kill')
    held.length = 0
    aborted.length = 0
    const {w, lines, until, send} = bridge(`kill_switch:\n  sentinel_file: ${sentinel}\n`)
    try {
      send(call(1, 'slow'))
      await until(() => held.includes(1))
      writeFileSync(sentinel, '')
      await until(() => lines().length === 1)
      assert.equal(lines()[0], '{"jsonrpc":"2.0","id":1,"error":{"code":-32004,"message":"Emergency deny-all active","data":{"block_reason":"kill_switch_active"}}}')
      assert.ok(w.err().includes('pipelock: response kill switch cut the exchange in flight (source=sentinel)\n'), w.err())
      await until(() => aborted.includes(1))
      rmSync(sentinel)
      send(call(2, 'fast'))
      await until(() => lines().length === 2)
      assert.equal(lines()[1], done(2, 'fast'))
      assert.ok(!w.err().includes('upstream error'), w.err())
      assert.equal(w.p.exitCode, null, 'the bridge keeps running')
      // A stop signal ends it, though its stdin is still open.
      w.p.kill('SIGTERM')
      await until(() => w.p.exitCode !== null || w.p.signalCode !== null)
    } finally {
      w.p.kill()
    }
  })

  it('a cut call whose POST was aborted is not awaited any more: the client\'s next call with its id goes upstream under that id, not one of pipelock\'s', async () => {
    const sentinel = path.join(dir, 'kill-reuse')
    held.length = 0
    aborted.length = 0
    received.length = 0
    const {w, lines, until, send} = bridge(`kill_switch:\n  sentinel_file: ${sentinel}\n`)
    try {
      send(call(7, 'slow'))
      await until(() => held.includes(7))
      writeFileSync(sentinel, '')
      await until(() => lines().length === 1)
      await until(() => aborted.includes(7))
      rmSync(sentinel)
      // The aborted POST can carry no late answer to call 7, so a new call 7 is the server's
      // call 7 (it was sent as "pipelock-reissued-1", as if an answer were still owed).
      send(call(7, 'fast'))
      await until(() => lines().length === 2)
      assert.equal(lines()[1], done(7, 'fast'))
      assert.deepEqual(received, [7, 7])
    } finally {
      w.p.kill()
    }
  })

  it('a reissued call whose POST failed is over: a cancellation naming its id goes up as sent', async () => {
    const sentinel = path.join(dir, 'kill-reissued-fail')
    bodies.length = 0
    const {w, lines, until, send} = bridge(`kill_switch:\n  sentinel_file: ${sentinel}\n`)
    try {
      // Accepted (202): the answer to call 8 is still owed when the kill switch cuts it.
      send(call(8, 'queued'))
      await until(() => bodies.some((b) => b.includes('"queued"')))
      writeFileSync(sentinel, '')
      await until(() => lines().length === 1)
      rmSync(sentinel)
      // Id 8 again goes up under a reissued id; its POST fails (500), which answers it.
      send(call(8, 'fail'))
      await until(() => lines().length === 2)
      assert.ok(bodies.some((b) => b.includes('"id":"pipelock-reissued-1"')), bodies.join('\n'))
      assert.equal(lines()[1], '{"jsonrpc":"2.0","id":8,"error":{"code":-32003,"message":"pipelock: upstream error: upstream HTTP request failed"}}')
      send('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8,"reason":"test"}}')
      await until(() => bodies.some((b) => b.includes('notifications/cancelled')))
      assert.equal(bodies.at(-1), '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8,"reason":"test"}}')
    } finally {
      w.p.kill()
    }
  })

  it('a call held behind a delayed initialize answer: the kill switch answers it and its POST is never sent', async () => {
    const sentinel = path.join(dir, 'kill-held')
    held.length = 0
    aborted.length = 0
    received.length = 0
    const {w, lines, until, send} = bridge(`kill_switch:\n  sentinel_file: ${sentinel}\n`)
    const deny = (id: number): string => `{"jsonrpc":"2.0","id":${id},"error":{"code":-32004,"message":"Emergency deny-all active","data":{"block_reason":"kill_switch_active"}}}`
    try {
      send('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}')
      await until(() => received.includes(1))
      // Decided and forwarded, but held until initialize has its answer's headers. The client's
      // lines are decided in order: once the gate logs the line after it, call 2 is in the queue.
      send(call(2, 'fast'))
      send('not json')
      await until(() => w.err().includes('pipelock: blocked notification (no response sent): invalid JSON'))
      assert.deepEqual(received, [1])
      writeFileSync(sentinel, '')
      await until(() => lines().length === 2)
      assert.deepEqual(lines(), [deny(1), deny(2)])
      await until(() => aborted.includes(1))
      rmSync(sentinel)
      // A later call goes out (and is answered); the cut one never did.
      send(call(3, 'fast'))
      await until(() => lines().length === 3)
      assert.equal(lines()[2], done(3, 'fast'))
      assert.deepEqual(received, [1, 3])
      assert.ok(!w.err().includes('upstream error'), w.err())
    } finally {
      w.p.kill()
    }
  })

  it('airlock hard through the admin API: the held call gets -32001 `live stream cut` and its POST is aborted', async () => {
    const token = 'mcp-http-cut-token'
    held.length = 0
    aborted.length = 0
    const {w, lines, until, send} = bridge(`session_profiling:\n  enabled: true\nairlock:\n  enabled: true\nkill_switch:\n  api_listen: "127.0.0.1:0"\n  api_token: ${token}\n`)
    const api = async (body: string) => {
      const addr = /session admin API on (\S+)/.exec(w.err())![1]!
      const r = await request(`http://${addr}/api/v1/sessions/mcp-http-1/airlock`, {method: 'POST', headers: {authorization: `Bearer ${token}`}, body})
      return r.statusCode
    }
    try {
      await until(() => /session admin API on \S+/.test(w.err()))
      send(call(1, 'slow'))
      await until(() => held.includes(1))
      assert.equal(await api('{"tier":"hard"}'), 200)
      await until(() => lines().length === 1)
      assert.equal(lines()[0], '{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"pipelock: session in airlock hard: live stream cut","data":{"block_reason":"airlock_active"}}}')
      assert.ok(w.err().includes('pipelock: live stream cut: session mcp-http-1 in airlock hard\n'), w.err())
      await until(() => aborted.includes(1))
      assert.equal(await api('{"tier":"none"}'), 200)
      send(call(2, 'fast'))
      await until(() => lines().length === 2)
      assert.equal(lines()[1], done(2, 'fast'))
    } finally {
      w.p.kill()
    }
  })
})
