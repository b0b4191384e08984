/**
 * A2A on the MCP HTTP listener (scanners-extra §2.5, `mcp proxy --listen` and `run --mcp-listen`):
 * the `A2A-Extensions` URIs through the URL scan, and an A2A JSON-RPC method's body through the
 * A2A walk — the same engine the HTTP proxy's a2a stage uses. The finding goes to the request
 * decision as an extra, like header DLP, so it is decided, recorded and answered (-32001) there.
 * `action: warn` is honoured for the header too (the reference blocks it whatever the action).
 */
import type {IncomingMessage} from 'node:http'
import {systemClock} from '../canonical/index.js'
import type {PipelockConfig} from '../config/index.js'
import {A2A_METHODS, a2aSettingsFromConfig, scanA2aBody, scanA2aExtensions, type A2aScanners, type A2aState} from '../a2a/index.js'
import type {RequestExtras} from '../mcp/index.js'
import {systemLookupAll} from '../proxy/index.js'
import {RateLimiter, type Scanner} from '../scanner/index.js'

export class ListenerA2a {
  private readonly rateLimiter = new RateLimiter(systemClock)
  constructor(private readonly state: A2aState) {}

  private scanners(scanner: Scanner): A2aScanners {
    return {
      url: (u) => scanner.scanUrl(u, {resolver: (host) => systemLookupAll(host), rateLimiter: this.rateLimiter}),
      injection: (t) => scanner.scanResponse(t).matches.map((m) => m.pattern),
      dlp: (t) => scanner.scanTextForDlp(t).matches.map((m) => m.pattern),
    }
  }

  /** The A2A extra of one request, or undefined (disabled, not A2A, or clean). */
  async extra(req: IncomingMessage, method: string, isBatch: boolean, text: string, config: PipelockConfig, scanner: Scanner): Promise<RequestExtras['a2a']> {
    if (!config.a2a_scanning.enabled) return undefined
    const s = a2aSettingsFromConfig(config.a2a_scanning)
    const scanners = this.scanners(scanner)
    const ext = req.headers['a2a-extensions']
    const h = await scanA2aExtensions(ext === undefined ? [] : Array.isArray(ext) ? ext : [ext], s, scanners)
    if (!h.clean) return {on: 'header', reason: h.reason, block: h.action === 'block'}
    if (isBatch || !A2A_METHODS.has(method)) return undefined
    const v = await scanA2aBody(text, s, scanners, this.state, (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''))
    return v.clean ? undefined : {on: 'input', reason: v.reason, block: v.action === 'block'}
  }
}
