/**
 * `max_concurrent_tool_calls` on `pipelock mcp proxy --upstream URL` (the stdio client's HTTP
 * bridge): a call the upstream fails (HTTP 500, answered -32003 by the bridge) frees its slot; a
 * call the upstream holds keeps it, so the next call is refused with -32600 until the answer
 * comes. Real sockets: a raw stdio client of the bridge process and an upstream server of the
 * test's own.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createServer} from 'node:http'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {test} from 'node:test'
import {repoPath} from '../helpers/vectors.js'
import {tempDir} from './proxy-harness.js'

test('mcp proxy --upstream: an upstream failure frees the call\'s slot; a held call keeps it until answered', {timeout: 60_000}, async () => {
  const held: Array<() => void> = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const m = JSON.parse(body) as {id?: number; params?: {name?: string}}
      if (m.params?.name === 'fail') return void res.writeHead(500).end('boom')
      const reply = (): void => void res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({jsonrpc: '2.0', id: m.id, result: {content: [{type: 'text', text: `done ${m.id}`}]}}))
      if (m.params?.name === 'slow') held.push(reply)
      else reply()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const cfg = path.join(tempDir('pipelock-mcp-budget-'), 'budget.yaml')
  writeFileSync(cfg, 'agents:\n  _default:\n    budget: {max_concurrent_tool_calls: 1}\n')
  const port = (server.address() as {port: number}).port
  const p = spawn(process.execPath, [repoPath('bin/run.js'), 'mcp', 'proxy', '--config', cfg, '--upstream', `http://127.0.0.1:${port}/mcp`], {env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ''}})
  let out = ''
  let err = ''
  p.stdout.on('data', (c: Buffer) => (out += c.toString()))
  p.stderr.on('data', (c: Buffer) => (err += c.toString()))
  const send = (id: number, name: string): boolean => p.stdin.write(JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call', params: {name, arguments: {n: id}}}) + '\n')
  const answer = async (id: number): Promise<string> => {
    const deadline = Date.now() + 20_000
    for (;;) {
      const line = out.split('\n').find((l) => l.startsWith(`{"jsonrpc":"2.0","id":${id},`))
      if (line !== undefined) return line
      assert.ok(Date.now() < deadline && p.exitCode === null, `no answer to ${id}\n${out}\n${err}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }
  try {
    send(1, 'fail')
    assert.equal(await answer(1), '{"jsonrpc":"2.0","id":1,"error":{"code":-32003,"message":"pipelock: upstream error: upstream HTTP request failed"}}')
    send(2, 'slow')
    const deadline = Date.now() + 20_000
    while (held.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    assert.equal(held.length, 1, err)
    send(3, 'echo')
    assert.equal(await answer(3), '{"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"pipelock: concurrent tool call limit exceeded: 2/1 in flight","data":{"block_reason":"data_budget"}}}')
    held.shift()!()
    assert.match(await answer(2), /"text":"done 2"/)
    send(4, 'echo')
    assert.match(await answer(4), /"text":"done 4"/)
    assert.match(err, /pipelock: input: tools\/call "echo" DoW block: concurrent tool call limit exceeded: 2\/1 in flight \(concurrency_limit\)/)
  } finally {
    p.stdin.end()
    await new Promise((resolve) => (p.exitCode !== null ? resolve(null) : p.on('close', resolve)))
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  }
})
