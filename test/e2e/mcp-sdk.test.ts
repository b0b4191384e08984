import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {CreateMessageRequestSchema} from '@modelcontextprotocol/sdk/types.js'
import {eventually, rejection} from '../helpers/mcp.js'
import {repoPath} from '../helpers/vectors.js'

// The official MCP SDK client through `pipelock mcp proxy` against an SDK fixture server (spec
// mcp.md §18.1–§18.3, stdio column): wire results and exact JSON-RPC errors.

const BIN = repoPath('bin/run.js')
const FIXTURE = repoPath('dist/test/mcp/fixtures/sdk-server.js')

interface Wrapped {
  client: Client
  stderr: () => string
  close: () => Promise<void>
}

async function connect(command: string, args: string[], opts: {config?: string; sampling?: boolean} = {}): Promise<Wrapped> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', 'proxy', ...(opts.config ? ['--config', opts.config] : []), '--', command, ...args],
    env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ''},
    stderr: 'pipe',
  })
  let err = ''
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString()))
  const client = new Client({name: 'pipelock-e2e', version: '1.0.0'}, {capabilities: opts.sampling ? {sampling: {}} : {}})
  if (opts.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({model: 'fixture-model', role: 'assistant', content: {type: 'text', text: 'hi there'}}))
  }
  await client.connect(transport)
  return {client, stderr: () => err, close: () => client.close()}
}



describe('SDK client → pipelock mcp proxy → SDK server (defaults + auto-enable)', {timeout: 90_000}, () => {
  let w: Wrapped
  before(async () => {
    w = await connect(process.execPath, [FIXTURE], {sampling: true})
  })
  after(async () => {
    await w.close()
  })

  test('initialize passes; tools/list with the poisoned tool is blocked (tool scanning blocks by default)', async () => {
    const e = await rejection(w.client.listTools())
    assert.equal(e.message, 'MCP error -32000: pipelock: tool poisoning detected in tools/list')
    await eventually(w.stderr, /pipelock: line \d+: tool "poisoned": .*Instruction Tag/)
  })

  test('clean tools/call round trip', async () => {
    const r = await w.client.callTool({name: 'echo', arguments: {text: 'hello'}})
    assert.deepEqual(r.content, [{type: 'text', text: 'hello'}])
  })

  test('secret in arguments: -32001 with data.block_reason dlp_match', async () => {
    const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: 'AKIA' + 'QYLPMN5HHHFPZAM2'}}))
    assert.equal(e.code, -32001)
    assert.equal(e.message, 'MCP error -32001: pipelock: request blocked by MCP input scanning')
    assert.deepEqual(e.data, {block_reason: 'dlp_match'})
  })

  test('secret cut in three or more arguments: -32001 whatever the key order', async () => {
    // AKIA | QYLPMN5H | HHFPZAM2: no two pieces form the key, only all three in order.
    const cases: Array<Record<string, string>> = [
      {z: 'AKIA', m: 'QYLPMN5H', a: 'HHFPZAM2'}, // keys in reverse order: the sorted walk reads it backwards
      {z: 'AKIA', a: 'QYLPMN5H', m: 'HHFPZAM2', f: 'note, text'}, // in order only as sent
      {e: 'AKIA', d: 'QYLP', c: 'MN5H', b: 'HHFP', a: 'ZAM2'}, // five pieces
    ]
    for (const args of cases) {
      const e = await rejection(w.client.callTool({name: 'echo', arguments: args}))
      assert.equal(e.code, -32001, JSON.stringify(Object.keys(args)))
      assert.deepEqual(e.data, {block_reason: 'dlp_match'})
    }
    const ok = await w.client.callTool({name: 'echo', arguments: {text: 'see', m: 'the quarterly', a: 'sales report'}})
    assert.deepEqual(ok.content, [{type: 'text', text: 'see'}])
  })

  test('tool policy: rm -rf / and its obfuscations are blocked with -32002', async () => {
    for (const command of ['rm -rf /', 'rm${IFS}-rf /', '{rm,-rf,/}', 'x=rm;$x -rf /']) {
      const e = await rejection(w.client.callTool({name: 'bash', arguments: {command}}))
      assert.equal(e.code, -32002, command)
      assert.deepEqual(e.data, {block_reason: 'tool_policy_deny'})
    }
    const ok = await w.client.callTool({name: 'bash', arguments: {command: 'ls -la'}})
    assert.deepEqual(ok.content, [{type: 'text', text: 'bash {"command":"ls -la"}'}])
  })

  test('injection in a tool result: blocked by default (-32000), with a log line', async () => {
    const e = await rejection(w.client.callTool({name: 'inject', arguments: {}}))
    assert.equal(e.message, 'MCP error -32000: pipelock: prompt injection detected in MCP response')
    await eventually(w.stderr, /injection detected \(Prompt Injection, System Prompt Disclosure\), action=block/)
  })

  test('audio result: media policy blocks it (-32002)', async () => {
    const e = await rejection(w.client.callTool({name: 'audio', arguments: {}}))
    assert.equal(e.code, -32002)
    assert.equal(e.message, 'MCP error -32002: pipelock: media policy blocked MCP response: media_policy: audio stripped')
  })

  test('sampling during a call: the server→client request and its answer pass both ways', async () => {
    const r = await w.client.callTool({name: 'sample', arguments: {}})
    assert.deepEqual(r.content, [{type: 'text', text: 'model said: hi there'}])
  })
})

