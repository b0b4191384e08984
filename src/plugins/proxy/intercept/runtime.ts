/**
 * The TLS interception runtime (transports.md §2): the CA and its leaf cache, the upstream pool
 * verified against the Go-rule trust list, which CONNECT targets are intercepted, and the
 * interception metrics. Built at start-up (a failure refuses to start) and again after every
 * reload (a failure keeps the previous one, §2.1).
 */
import {homedir} from 'node:os'
import type {Agent} from 'undici'
import {parseGoDuration} from '../../canonical/index.js'
import type {PipelockConfig} from '../../config/index.js'
import {PipelockError} from '../../errors/index.js'
import {matchesAnyDomain, type UrlScanner} from '../../scanner/index.js'
import {resolveKeystoreDir} from '../../signing/index.js'
import {buildTrustStore, caPaths, checkCaFiles, LeafCache, loadCa} from '../../tls/index.js'
import {renderFamily} from '../metrics.js'
import {createSafeAgent} from '../ssrf-dialer.js'
import {InterceptServers} from './tunnel.js'
import {refuseInterceptedUpgrade, type InterceptUpgradeHandler} from './upgrade.js'

export const DEFAULT_CERT_CACHE_SIZE = 10_000
export const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024

export type InterceptOutcome = 'intercepted' | 'failed' | 'handshake_error'

export interface InterceptorOptions {
  readonly config: PipelockConfig
  readonly env: Readonly<Record<string, string | undefined>>
  readonly scanner: () => UrlScanner
  readonly nowMs: () => number
  /** Where an intercepted `Upgrade: websocket` goes; without it upgrades are refused. */
  readonly upgrade?: InterceptUpgradeHandler
  /** The upstream TLS trust list (read once by the server and shared with its other TLS legs); default: read from `env`. */
  readonly ca?: readonly string[]
}

export class Interceptor {
  readonly cache: LeafCache
  readonly upstream: Agent
  readonly passthrough: readonly string[]
  readonly maxResponseBytes: number
  readonly upgrade: InterceptUpgradeHandler
  readonly caNotAfterMs: number
  readonly outcomes = new Map<InterceptOutcome, number>()
  readonly requestBlocks = new Map<string, number>()
  /** One TLS server per leaf (dropped with it), shared by that host's tunnels. */
  readonly servers = new InterceptServers()

  constructor(o: InterceptorOptions) {
    const t = o.config.tls_interception
    let ttlMs: number
    try {
      ttlMs = parseGoDuration(t.cert_ttl === '' ? '24h' : t.cert_ttl)
    } catch (e) {
      throw new PipelockError('CONFIG_INVALID', `invalid config: tls_interception.cert_ttl: time: ${(e as Error).message}`)
    }
    if (!(ttlMs > 0)) throw new PipelockError('CONFIG_INVALID', 'invalid config: tls_interception.cert_ttl must be positive')
    // Empty CA paths: the pipelock home, resolved as `tls init` resolves it (§6 #2 fixed).
    const home = resolveKeystoreDir({env: o.env, userHome: o.env.HOME ?? homedir()})
    const paths = caPaths(home, t.ca_cert, t.ca_key)
    checkCaFiles(paths)
    const ca = loadCa(paths)
    this.caNotAfterMs = ca.notAfterMs
    this.cache = new LeafCache({ca, ttlMs, maxEntries: t.cert_cache_size > 0 ? t.cert_cache_size : DEFAULT_CERT_CACHE_SIZE, nowMs: o.nowMs})
    this.maxResponseBytes = t.max_response_bytes > 0 ? t.max_response_bytes : DEFAULT_MAX_RESPONSE_BYTES
    this.passthrough = t.passthrough_domains
    this.upgrade = o.upgrade ?? refuseInterceptedUpgrade
    this.upstream = createSafeAgent({scanner: o.scanner, timeoutMs: o.config.fetch_proxy.timeout_seconds * 1000, ca: o.ca ?? buildTrustStore(o.env)})
  }

  /** Intercepted ⇔ the host matches no passthrough entry (the shared matcher: `*.x` covers the apex, §6 #1). */
  intercepts(host: string): boolean {
    return matchesAnyDomain(host.toLowerCase(), this.passthrough) === null
  }

  count(outcome: InterceptOutcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1)
  }

  countBlock(reason: string): void {
    this.requestBlocks.set(reason, (this.requestBlocks.get(reason) ?? 0) + 1)
  }

  /** §2.13 metric families (the reference's names). */
  render(out: string[]): void {
    renderFamily(out, 'pipelock_tls_intercept_total', 'CONNECT tunnels by interception outcome.', 'counter', (['intercepted', 'failed', 'handshake_error'] as const).map((k) => [{outcome: k}, this.outcomes.get(k) ?? 0] as const))
    renderFamily(out, 'pipelock_tls_cert_cache_size', 'Leaf certificates in the interception cache.', 'gauge', [[{}, this.cache.size]])
    renderFamily(out, 'pipelock_tls_request_blocked_total', 'Intercepted inner requests blocked, by reason.', 'counter', [...this.requestBlocks].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [{reason: k}, v] as const))
  }

  async close(): Promise<void> {
    await this.upstream.close().catch(() => undefined)
  }
}
