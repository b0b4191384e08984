/**
 * The TLS interception runtime (transports.md §2): the CA and its leaf cache, the upstream pool
 * verified against the Go-rule trust list, which CONNECT targets are intercepted, and the
 * interception metrics. Built at start-up (a failure refuses to start) and again after every
 * reload (a failure keeps the previous one, §2.1).
 */
import {homedir} from 'node:os'
import type {Agent} from 'undici'
import {certTtlMs, type PipelockConfig} from '../../config/index.js'
import {matchesAnyDomain, type UrlScanner} from '../../scanner/index.js'
import {buildTrustStore, LeafCache, loadConfiguredCa} from '../../tls/index.js'
import {createSafeAgent} from '../ssrf-dialer.js'
import {InterceptMetrics, type InterceptOutcome} from './metrics.js'
import {pacedResponses} from './paced-responses.js'
import {SetupQueue, UPSTREAM_SLOT_HOLD_MS} from './setup-queue.js'
import {InterceptServers, interceptTunnel} from './tunnel.js'
import {admitTunnel, dialTunnel} from './connect-pacing.js'
import type {InterceptPorts, TunnelContext} from './request.js'
import type {TunnelConnection} from './tunnel.js'
import type {OnReadOpts, Socket} from 'node:net'
import type {Dialer} from '../ports.js'
import type {LookupAll} from '../ssrf-dialer.js'
import {refuseInterceptedUpgrade, type InterceptUpgradeHandler} from './upgrade.js'

export const DEFAULT_CERT_CACHE_SIZE = 10_000
export const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024

export type {InterceptOutcome} from './metrics.js'

export interface InterceptorOptions {
  readonly config: PipelockConfig
  /** What the tunnels and their inner requests use (the forward exchange's ports, request ids) and the pre-dial's dialer. */
  readonly ports: InterceptPorts & Dialer
  readonly env: Readonly<Record<string, string | undefined>>
  readonly scanner: () => UrlScanner
  readonly nowMs: () => number
  /** Where an intercepted `Upgrade: websocket` goes; without it upgrades are refused. */
  readonly upgrade?: InterceptUpgradeHandler
  /** The upstream TLS trust list (read once by the server and shared with its other TLS legs); default: read from `env`. */
  readonly ca?: readonly string[]
  /** The proxy's interception counters (kept across reloads); default: a fresh set. */
  readonly metrics?: InterceptMetrics
}

/** Whether a CONNECT host is intercepted: it matches no `passthrough_domains` entry (the shared matcher: `*.x` covers the apex, §6 #1). */
export function interceptsHost(passthrough: readonly string[], host: string): boolean {
  return matchesAnyDomain(host.toLowerCase(), passthrough) === null
}

export class Interceptor implements Dialer {
  readonly cache: LeafCache
  readonly upstream: Agent
  readonly passthrough: readonly string[]
  readonly maxResponseBytes: number
  readonly upgrade: InterceptUpgradeHandler
  readonly caNotAfterMs: number
  readonly metrics: InterceptMetrics
  /** One TLS server per leaf (dropped with it), shared by that host's tunnels. */
  readonly servers = new InterceptServers()
  /** Paces TLS set-up (client-side handshakes, upstream connects) and upstream responses across event-loop turns. */
  readonly setup = new SetupQueue()

  private readonly ports: InterceptPorts & Dialer

  /**
   * The CONNECT transport's three hand-offs to interception (it reaches them only through its
   * `InterceptorSource` port, never by importing intercept/): admission paced by the set-up
   * queue, the pre-dial in one set-up slot (transports §2.7 step 12; the `Dialer` port, so the
   * CONNECT dials an intercepted host as any other), and serving the tunnel.
   */
  admit(): Promise<void> {
    return admitTunnel(this)
  }

  dial(host: string, port: number, onread?: OnReadOpts, lookupAll?: LookupAll): Promise<Socket> {
    return dialTunnel(this, this.ports, {host, port, onread, lookupAll})
  }

  /** Returns the tunnel's teardown for a cut by the kill switch or the session (which lets the answers they gave inside go out first). */
  serve(t: Omit<TunnelContext, 'interceptor'>, conn: TunnelConnection): () => void {
    return interceptTunnel(this.ports, {...t, interceptor: this}, conn)
  }

  constructor(o: InterceptorOptions) {
    this.ports = o.ports
    const t = o.config.tls_interception
    // Validated with the config (validateConfig); read by the same function.
    const ttlMs = certTtlMs(t.cert_ttl)
    // Empty CA paths: the pipelock home, resolved as `tls init` resolves it (§6 #2 fixed).
    const ca = loadConfiguredCa(t, o.env, o.env.HOME ?? homedir())
    this.caNotAfterMs = ca.notAfterMs
    // A mint's main-thread steps (key and TBS, then assembly after the signature) are set-up queue tasks.
    this.cache = new LeafCache({ca, ttlMs, maxEntries: t.cert_cache_size > 0 ? t.cert_cache_size : DEFAULT_CERT_CACHE_SIZE, nowMs: o.nowMs, pace: (step) => this.setup.push(step)})
    this.maxResponseBytes = t.max_response_bytes > 0 ? t.max_response_bytes : DEFAULT_MAX_RESPONSE_BYTES
    this.passthrough = t.passthrough_domains
    this.upgrade = o.upgrade ?? refuseInterceptedUpgrade
    this.metrics = o.metrics ?? new InterceptMetrics()
    const agent = createSafeAgent({scanner: o.scanner, timeoutMs: o.config.fetch_proxy.timeout_seconds * 1000, ca: o.ca ?? buildTrustStore(o.env), pace: (start) => this.setup.pushHandshake(start, UPSTREAM_SLOT_HOLD_MS)})
    // The same Agent (compose returns a view of it with one more dispatch step): responses are paced too.
    this.upstream = agent.compose(pacedResponses(this.setup)) as Agent
  }

  /** Intercepted ⇔ the host matches no passthrough entry (`interceptsHost`). */
  intercepts(host: string): boolean {
    return interceptsHost(this.passthrough, host)
  }

  count(outcome: InterceptOutcome): void {
    this.metrics.count(outcome)
  }

  /** §2.13 metric families (the reference's names). */
  render(out: string[]): void {
    this.metrics.render(out, this.cache.size)
  }

  async close(): Promise<void> {
    await this.upstream.close().catch(() => undefined)
  }
}
