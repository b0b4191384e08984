/**
 * The URL scanner pipeline (runtime spec §5). `scanUrl` returns the first failing stage; stages
 * run in exactly the spec's order. Every content check (stages 10–13) runs before DNS (14), so a
 * secret in a hostname never reaches a resolver. DNS, clock and rate-limit state are injected.
 */
import RE2 from 're2'
import {createDlpEngine, FindingSet, findCanary, matchingPatterns, noPatternMatchesAny, runEngine, type DlpEngine, type DlpFinding} from './dlp-engine.js'
import type {CompiledDlpPattern} from './dlp-patterns.js'
import {matchesAnyDomain} from './domain-match.js'
import {shannonEntropy, utf8Length} from './entropy.js'
import {goEscapedPath, goUrlString, parseGoUrl, splitQuery, type GoUrl} from '../canonical/index.js'
import {
  cidrContains, CORE_SSRF_CIDRS, formatIp, inetAtonShortForm, isMetadataIp, parseCidrs,
  parseIp, stripZone, unmap, type Cidr, type IpBytes,
} from './ip.js'
import {stripControlChars} from './normalize.js'
import {EXTRA_CORE_CIDRS, ssrfHit} from './special-ranges.js'
import {approximateRegistrableDomain, type DataBudget, type RateLimiter} from './rate-limit.js'
import {REASON_CODES, reasonForLabel, type ReasonCode, type ReasonRetry, type ReasonSeverity, type ScannerLabel} from './reasons.js'
import {findLiteralSecret} from './secrets.js'
import {subsequenceTexts} from './subsequence.js'
import {hostLabelDecodings} from './host-decodings.js'
import {cutsBetween, guardedHostJoint, guardedJoint, guardedLabelJoin, normalisedCuts, WORDS_JOINED} from './joints.js'
import {dlpTargets, ScanMemo, someSeedTarget, subsequenceValues, targetsProvenClean} from './url-targets.js'
import type {ScannerSettings} from './settings.js'
import {hostStageMemo} from './url-static-memo.js'
import {hostFacts, type HostFacts} from './url-host-facts.js'

export type ResultClass = 'threat' | 'protective' | 'config_mismatch' | 'infrastructure_error' | 'structural_exemption'

export interface StageTiming {
  readonly stage: string
  readonly ms: number
}

export interface UrlScanResult {
  readonly allowed: boolean
  /** Scanner label of the deciding stage; `all` when allowed. Also the block `layer`. */
  readonly scanner: ScannerLabel
  readonly layer: ScannerLabel
  /** Closed §10.2 vocabulary; null only when allowed. */
  readonly reason: ReasonCode | null
  readonly severity: ReasonSeverity | null
  readonly retry: ReasonRetry | null
  readonly class: ResultClass
  /**
   * Human reason in the reference's wording, safe to log: pattern names, hosts and query keys,
   * never a matched value (§10.4). Host/scheme echoes are replaced by `[redacted]` when they
   * themselves contain a detectable secret.
   */
  readonly detail: string
  readonly hint?: string
  /** A rate-limit block: whole seconds until the window has room again (the `Retry-After` of its 429). */
  readonly retryAfter?: number
  /** Enforced DLP findings of the deciding stage (names/positions only). */
  readonly findings: readonly DlpFinding[]
  /** `action: warn` DLP matches and info notes (e.g. `SigV4 Long Expiry`): never block. */
  readonly warnings: readonly DlpFinding[]
  readonly timings?: readonly StageTiming[]
}

/** Resolves a hostname to IP strings. Errors should carry a Node-style `code` (`ENOTFOUND`, `ETIMEOUT`…). */
export type Resolver = (host: string, signal?: AbortSignal) => Promise<string[]>

/** Compiled, immutable per-settings state (one snapshot per request, §25.8). */
export interface UrlScanner {
  readonly settings: ScannerSettings
  readonly dlp: DlpEngine
  readonly internal: readonly Cidr[]
  readonly checkSet: readonly Cidr[]
  readonly core: readonly Cidr[]
  readonly ipAllowlist: readonly Cidr[]
  readonly sigv4: {readonly date: InstanceType<typeof RE2>; readonly sig: InstanceType<typeof RE2>; readonly key: InstanceType<typeof RE2>; readonly day: InstanceType<typeof RE2>}
}

export function createUrlScanner(settings: ScannerSettings, dlp?: DlpEngine): UrlScanner {
  const internal = parseCidrs(settings.internal)
  const core = parseCidrs([...CORE_SSRF_CIDRS, ...EXTRA_CORE_CIDRS, ...(settings.hostAddresses ?? [])])
  return {
    settings,
    dlp: dlp ?? createDlpEngine(settings),
    internal,
    core,
    checkSet: [...internal, ...core],
    ipAllowlist: parseCidrs(settings.ssrfIpAllowlist),
    sigv4: {
      date: new RE2('^[0-9]{8}T[0-9]{6}Z$', 'u'),
      sig: new RE2('^[0-9a-fA-F]{64}$', 'u'),
      key: new RE2('^(AKIA|A3T[A-Z0-9]|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}$', 'u'),
      day: new RE2('^[0-9]{8}$', 'u'),
    },
  }
}

