/**
 * `forward_proxy.redirect_websocket_hosts` (policy-extra §6, transports §3.1): with the WebSocket
 * proxy on, a CONNECT to a listed host is a hint that the agent should use `/ws` (where frames
 * are scanned) instead of an opaque tunnel. The tunnel proceeds; the hint is a counter and an
 * `anomaly` log line, and never feeds session scoring or adaptive enforcement. Hosts match as
 * every other host list does (`*.example.com` covers the apex and subdomains, §5.17). The list is
 * read from the live snapshot, so a reload applies to the next CONNECT.
 */
import type {PipelockConfig} from '../config/index.js'
import {matchesAnyDomain} from '../scanner/index.js'
import type {DecisionBase} from './core.js'
import type {AuditTrail, MetricsPort} from './ports.js'

/** The CONNECT the hint is about: its (lower-cased) host, how its target is shown, its base. */
export interface HintedTunnel {
  readonly host: string
  readonly shown: string
  readonly b: DecisionBase
}

export function wsRedirectHint(ports: AuditTrail & MetricsPort, cfg: PipelockConfig, tunnel: HintedTunnel): void {
  const {host, shown, b} = tunnel
  const hosts = cfg.forward_proxy.redirect_websocket_hosts
  if (hosts.length === 0 || !cfg.websocket_proxy.enabled || matchesAnyDomain(host, hosts) === null) return
  ports.metrics.wsRedirectHints.inc()
  ports.audit.event('warn', 'anomaly', 'WebSocket host reached through a CONNECT tunnel', {
    method: 'CONNECT', url: shown, request_id: b.requestId, agent: b.agent, scanner: '',
    reason: `hint: ${host} supports WebSocket; consider using /ws endpoint for frame-level scanning`, score: 0.2,
  })
}
