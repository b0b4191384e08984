import {
  canonicalizePath,
  copyString,
  fromByteString,
  goFoldKey,
  hexDigitValue,
  goToLower,
  goTrimSpace,
  JsonNumber,
  parseHttpUrl,
  PathCanonicalError,
  type JsonObject,
  type JsonValue,
} from '../canonical/index.js'
import {RESERVED_SEGMENTS} from '../contracts/index.js'

// Rule selectors as the evaluator reads them (learn-lifecycle §2.1 "Rule selectors", §3.2
// "Rule match"). Rules are generic trees: a selector shape the evaluator does not understand
// never matches (fail closed), it is not an error.

export const HTTP_RULE_KINDS: readonly string[] = ['http_destination', 'http_action']
export const MCP_RULE_KIND = 'mcp_tool_call'

export function str(m: JsonObject | undefined, k: string): string {
  const v = m?.get(k)
  return typeof v === 'string' ? v : ''
}

export function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v instanceof Map ? v : undefined
}

export function rulesOf(body: JsonObject): JsonObject[] {
  const rules = body.get('rules')
  return Array.isArray(rules) ? rules.filter((r): r is JsonObject => r instanceof Map) : []
}

/** §3.2 host normalisation: trim spaces, lower-case, strip one trailing dot. */
export function normalizeHost(h: string): string {
  let s = goToLower(goTrimSpace(h))
  if (s.endsWith('.')) s = s.slice(0, -1)
  return s
}

/** `selector.host.value` (an object; a bare string host never matches), normalised; undefined if absent. */
export function ruleHost(rule: JsonObject): string | undefined {
  const host = obj(obj(rule.get('selector'))?.get('host'))
  const v = host?.get('value')
  return typeof v === 'string' ? normalizeHost(v) : undefined
}

/** A parsed request URL: what the contract gate needs and nothing else. */
export interface RequestUrl {
  scheme: string
  /** Normalised host (§3.2), without port or brackets. */
  host: string
  /** Port text, `''` when absent. */
  port: string
  /** Go EscapedPath, `/` when empty. */
  escapedPath: string
}

/**
 * Parses with the same Go-compatible parser compile used (so a rule's host and path mean the
 * same thing at compile time and at the gate); undefined for anything without an http(s) host.
 */
export function parseRequestUrl(url: string): RequestUrl | undefined {
  const p = parseHttpUrl(url)
  if (p === undefined || p.hostname === '') return undefined
  const colon = url.indexOf(':')
  const scheme = url.slice(0, colon).toLowerCase()
  let authority = url.slice(colon + 3)
  const end = authority.search(/[/?#]/)
  if (end >= 0) authority = authority.slice(0, end)
  let port = ''
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']')
    if (authority[close + 1] === ':') port = authority.slice(close + 2)
  } else {
    const i = authority.lastIndexOf(':')
    if (i >= 0) port = authority.slice(i + 1)
  }
  return {scheme, host: normalizeHost(fromByteString(p.hostname)), port, escapedPath: p.escapedPath === '' ? '/' : p.escapedPath}
}

/** §7.6: only the scheme's default port (or none) is acceptable under a contract. */
export function isDefaultPort(scheme: string, port: string): boolean {
  if (scheme === 'https') return port === '' || port === '443'
  if (scheme === 'http') return port === '' || port === '80'
  return false
}

/**
 * The request path in the form compile wrote into `selector.paths[].value`: the learn
 * canonicaliser (one implementation for compile and the gate), then UTF-8 decoded the way compile
 * decodes rule values. Undefined when the path has no canonical form.
 */
export function canonicalRequestPath(escapedPath: string): string | undefined {
  try {
    return fromByteString(canonicalizePath(escapedPath === '' ? '/' : escapedPath))
  } catch (e) {
    if (e instanceof PathCanonicalError) return undefined
    throw e
  }
}

/**
 * One `selector.paths[]` entry. A segment that compile collapsed (`*` at an index listed in the
 * entry's `normalization.collapsed_segments`, learn-compile §15) stands for any one non-empty
 * segment; everything else, including a `*` that compile did not collapse, matches literally.
 */
export interface PathMatcher {
  readonly value: string
  /** Collapsed segment indexes (sorted, unique); empty for a literal path. */
  readonly collapsed: readonly number[]
  /**
   * `normalization.pinned_segments[].value` (learn pin), canonicalised as a request segment is:
   * values a collapsed `*` never stands for. Empty when the entry pins nothing.
   */
  readonly pinned: readonly string[]
}

/**
 * Keeps a string the evaluator holds for the contract's lifetime (canonical `copyString`: not a
 * slice of the contract text). The index build passes one that also de-duplicates.
 */
export type Intern = (s: string) => string

