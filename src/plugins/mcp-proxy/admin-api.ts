/**
 * The session admin API of `pipelock mcp proxy` (runtime §12) — [ext] the reference's `mcp proxy`
 * serves no API at all (mcp.md §15.1). Served on `kill_switch.api_listen` when an API token exists
 * at start (config or `PIPELOCK_KILLSWITCH_API_TOKEN`, env wins), with the same handler, order and
 * answers as `pipelock run`: operators can list, inspect and explain the process's MCP sessions,
 * and the invocation-session guard refuses reset, terminate, task and trust with its JSON 400.
 * Only the session and adaptive endpoints are mounted: the kill switch stays config + sentinel.
 * Wrong tokens are throttled per client address as on `pipelock run`'s admin API (auth-throttle.ts):
 * ten within a minute and the address gets 429 until the oldest ages out, unless it holds the right
 * strong token. Each failure is one stderr line (never the token tried).
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import type {PipelockConfig} from '../config/index.js'
import {AuditLog, AuthThrottle, guardApiRequest, holdsStrongToken, SessionApi, weakApiTokenWarning, type ProxySessions} from '../proxy/index.js'
import {addressText, splitListen} from './http-listener.js'

export interface McpAdminApi {
  readonly address: string
  close(): Promise<void>
}

/** Null when not configured (no `api_listen`, no token, or sessions off — then `why` says which). */
export async function startMcpAdminApi(c: PipelockConfig, sessions: ProxySessions | null, env: Readonly<Record<string, string | undefined>>, log: (line: string) => void): Promise<McpAdminApi | null> {
  const listen = c.kill_switch.api_listen
  if (listen === '') return null
  const token = env.PIPELOCK_KILLSWITCH_API_TOKEN || c.kill_switch.api_token
  if (token === '') return null
  const quiet = new AuditLog([], {includeAllowed: false, includeBlocked: false, now: () => new Date()})
  const api = new SessionApi({
    token: () => token,
    sessions: () => sessions,
    nowMs: () => Date.now(),
    audit: () => quiet,
    // whoami: MCP sessions are not keyed on the caller; the caller's own (absent) identity session is reported.
    identify: (_req, clientIp) => ({agent: 'anonymous', key: clientIp}),
  })
  const throttle = new AuthThrottle(() => Date.now())
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    if (path.startsWith('/api/v1/')) {
      const throttled = guardApiRequest(throttle, req, res, ip, path, {
        onFailure: (client, p) => {
          const wait = throttle.retryAfterSeconds(client)
          log(`pipelock: warning: session admin API: missing or wrong bearer token from ${client} (${p})${wait > 0 ? `; its requests are refused (429) for ${wait} s` : ''}`)
        },
        onThrottled: () => {},
      }, (r) => holdsStrongToken(r, token))
      if (throttled) return
    }
    if (path.startsWith('/api/v1/') && api.handle(req, res, path, ip)) return
    req.resume()
    res.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8'})
    res.end('not found\n')
  })
  const {host, port} = splitListen(listen)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
  } catch (err) {
    // The admin API observes; it is not a control: a port taken (e.g. by `pipelock run` with the same config) must not stop the wrap.
    log(`pipelock: warning: session admin API not served: listen ${listen}: ${(err as Error).message}`)
    return null
  }
  const address = addressText(server.address() as AddressInfo)
  const weak = weakApiTokenWarning(c, env)
  if (weak !== null) log(weak)
  log(`pipelock: session admin API on ${address}${sessions === null ? ' (session profiling disabled: every session endpoint answers 503)' : ''}`)
  return {
    address,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections()
      server.close(() => r())
    }),
  }
}