export interface UrlScanContext {
  readonly scanner: UrlScanner
  readonly resolver: Resolver
  readonly rateLimiter: RateLimiter
  readonly dataBudget?: DataBudget
  /** Request cancellation (stages 0 and 18). */
  readonly signal?: AbortSignal
  /** eTLD+1 for rate-limit/budget keys; defaults to a built-in approximation (no PSL installed). */
  readonly registrableDomain?: (host: string) => string
  /** DNS timeout, default 5000 ms. */
  readonly dnsTimeoutMs?: number
  /** When given, per-stage timings (ms) are attached; e.g. `performance.now`. */
  readonly timer?: () => number
  /** Told about internal bugs caught by the fail-closed guard (the URL is then blocked). */
  readonly onInternalError?: (err: unknown) => void
  /**
   * `parseGoUrl(rawUrl)` when the caller parsed the same string already (the forward proxy's
   * router): stage 1 takes it instead of parsing again. Read only, never changed.
   */
  readonly parsed?: GoUrl
}

interface Blocked {
  label: ScannerLabel
  detail: string
  cls?: ResultClass
  hint?: string
  findings?: DlpFinding[]
  retryAfter?: number
}

const CRLF_CHECKS: ReadonlyArray<[string[], string]> = [
  [['%0d%0a'], 'CRLF injection sequence in URL'],
  [['%250d%250a'], 'double-encoded CRLF injection sequence in URL'],
  [['%0a', '%0d'], 'encoded CR or LF in URL'],
  [['%250a', '%250d'], 'double-encoded CR or LF in URL'],
  [['\r', '\n'], 'raw CRLF bytes in URL'],
]

/** §5.2 on the raw URL minus any fragment, lower-cased. */
export function crlfReason(rawUrl: string): string | null {
  // Every needle has a '%', CR or LF, and lower-casing makes none of them: a URL without any is
  // clean, with no lower-cased copy made (the usual case, on every request).
  if (!rawUrl.includes('%') && !rawUrl.includes('\r') && !rawUrl.includes('\n')) return null
  const hash = rawUrl.indexOf('#')
  const s = (hash >= 0 ? rawUrl.slice(0, hash) : rawUrl).toLowerCase()
  for (const [needles, reason] of CRLF_CHECKS) if (needles.some((n) => s.includes(n))) return reason
  return null
}

const DOTDOTS = ['..', '%2e.', '.%2e', '%2e%2e']
const SEPS = ['/', '\\', '%2f', '%5c']
// Every separator+dot-dot pair (a trailing one) and separator+dot-dot+separator triple (inside).
const TRAVERSAL_ENDS = SEPS.flatMap((a) => DOTDOTS.map((d) => a + d))
const TRAVERSAL_INSIDE = TRAVERSAL_ENDS.flatMap((ad) => SEPS.map((b) => ad + b))

/** §5.3 on the escaped path, lower-cased. */
export function traversalReason(escapedPath: string): string | null {
  const p = escapedPath.toLowerCase()
  // Every needle contains a '.' or an escaped one ('%2e'): a path with neither has none of them.
  if (p.includes('.') || p.includes('%2e')) {
    for (const n of TRAVERSAL_ENDS) if (p.endsWith(n)) return 'path traversal sequence in URL'
    for (const n of TRAVERSAL_INSIDE) if (p.includes(n)) return 'path traversal sequence in URL'
  }
  if (p.includes('/%252e%252e/') || p.includes('/%252e%252e%252f') || p.endsWith('/%252e%252e')) {
    return 'double-encoded path traversal in URL'
  }
  return null
}

interface SigV4Outcome {
  /** The URL to content-scan (key id scrubbed), or null when not a valid presigned URL. */
  scanUrl: GoUrl | null
  longExpiry: boolean
}

/** Not a presigned URL (one shared answer: never changed by its readers). */
const NOT_SIGV4: SigV4Outcome = Object.freeze({scanUrl: null, longExpiry: false})

