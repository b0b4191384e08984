/**
 * The helpers that turn a scan outcome into the one Decision of the request, and the request's
 * Decision base. What a transport needs from the running proxy are its ports (ports.ts), handed
 * to it by the composition root (compose.ts).
 */
import type {IncomingMessage} from 'node:http'
import {goHostname, parseGoUrl, type GoUrl} from '../canonical/index.js'
import {guardedHostJoint, hostLabelDecodings, reasonForLabel, scanUrlEager, type HeaderList, type ReasonCode, type Resolver, type UrlScanResult} from '../scanner/index.js'
import {sanitiseLogString} from './audit-log.js'
import {blockGrade, CONTENT_SCANNER_LABELS, displayUrl, redactUrl} from './block.js'
import type {Decision, DecisionStage, Transport} from './decision.js'
import type {IdentityAuth} from './identity.js'
import type {Clock, SnapshotSource} from './ports.js'
import {forProfile, type ProxySnapshot} from './state.js'
import {getaddrinfoAll} from './ssrf-dialer.js'

/** The snapshot view of the request's profile (its merged config, scanner and budgets). */
export function snapshotFor(ports: SnapshotSource, b: Pick<DecisionBase, 'profile'>): ProxySnapshot {
  const snap = ports.snapshot()
  return b.profile === undefined ? snap : forProfile(snap, b.profile)
}

/**
 * The URL scan with the system resolver (or `resolver`) and the snapshot's windows (the scanner's
 * own promise: no extra async hop per request). The system resolver here has no timer of its own:
 * the scan's stage 14 bounds every resolver call with its DNS timeout (5 s, as `systemLookupAll`'s).
 * `parsed`: `parseGoUrl(raw)` when the caller made it (the scan does not parse `raw` again).
 */
export function urlScan(snap: ProxySnapshot, raw: string, resolver: Resolver = getaddrinfoAll, parsed?: GoUrl): Promise<UrlScanResult> {
  // `urlScanEager`'s result as a promise (`scanUrl`'s own wrapping: the scan's promise as it is).
  return Promise.resolve(urlScanEager(snap, raw, resolver, parsed))
}

/** `urlScan`, the result as it is when the scan decided without DNS (a promise only while it resolves a name). */
export function urlScanEager(snap: ProxySnapshot, raw: string, resolver: Resolver = getaddrinfoAll, parsed?: GoUrl): UrlScanResult | Promise<UrlScanResult> {
  // The scanner's own `scanUrlEager` with its URL scanner, in one context object (not one here and
  // its copy there). `getaddrinfoAll` takes the host alone: the scanner's second argument (its signal) is not passed on.
  return scanUrlEager(raw, {scanner: snap.scanner.url, resolver, rateLimiter: snap.rateLimiter, dataBudget: snap.dataBudget, parsed})
}

/**
 * Audit / body-safe form of a target URL (§10.4: a secret is never echoed, in a body or a log).
 * `layer` is the label that decided: a content scanner → `scheme://host/[redacted]`; null → the
 * URL passed every URL check (DLP included, warn-only patterns too: see `shownLayer`), shown
 * decoded; anything else (a block before the DLP stage, the kill switch, an unparsable URL) →
 * shown only if DLP finds nothing in it, a warn-only pattern included.
 *
 * What is shown is the URL percent-decoded, and an audit line then drops its control characters
 * (`sanitiseLogString`): `Zq8r…%0AmNp4…` is split where it was scanned and whole where it is
 * printed. So the printed form is scanned as well as the raw one.
 */
export function safeTarget(snap: ProxySnapshot, raw: string, layer: string | null): string {
  const hostHasSecret = (): boolean => {
    const host = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(raw)?.[1] ?? ''
    if (host === '') return false
    if (snap.scanner.scanTextForDlp(host).matches.length > 0) return true
    // A key spelt in hex or base32 over the labels (the URL scan's host decodings).
    for (const d of hostLabelDecodings(host.toLowerCase())) if (snap.scanner.scanTextForDlp(d.text).matches.length > 0) return true
    // A key cut by a '-' or '_' in a label, joined as the URL scan joins it (its host_joined target).
    const joined = guardedHostJoint(snap.scanner.dlp, host)
    return joined !== null && snap.scanner.scanTextForDlp(joined).matches.length > 0
  }
  if (layer !== null && CONTENT_SCANNER_LABELS.has(layer)) return redactUrl(raw, hostHasSecret())
  const shown = displayUrl(raw)
  const printed = sanitiseLogString(shown)
  const holdsSecret = (text: string): boolean => {
    const dlp = snap.scanner.scanTextForDlp(text)
    return dlp.matches.length > 0 || dlp.warnings.length > 0
  }
  if (layer !== null) {
    if (holdsSecret(raw) || (shown !== raw && holdsSecret(shown)) || (printed !== shown && holdsSecret(printed))) return redactUrl(raw, hostHasSecret())
  } else if (printed !== shown && holdsSecret(printed)) {
    // A URL that passed the scan was checked raw and decoded; only the control characters a log
    // line drops can still join a secret here (an ANSI sequence is dropped whole).
    return redactUrl(raw, hostHasSecret())
  }
  return shown
}

