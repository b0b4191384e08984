import {resolveConfig, type PipelockConfig} from '../../../src/plugins/config/index.js'
import {decideRequest, decideResponse, newSessionState, type McpContext, type McpDecision, type McpTransport} from '../../../src/plugins/mcp/index.js'
import {buildMcpRuntime, resolveMcpRuntime, type McpRuntime} from '../../../src/plugins/mcp-proxy/index.js'

/** A resolved config (file-level object → effective), then the MCP proxy's auto-enable. */
export function mcpConfig(file: Record<string, unknown> = {}): PipelockConfig {
  return resolveMcpRuntime(resolveConfig(file, {env: {}}).config, 'proxy').config
}

export function runtimeFor(file: Record<string, unknown> = {}, now = () => 1_000_000): McpRuntime {
  return buildMcpRuntime(mcpConfig(file), {}, now)
}

/** One session (stdio unless told) with helpers to push messages through both pipelines. */
export class Session {
  readonly ctx: McpContext
  constructor(readonly runtime: McpRuntime, transport: McpTransport = 'mcp_stdio') {
    this.ctx = {settings: runtime.settings, deps: runtime.deps, state: newSessionState(runtime.settings, transport, 'default')}
  }
  req(msg: unknown): McpDecision {
    return decideRequest(this.ctx, typeof msg === 'string' ? msg : JSON.stringify(msg))
  }
  res(msg: unknown): McpDecision {
    return decideResponse(this.ctx, typeof msg === 'string' ? msg : JSON.stringify(msg))
  }
}

export function call(id: number, name: string, args: unknown): Record<string, unknown> {
  return {jsonrpc: '2.0', id, method: 'tools/call', params: {name, arguments: args}}
}

export function toolsList(id: number, tools: unknown[]): Record<string, unknown> {
  return {jsonrpc: '2.0', id, result: {tools}}
}

/** A well-formed AWS access key id that is not the documentation example. */
export const AWS_KEY = 'AKIA' + 'QYLPMN5HHHFPZAM2'