/** §5.4 SigV4 presigned-URL detection. */
function sigV4(scanner: UrlScanner, u: GoUrl, host: string): SigV4Outcome {
  const none = NOT_SIGV4
  if (!(host === 'amazonaws.com' || host.endsWith('.amazonaws.com') || host === 'amazonaws.com.cn' || host.endsWith('.amazonaws.com.cn'))) return none
  const pairs = splitQuery(u.rawQuery)
  const one = (k: string): string | null => {
    const v = pairs.filter((p) => p.key === k)
    return v.length === 1 ? v[0]!.value : null
  }
  const alg = one('X-Amz-Algorithm')
  const date = one('X-Amz-Date')
  const sig = one('X-Amz-Signature')
  const cred = one('X-Amz-Credential')
  const expires = one('X-Amz-Expires')
  if (alg !== 'AWS4-HMAC-SHA256' || date === null || sig === null || cred === null || expires === null) return none
  if (!scanner.sigv4.date.test(date) || !scanner.sigv4.sig.test(sig)) return none
  const parts = cred.split('/')
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return none
  const keyId = parts[0]!
  if (!scanner.sigv4.key.test(keyId) || !scanner.sigv4.day.test(parts[1]!) || parts[1] !== date.slice(0, 8)) return none
  let exp = 0
  for (const c of expires) if (c < '0' || c > '9') return none
  exp = Number(expires)
  if (!(exp > 0)) return none
  // Scrub the key id only inside X-Amz-Credential; an access key anywhere else still triggers DLP.
  const placeholder = 'a'.repeat(keyId.length)
  const rawQuery = u.rawQuery
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=')
      const k = eq >= 0 ? part.slice(0, eq) : part
      if (k !== 'X-Amz-Credential') return part
      return k + '=' + part.slice(eq + 1).split(keyId).join(placeholder)
    })
    .join('&')
  return {scanUrl: {...u, rawQuery}, longExpiry: exp > 86400}
}

function fmt(n: number): string {
  return n.toFixed(2)
}

function dnsFailure(host: string, err: unknown): Blocked {
  const code = (err as {code?: unknown} | null)?.code
  const c = typeof code === 'string' ? code : ''
  let detail: string
  if (c === 'ETIMEOUT' || c === 'ETIMEDOUT' || c === 'TIMEOUT') detail = `DNS lookup for ${host} timed out`
  else if (c === 'ENOTFOUND' || c === 'ENODATA' || c === 'NXDOMAIN') detail = `DNS lookup for ${host} returned no such host`
  else detail = `DNS lookup for ${host} failed`
  return {label: 'ssrf', detail, cls: 'infrastructure_error'}
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error('DNS timeout'), {code: 'ETIMEOUT'})), ms)
    p.then(
      (v) => {
        clearTimeout(t)
        resolve(v)
      },
      (e: unknown) => {
        clearTimeout(t)
        reject(e)
      },
    )
  })
}

function inList(ip: IpBytes, list: readonly Cidr[]): boolean {
  return list.some((c) => cidrContains(c, ip))
}

/**
 * Scans one URL. Never throws for any input string: every outcome is a classified result.
 *
 * The answer is a promise, but the pipeline only awaits for DNS: a URL whose host is an address
 * (or a scan with no internal ranges to check) is decided synchronously and handed back already
 * resolved — no async frames, awaits and microtask turns of the pipeline and its SSRF stage per
 * request (bench: proxy).
 */
export function scanUrl(rawUrl: string, ctx: UrlScanContext): Promise<UrlScanResult> {
  const r = scanUrlEager(rawUrl, ctx)
  return r instanceof Promise ? r : Promise.resolve(r)
}

/**
 * `scanUrl`, its result handed back as it is when the pipeline decided synchronously (no DNS):
 * a promise only while stage 14 waits for the resolver. The proxy's URL-scan stage reads it, so
 * that a request whose every stage decides at once passes the gate without a promise turn.
 */
export function scanUrlEager(rawUrl: string, ctx: UrlScanContext): UrlScanResult | Promise<UrlScanResult> {
  const timings: StageTiming[] = []
  const timer = ctx.timer
  let last = timer ? timer() : 0
  const mark = (stage: string): void => {
    if (!timer) return
    const now = timer()
    timings.push({stage, ms: now - last})
    last = now
  }
  const warnings: DlpFinding[] = []
  let cls: ResultClass = 'threat'
  const finish = (b: Blocked | null): UrlScanResult => {
    if (b === null) {
      // Two literals, not a spread at the end (every allowed request; same keys, same order).
      return timer
        ? {allowed: true, scanner: 'all', layer: 'all', reason: null, severity: null, retry: null, class: cls, detail: 'allowed', findings: [], warnings, timings}
        : {allowed: true, scanner: 'all', layer: 'all', reason: null, severity: null, retry: null, class: cls, detail: 'allowed', findings: [], warnings}
    }
    const reason = reasonForLabel(b.label)
    return {
      allowed: false, scanner: b.label, layer: b.label, reason, severity: REASON_CODES[reason].severity,
      retry: REASON_CODES[reason].retry, class: b.cls ?? 'threat', detail: b.detail,
      ...(b.hint !== undefined ? {hint: b.hint} : {}), ...(b.retryAfter !== undefined ? {retryAfter: b.retryAfter} : {}), findings: b.findings ?? [], warnings, ...(timer ? {timings} : {}),
    }
  }
  // A bug must never let a request through: fail closed with a fixed, secret-free reason.
  const failed = (err: unknown): UrlScanResult => {
    ctx.onInternalError?.(err)
    return finish({label: 'parser', detail: 'invalid URL'})
  }
  const settled = (b: Blocked | null): UrlScanResult => {
    try {
      return finish(b)
    } catch (err) {
      return failed(err)
    }
  }
  let r: Blocked | null | Promise<Blocked | null>
  try {
    r = pipeline(rawUrl, ctx, warnings, mark, (c) => (cls = c))
  } catch (err) {
    return failed(err)
  }
  return r instanceof Promise ? r.then(settled, failed) : settled(r)
}

