import assert from 'node:assert/strict'
import {test} from 'node:test'
import {runMcpProxy} from '../helpers/mcp.js'
import {repoPath} from '../helpers/vectors.js'

// Attacks on `pipelock mcp proxy` from a hostile agent (the client's raw wire) and a hostile
// server (test/mcp/fixtures/scripted-server.mjs answers each method with the messages a test
// gives it): each message must be judged by what the other side will read.

const SCRIPTED = repoPath('test/mcp/fixtures/scripted-server.mjs')
// Built at run time: not a literal credential in the repository.
const KEY = ['AKIA', 'QYLPMN5HHHFPZAM2'].join('')

/** The proxy's stdout as parsed messages. */
function messages(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** A client request line. */
function request(msg: Record<string, unknown>): string {
  return JSON.stringify({jsonrpc: '2.0', ...msg}) + '\n'
}

const DLP_BLOCK = {code: -32001, message: 'pipelock: request blocked by MCP input scanning', data: {block_reason: 'dlp_match'}}

test('a secret in a member beside params is scanned (it reaches the server with the message)', () => {
  const r = runMcpProxy(['--', process.execPath, SCRIPTED], request({id: 1, method: 'tools/call', params: {name: 'echo', arguments: {text: 'hi'}}, note: KEY}))
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(messages(r.stdout), [{jsonrpc: '2.0', id: 1, error: DLP_BLOCK}])
  assert.ok(!r.stderr.includes('scripted-server got:'), r.stderr)
})
