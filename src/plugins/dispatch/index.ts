// Layer 0: undici's dispatcher classes without undici's index (bench: startup).
// `import … from 'undici'` evaluates its whole index: fetch, WebSocket, EventSource, the cache
// stores, the mock agents and every interceptor — ≈ 3× the CPU and ≈ 8 MiB more RSS than the
// classes pipelock uses (the proxy's upstream Agent and SSRF-safe connector, the emit sinks'
// Client, the admin commands' and the MCP HTTP transports' Agent). These are the same modules
// the index re-exports, so the classes are identical to `require('undici').Agent`
// (test/unit/dispatch/dispatch.test.ts pins it).
import type {Dispatcher} from 'undici'
import AgentClass from 'undici/lib/dispatcher/agent.js'
import ClientClass from 'undici/lib/dispatcher/client.js'
import DispatcherClass from 'undici/lib/dispatcher/dispatcher.js'
import connect from 'undici/lib/core/connect.js'
import api from 'undici/lib/api/index.js'

// The dispatcher API (`agent.request`, `stream`, …) is mixed into Dispatcher.prototype by
// undici's index, not by the class files; this is that same statement (idempotent: the same
// functions, whichever runs first).
Object.assign(DispatcherClass.prototype, api)

export const Agent = AgentClass
export const Client = ClientClass
export const buildConnector = connect

/**
 * `dispatcher.request` for a whole URL, as undici's top-level `request(url, {dispatcher, …})`
 * calls it (origin, and path with the query), without loading undici's index for that function.
 */
export function requestUrl(dispatcher: Dispatcher, url: string, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>): Promise<Dispatcher.ResponseData> {
  const u = new URL(url)
  return dispatcher.request({...options, origin: u.origin, path: u.pathname + u.search})
}