/** Stages 0–18; a promise only while stage 14 waits for DNS. */
function pipeline(
  rawUrl: string,
  ctx: UrlScanContext,
  warnings: DlpFinding[],
  mark: (stage: string) => void,
  setClass: (c: ResultClass) => void,
): Blocked | null | Promise<Blocked | null> {
  const sc = ctx.scanner
  // 0. context
  if (ctx.signal?.aborted) return {label: 'context', detail: 'request context unavailable'}
  // Stages 1–13 read only the URL and the scanner's immutable state: a host-only URL (a CONNECT
  // tunnel's `https://host/`) takes their outcome from the scanner's memo (url-static-memo.ts).
  const memo = ctx.timer === undefined ? hostStageMemo<StaticOutcome>(sc, rawUrl) : null
  let s = memo?.get(rawUrl)
  if (s === undefined) {
    s = staticStages(rawUrl, sc, mark, ctx.parsed)
    memo?.set(rawUrl, s)
  }
  for (const w of s.warnings) warnings.push(w)
  if (s.cls !== undefined) setClass(s.cls)
  if (s.blocked !== null) return s.blocked
  const outcome = s
  // 14. SSRF with DNS
  if (sc.internal.length > 0) {
    // Not blocked: stage 1 parsed, so the host's facts are there.
    const {host, hostIp} = outcome.facts!
    const b = ssrfStage(ctx, host, hostIp)
    if (b instanceof Promise) return b.then((x) => (x !== null ? x : dynamicStages(rawUrl, ctx, outcome, mark)))
    if (b !== null) return b
  }
  return dynamicStages(rawUrl, ctx, outcome, mark)
}

/** Stages 15–18 (after SSRF): rate limit, length, data budget, cancellation. */
function dynamicStages(rawUrl: string, ctx: UrlScanContext, s: StaticOutcome, mark: (stage: string) => void): Blocked | null {
  const st = ctx.scanner.settings
  // Set whenever stage 1 parsed; a URL that did not parse never gets here.
  const facts = s.facts!
  const host = facts.host
  mark('ssrf')
  // 15. rate limit
  // One key per address however it is spelled (item 10): otherwise each spelling gets its own budget.
  // The spelling is a function of the host: kept with the host's facts.
  const key = (ctx.registrableDomain ?? approximateRegistrableDomain)(facts.spelling())
  if (!ctx.rateLimiter.checkAndRecord(key, st.maxRequestsPerMinute)) {
    return {label: 'ratelimit', detail: `rate limit exceeded for ${safeEcho(ctx.scanner.dlp, host)}`, cls: 'protective', retryAfter: ctx.rateLimiter.retryAfterSeconds(key, st.maxRequestsPerMinute)}
  }
  mark('ratelimit')
  // 16. URL length in bytes of the raw string
  const max = st.maxUrlLength > 0 ? st.maxUrlLength : 2048
  const len = utf8Length(rawUrl)
  if (len > max) return {label: 'length', detail: `URL length ${len} exceeds maximum ${max}`}
  mark('length')
  // 17. data budget
  if (ctx.dataBudget !== undefined && ctx.dataBudget.isExhausted(key, st.maxDataPerMinute)) {
    return {label: 'databudget', detail: `data budget exceeded for ${safeEcho(ctx.scanner.dlp, host)}`, cls: 'protective'}
  }
  mark('databudget')
  // 18. context cancelled during the scan
  if (ctx.signal?.aborted) return {label: 'context', detail: 'request context cancelled'}
  return null
}

/** What stages 1–13 decided for one URL: a block or none, and what they noted on the way. */
interface StaticOutcome {
  blocked: Blocked | null
  /** Warn findings and info notes, in the order the stages added them. */
  readonly warnings: DlpFinding[]
  /** The result class a stage set (a SigV4 presigned URL), if any. */
  cls: ResultClass | undefined
  /** The host's facts (stage 2's canonical host and its IP form among them), which the later stages read; absent when stage 1 failed. */
  facts?: HostFacts
}

/**
 * Stages 1–13 (parse to subdomain entropy): a function of the URL and the scanner's immutable
 * state alone (no DNS, clock, rate or budget state), which is what lets url-static-memo.ts keep
 * their outcome per scanner.
 */
function staticStages(rawUrl: string, sc: UrlScanner, mark: (stage: string) => void, parsed: GoUrl | undefined): StaticOutcome {
  const r: StaticOutcome = {blocked: null, warnings: [], cls: undefined}
  r.blocked = staticChecks(rawUrl, sc, mark, r, parsed)
  return r
}

