/**
 * Scoped, expiring exceptions (issue 14, operations.md §8.3 [beyond]): what a grant may say and
 * what it matches. Pure functions only; the store (exception-store.ts) keeps state and time.
 *
 * An exception waives one URL-scanner, header-DLP or body-DLP block for a request whose host (exact, or `*.suffix`),
 * optional path (prefix, or a glob where `*` matches any characters), optional finding (DLP
 * pattern name, scanner label or block reason, case-insensitive) and optional agent (a bound
 * identity, never a self-declared one) all match. Only the labels in WAIVABLE_LAYERS can be
 * waived: core (non-configurable) protections, SSRF, rate and data budgets, parser and scheme
 * refusals cannot; the kill switch, airlock and session stages never reach the exception step.
 */
import {getPublicSuffix} from 'tldts'

/**
 * Labels an exception may waive (all configurable policy, none a core protection): the URL
 * scanner's, and the DLP findings of request headers and bodies (an over-size body, prompt
 * injection in a body and every session/airlock/contract/budget stage are not waivable).
 */
export const WAIVABLE_LAYERS: ReadonlySet<string> = new Set(['blocklist', 'allowlist', 'dlp', 'entropy', 'subdomain_entropy', 'length', 'header_dlp', 'body_dlp'])

/** The block reasons the waivable labels produce (an exception may name these too). */
export const WAIVABLE_REASONS: ReadonlySet<string> = new Set(['domain_blocklist', 'domain_not_allowlisted', 'dlp_match', 'path_entropy', 'subdomain_entropy', 'url_length'])

/**
 * Scanner labels and gate layers that block but can never be waived (the request path never
 * consults an exception for them): an exception naming one would be accepted and do nothing.
 */
const NON_WAIVABLE_LAYERS: ReadonlySet<string> = new Set([
  'context', 'parser', 'scheme', 'crlf_injection', 'path_traversal', 'core_ssrf', 'core_dlp', 'ssrf', 'ssrf_metadata', 'ratelimit', 'databudget', 'all',
  'body_prompt_injection', 'response_scan', 'address_protection', 'kill_switch', 'airlock', 'session_deny', 'session_profiling', 'taint_policy', 'budget',
  'cross_request', 'cross_request_fragment', 'cross_request_entropy', 'media_policy', 'contract', 'tunnel_capacity', 'response_size', 'shield_oversize', 'redirect',
])

/** DLP finding names that do not come from a pattern list (text-dlp.ts). */
const FIXED_FINDINGS: readonly string[] = ['BIP-39 Seed Phrase', 'Environment Variable Leak', 'Known Secret Leak']

/**
 * Grant-time check of an exception's `pattern` (issue 34): it must name something the exception
 * step can waive — a waivable scanner label, the block reason of one, or a DLP finding name the
 * running scanner can report (`findingNames`: its pattern names; `Canary Token (…)` too). A
 * non-waivable label or reason, or a name no scanner produces, is refused with the reason:
 * such an exception would be accepted and never apply. Null when the pattern is fine.
 */
export function unwaivablePattern(pattern: string, findingNames: readonly string[], reasonCodes: readonly string[]): string | null {
  const p = pattern.trim()
  const lower = p.toLowerCase()
  if (WAIVABLE_LAYERS.has(lower) || WAIVABLE_REASONS.has(lower)) return null
  if (lower.startsWith('canary token (') || [...findingNames, ...FIXED_FINDINGS].some((n) => n.toLowerCase() === lower)) return null
  const hint = 'see: pipelock exception grant --help'
  if (NON_WAIVABLE_LAYERS.has(lower)) return `pattern "${p}": exceptions never waive this scanner (${hint})`
  if (reasonCodes.includes(lower)) return `pattern "${p}": exceptions never waive this block reason (${hint})`
  return `pattern "${p}": no scanner of this config reports it, so the exception would never apply (${hint})`
}

export const MAX_USES = 100
export const DEFAULT_USES = 1
/** An exception always ends: default one hour, at most seven days (§8.3 bound). */
export const DEFAULT_TTL_MS = 3_600_000
export const MAX_TTL_MS = 7 * 24 * 3_600_000
export const MAX_EXCEPTIONS = 100
const MAX_REASON_BYTES = 1024
const MAX_NAME = 128

/** The body of `POST /api/v1/exceptions` (unknown fields refused by the API). */
export interface ExceptionGrant {
  readonly host: string
  readonly path?: string
  readonly pattern?: string
  readonly agent?: string
  readonly uses?: number
  /** Lifetime in seconds from the grant (default 3600, max 604800). */
  readonly expires_in_seconds?: number
  readonly granted_by: string
  readonly reason: string
}

