/**
 * `pipelock mcp proxy -- <server>` with a tools/call still waiting on its server (a real stdio MCP
 * server script that holds its answer to `slow` until its next message), through the built CLI:
 * - the kill switch coming on (sentinel file) answers the waiting call at once with the
 *   kill-switch error the gate gives a new call while the switch is on, and says so on stderr;
 * - the session entering airlock hard through the admin API answers it with `-32001 … session in
 *   airlock hard: live stream cut`; a terminate of the wrap's invocation session is refused (400);
 * - the server's late answer to the cut call is dropped: the client sees the answer to its next
 *   call, which the server wrote after it, and not that one;
 * - a client that uses the cut call's id again gets the answer to its new call, whichever of the
 *   two answers the server writes first: the new call goes up under a reissued id (a cancellation
 *   of it too), and its answer comes back with the client's id;
 * - a server that answers the reissued call inside a JSON-RPC batch: the batch is refused, and the
 *   client's call is answered in its stead with its own id; a later cancellation naming that id
 *   goes up as sent;
 * - a late answer inside a batch answers nothing and is dropped as one outside a batch is (said on
 *   stderr): a later call with its id goes up as sent.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {request} from 'undici'
import {liveMcpProxy} from './mcp-drive.js'

/** Holds its answer to tools/call `slow` (saying so on stderr) until its next message, then answers both, in order. */
const SERVER = `
import {createInterface} from 'node:readline'
const held = []
const reply = (id, text) => process.stdout.write(JSON.stringify({jsonrpc: '2.0', id, result: {content: [{type: 'text', text}]}}) + '\\n')
for await (const line of createInterface({input: process.stdin})) {
  const m = JSON.parse(line)
  if (m.id === undefined) continue
  if (m.method === 'initialize') {
    process.stdout.write(JSON.stringify({jsonrpc: '2.0', id: m.id, result: {protocolVersion: '2025-06-18', capabilities: {tools: {}}, serverInfo: {name: 'slow', version: '1'}}}) + '\\n')
    continue
  }
  for (const id of held.splice(0)) reply(id, 'slow done')
  if (m.params?.name === 'slow') {
    held.push(m.id)
    process.stderr.write('holding ' + m.id + '\\n')
    continue
  }
  reply(m.id, m.params?.name + ' done')
}
`

/**
 * Holds every tools/call `slow` (echoing its `tag`); on any other request answers it, then the
 * held calls newest first. Writes each line it receives to stderr.
 */
const LIFO_SERVER = `
import {createInterface} from 'node:readline'
const held = []
const reply = (id, text) => process.stdout.write(JSON.stringify({jsonrpc: '2.0', id, result: {content: [{type: 'text', text}]}}) + '\\n')
for await (const line of createInterface({input: process.stdin})) {
  process.stderr.write('got ' + line + '\\n')
  const m = JSON.parse(line)
  if (m.id === undefined) continue
  if (m.method === 'initialize') {
    process.stdout.write(JSON.stringify({jsonrpc: '2.0', id: m.id, result: {protocolVersion: '2025-06-18', capabilities: {tools: {}}, serverInfo: {name: 'lifo', version: '1'}}}) + '\\n')
    continue
  }
  if (m.params?.name === 'slow') {
    held.push(m)
    continue
  }
  reply(m.id, m.params?.name + ' done')
  for (const h of held.splice(0).reverse()) reply(h.id, 'slow ' + h.params.arguments.tag + ' done')
}
`

/**
 * LIFO_SERVER, but a held call whose tag starts with `batch` is answered inside a JSON-RPC batch,
 * and after a `fifo` call the held calls are answered oldest first.
 */
const BATCH_SERVER = LIFO_SERVER.replace(
  "for (const h of held.splice(0).reverse()) reply(h.id, 'slow ' + h.params.arguments.tag + ' done')",
  `const order = m.params?.name === 'fifo' ? held.splice(0) : held.splice(0).reverse()
  for (const h of order) {
    const r = {jsonrpc: '2.0', id: h.id, result: {content: [{type: 'text', text: 'slow ' + h.params.arguments.tag + ' done'}]}}
    process.stdout.write(JSON.stringify(h.params.arguments.tag.startsWith('batch') ? [r] : r) + '\\n')
  }`,
)