function staticChecks(rawUrl: string, sc: UrlScanner, mark: (stage: string) => void, r: StaticOutcome, parsed: GoUrl | undefined): Blocked | null {
  const st = sc.settings
  const dlp = sc.dlp
  const warnings = r.warnings
  const setClass = (c: ResultClass): void => {
    r.cls = c
  }
  // 1. parse
  let u: GoUrl
  try {
    u = parsed ?? parseGoUrl(rawUrl)
  } catch {
    return {label: 'parser', detail: 'invalid URL'}
  }
  mark('parse')
  // 2. hostname + alternative IPv4 notations
  // Empty hosts fail here, not in a resolver; Unicode hosts are judged in the IDNA form the upstream client dials.
  // The host's facts are kept per scanner (url-host-facts.ts): computed once per host, read here.
  const facts = hostFacts(sc, u.host)
  const canon = facts.canon
  const host = facts.host
  const hostIp = facts.hostIp
  r.facts = facts
  mark('host')
  const safe = (s: string): string => safeEcho(dlp, s)
  // 3. scheme
  if (u.scheme !== 'http' && u.scheme !== 'https') {
    return {label: 'scheme', detail: `scheme "${safe(u.scheme)}" not allowed: only http and https`}
  }
  mark('scheme')
  if (!canon.ok) return {label: 'parser', detail: canon.detail}
  // 4. CRLF on the raw string
  const crlf = crlfReason(rawUrl)
  if (crlf !== null) return {label: 'crlf_injection', detail: crlf}
  mark('crlf')
  // 5. traversal on the escaped path
  const trav = traversalReason(goEscapedPath(u))
  if (trav !== null) return {label: 'path_traversal', detail: trav}
  mark('traversal')
  // 6. allowlist (strict mode only)
  if (st.mode === 'strict' && !facts.allowlisted()) {
    return {label: 'allowlist', detail: `domain not in allowlist: ${safe(host)}`}
  }
  mark('allowlist')
  // 7. blocklist
  const bl = facts.blocklisted()
  if (bl !== null) return {label: 'blocklist', detail: `domain blocked: ${safe(host)} matches ${bl}`}
  mark('blocklist')
  // 8. core SSRF on IP literals, only when the configured internal list is empty
  if (sc.internal.length === 0 && hostIp !== null) {
    const hit = ssrfHit(hostIp, sc.core)
    if (hit !== null && !inList(unmap(hostIp), sc.ipAllowlist)) {
      return {label: 'core_ssrf', detail: `SSRF blocked: ${formatIp(hit)} is in a core-protected range`}
    }
  }
  mark('core_ssrf')
  // 9. SigV4 presigned URL: scrub the credential's key id for content checks
  const sig = sigV4(sc, u, host)
  const su = sig.scanUrl ?? u
  if (sig.scanUrl !== null) {
    setClass('structural_exemption')
    if (sig.longExpiry) warnings.push({pattern: 'SigV4 Long Expiry', severity: 'info', core: false, encoding: '', warn: true})
  }
  mark('sigv4')
  const memo = new ScanMemo(sc.dlp.decodeScratch)
  const dlpBlock = dlpStages(sc, su, facts, memo, warnings, mark)
  if (dlpBlock !== null) return dlpBlock
  mark('dlp')
  // 12. path & query entropy
  if (st.entropyThreshold > 0) {
    const T = st.entropyThreshold
    if (!facts.entropyExcluded()) {
      for (const seg of su.path.split('/')) {
        if (utf8Length(seg) < 20) continue
        const e = shannonEntropy(seg)
        if (e > T) return {label: 'entropy', detail: `high entropy path segment (${fmt(e)} > ${fmt(T)} threshold)`}
      }
    }
    for (const p of memo.query(su.rawQuery)) {
      if (utf8Length(p.key) >= 20) {
        const e = shannonEntropy(p.key)
        // The key itself is the high-entropy string here, so it is not echoed (§10.4).
        if (e > T) return {label: 'entropy', detail: `high entropy query key (${fmt(e)} > ${fmt(T)} threshold)`}
      }
      if (utf8Length(p.value) >= 20) {
        const e = shannonEntropy(p.value)
        if (e > T) return {label: 'entropy', detail: `high entropy query param "${safe(p.key)}" (${fmt(e)} > ${fmt(T)} threshold)`}
      }
    }
  }
  mark('entropy')
  // 13. subdomain entropy
  if (st.subdomainEntropyThreshold > 0 && hostIp === null && !facts.entropyExcluded()) {
    const labels = host.split('.')
    if (labels.length >= 3) {
      for (const l of labels.slice(0, -2)) {
        if (utf8Length(l) < 8) continue
        const e = shannonEntropy(l)
        if (e > st.subdomainEntropyThreshold) {
          // The label is the suspicious payload; echo its length, not its text.
          return {label: 'subdomain_entropy', detail: `high entropy subdomain label (${utf8Length(l)} bytes, ${fmt(e)} > ${fmt(st.subdomainEntropyThreshold)} threshold)`}
        }
      }
    }
  }
  mark('subdomain_entropy')
  return null
}

/** What URL DLP alone found in a URL (`scanUrlDlp`). */
export interface UrlDlpResult {
  /** False when the URL does not parse (or its host cannot be canonicalised): nothing was scanned. */
  readonly parsed: boolean
  /** Enforced findings of the deciding stage (core first), as the full scan reports them. */
  readonly matches: readonly DlpFinding[]
  /** `action: warn` matches. */
  readonly warnings: readonly DlpFinding[]
}

