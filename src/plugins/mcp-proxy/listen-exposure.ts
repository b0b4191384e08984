/**
 * The MCP listener (`mcp proxy --listen`, `run --mcp-listen`) has no authentication of its own: a
 * bind beyond loopback is worth a warning (the wording of the config's listen warnings).
 */
import {isLoopbackHost, parseHostPort} from '../config/index.js'

/** Null for a loopback address; otherwise the warning's text (the caller names the flag). */
export function listenExposure(listen: string): string | null {
  const hp = parseHostPort(listen)
  if (hp === undefined || isLoopbackHost(hp.host)) return null
  if (hp.host === '' || hp.host === '0.0.0.0' || hp.host === '::') {
    return `"${listen}" listens on all interfaces and the MCP endpoint has no authentication; anything that can reach this host can use the MCP server through it`
  }
  return `"${listen}" is not a loopback address and the MCP endpoint has no authentication; make sure only your MCP clients can reach it`
}
