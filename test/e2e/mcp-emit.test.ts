/**
 * Event emission from `pipelock mcp proxy` (operations.md §3, mcp.md §15.7): the tool-call
 * Decisions reach the run's emitters through the one audit sink. A stdio wrap with a webhook and a
 * UDP syslog sink blocks a tools/call carrying a secret: the webhook receives one `blocked` event
 * (severity warn) whose fields name the tool-call subject and never the secret, the syslog
 * receiver gets the same event as a line, and the wrap drains both before it exits.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import dgram from 'node:dgram'
import {writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, test} from 'node:test'
import {repoPath} from '../helpers/vectors.js'
import {tempDir} from './proxy-harness.js'

const RAW = repoPath('test/mcp/fixtures/raw-server.mjs')
const BIN = repoPath('bin/run.js')
const SECRET = 'AKIA' + 'QYLPMN5HHHFPZAM2'

const cleanups: Array<() => Promise<unknown>> = []
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined)
})

async function webhook(): Promise<{url: string; bodies: string[]}> {
  const bodies: string[] = []
  const s = http.createServer((req, res) => {
    let b = ''
    req.on('data', (c: Buffer) => (b += c.toString('utf8')))
    req.on('end', () => {
      bodies.push(b)
      res.end()
    })
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  cleanups.push(async () => {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  })
  return {url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`, bodies}
}

async function syslog(): Promise<{address: string; lines: string[]}> {
  const lines: string[] = []
  const s = dgram.createSocket('udp4')
  s.on('message', (m) => void lines.push(m.toString('utf8')))
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r))
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())))
  return {address: `udp://127.0.0.1:${s.address().port}`, lines}
}

/** Runs the wrap to completion (asynchronously: the receivers live in this process). */
function wrap(config: string, input: string): Promise<{status: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, 'mcp', 'proxy', '--config', config, '--', process.execPath, RAW, 'echo'], {env: {PATH: process.env.PATH, HOME: process.env.HOME}})
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')))
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    p.on('close', (status) => resolve({status, stdout, stderr}))
    p.stdin.end(input)
  })
}

test('mcp proxy: a blocked tools/call is emitted to the webhook and syslog sinks with the tool-call subject', async () => {
  const hook = await webhook()
  const sys = await syslog()
  const dir = tempDir('pl-mcp-emit-')
  const config = path.join(dir, 'pipelock.yaml')
  writeFileSync(config, `emit:\n  instance_id: wrap-test\n  webhook: {url: "${hook.url}"}\n  syslog: {address: "${sys.address}"}\n`)
  const call = (id: number, text: string): string => JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call', params: {name: 'echo', arguments: {text}}}) + '\n'
  const r = await wrap(config, call(1, 'hello') + call(2, `key ${SECRET}`))
  assert.equal(r.status, 0, r.stderr)
  assert.ok(r.stderr.includes('pipelock: emit: webhook, syslog (instance wrap-test)\n'), r.stderr)
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as {id: number; error?: {data?: {block_reason?: string}}})
  // The block is answered by the wrap at once, the clean call by the server later: order by id.
  assert.deepEqual(out.map((m) => [m.id, m.error?.data?.block_reason ?? null]).sort(([a], [b]) => Number(a) - Number(b)), [[1, null], [2, 'dlp_match']])

  // Drained before exit: exactly the one block (the clean call is `allowed`, off by default).
  assert.equal(hook.bodies.length, 1, hook.bodies.join('\n'))
  const ev = JSON.parse(hook.bodies[0]!) as {severity: string; type: string; pipelock_instance: string; fields: Record<string, unknown>}
  assert.deepEqual([ev.severity, ev.type, ev.pipelock_instance], ['warn', 'blocked', 'wrap-test'])
  assert.deepEqual(ev.fields, {
    method: 'MCP', resource: 'echo', transport: 'mcp_stdio', scanner: 'mcp_input_scanning', reason: 'dlp_match', direction: 'request', pattern: 'AWS Access ID',
  })
  assert.equal(sys.lines.length, 1, sys.lines.join('\n'))
  // <PRI> = local0 (16) * 8 + warning (4); the message is the webhook's document of the same event.
  const line = /^<132>\S+ \S+ pipelock\[\d+\]: (.*)\n$/.exec(sys.lines[0]!)
  assert.ok(line !== null, sys.lines[0])
  assert.deepEqual(JSON.parse(line[1]!), ev)
  for (const text of [...hook.bodies, ...sys.lines]) assert.ok(!text.includes(SECRET), 'no secret in an emitted event')
})
