/**
 * What every transport handler needs from the running proxy, and the helpers that turn a scan
 * outcome into the one Decision of the request.
 */
import type {ApprovalQueue} from './approvals.js'
import type {OnReadOpts, Socket} from 'node:net'
import type {Agent} from 'undici'
import type {ContractRuntime} from '../gate/index.js'
import type {KillSwitchController} from '../killswitch/index.js'
import type {IncomingMessage} from 'node:http'
import {goHostname, parseGoUrl} from '../canonical/index.js'
import {REASON_CODES, reasonForLabel, type HeaderList, type ReasonCode, type Resolver, type UrlScanResult} from '../scanner/index.js'
import type {AuditLog} from './audit-log.js'
import {CONTENT_SCANNER_LABELS, displayUrl, redactUrl} from './block.js'
import type {Decision, DecisionStage, Transport} from './decision.js'
import type {ProxyMetrics} from './metrics.js'
import type {ExceptionStore} from './exception-store.js'
import type {IdentityAuth} from './identity.js'
import {forProfile, type ProxySnapshot} from './state.js'
import type {Interceptor} from './intercept/runtime.js'
import type {RelayBufferPool} from './relay-buffer-pool.js'
import type {ResponseTransformState} from './relay/response-transforms.js'
import {getaddrinfoAll, type LookupAll} from './ssrf-dialer.js'

export interface ProxyCore {
  snapshot(): ProxySnapshot
  readonly upstream: Agent
  readonly killSwitch: KillSwitchController
  /** The one record step's fan-out; returns the id of the receipt the flight recorder signed. */
  readonly sink: {record(d: Decision): string | undefined}
  /** The live-lock runtime (`learn_lock.enabled`), or null. */
  readonly contracts: ContractRuntime | null
  readonly audit: AuditLog
  readonly metrics: ProxyMetrics
  readonly version: string
  nextRequestId(): string
  nowMs(): number
  /**
   * TCP to a validated address; `onread` as `net.connect` takes it (the CONNECT relay's reused read
   * buffer); `lookupAll` answers the dial's DNS question (default: the system resolver; a CONNECT
   * passes the answer its URL scan got, tunnel-dns.ts — every address is validated either way).
   */
  dial(host: string, port: number, onread?: OnReadOpts, lookupAll?: LookupAll): Promise<Socket>
  /** Registers a live tunnel; the returned function unregisters it. Kill-switch activation destroys all. */
  trackTunnel(destroy: () => void): () => void
  activeTunnels(): number
  /** TLS interception (`tls_interception.enabled`), or null. */
  readonly interceptor?: Interceptor | null
  /** Scoped exceptions granted through the admin API (exception-gate.ts), or null. */
  readonly exceptions?: ExceptionStore | null
  /** Browser Shield / A2A response state kept for the process (card baseline, contexts); absent: fresh per response. */
  readonly transforms?: ResponseTransformState
  /** Held requests (`ask`, approvals.ts): present when an operator channel (the admin API) exists. */
  readonly approvals?: ApprovalQueue
  /** Read buffers the CONNECT download relays reuse from tunnel to tunnel (relay-buffer-pool.ts); without it each tunnel allocates its own. */
  readonly relayBuffers?: RelayBufferPool
}

/** The snapshot view of the request's profile (its merged config, scanner and budgets). */
export function snapshotFor(core: Pick<ProxyCore, 'snapshot'>, b: Pick<DecisionBase, 'profile'>): ProxySnapshot {
  const snap = core.snapshot()
  return b.profile === undefined ? snap : forProfile(snap, b.profile)
}

/**
 * The URL scan with the system resolver (or `resolver`) and the snapshot's windows (the scanner's
 * own promise: no extra async hop per request). The system resolver here has no timer of its own:
 * the scan's stage 14 bounds every resolver call with its DNS timeout (5 s, as `systemLookupAll`'s).
 */
export function urlScan(snap: ProxySnapshot, raw: string, signal?: AbortSignal, resolver: Resolver = getaddrinfoAll): Promise<UrlScanResult> {
  // `getaddrinfoAll` takes the host alone; the scanner's second argument (its signal) is not passed on, as before.
  const opts = {resolver, rateLimiter: snap.rateLimiter, dataBudget: snap.dataBudget}
  return snap.scanner.scanUrl(raw, signal ? {...opts, signal} : opts)
}

/**
 * Audit / body-safe form of a target URL (§10.4: a secret is never echoed, in a body or a log).
 * `layer` is the label that decided: a content scanner → `scheme://host/[redacted]`; null → the
 * URL passed every URL check (DLP included), shown decoded; anything else (a block before the
 * DLP stage, the kill switch, an unparsable URL) → shown only if DLP finds nothing in it.
 */
export function safeTarget(snap: ProxySnapshot, raw: string, layer: string | null): string {
  const hostHasSecret = (): boolean => {
    const host = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(raw)?.[1] ?? ''
    return host !== '' && snap.scanner.scanTextForDlp(host).matches.length > 0
  }
  if (layer !== null && CONTENT_SCANNER_LABELS.has(layer)) return redactUrl(raw, hostHasSecret())
  if (layer !== null && snap.scanner.scanTextForDlp(raw).matches.length > 0) return redactUrl(raw, hostHasSecret())
  return displayUrl(raw)
}

