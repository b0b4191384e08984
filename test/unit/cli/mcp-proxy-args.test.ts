/**
 * The oclif-free start of `pipelock mcp proxy … -- COMMAND` (issue 12, RSS per wrap;
 * src/cli/mcp-proxy-args.ts): whenever it accepts a line, it must read it exactly as oclif's parser
 * reads it for the command (oclif's parser is the oracle), and every other form goes to oclif.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {Parser} from '@oclif/core'
import McpProxy from '../../../src/commands/mcp/proxy.js'
import {fastMcpProxyArgs, MCP_PROXY_FLAGS} from '../../../src/cli/mcp-proxy-args.js'

async function oclif(args: readonly string[]): Promise<{flags: Record<string, unknown>; argv: unknown[]}> {
  const r = await Parser.parse([...args], {flags: McpProxy.flags, strict: McpProxy.strict, args: {}})
  return {flags: r.flags, argv: r.argv}
}

/** Lines the fast path takes (what MCP clients' configs and the docs use). */
const ACCEPTED: string[][] = [
  ['--', 'node', 'server.js'],
  ['--', 'npx', '-y', '@modelcontextprotocol/server-filesystem', '/srv/data'],
  ['--config', 'pipelock.yaml', '--', 'node', 'server.js'],
  ['--config=pipelock.yaml', '--', 'node', 'server.js'],
  ['-c', '/etc/pipelock.yaml', '--', 'node', 'server.js', '--port', '3'],
  ['--env', 'GITHUB_TOKEN', '--env', 'A=b=c', '--', 'node', 'server.js'],
  ['--env=GITHUB_TOKEN', '--config', 'x.yaml', '--', 'node'],
  ['--capture-output', '/var/lib/cap', '--capture-raw', '--contract-server', 'fs', '--', 'node', 's.js'],
  ['--agent', '_default', '--header', 'X-Api-Key: k', '--header-file', 'h.txt', '--', 'node'],
  ['--upstream', 'http://127.0.0.1:1/mcp', '--', 'node'],
  ['--workspace', '/w', '--', 'node'],
  ['--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:1/mcp', '--', 'node'],
  // After `--` everything is the server's, help flags included (oclif's help scan stops at `--`).
  ['--', 'node', 'server.js', '--help'],
]

/** Lines left to oclif (help, refusals, unusual forms oclif reads in its own way). */
const LEFT_TO_OCLIF: string[][] = [
  [],
  ['--help'],
  ['-h'],
  ['node', 'server.js'],
  ['--config', 'a.yaml'],
  ['--'],
  ['--config', 'a', '--config', 'b', '--', 'node'],
  ['--config', '--', 'node'],
  ['--config', '-x', '--', 'node'],
  ['--config=', '--', 'node'],
  ['-ca.yaml', '--', 'node'],
  ['-c=a.yaml', '--', 'node'],
  ['--env', 'A', 'B', '--', 'node'],
  ['--env', '--', 'node'],
  ['--env', 'A'],
  ['--env', 'A', '--', 'node', '--', 'x'],
  ['--', 'node', '--', 'x'],
  ['--sandbox', '--', 'node'],
  ['--sandbox-strict', '--', 'node'],
  ['--capture-raw', '--capture-raw', '--', 'node'],
  ['--capture-raw=true', '--', 'node'],
  ['--unknown', '--', 'node'],
  ['--json', '--', 'node'],
  ['extra', '--', 'node'],
]

describe('mcp proxy without oclif: the argument reader', () => {
  it('knows exactly the command\'s flags (names, short names, kinds)', () => {
    const fromCommand = Object.fromEntries(Object.entries(McpProxy.flags).map(([name, f]) => {
      const flag = f as {type: string; char?: string; multiple?: boolean}
      const kind = flag.type === 'boolean' ? 'boolean' : flag.multiple === true ? 'multiple' : 'string'
      return [name, flag.char === undefined ? {kind} : {kind, char: flag.char}]
    }))
    assert.deepEqual(MCP_PROXY_FLAGS, fromCommand)
  })

  for (const args of ACCEPTED) {
    it(`reads ${JSON.stringify(args)} as oclif does`, async () => {
      const fast = fastMcpProxyArgs(args)
      assert.notEqual(fast, null, 'taken without oclif')
      assert.deepEqual({flags: fast!.flags, argv: fast!.argv}, await oclif(args))
    })
  }

  it('leaves every other form to oclif', () => {
    for (const args of LEFT_TO_OCLIF) assert.equal(fastMcpProxyArgs(args), null, JSON.stringify(args))
  })

  it('where oclif reads a left-over form differently from the plain reading, the fast path would have been wrong', async () => {
    // Why these forms are left to oclif: its reading is not the obvious one.
    assert.deepEqual((await oclif(['--env', 'A', 'B', '--', 'node'])).flags, {env: ['A', 'B']})
    assert.deepEqual((await oclif(['--', 'node', '--', 'x'])).argv, ['--', 'node', 'x'])
    assert.deepEqual(await oclif(['--env', '--', 'node']), {flags: {env: ['--', 'node']}, argv: []})
  })
})