/**
 * URL DLP alone (stages 10 and 11 over the URL target set, no SigV4 exemption): for a listener
 * whose destination is the operator's own (the reverse proxy), where SSRF, blocklist, entropy and
 * rate limits do not apply but a secret in the URL must be found as on every other transport.
 */
export function scanUrlDlp(rawUrl: string, sc: UrlScanner): UrlDlpResult {
  let u: GoUrl
  try {
    u = parseGoUrl(rawUrl)
  } catch {
    return {parsed: false, matches: [], warnings: []}
  }
  const facts = hostFacts(sc, u.host)
  if (!facts.canon.ok) return {parsed: false, matches: [], warnings: []}
  const warnings: DlpFinding[] = []
  const b = dlpStages(sc, u, facts, new ScanMemo(sc.dlp.decodeScratch), warnings, () => {})
  return {parsed: true, matches: b?.findings ?? [], warnings}
}

/**
 * Stages 10 and 11 (core DLP, then the configured patterns, seed phrases, env/file secrets and
 * canaries) on a parsed URL whose host's facts are known: the one URL DLP, which the full scan
 * runs and `scanUrlDlp` runs alone.
 */
function dlpStages(sc: UrlScanner, su: GoUrl, facts: HostFacts, memo: ScanMemo, warnings: DlpFinding[], mark: (stage: string) => void): Blocked | null {
  const dlp = sc.dlp
  const host = facts.host
  // The 2-, 3- and 4-value concatenations, less those the junction screen proves clean.
  const subValues = subsequenceValues(su.rawQuery, memo)
  const subParts = new Map<string, readonly number[]>()
  const subTexts = subsequenceTexts(subValues, dlp.junctionScreen, dlp.lines, dlp.normalizer.forDlp, subParts)
  // One RE2::Set pass per string decides which patterns can match it at all (falling back to
  // the core+configured alternation when the set cannot decide); stages 10 and 11 then run
  // only those patterns, on only those strings — a pure speed-up: a pattern the set rules out
  // cannot hit.
  type Candidates = ReadonlySet<CompiledDlpPattern> | null
  const screen = (text: string): {keep: boolean; cand: Candidates} => {
    const cand = matchingPatterns(dlp, text)
    if (cand !== null) return {keep: cand.size > 0, cand}
    return {keep: dlp.allPrefilter === null || dlp.allPrefilter.test(text), cand}
  }
  const normTargets: Array<{kind: string; decoding: boolean; norm: string; cand: Candidates}> = []
  const subseq: Array<{text: string; cand: Candidates}> = []
  // The common case, a clean URL: one set pass over every target at once proves that no
  // pattern can hit any of them, and nothing below needs the targets.
  if (!targetsProvenClean(dlp, su, host, memo, subTexts, facts.labelDecodings(), facts.joint())) {
    // Identical strings are tested once (first occurrence keeps its place and label; it becomes
    // core-eligible if any duplicate is). A joined text is read guarded (joints.ts): the same
    // text unless a pattern hits it, so the proof above, on the plain join, holds for it.
    const byText = new Map<string, {kind: string; decoding: boolean; norm: string}>()
    for (const t of dlpTargets(su, host, memo, facts.labelDecodings(), facts.joint())) {
      let norm = dlp.normalizer.forDlp(t.text)
      if (t.cuts !== undefined) norm = guardedJoint(dlp, norm, normalisedCuts(dlp.normalizer, t.text, norm, t.cuts), host, t.rule)
      const seen = byText.get(norm)
      if (seen === undefined) byText.set(norm, {kind: t.kind, decoding: t.decoding, norm})
      else if (seen.decoding && !t.decoding) seen.decoding = false
    }
    if (!noPatternMatchesAny(dlp, [...[...byText.keys()], ...subTexts])) {
      for (const t of byText.values()) {
        const sc2 = screen(t.norm)
        if (sc2.keep) normTargets.push({kind: t.kind, decoding: t.decoding, norm: t.norm, cand: sc2.cand})
      }
      for (const x of subTexts) {
        const sc2 = screen(x)
        if (!sc2.keep) continue
        // Values joined are judged as words joined (joints.ts): `?a=canvas&b=1&c=elementrenders…`.
        const judged = judgedSubsequence(dlp, x, subValues, subParts.get(x)!, host)
        subseq.push(judged === x ? {text: x, cand: sc2.cand} : {text: judged, cand: screen(judged).cand})
      }
    }
  }
  // 10. core DLP (no §5.6 decodings of query keys/values); a URL proven clean above has no target
  // to run the engines on, and so no findings to collect.
  const screened = normTargets.length > 0 || subseq.length > 0
  if (screened) {
    const out = new FindingSet()
    for (const t of normTargets) {
      if (t.decoding) continue
      if (runEngine(dlp, dlp.core, t.norm, t.kind, out, host, t.cand) > 0) break
    }
    if (out.enforcedCount === 0) {
      for (const x of subseq) if (runEngine(dlp, dlp.core, x.text, 'subsequence', out, host, x.cand) > 0) break
    }
    if (out.enforcedCount > 0) {
      const f = out.enforced()[0]!
      return {label: 'core_dlp', detail: `core DLP match: ${f.pattern} (${f.severity})`, findings: out.enforced()}
    }
  }
  mark('core_dlp')
  // 11. DLP: configured patterns, seed phrases, env/file secrets, canaries
  {
    if (screened) {
      const out = new FindingSet()
      for (const t of normTargets) {
        if (runEngine(dlp, dlp.configured, t.norm, t.kind, out, host, t.cand) > 0) break
      }
      if (out.enforcedCount === 0) {
        for (const x of subseq) if (runEngine(dlp, dlp.configured, x.text, 'subsequence', out, host, x.cand) > 0) break
      }
      // One informational entry per warn pattern, whatever number of targets it hit.
      for (const w of out.warnings) if (!warnings.some((x) => x.pattern === w.pattern)) warnings.push(w)
      if (out.enforcedCount > 0) {
        const f = out.enforced()[0]!
        return {label: 'dlp', detail: `DLP match: ${f.pattern} (${f.severity})`, findings: out.enforced()}
      }
    }
    if (dlp.seed.active && someSeedTarget(su, host, memo, (t) => dlp.seed.detect(t))) {
      const f: DlpFinding = {pattern: 'BIP-39 Seed Phrase', severity: 'critical', core: false, encoding: '', warn: false}
      return {label: 'dlp', detail: 'DLP match: BIP-39 Seed Phrase (critical)', findings: [f]}
    }
    const full = goUrlString(su)
    const haystacks = [full, stripControlChars(memo.decode(full))]
    // An env or file secret spelt in hex or base32 over several host labels is only whole decoded.
    for (const d of facts.labelDecodings()) haystacks.push(d.text)
    const lit = findLiteralSecret(dlp.literalSecrets, haystacks)
    if (lit !== null) {
      const base = lit.kind === 'env' ? 'environment variable leak detected' : 'known secret leak detected'
      const pattern = lit.kind === 'env' ? 'Environment Variable Leak' : 'Known Secret Leak'
      const detail = lit.encoding === '' ? base : `${base} (${lit.encoding}-encoded)`
      return {label: 'dlp', detail, findings: [{pattern, severity: 'critical', core: false, encoding: lit.encoding, warn: false}]}
    }
    const canary = findCanary(dlp.canaries, haystacks)
    if (canary !== null) {
      const pattern = `Canary Token (${canary.name})`
      return {label: 'dlp', detail: `DLP match: ${pattern} (critical)`, findings: [{pattern, severity: 'critical', core: false, encoding: canary.encoding, warn: false}]}
    }
  }
  return null
}