/** One exception as stored in `exceptions.json` and answered by the API. */
export interface ExceptionRecord {
  readonly id: string
  readonly host: string
  readonly path?: string
  readonly pattern?: string
  readonly agent?: string
  readonly uses: number
  uses_left: number
  readonly granted_at: string
  readonly expires_at: string
  readonly granted_by: string
  readonly reason: string
}

/** What the exception step sees of a blocked request. */
export interface ExceptionTarget {
  readonly host: string
  readonly path: string
  /** The scanner label that blocked (`dlp`, `blocklist`, …). */
  readonly layer: string
  readonly reason: string
  /** DLP pattern names of the blocking findings. */
  readonly patterns: readonly string[]
  readonly agent: string
  /** False for a self-declared name (header, query): it can never claim an agent-scoped exception. */
  readonly agentBound: boolean
}

/**
 * The public suffix that a wildcard host such as `*.com`, `*.co.uk` or `*.github.io` covers
 * whole, or null. Such a grant is as broad as `*`: a TLD, an ICANN second level, or a private
 * registry's suffix (every tenant of a hosting platform, `github.io`, `herokuapp.com`). The list
 * changes and its wildcard and exception rules (`*.kawasaki.jp`, `!city.kawasaki.jp`) are
 * subtle, so it comes from the maintained Public Suffix List in `tldts` rather than a hand-kept
 * table. A single unknown label (`*.internal`) falls under the list's default rule: a TLD too.
 * `host` is already a valid, lower-case host pattern.
 */
export function wildcardPublicSuffix(host: string): string | null {
  if (!host.startsWith('*.')) return null
  const rest = host.slice(2)
  return getPublicSuffix(rest, {allowPrivateDomains: true, extractHostname: false}) === rest ? rest : null
}

/**
 * `*.0.1`, `*.168.1`: no top-level domain is all digits, so such a wildcard can only end-match
 * IPv4 addresses (every `x.y.0.1`); an address is named exactly.
 */
export function isWildcardAddressTail(host: string): boolean {
  return host.startsWith('*.') && /^[0-9]+$/.test(host.slice(host.lastIndexOf('.') + 1))
}

const HOST_RE = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/
const IPV6_RE = /^[0-9a-f:.]+$/

// eslint-disable-next-line no-control-regex
const hasControl = (s: string): boolean => /[\x00-\x1f\x7f]/.test(s)

/** Validates and normalises a grant; a problem comes back as one line for a 400. */
export function validateGrant(g: ExceptionGrant): {ok: true; grant: Required<Pick<ExceptionGrant, 'host' | 'uses' | 'expires_in_seconds' | 'granted_by' | 'reason'>> & Pick<ExceptionGrant, 'path' | 'pattern' | 'agent'>} | {ok: false; error: string} {
  const host = (g.host ?? '').trim().toLowerCase().replace(/^\[|\]$/g, '')
  if (host === '') return {ok: false, error: 'host is required'}
  if (host === '*' || host.startsWith('*') && !host.startsWith('*.')) return {ok: false, error: `host "${host}" is too broad: name one host or *.example.com`}
  if (!HOST_RE.test(host) && !(host.includes(':') && IPV6_RE.test(host))) return {ok: false, error: `host "${host}" is not a hostname or IP address (no scheme, port or path)`}
  const suffix = wildcardPublicSuffix(host)
  if (suffix !== null) return {ok: false, error: `host "${host}" is too broad: ${suffix} is a public suffix; name one host or *.example.com`}
  if (isWildcardAddressTail(host)) return {ok: false, error: `host "${host}" is too broad: a wildcard over numeric labels matches IP addresses; name an address exactly`}
  if (g.path !== undefined && (!g.path.startsWith('/') || g.path.length > 256 || hasControl(g.path))) return {ok: false, error: 'path must start with / (at most 256 characters)'}
  if (g.pattern !== undefined && (g.pattern.trim() === '' || g.pattern.length > MAX_NAME || hasControl(g.pattern))) return {ok: false, error: `pattern must be 1 to ${MAX_NAME} printable characters`}
  if (g.agent !== undefined && (g.agent === '' || g.agent.length > 64 || hasControl(g.agent))) return {ok: false, error: 'agent must be 1 to 64 printable characters'}
  const uses = g.uses ?? DEFAULT_USES
  if (!Number.isInteger(uses) || uses < 1 || uses > MAX_USES) return {ok: false, error: `uses must be an integer from 1 to ${MAX_USES}`}
  const ttl = g.expires_in_seconds ?? DEFAULT_TTL_MS / 1000
  if (!Number.isInteger(ttl) || ttl < 1 || ttl * 1000 > MAX_TTL_MS) {
    return {ok: false, error: `expires_in_seconds must be an integer from 1 to ${MAX_TTL_MS / 1000} (an exception always expires, within 7 days)`}
  }
  const by = (g.granted_by ?? '').trim()
  if (by === '' || by.length > MAX_NAME || hasControl(by)) return {ok: false, error: `granted_by is required (1 to ${MAX_NAME} printable characters)`}
  const reason = (g.reason ?? '').trim()
  if (reason === '' || Buffer.byteLength(reason) > MAX_REASON_BYTES || hasControl(reason)) return {ok: false, error: `reason is required (at most ${MAX_REASON_BYTES} bytes, one line)`}
  return {
    ok: true,
    grant: {
      host, uses, expires_in_seconds: ttl, granted_by: by, reason,
      ...(g.path !== undefined ? {path: g.path} : {}), ...(g.pattern !== undefined ? {pattern: g.pattern.trim()} : {}), ...(g.agent !== undefined ? {agent: g.agent} : {}),
    },
  }
}