/** An `Intern` that hands out one copy per distinct string (hosts, methods, actions repeat across rules). */
export function interner(): Intern {
  const seen = new Map<string, string>()
  return (s) => {
    let v = seen.get(s)
    if (v === undefined) seen.set((v = copyString(s)), v)
    return v
  }
}

const NO_SEGMENTS: readonly number[] = Object.freeze([])
const NO_PINS: readonly string[] = Object.freeze([])
const UNMATCHABLE: PathMatcher = Object.freeze({value: '\u0000unmatchable', collapsed: NO_SEGMENTS, pinned: NO_PINS})

/**
 * A pinned literal in the form a request segment takes after canonicalisation (lower-cased,
 * NFC, percent-decoded), so `Admin` pins `/v1/users/ADMIN` and `/v1/users/%61dmin` too; a value
 * with no canonical segment form pins nothing it could be compared with.
 */
function canonicalPin(v: string): string | undefined {
  const c = canonicalRequestPath('/' + v)
  return c === undefined || c.indexOf('/', 1) >= 0 ? undefined : c.slice(1)
}

function pinnedValues(normalization: JsonObject | undefined, intern: Intern): readonly string[] {
  const list = normalization?.get('pinned_segments')
  if (!Array.isArray(list)) return NO_PINS
  const out = new Set<string>()
  for (const e of list) {
    const v = e instanceof Map ? e.get('value') : undefined
    const c = typeof v === 'string' && v !== '' ? canonicalPin(v) : undefined
    if (c !== undefined && c !== '') out.add(intern(c))
  }
  return out.size === 0 ? NO_PINS : [...out].sort()
}

export function rulePaths(rule: JsonObject, intern: Intern = copyString): PathMatcher[] | undefined {
  const paths = obj(rule.get('selector'))?.get('paths')
  if (!Array.isArray(paths) || paths.length === 0) return undefined
  return paths.map((p) => {
    if (!(p instanceof Map) || typeof p.get('value') !== 'string') return UNMATCHABLE
    const collapsed = new Set<number>()
    const normalization = obj(p.get('normalization'))
    const list = normalization?.get('collapsed_segments')
    if (Array.isArray(list)) {
      for (const c of list) {
        const idx = c instanceof Map ? c.get('index') : undefined
        if (idx instanceof JsonNumber && /^\d{1,6}$/.test(idx.text)) collapsed.add(Number(idx.text))
      }
    }
    return {
      value: intern(p.get('value') as string),
      collapsed: collapsed.size === 0 ? NO_SEGMENTS : [...collapsed].sort((a, b) => a - b),
      pinned: pinnedValues(normalization, intern),
    }
  })
}

/**
 * What a collapsed `*` stands for: one non-empty segment that names something. A decoded `.` or
 * `..` (sent as `%2e`, `%2e%2e`: canonicalisation keeps them, learn-compile Q4) is not one: an
 * upstream that resolves dot segments would serve `/v1/users/%2e/keys` as `/v1/users/keys`, a
 * path the rule never described. Nor is `..;x` or `.;x`: servers that drop `;` path parameters
 * before resolving (Tomcat, Spring) read it as the dot segment. Nor is a segment holding a
 * backslash (sent raw or as `%5C`): WHATWG URL parsers (the WebSocket client among them) and
 * IIS/ASP.NET read it as a separator, so `/v1/users/x%5Cadmin` would reach `/v1/users/x/admin`.
 * Nor is a segment that is not UTF-8 (decoded to U+FFFD): `%c0%ae%c0%ae` is an overlong `..` to
 * the lenient decoders of older servers, and no identifier compile collapsed looks like that.
 * Nor is a value the entry pins (`normalization.pinned_segments`, written by `learn pin`): an
 * operator pins a literal so the collapse never covers it (`/v1/users/*` with `export` pinned does
 * not match `/v1/users/export`; only a rule that names that path allows it). Nor is a built-in
 * reserved segment (learn-compile §15.4: `admin`, `token`, `me`, …): compile never collapses a
 * position where it saw one, so a collapsed position stood for identifiers only, and a reserved
 * word there is an endpoint the agent was never seen to use (`/v1/users/*` does not match
 * `/v1/users/admin` even unpinned).
 * The same holds for what the segment decodes to once more (a double-encoded `%252e%252e`,
 * `%2e%252e`, `a%252fb`): an upstream behind a decoding hop, or one that decodes twice, reads
 * that level, so each level down to one without an escape must be an identifier too (with no
 * `/` either).
 */
