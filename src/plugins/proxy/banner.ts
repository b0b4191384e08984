/** Start-up banner (§1.2 step 4) and the container warning (step 2). */
import {existsSync, readFileSync} from 'node:fs'
import type {PipelockConfig} from '../config/index.js'
import {DEFAULT_KEY_ID, DEFAULT_TRUST_DOMAIN, DIRECTORY_PATH} from '../envelope/index.js'

export interface BannerInput {
  readonly version: string
  readonly config: PipelockConfig
  /** Bound main address (the real port when `:0` was asked for). */
  readonly listen: string
  readonly apiListen?: string
  readonly metricsListen?: string
  /** Bound reverse-proxy address and its upstream (no userinfo, query or fragment). */
  readonly reverse?: {readonly listen: string; readonly upstream: string}
  /** Bound MCP listener address and its upstream (`run --mcp-listen`, mcp.md §2.9). */
  readonly mcp?: {readonly listen: string; readonly upstream: string}
  readonly configFile?: string
  readonly agentArgs: readonly string[]
  readonly apiTokenSet: boolean
  /** The `Agents:` line's text when the agents reach this proxy another way (the sandbox's bridge). */
  readonly agentsLine?: string
  /** The listener serves egress only (the sandbox's embedded proxy): no health, stats or admin API lines. */
  readonly egressOnly?: boolean
}

/** How to turn the forward proxy on: the banner and the 405 answers of a proxy without it say so. */
export const FORWARD_PROXY_HINT = 'forward_proxy.enabled: true in the config, or start with: pipelock run --preset balanced'