const INIT = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
const call = (id: number, name: string): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{}}}`
const done = (id: number, name: string): string => `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"${name} done"}]}}`

let dir = ''
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-stdio-cut-'))
  writeFileSync(path.join(dir, 'server.mjs'), SERVER)
  writeFileSync(path.join(dir, 'lifo.mjs'), LIFO_SERVER)
  assert.notEqual(BATCH_SERVER, LIFO_SERVER)
  writeFileSync(path.join(dir, 'batch.mjs'), BATCH_SERVER)
})
after(() => rmSync(dir, {recursive: true, force: true}))

/** The wrap over the slow server with `yaml` as its config: its stdin, its stdout lines and stderr, a wait on them. */
function wrap(yaml: string, server = 'server.mjs') {
  return liveMcpProxy(dir, yaml, ['--', process.execPath, path.join(dir, server)])
}

/** The error object of the answer to `id` among `lines`. */
function errorOf(lines: string[], id: number): unknown {
  const l = lines.find((x) => x.startsWith(`{"jsonrpc":"2.0","id":${id},`))
  assert.ok(l !== undefined, lines.join('\n'))
  return (JSON.parse(l) as {error?: unknown}).error
}

/** A slow tools/call `id` the server tags with `tag` in its stderr (lifo.mjs, batch.mjs). */
const tagged = (id: number, tag: string): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"slow","arguments":{"tag":"${tag}"}}}`

/**
 * After initialize: call 2 (`cutTag`) reaches the server and is cut by the kill switch's sentinel
 * (its answer, the switch's error, is the client's second line); the switch is turned off again and
 * id 2 is reused (`reuseTag`) while the server still owes the cut call's answer.
 */
async function cutThenReuse(h: ReturnType<typeof wrap>, sentinel: string, cutTag: string, reuseTag: string): Promise<void> {
  h.send(INIT)
  await h.until(() => h.lines().length === 1)
  h.send(tagged(2, cutTag))
  await h.until(() => h.w.err().includes(`"tag":"${cutTag}"`))
  writeFileSync(sentinel, '')
  await h.until(() => h.lines().length === 2)
  assert.equal((errorOf(h.lines(), 2) as {data: {block_reason: string}}).data.block_reason, 'kill_switch_active')
  rmSync(sentinel)
  h.send(tagged(2, reuseTag))
  await h.until(() => h.w.err().includes(`"tag":"${reuseTag}"`))
}

describe('mcp proxy -- <server>: a call waiting on the server is cut by the kill switch and the airlock', {timeout: 60_000}, () => {
  it('the kill switch: the waiting call gets the gate\'s kill-switch error at once, the late answer is dropped', async () => {
    const sentinel = path.join(dir, 'kill')
    const {w, lines, until, send} = wrap(`kill_switch:\n  sentinel_file: ${sentinel}\n`)
    try {
      send(INIT)
      await until(() => lines().length === 1)
      send(call(2, 'slow'))
      await until(() => w.err().includes('holding 2\n'))
      writeFileSync(sentinel, '')
      await until(() => lines().length === 2)
      assert.ok(w.err().includes('pipelock: response kill switch cut the exchange in flight (source=sentinel)\n'), w.err())
      // A new call while the switch is on gets the gate's answer: the same error.
      send(call(3, 'fast'))
      await until(() => lines().length === 3)
      assert.deepEqual(errorOf(lines(), 2), errorOf(lines(), 3))
      assert.equal((errorOf(lines(), 2) as {data: {block_reason: string}}).data.block_reason, 'kill_switch_active')
      rmSync(sentinel)
      // The server answers the held call first, then this one: only this one reaches the client.
      send(call(4, 'fast'))
      await until(() => lines().length === 4)
      assert.equal(lines()[3], done(4, 'fast'))
      assert.ok(w.err().includes('pipelock: dropped the MCP server\'s late answer to id 2: the call was cut\n'), w.err())
      assert.equal(lines().filter((l) => l.includes('slow done')).length, 0, lines().join('\n'))
    } finally {
      w.p.kill()
    }
  })

  it('airlock hard through the admin API: the waiting call gets -32001 `live stream cut`; a terminate is refused for the invocation session', async () => {
    const token = 'mcp-stdio-cut-token'
    const {w, lines, until, send} = wrap(`session_profiling:\n  enabled: true\nairlock:\n  enabled: true\nkill_switch:\n  api_listen: "127.0.0.1:0"\n  api_token: ${token}\n`)
    const api = async (p: string, body: string) => {
      const addr = /session admin API on (\S+)/.exec(w.err())![1]!
      const r = await request(`http://${addr}/api/v1/sessions/mcp-stdio-1/${p}`, {method: 'POST', headers: {authorization: `Bearer ${token}`}, body})
      return {status: r.statusCode, body: await r.body.text()}
    }
    try {
      await until(() => /session admin API on \S+/.test(w.err()))
      send(INIT)
      await until(() => lines().length === 1)
      send(call(2, 'slow'))
      await until(() => w.err().includes('holding 2\n'))
      // The session API cannot reset or terminate a wrap's invocation session: nothing is cut by it.
      const refused = await api('terminate', '{}')
      assert.deepEqual([refused.status, JSON.parse(refused.body)], [400, {error: 'cannot terminate invocation session; only identity sessions are terminable'}])
      assert.equal(lines().length, 1)
      assert.equal((await api('airlock', '{"tier":"hard"}')).status, 200)
      await until(() => lines().length === 2)
      assert.equal(lines()[1], '{"jsonrpc":"2.0","id":2,"error":{"code":-32001,"message":"pipelock: session in airlock hard: live stream cut","data":{"block_reason":"airlock_active"}}}')
      assert.ok(w.err().includes('pipelock: live stream cut: session mcp-stdio-1 in airlock hard\n'), w.err())
      assert.equal((await api('airlock', '{"tier":"none"}')).status, 200)
      send(call(3, 'fast'))
      await until(() => lines().length === 3)
      assert.equal(lines()[2], done(3, 'fast'))
      assert.ok(w.err().includes('pipelock: dropped the MCP server\'s late answer to id 2: the call was cut\n'), w.err())
    } finally {
      w.p.kill()
    }
  })
  it('a reused id: the new call goes up under a reissued id; its answer, not the late one, reaches the client with the client\'s id', async () => {
    const sentinel = path.join(dir, 'kill-reuse')
    const h = wrap(`kill_switch:\n  sentinel_file: ${sentinel}\n`, 'lifo.mjs')
    const {w, lines, until, send} = h
    try {
      // Id 2 again while the server still owes the cut call's answer: it reaches the server under a
      // reissued id, and so does the client's cancellation naming it; other ids go up as sent.
      await cutThenReuse(h, sentinel, 'a', 'b')
      assert.ok(w.err().includes('got {"jsonrpc":"2.0","id":"pipelock-reissued-1","method":"tools/call","params":{"name":"slow","arguments":{"tag":"b"}}}\n'), w.err())
      send('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"test"}}')
      await until(() => w.err().includes('notifications/cancelled'))
      assert.ok(w.err().includes('got {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"pipelock-reissued-1","reason":"test"}}\n'), w.err())
      // The server answers 3, then the new id-2 call, then the cut one: the client gets 3 and the new call's answer.
      send(call(3, 'fast'))
      await until(() => lines().length === 4 && w.err().includes('late answer to id 2'))
      assert.deepEqual(lines().slice(2), [done(3, 'fast'), '{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"slow b done"}]}}'])
      assert.ok(w.err().includes('got {"jsonrpc":"2.0","id":3,"method":"tools/call"'), w.err())
      assert.ok(w.err().includes('pipelock: dropped the MCP server\'s late answer to id 2: the call was cut\n'), w.err())
      assert.equal(lines().filter((l) => l.includes('slow a done')).length, 0, lines().join('\n'))
      // Nothing is owed any more: id 2 goes up as sent.
      send(tagged(2, 'c'))
      await until(() => w.err().includes('"tag":"c"'))
      assert.ok(w.err().includes('got {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"tag":"c"}}}\n'), w.err())
    } finally {
      w.p.kill()
    }
  })
  it('a reused id answered inside a batch: the client\'s call is answered in its stead with its own id; the late answer answers nothing', async () => {
    const sentinel = path.join(dir, 'kill-reuse-batch')
    const h = wrap(`kill_switch:\n  sentinel_file: ${sentinel}\n`, 'batch.mjs')
    const {w, lines, until, send} = h
    try {
      await cutThenReuse(h, sentinel, 'a', 'batch-b')
      assert.ok(w.err().includes('got {"jsonrpc":"2.0","id":"pipelock-reissued-1","method":"tools/call"'), w.err())
      // The server answers 3, then the new id-2 call inside a batch, then the cut one as a line.
      send(call(3, 'fast'))
      await until(() => lines().length === 4 && w.err().includes('late answer to id 2'))
      assert.deepEqual(lines().slice(2), [
        done(3, 'fast'),
        '{"jsonrpc":"2.0","id":2,"error":{"code":-32003,"message":"pipelock: upstream error: the server answered in a JSON-RPC batch, which MCP does not carry"}}',
      ])
      // The call is over: a cancellation naming id 2 goes up as sent.
      send('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"test"}}')
      await until(() => w.err().includes('notifications/cancelled'))
      assert.ok(w.err().includes('got {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"test"}}\n'), w.err())
      assert.equal(lines().length, 4, lines().join('\n'))
    } finally {
      w.p.kill()
    }
  })

  it('the late answer to a cut call inside a batch answers nothing, though the client\'s new call has its id; it is dropped: a later call with the id goes up as sent', async () => {
    const sentinel = path.join(dir, 'kill-late-batch')
    const h = wrap(`kill_switch:\n  sentinel_file: ${sentinel}\n`, 'batch.mjs')
    const {w, lines, until, send} = h
    try {
      await cutThenReuse(h, sentinel, 'batch-a', 'b')
      // The server answers 3, then the cut call inside a batch while the new id-2 call waits, then the new one.
      send(call(3, 'fifo'))
      await until(() => lines().length === 4)
      assert.deepEqual(lines().slice(2), [done(3, 'fifo'), '{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"slow b done"}]}}'])
      await new Promise((r) => setTimeout(r, 300))
      assert.equal(lines().length, 4, lines().join('\n'))
      // The late answer was read, as one outside a batch is: said once, and nothing is owed any more.
      assert.equal(w.err().split("pipelock: dropped the MCP server's late answer to id 2: the call was cut\n").length, 2, w.err())
      send(tagged(2, 'c'))
      await until(() => w.err().includes('"tag":"c"'))
      assert.ok(w.err().includes('got {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"tag":"c"}}}\n'), w.err())
    } finally {
      w.p.kill()
    }
  })

  it('a batch holding a call is refused by the gate and never reaches the server: nothing of it waits, so the kill switch has nothing of it to cut', async () => {
    const sentinel = path.join(dir, 'kill-batch')
    const {w, lines, until, send} = wrap(`kill_switch:\n  sentinel_file: ${sentinel}\n`)
    try {
      send(INIT)
      await until(() => lines().length === 1)
      send(`[${call(5, 'slow')},${call(6, 'fast')}]`)
      await until(() => lines().length === 2)
      const batchErr = (id: number) => `{"jsonrpc":"2.0","id":${id},"error":{"code":-32600,"message":"pipelock: batch requests are not supported by MCP","data":{"block_reason":"bad_request"}}}`
      assert.equal(lines()[1], `[${batchErr(5)},${batchErr(6)}]`)
      writeFileSync(sentinel, '')
      send(call(7, 'fast'))
      await until(() => lines().length === 3)
      // Only the new call's kill-switch answer: no cut of 5 or 6, which the server never saw.
      assert.equal((errorOf(lines(), 7) as {data: {block_reason: string}}).data.block_reason, 'kill_switch_active')
      await new Promise((r) => setTimeout(r, 600))
      assert.equal(lines().length, 3, lines().join('\n'))
      assert.ok(!w.err().includes('holding 5') && !w.err().includes('cut the exchange in flight'), w.err())
    } finally {
      w.p.kill()
    }
  })
})