export interface DecisionBase {
  readonly requestId: string
  readonly transport: Transport
  readonly method: string
  readonly agent: string
  readonly clientIp: string
  readonly sessionKey: string
  readonly startMs: number
  /** The profile whose config applies (operations.md §2.2); `_default` when none. Also the metric label. */
  readonly profile?: string
  /** How the identity was established (§2.1). */
  readonly auth?: IdentityAuth
  /** The name live contracts are selected by (§2.4), when it differs from `agent`. */
  readonly contractAgent?: string
  /** True when a listener or source CIDR bound the identity (identity.ts `isBound`); else it is a claim. */
  readonly bound?: boolean
  /** Why the identity stage refuses the request (a profile bound elsewhere was named). */
  readonly identityRefused?: string
}

export function allowDecision(core: ProxyCore, b: DecisionBase, target: string, status: number, bytes: number, warnings: readonly string[]): Decision {
  // Written out (same keys, same order as `{...base(), …}`): the hot path of every allowed
  // request, and one object literal is several times cheaper than a spread into a new one.
  return {
    requestId: b.requestId, transport: b.transport, method: b.method, agent: b.agent, clientIp: b.clientIp, sessionKey: b.sessionKey, profile: b.profile ?? '_default',
    durationMs: core.nowMs() - b.startMs, target, verdict: 'allow', stage: 'none', layer: 'all', reason: null, severity: null,
    retry: null, class: null, detail: 'allowed', status, warnings, bytes,
  }
}

export function blockDecision(
  core: ProxyCore,
  b: DecisionBase,
  target: string,
  opts: {stage: DecisionStage; layer: string; reason?: ReasonCode; detail: string; status: number; enforced: boolean; scan?: UrlScanResult; warnings?: readonly string[]},
): Decision {
  const reason = opts.reason ?? reasonForLabel(opts.layer)
  const meta = REASON_CODES[reason]
  return {
    requestId: b.requestId, transport: b.transport, method: b.method, agent: b.agent, clientIp: b.clientIp, sessionKey: b.sessionKey, profile: b.profile ?? '_default',
    durationMs: core.nowMs() - b.startMs,
    target,
    verdict: opts.enforced ? 'block' : 'would_block',
    stage: opts.stage,
    layer: opts.layer,
    reason,
    severity: meta.severity,
    retry: meta.retry,
    class: opts.scan?.class ?? 'threat',
    detail: opts.detail,
    ...(opts.scan?.hint !== undefined ? {hint: opts.scan.hint} : {}),
    status: opts.status,
    warnings: opts.warnings ?? opts.scan?.warnings.map((w) => w.pattern) ?? [],
    bytes: 0,
  }
}


/** The host of an absolute URL as Go's parser sees it (`''` when it does not parse). */
export function urlHost(raw: string): string {
  try {
    return goHostname(parseGoUrl(raw).host)
  } catch {
    return ''
  }
}

/** Scanner-block status (§10.3): 429 for the rate limiter, 403 otherwise (data budget stays 403, §24 #10). */
export function scanBlockStatus(scan: UrlScanResult): number {
  return scan.scanner === 'ratelimit' ? 429 : 403
}

/** Only `enforce: false` turns scanner blocks into logged anomalies; `mode: audit` alone does not (§20.5). */
export function enforcing(snap: ProxySnapshot): boolean {
  return snap.config.enforce
}

/** The request's headers as received (name/value pairs, repeats kept) for header DLP. */
export function headerList(req: IncomingMessage): HeaderList {
  const out: Array<[string, string]> = []
  const raw = req.rawHeaders
  // HTTP/2 pseudo-headers (`:path`, `:authority`, …) are not headers: the URL is scanned on its own.
  for (let i = 0; i + 1 < raw.length; i += 2) if (!raw[i]!.startsWith(':')) out.push([raw[i]!, raw[i + 1]!])
  return out
}

/** Allowed by every check, but the upstream failed (connect, TLS, timeout): a 502, not a block. */
export function errorDecision(core: ProxyCore, b: DecisionBase, target: string, detail: string, status = 502): Decision {
  return {
    requestId: b.requestId, transport: b.transport, method: b.method, agent: b.agent, clientIp: b.clientIp, sessionKey: b.sessionKey, profile: b.profile ?? '_default',
    durationMs: core.nowMs() - b.startMs, target, verdict: 'error', stage: 'upstream', layer: 'upstream', reason: null, severity: null,
    retry: null, class: null, detail, status, warnings: [], bytes: 0,
  }
}

/** Upstream outcome errors: a dial refused by the SSRF-safe dialer is a policy block, anything else an error. */
export function upstreamFailure(core: ProxyCore, b: DecisionBase, target: string, message: string, dialBlocked: boolean, status = 502): Decision {
  if (dialBlocked) {
    return blockDecision(core, b, target, {stage: 'upstream', layer: 'ssrf', reason: 'ssrf_private_ip', detail: message, status, enforced: true})
  }
  return errorDecision(core, b, target, message, status)
}