/**
 * Why a record read back from exceptions.json is not one the store wrote, or undefined when it is:
 * every field of its type (an edit or a restore gone wrong). The store refuses such a file
 * whole: a grant dropped without a word, or matched with a field of another type, would both
 * change what is waived.
 */
export function storedRecordProblem(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'not a JSON object'
  const r = e as Record<string, unknown>
  for (const k of ['id', 'host', 'granted_at', 'expires_at', 'granted_by', 'reason']) if (typeof r[k] !== 'string') return `${k} is not a string`
  for (const k of ['path', 'pattern', 'agent']) if (r[k] !== undefined && typeof r[k] !== 'string') return `${k} is not a string`
  for (const k of ['uses', 'uses_left']) if (!Number.isInteger(r[k])) return `${k} is not an integer`
  return undefined
}

/** `*.example.com` matches subdomains of example.com (not example.com itself); else exact, case-insensitive. */
export function hostMatches(rule: string, host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '')
  if (rule.startsWith('*.')) return h.endsWith(rule.slice(1)) && h.length > rule.length - 1
  return h === rule
}

/**
 * A path rule with `*` is a glob (`*` matches any characters, `/` included); without one it is
 * a prefix at a segment boundary (`/repos/acme` matches `/repos/acme` and `/repos/acme/x`, not
 * `/repos/acmex`). The glob match is the linear two-pointer algorithm: no regex over the
 * request's path.
 */
export function pathMatches(rule: string, path: string): boolean {
  const p = path === '' ? '/' : path
  if (!rule.includes('*')) return p === rule || (p.startsWith(rule) && (rule.endsWith('/') || p[rule.length] === '/'))
  let r = 0
  let s = 0
  let star = -1
  let mark = 0
  while (s < p.length) {
    if (r < rule.length && rule[r] !== '*' && rule[r] === p[s]) {
      r++
      s++
    } else if (r < rule.length && rule[r] === '*') {
      star = r++
      mark = s
    } else if (star >= 0) {
      r = star + 1
      s = ++mark
    } else return false
  }
  while (r < rule.length && rule[r] === '*') r++
  return r === rule.length
}

/** The finding an exception names: a DLP pattern name, the scanner label or the block reason. */
export function findingMatches(rule: string, t: Pick<ExceptionTarget, 'layer' | 'reason' | 'patterns'>): boolean {
  const r = rule.toLowerCase()
  return t.layer.toLowerCase() === r || t.reason.toLowerCase() === r || t.patterns.some((p) => p.toLowerCase() === r)
}

/** Whether `e` waives the block described by `t` (uses and expiry are the store's concern). */
export function exceptionMatches(e: Pick<ExceptionRecord, 'host' | 'path' | 'pattern' | 'agent'>, t: ExceptionTarget): boolean {
  if (!WAIVABLE_LAYERS.has(t.layer)) return false
  if (!hostMatches(e.host, t.host)) return false
  if (e.path !== undefined && !pathMatches(e.path, t.path)) return false
  if (e.pattern !== undefined && !findingMatches(e.pattern, t)) return false
  if (e.agent !== undefined && (!t.agentBound || t.agent !== e.agent)) return false
  return true
}

/** A scoped exception's use (the Decision's evidence type, plugin `decision`). */
export type {ExceptionUse} from '../decision/index.js'