describe('SDK: strict-style config (block everywhere)', {timeout: 90_000}, () => {
  let dir: string
  let w: Wrapped
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-sdk-'))
    const cfg = path.join(dir, 'pipelock.yaml')
    writeFileSync(cfg, [
      'response_scanning:', '  enabled: true', '  action: block',
      'mcp_tool_scanning:', '  enabled: true', '  action: block', '  detect_drift: true',
      'mcp_session_binding:', '  enabled: true', '  unknown_tool_action: block', '  no_baseline_action: block',
      '',
    ].join('\n'))
    w = await connect(process.execPath, [FIXTURE], {config: cfg})
  })
  after(async () => {
    await w.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('tools/list with a poisoned tool is blocked; calls before any forwarded list are unbound', async () => {
    const e = await rejection(w.client.listTools())
    assert.equal(e.code, -32000)
    assert.equal(e.message, 'MCP error -32000: pipelock: tool poisoning detected in tools/list')
    const b = await rejection(w.client.callTool({name: 'echo', arguments: {text: 'x'}}))
    assert.equal(b.code, -32001)
    assert.deepEqual(b.data, {block_reason: 'session_binding'})
  })

  test('a blocked (poisoned) list seeds no inventory (Q6 fix): every tool stays unbound', async () => {
    await rejection(w.client.listTools())
    for (const name of ['inject', 'poisoned']) {
      const e = await rejection(w.client.callTool({name, arguments: {}}))
      assert.equal(e.code, -32001, name)
      assert.deepEqual(e.data, {block_reason: 'session_binding'})
    }
    await eventually(w.stderr, /tools\/call "poisoned" before baseline established/)
  })
})

describe('SDK: response block and rug-pull (no binding)', {timeout: 90_000}, () => {
  let dir: string
  let w: Wrapped
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-sdk-'))
    const cfg = path.join(dir, 'pipelock.yaml')
    writeFileSync(cfg, ['response_scanning:', '  enabled: true', '  action: block', 'mcp_tool_scanning:', '  enabled: true', '  action: warn', '  detect_drift: true', ''].join('\n'))
    w = await connect(process.execPath, [FIXTURE], {config: cfg})
  })
  after(async () => {
    await w.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('injection in content, structuredContent and embedded resources is blocked', async () => {
    await w.client.listTools()
    for (const name of ['inject', 'structured', 'embedded']) {
      const e = await rejection(w.client.callTool({name, arguments: {}}))
      assert.equal(e.code, -32000, name)
      assert.equal(e.message, 'MCP error -32000: pipelock: prompt injection detected in MCP response')
    }
  })

  test('rug-pull: the changed definition is reported as drift on every later list (Q5 fix)', async () => {
    await w.client.callTool({name: 'rugpull', arguments: {a: 1, b: 2}})
    await w.client.listTools()
    await w.client.listTools()
    await eventually(w.stderr, /tool "rugpull": .*definition-drift[^]*tool "rugpull": .*definition-drift/)
    const drifts = w.stderr().split('\n').filter((l) => /tool "rugpull": .*definition-drift/.test(l))
    assert.equal(drifts.length, 2, w.stderr())
    assert.match(w.stderr(), / {2}description grew from 16 to \d+ chars/)
  })
})

describe('@modelcontextprotocol/server-filesystem, unmodified: a clean session is identical direct and wrapped', {timeout: 90_000}, () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-fs-'))
    mkdirSync(path.join(dir, 'sub'))
    writeFileSync(path.join(dir, 'hello.txt'), 'hello from the filesystem server\n')
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  async function session(wrapped: boolean): Promise<unknown[]> {
    const server = repoPath('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js')
    const transport = new StdioClientTransport(
      wrapped
        ? {command: process.execPath, args: [BIN, 'mcp', 'proxy', '--', process.execPath, server, dir], env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ''}, stderr: 'pipe'}
        : {command: process.execPath, args: [server, dir], env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ''}, stderr: 'pipe'},
    )
    const client = new Client({name: 'fs-e2e', version: '1.0.0'})
    await client.connect(transport)
    try {
      const tools = await client.listTools()
      const read = await client.callTool({name: 'read_text_file', arguments: {path: path.join(dir, 'hello.txt')}})
      const list = await client.callTool({name: 'list_directory', arguments: {path: dir}})
      return [tools, read, list]
    } finally {
      await client.close()
    }
  }

  test('tools/list, read_text_file and list_directory give the same results', async () => {
    const direct = await session(false)
    const wrapped = await session(true)
    assert.deepEqual(wrapped, direct)
    assert.match(JSON.stringify(direct[1]), /hello from the filesystem server/)
  })
})