function isIdSegment(seg: string, pinned: readonly string[]): boolean {
  let level = seg
  for (let depth = 0; depth < MAX_DECODE_LEVELS; depth++) {
    const name = level.split(';', 1)[0] as string
    if (level === '' || name === '.' || name === '..' || level.includes('\\') || level.includes('\uFFFD')) return false
    // A reserved word, built in or pinned (learn pin), is never one of the values a `*` stands
    // for, at any decode level and with any `;` parameter (an upstream reads `admin;x` as `admin`).
    // The built-in words are lower-case ASCII with no `;`: the lower-cased name covers the level
    // and the name as typed. A pin may hold `;` or, decoded from an escape, capitals: all three.
    const lower = goToLower(name)
    if (RESERVED.has(lower)) return false
    if (pinned.length > 0 && (pinned.includes(level) || pinned.includes(name) || pinned.includes(lower))) return false
    const next = decodeOnce(level)
    if (next === null) return true // no escape left: this level names something
    if (next === undefined) return false
    level = next
    // A separator or control byte one level down is one to an upstream that decodes that far.
    for (let i = 0; i < level.length; i++) {
      const c = level.charCodeAt(i)
      if (c === 0x2f || c < 0x20 || c === 0x7f) return false
    }
  }
  return false
}

/** The built-in reserved segments (§15.4), never read as a collapsed `*`. */
const RESERVED: ReadonlySet<string> = new Set(RESERVED_SEGMENTS)

/** Decode levels a collapsed segment is checked at (`%25252e` is three); deeper is not an id. */
const MAX_DECODE_LEVELS = 4

/**
 * One more percent-decoding of `s`, as UTF-8: null when `s` holds no `%XX` escape (a `%` not
 * followed by two hex digits stays literal), undefined when the decoded bytes are not UTF-8.
 */
function decodeOnce(s: string): string | null | undefined {
  let parts: Buffer[] | null = null
  let at = 0
  for (let i = 0; i + 2 < s.length; i++) {
    if (s.charCodeAt(i) !== 0x25) continue
    const hi = hexDigitValue(s.charCodeAt(i + 1))
    const lo = hexDigitValue(s.charCodeAt(i + 2))
    if (hi < 0 || lo < 0) continue
    parts ??= []
    parts.push(Buffer.from(s.slice(at, i), 'utf8'), Buffer.of(hi * 16 + lo))
    at = i + 3
    i += 2
  }
  if (parts === null) return null
  parts.push(Buffer.from(s.slice(at), 'utf8'))
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(Buffer.concat(parts))
  } catch {
    return undefined
  }
}

export function pathMatches(m: PathMatcher, canonicalPath: string): boolean {
  if (m.value === canonicalPath) return true
  if (m.collapsed.length === 0) return false
  const want = m.value.split('/')
  const got = canonicalPath.split('/')
  if (want.length !== got.length) return false
  for (let i = 0; i < want.length; i++) {
    if (want[i] === got[i]) continue
    if (!(m.collapsed.includes(i) && want[i] === '*' && isIdSegment(got[i] as string, m.pinned))) return false
  }
  return true
}

function ruleMethods(rule: JsonObject, intern: Intern): string[] | undefined {
  const methods = obj(rule.get('selector'))?.get('methods')
  if (!Array.isArray(methods) || methods.length === 0) return undefined
  return methods.map((m) => (typeof m === 'string' ? intern(goTrimSpace(m).toUpperCase()) : '\u0000unmatchable'))
}

/** An HTTP rule's constraints, read once from its selector (see `httpSelector`). */
export interface HttpSelector {
  /** Upper-cased methods; undefined when the rule names none. */
  readonly methods: readonly string[] | undefined
  readonly paths: readonly PathMatcher[] | undefined
  /**
   * `selector.effective_action` (undefined or null: no constraint). Only a string can equal the
   * request's action, so any other value is kept as `false`: a constraint that never holds.
   */
  readonly action: string | false | null | undefined
}

export function httpSelector(rule: JsonObject, intern: Intern = copyString): HttpSelector {
  const action = obj(rule.get('selector'))?.get('effective_action')
  return {
    methods: ruleMethods(rule, intern),
    paths: rulePaths(rule, intern),
    action: action === undefined || action === null ? action : typeof action === 'string' ? intern(action) : false,
  }
}

/**
 * §3.2 rule match on an already host-matched rule: every present constraint must hold; paths are
 * exact string equality except for segments compile collapsed (see `PathMatcher`), methods
 * case-insensitive. `canonicalPath` is undefined when the request path could not be canonicalised.
 */
export function httpConstraintsHold(sel: HttpSelector, method: string, canonicalPath: string | undefined, effectiveAction: string): boolean {
  if (sel.methods !== undefined && !sel.methods.includes(goTrimSpace(method).toUpperCase())) return false
  if (sel.paths !== undefined && (canonicalPath === undefined || !sel.paths.some((m) => pathMatches(m, canonicalPath)))) return false
  if (sel.action !== undefined && sel.action !== null && sel.action !== effectiveAction) return false // `false` never equals a string
  return true
}

