import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {CreateMessageRequestSchema, McpError, type CreateMessageResult} from '@modelcontextprotocol/sdk/types.js'
import {repoPath} from './vectors.js'

/**
 * Runs the built `pipelock mcp proxy <args>` to completion with `input` as the client's stdin
 * (the raw wire: for messages an SDK client would not send). The environment is PATH and HOME
 * plus `env`.
 */
export function runMcpProxy(args: string[], input: string, env: NodeJS.ProcessEnv = {}): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, [repoPath('bin/run.js'), 'mcp', 'proxy', ...args], {input, encoding: 'utf8', timeout: 30_000, env: {PATH: process.env.PATH, HOME: process.env.HOME, ...env}})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** Awaits a call that must fail with a JSON-RPC error and returns it. */
export async function rejection(p: Promise<unknown>): Promise<McpError> {
  try {
    await p
  } catch (e) {
    if (e instanceof McpError) return e
    throw e
  }
  assert.fail('expected a JSON-RPC error')
}

/** stderr arrives on its own pipe: wait (bounded) for a line instead of racing the response. */
export async function eventually(stderr: () => string, re: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!re.test(stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
  assert.match(stderr(), re)
}

/** An SDK client connected through `pipelock mcp proxy`, with the proxy's stderr so far. */
export interface WrappedClient {
  client: Client
  stderr: () => string
  close: () => Promise<void>
}

/**
 * Starts the built `pipelock mcp proxy <args>` under an SDK stdio client and connects it. With
 * `sampling`, the client declares the sampling capability and answers the server's
 * `sampling/createMessage` requests with it.
 */
export async function wrapMcpProxy(args: string[], env: Record<string, string>, name = 'pipelock-e2e', sampling?: () => CreateMessageResult): Promise<WrappedClient> {
  const transport = new StdioClientTransport({command: process.execPath, args: [repoPath('bin/run.js'), 'mcp', 'proxy', ...args], env, stderr: 'pipe'})
  let err = ''
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString()))
  const client = new Client({name, version: '1.0.0'}, {capabilities: sampling ? {sampling: {}} : {}})
  if (sampling) client.setRequestHandler(CreateMessageRequestSchema, async () => sampling())
  await client.connect(transport)
  return {client, stderr: () => err, close: () => client.close()}
}

/**
 * The reference's MCP defaults written out as a config (tool scanning and MCP response scanning
 * warn, drift detection on): for tests about transports that use the fixture's poisoned and
 * injecting tools and expect them relayed. Without a config these are blocked (docs/mcp.md).
 */
export const WARN_MCP_CONFIG = ['response_scanning:', '  mcp_action: warn', 'mcp_tool_scanning:', '  enabled: true', '  action: warn', '  detect_drift: true', ''].join('\n')