/**
 * Stage 14: a promise only when the resolver is asked; an address (IP literal, alternative
 * notation, inet_aton short form) or a `dns.host_overrides` answer is judged synchronously.
 */
function ssrfStage(ctx: UrlScanContext, host: string, hostIp: IpBytes | null): Blocked | null | Promise<Blocked | null> {
  const short = hostIp === null ? inetAtonShortForm(host) : null
  // IP literal, alternative notation, or an inet_aton short form: test it directly.
  if (hostIp !== null || short !== null) return ssrfVerdict(ctx.scanner, host, [hostIp ?? parseIp(short!)!])
  // dns.host_overrides (scanners-extra §6.3) replace the resolver's answer; the IPs are then
  // judged exactly as resolved ones (an override never exempts anything by itself).
  const override = ctx.scanner.settings.hostOverrides?.get(overrideKey(host))
  if (override !== undefined) return resolvedVerdict(ctx.scanner, host, [...override])
  let answer: Promise<string[]>
  try {
    answer = withTimeout(ctx.resolver(host, ctx.signal), ctx.dnsTimeoutMs ?? 5000)
  } catch (err) {
    return dnsFailure(safeEcho(ctx.scanner.dlp, host), err)
  }
  return answer.then(
    (resolved) => resolvedVerdict(ctx.scanner, host, resolved),
    (err: unknown) => dnsFailure(safeEcho(ctx.scanner.dlp, host), err),
  )
}

/** Stage 14 on a hostname's answer (resolved or overridden). */
function resolvedVerdict(sc: UrlScanner, host: string, resolved: readonly string[]): Blocked | null {
  if (resolved.length === 0) return dnsFailure(safeEcho(sc.dlp, host), {code: 'ENOTFOUND'})
  // §5.12 order: DNS must answer (fail closed) before a trusted domain is allowed.
  if (matchesAnyDomain(host, sc.settings.trustedDomains) !== null) return null
  const addrs: IpBytes[] = []
  for (const r of resolved) {
    const ip = parseIp(stripZone(r))
    // An unparsable answer is treated as unsafe.
    if (ip === null) return {label: 'ssrf', detail: `SSRF blocked: ${safeEcho(sc.dlp, host)} resolves to an unparsable address`}
    addrs.push(ip)
  }
  return ssrfVerdict(sc, host, addrs)
}