export function startBanner(b: BannerInput): string[] {
  const c = b.config
  const lines = [
    `Pipelock ${b.version} starting`,
    `  Mode:   ${c.mode}`,
    `  Listen: ${b.listen}`,
    `  Fetch:  http://${b.listen}/fetch?url=<url>`,
  ]
  if (b.egressOnly !== true) {
    lines.push(`  Health: http://${b.listen}/health`, b.metricsListen !== undefined ? `  Stats:  http://${b.metricsListen}/stats (separate port)` : `  Stats:  http://${b.listen}/stats`)
  }
  if (c.forward_proxy.enabled) {
    lines.push('  Proxy:  HTTP/HTTPS forward proxy enabled (CONNECT + absolute-URI)', `  Agents: ${b.agentsLine ?? `HTTPS_PROXY=http://${b.listen} HTTP_PROXY=http://${b.listen}`}`)
  } else {
    lines.push(`  Proxy:  forward proxy off (/fetch only); for HTTPS_PROXY set ${FORWARD_PROXY_HINT}`)
  }
  if (c.websocket_proxy.enabled) lines.push(`  WS:     http://${b.listen}/ws?url=<ws-url> (WebSocket proxy enabled)`)
  if (b.apiListen !== undefined) lines.push(`  API:    http://${b.apiListen}/api/v1/killswitch (kill switch remote control, separate port)`)
  else if (b.apiTokenSet && b.egressOnly !== true) lines.push(`  API:    http://${b.listen}/api/v1/killswitch (kill switch remote control)`)
  if (c.mediation_envelope.enabled) lines.push('  Envelope: enabled (mediation envelopes injected)')
  if (b.configFile !== undefined) lines.push(`  Config: ${b.configFile} (hot-reload enabled, SIGHUP to reload)`)
  if (b.mcp !== undefined) lines.push(`  MCP:    http://${b.mcp.listen} -> ${b.mcp.upstream}`)
  if (b.reverse !== undefined) lines.push(`  RevPx:  http://${b.reverse.listen} -> ${b.reverse.upstream} (reverse proxy with body scanning)`)
  if (b.agentArgs.length > 0) {
    const vars = c.forward_proxy.enabled ? 'HTTPS_PROXY, HTTP_PROXY and PIPELOCK_FETCH_URL' : 'PIPELOCK_FETCH_URL (forward proxy off: no HTTPS_PROXY)'
    lines.push(`  Agent:  [${b.agentArgs.join(' ')}] (launched with ${vars}; pipelock stops when it exits; not contained: see pipelock sandbox)`)
  }
  return lines
}

/**
 * After the embedded proxy's banner: the sandboxed process reaches its listener through the
 * bridge, so the operator's routes are not served there, whatever the config says.
 */
export const EMBEDDED_ROUTES_LINE = 'pipelock: the sandbox\'s proxy serves egress only (forward proxy, CONNECT, /fetch, /ws): /health, /stats, /metrics and the admin API are not served to the sandboxed process; use --metrics-listen for metrics, or --proxy to a pipelock run with kill_switch.api_listen for the admin API'

/**
 * A proxy that keeps sessions (every preset does) but started without an admin token has no admin
 * API: nothing can inspect, release or terminate a quarantined session until it is restarted with
 * one. One stderr line after the banner says so (the banner's lines are fixed by runtime §1.2).
 */
export function adminApiOffLine(config: PipelockConfig, apiTokenSet: boolean): string | null {
  if (apiTokenSet || (!config.session_profiling.enabled && !config.airlock.enabled)) return null
  return 'pipelock: admin API off (no kill_switch.api_token at start-up): pipelock session, adaptive and exception commands cannot reach this proxy; set kill_switch.api_token or PIPELOCK_KILLSWITCH_API_TOKEN and restart'
}

/**
 * What the mediation envelope does, after the banner (whose `Envelope:` line is fixed by
 * runtime §1.2): whether requests are signed, as whom and where the key is published, and —
 * the one an operator must not miss — that inbound verification refuses every request without
 * a valid signature from a trusted peer.
 */
export function envelopeLines(config: PipelockConfig, listen: string): string[] {
  const e = config.mediation_envelope
  const out: string[] = []
  if (e.enabled) {
    const actor = e.actor_format.toLowerCase() === 'legacy' ? 'the agent name' : `spiffe://${(e.trust_domain === '' ? DEFAULT_TRUST_DOMAIN : e.trust_domain).trim().toLowerCase()}/agent/<agent>`
    out.push(
      e.sign
        ? `pipelock: envelope: forwarded requests carry a signed Pipelock-Mediation header (key_id ${e.key_id === '' ? DEFAULT_KEY_ID : e.key_id}, actor ${actor}); public key at http://${listen}${DIRECTORY_PATH}`
        : `pipelock: envelope: forwarded requests carry an unsigned Pipelock-Mediation header (actor ${actor}; sign: false, so ${DIRECTORY_PATH} answers 404)`,
    )
  }
  if (e.verify_inbound.enabled) {
    const n = e.verify_inbound.trust_list.length
    // With interception, each request inside a tunnel carries its own signature, as the CONNECT does.
    const connect = config.tls_interception.enabled ? 'CONNECT and each request inside an intercepted tunnel' : 'CONNECT'
    out.push(`pipelock: envelope: verify_inbound on: a request to /fetch, the forward proxy, ${connect}, the reverse proxy or /ws without a valid Pipelock-Mediation signature from one of ${n} trusted key${n === 1 ? '' : 's'} is refused (403 envelope_verify_failed)`)
  }
  return out
}

/** Null inside a container (docker/containerd/podman/cri-o or Kubernetes), else the warning line. */
export function containerWarning(env: Readonly<Record<string, string | undefined>>): string | null {
  if (existsSync('/.dockerenv') || (env.KUBERNETES_SERVICE_HOST ?? '') !== '') return null
  try {
    if (/docker|containerd|podman|cri-o/.test(readFileSync('/proc/1/cgroup', 'utf8'))) return null
  } catch {
    // unreadable: treat as not a container
  }
  return 'WARNING: running outside a container - consider using Docker/Podman for network isolation'
}