// --- MCP argument matching (§7.7): typed equality, numbers as exact rationals.

interface Decimal {
  neg: boolean
  digits: string
  exp: number
}

/** Exact decimal form of a JSON number lexeme: digits without leading/trailing zeros and an exponent. */
function decimalOf(text: string): Decimal | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)
  if (m === null) return undefined
  let digits = (m[2] as string) + (m[3] ?? '')
  let exp = Number(m[4] ?? '0') - (m[3] ?? '').length
  digits = digits.replace(/^0+/, '')
  if (digits === '') return {neg: false, digits: '0', exp: 0}
  const trail = digits.length - digits.replace(/0+$/, '').length
  digits = digits.slice(0, digits.length - trail)
  exp += trail
  return {neg: m[1] === '-', digits, exp}
}

function numberText(v: unknown): string | undefined {
  if (v instanceof JsonNumber) return v.text
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined
  return undefined
}

/** Typed equality: string = string, bool = bool, numbers as exact rationals; anything else no match. */
export function argEquals(want: unknown, got: unknown): boolean {
  if (typeof want === 'string') return typeof got === 'string' && want === got
  if (typeof want === 'boolean') return typeof got === 'boolean' && want === got
  const a = numberText(want)
  const b = numberText(got)
  if (a === undefined || b === undefined) return false
  const x = decimalOf(a)
  const y = decimalOf(b)
  return x !== undefined && y !== undefined && x.neg === y.neg && x.digits === y.digits && x.exp === y.exp
}

function argLookup(args: unknown, key: string): unknown {
  if (args instanceof Map) return args.get(key)
  if (args !== null && typeof args === 'object' && !Array.isArray(args)) return (args as Record<string, unknown>)[key]
  return undefined
}

/**
 * A rule's `selector.args` read once (§7.7): `true` when absent (any arguments match), `false`
 * when it can never match (not an array of objects, an empty key, a null or non-scalar value),
 * else the matchers, every one of which must hold.
 */
export type McpArgsMatcher = boolean | readonly {readonly key: string; readonly want: string | boolean | JsonNumber | bigint | number}[]

export function mcpArgsMatcher(rule: JsonObject, intern: Intern = copyString): McpArgsMatcher {
  const matchers = obj(rule.get('selector'))?.get('args')
  if (matchers === undefined) return true
  if (!Array.isArray(matchers)) return false
  const out: {key: string; want: string | boolean | JsonNumber | bigint | number}[] = []
  for (const m of matchers) {
    if (!(m instanceof Map)) return false
    const key = m.get('key')
    if (typeof key !== 'string' || goTrimSpace(key) === '') return false
    const want: unknown = m.get('value')
    // argEquals is false for anything but a string, a boolean or a number: such a matcher never holds.
    if (typeof want === 'string') out.push({key: intern(key), want: intern(want)})
    else if (typeof want === 'boolean') out.push({key: intern(key), want})
    else if (want instanceof JsonNumber) out.push({key: intern(key), want: new JsonNumber(copyString(want.text))})
    else if (typeof want === 'bigint' || typeof want === 'number') out.push({key: intern(key), want})
    else return false
  }
  return out
}

/**
 * Whether `args` holds another key that Go's `encoding/json` decodes into the same struct field
 * as `key` (Unicode simple case folding, last key wins): `{"path": "/tmp/x", "Path": "/etc/shadow"}`
 * reads as `/etc/shadow` to a Go tool server, whatever the matcher saw under `path`.
 */
function hasFoldedTwin(args: unknown, key: string): boolean {
  const keys = args instanceof Map ? [...(args.keys() as Iterable<string>)] : args !== null && typeof args === 'object' && !Array.isArray(args) ? Object.keys(args) : []
  if (keys.length < 2) return false
  const folded = goFoldKey(key)
  return keys.some((k) => k !== key && goFoldKey(k) === folded)
}

/** Whether `args` satisfies a matcher from `mcpArgsMatcher` (a matched key with a case-folded twin never does). */
export function mcpArgsHold(m: McpArgsMatcher, args: unknown): boolean {
  if (typeof m === 'boolean') return m
  for (const {key, want} of m) {
    const got = argLookup(args, key)
    if (got === undefined || got === null) return false
    if (!argEquals(want, got)) return false
    if (hasFoldedTwin(args, key)) return false
  }
  return true
}

/** §7.7 args matchers: absent → match; not an array of objects → no match; every matcher must hold. */
export function mcpArgsMatch(rule: JsonObject, args: unknown): boolean {
  return mcpArgsHold(mcpArgsMatcher(rule), args)
}