/** Stage 14's verdict on the host's addresses. */
function ssrfVerdict(sc: UrlScanner, host: string, addrs: readonly IpBytes[]): Blocked | null {
  const safe = (s: string): string => safeEcho(sc.dlp, s)
  for (const raw of addrs) {
    const hit = ssrfHit(raw, sc.checkSet)
    if (hit === null || inList(unmap(raw), sc.ipAllowlist)) continue
    const ip = hit
    const meta = isMetadataIp(ip)
    const inApi = matchesAnyDomain(host, sc.settings.apiAllowlist) !== null
    const detail = meta
      ? `SSRF blocked: ${safe(host)} resolves to cloud metadata endpoint ${formatIp(ip)}`
      : `SSRF blocked: ${safe(host)} resolves to internal IP ${formatIp(ip)}`
    return {
      label: meta ? 'ssrf_metadata' : 'ssrf',
      detail,
      ...(inApi
        ? {cls: 'config_mismatch' as const, hint: `add ${safe(host)} to trusted_domains (or ${formatIp(ip)} to ssrf.ip_allowlist) if this internal address is intended`}
        : {}),
    }
  }
  return null
}

/**
 * A subsequence target (the values at `of`, joined, normalised) judged as words joined
 * (`WORDS_JOINED`): a hit that starts inside a value or runs through a value of lower-case
 * letters alone has a `&` put back where it crosses into the next value.
 */
function judgedSubsequence(dlp: DlpEngine, text: string, values: readonly string[], of: readonly number[], host: string): string {
  const raw = of.map((i) => values[i]!)
  return guardedJoint(dlp, text, normalisedCuts(dlp.normalizer, raw.join(''), text, cutsBetween(raw, '&')), host, WORDS_JOINED)
}

/** The `dns.host_overrides` key of a hostname: lower-case, trailing DNS dots stripped (§6.2). */
export function overrideKey(host: string): string {
  return host.toLowerCase().replace(/\.+$/, '')
}

/** Echo a host/scheme/key only when it carries nothing DLP would flag (§10.4). */
function safeEcho(dlp: DlpEngine, s: string): string {
  if (utf8Length(s) > 253) return '[redacted]'
  const out = new FindingSet()
  const norm = dlp.normalizer.forDlp(s)
  // A host spelling a secret in hex or base32 labels is not echoed either (host-decodings.ts), nor
  // one cut by a '-' or '_' (joints.ts: read as the scan reads it).
  const decoded = hostLabelDecodings(s.toLowerCase()).map((d) => d.text)
  const joined = guardedHostJoint(dlp, s)
  for (const t of [norm, guardedLabelJoin(dlp, norm), ...decoded.map((d) => dlp.normalizer.forDlp(d)), ...(joined === null ? [] : [joined])]) {
    const cand = matchingPatterns(dlp, t)
    runEngine(dlp, dlp.core, t, '', out, undefined, cand)
    runEngine(dlp, dlp.configured, t, '', out, undefined, cand)
  }
  if (out.enforcedCount > 0 || out.warnings.length > 0) return '[redacted]'
  if (findLiteralSecret(dlp.literalSecrets, [s, ...decoded]) !== null) return '[redacted]'
  return s
}

export type DialCheck =
  | {readonly ok: true; readonly ip: string}
  | {readonly ok: false; readonly label: 'ssrf' | 'ssrf_metadata'; readonly detail: string}

/**
 * Dial-time re-validation (§5.14) for the proxy's SSRF-safe dialer: every resolved address must
 * be outside `internal` ∪ core CIDRs (the merged set — §24 #3 fixed) unless the host is a
 * trusted domain or the address is in `ssrf.ip_allowlist`. Returns the first validated IP to
 * connect to (DNS pinning), or why the connection must be refused.
 */
export function checkDialAddresses(scanner: UrlScanner, host: string, addresses: readonly string[]): DialCheck {
  const h = host.toLowerCase()
  const trusted = matchesAnyDomain(h, scanner.settings.trustedDomains) !== null
  const parsed: IpBytes[] = []
  for (const a of addresses) {
    const ip = parseIp(stripZone(a))
    if (ip === null) return {ok: false, label: 'ssrf', detail: `dial refused: ${h} resolved to an unparsable address`}
    parsed.push(unmap(ip))
  }
  if (parsed.length === 0) return {ok: false, label: 'ssrf', detail: `dial refused: ${h} resolved to no address`}
  if (!trusted) {
    for (const raw of parsed) {
      const ip = ssrfHit(raw, scanner.checkSet)
      if (ip !== null && !inList(raw, scanner.ipAllowlist)) {
        const meta = isMetadataIp(ip)
        return {
          ok: false,
          label: meta ? 'ssrf_metadata' : 'ssrf',
          detail: meta ? `dial refused: ${h} resolves to cloud metadata endpoint ${formatIp(ip)}` : `dial refused: ${h} resolves to internal IP ${formatIp(ip)}`,
        }
      }
    }
  }
  return {ok: true, ip: formatIp(parsed[0]!)}
}