/**
 * The label `safeTarget` shows a scanned URL by: the deciding label of a refused scan; for an
 * allowed one, `dlp` when a warn-only pattern matched in it (the match is logged as `dlp_warn`
 * and the request goes on, but the URL holds what the pattern names), else null.
 */
export function shownLayer(scan: UrlScanResult): string | null {
  if (!scan.allowed) return scan.layer
  return scan.warnings.length > 0 ? 'dlp' : null
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

/** What the client was answered on an allowed request: its status, the body bytes relayed, the `action: warn` patterns seen. */
export interface AllowOutcome {
  readonly status: number
  readonly bytes: number
  readonly warnings: readonly string[]
}

export function allowDecision(clock: Clock, b: DecisionBase, target: string, o: AllowOutcome): Decision {
  // Written out (same keys, same order as `{...base(), …}`): the hot path of every allowed
  // request, and one object literal is several times cheaper than a spread into a new one.
  return {
    requestId: b.requestId, transport: b.transport, method: b.method, agent: b.agent, clientIp: b.clientIp, sessionKey: b.sessionKey, profile: b.profile ?? '_default', bound: b.bound === true,
    durationMs: clock.nowMs() - b.startMs, target, verdict: 'allow', stage: 'none', layer: 'all', reason: null, severity: null,
    retry: null, class: null, detail: 'allowed', status: o.status, warnings: o.warnings, bytes: o.bytes,
  }
}

export function blockDecision(
  clock: Clock,
  b: DecisionBase,
  target: string,
  opts: {stage: DecisionStage; layer: string; reason?: ReasonCode; detail: string; status: number; enforced: boolean; scan?: UrlScanResult; warnings?: readonly string[]; hint?: string | undefined},
): Decision {
  const reason = opts.reason ?? reasonForLabel(opts.layer)
  // A contract block's grade is the one its block headers carry (block.ts).
  const grade = blockGrade(reason, opts.stage === 'contract')
  const hint = opts.hint ?? opts.scan?.hint
  return {
    requestId: b.requestId, transport: b.transport, method: b.method, agent: b.agent, clientIp: b.clientIp, sessionKey: b.sessionKey, profile: b.profile ?? '_default', bound: b.bound === true,
    durationMs: clock.nowMs() - b.startMs,
    target,
    verdict: opts.enforced ? 'block' : 'would_block',
    stage: opts.stage,
    layer: opts.layer,
    reason,
    severity: grade.severity,
    retry: grade.retry,
    class: opts.scan?.class ?? 'threat',
    detail: opts.detail,
    ...(hint !== undefined ? {hint} : {}),
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
export function errorDecision(clock: Clock, b: DecisionBase, target: string, failure: UpstreamFailure): Decision {
  return {
    requestId: b.requestId, transport: b.transport, method: b.method, agent: b.agent, clientIp: b.clientIp, sessionKey: b.sessionKey, profile: b.profile ?? '_default', bound: b.bound === true,
    durationMs: clock.nowMs() - b.startMs, target, verdict: 'error', stage: 'upstream', layer: 'upstream', reason: null, severity: null,
    retry: null, class: null, detail: failure.detail, status: failure.status ?? 502, warnings: [], bytes: 0,
    ...(failure.hint !== undefined ? {hint: failure.hint} : {}),
  }
}

/**
 * The client hung up before its request was whole (mid-body; `stage` `none`: before any stage
 * ran) or answered (`upstream`: its upstream request was aborted): nothing was answered (status
 * 0). An `error` verdict on layer `client`: neither a block nor an upstream failure, and neutral
 * for adaptive scoring like every `error`.
 */
export function clientClosedDecision(clock: Clock, b: DecisionBase, target: string, detail: string, stage: 'body_scan' | 'none' | 'upstream' | 'response' = 'body_scan'): Decision {
  return {
    requestId: b.requestId, transport: b.transport, method: b.method, agent: b.agent, clientIp: b.clientIp, sessionKey: b.sessionKey, profile: b.profile ?? '_default', bound: b.bound === true,
    durationMs: clock.nowMs() - b.startMs, target, verdict: 'error', stage, layer: 'client', reason: null, severity: null,
    retry: null, class: null, detail, status: 0, warnings: [], bytes: 0,
  }
}

/**
 * An upstream that failed: what happened, whether the SSRF-safe dialer refused the address, the
 * status answered (default 502), and the hint naming the cause (upstream-cause.ts), which the
 * answer carries as `X-Pipelock-Hint` with `explain_blocks` (a dial-time SSRF refusal has the
 * `ssrf` layer's hint instead).
 */
export interface UpstreamFailure {
  readonly detail: string
  readonly hint?: string | undefined
  readonly dialBlocked?: boolean
  readonly status?: number
}

/** Upstream outcome errors: a dial refused by the SSRF-safe dialer is a policy block, anything else an error. */
export function upstreamFailure(clock: Clock, b: DecisionBase, target: string, failure: UpstreamFailure): Decision {
  if (failure.dialBlocked === true) {
    return blockDecision(clock, b, target, {stage: 'upstream', layer: 'ssrf', reason: 'ssrf_private_ip', detail: failure.detail, status: failure.status ?? 502, enforced: true})
  }
  return errorDecision(clock, b, target, failure)
}
