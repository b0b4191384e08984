/**
 * Class-preserving request redaction (envelope-redaction Part II): a JSON body's every object
 * key and string value becomes typed placeholders `<pl:CLASS:N>` where a class matches, numbered
 * per request, in document order (R1 fix), and the document is always re-encoded (R2). One-way:
 * no mapping is kept. Non-JSON bodies fail closed unless an allowlist says otherwise (§18).
 */
import {parseMediaTypeStrict, type RedactionRouteConfig, type RedactionSectionConfig} from '../config/index.js'
import {encodeJson, JNum, JObj, parseJsonDocument, type JNode} from './json.js'
import {Matcher, type KnownSecrets, type Span} from './matcher.js'
import {bareHost, hostMatches, matchProvider, providersOf, type Provider} from './providers.js'

/** Why a request was not forwarded (§19); never carries matched text. */
export type RedactionFailure =
  | 'body_too_large' | 'body_unparseable' | 'non_json_body' | 'duplicate_object_key' | 'json_depth_exceeded'
  | 'redaction_overflow' | 'secret_in_numeric_scalar' | 'key_collision' | 'remarshal_failed' | 'internal_error'
  | 'ws_message_fragmented'

/** The receipt's `redaction` summary (§19): counts only, never a value. */
export interface RedactionSummary {
  readonly profile: string
  readonly provider: string
  readonly parser: 'json'
  readonly total_redactions: number
  /** Distinct originals replaced per class (count > 0), classes sorted. */
  readonly by_class: Readonly<Record<string, number>>
}

export type RedactionOutcome =
  /** JSON: the re-encoded document (always forwarded), with a summary when ≥ 1 value was replaced. */
  | {readonly kind: 'rewritten'; readonly body: Buffer; readonly summary: RedactionSummary | null}
  /** Non-JSON on an allowlisted host or route: forwarded unchanged, no report. */
  | {readonly kind: 'passthrough'}
  | {readonly kind: 'blocked'; readonly reason: RedactionFailure}

export interface RedactionTarget {
  /** Host as requested (a port is stripped for matching). */
  readonly host: string
  /** Decoded URL path. */
  readonly path: string
  readonly method: string
  readonly contentType: string
}

class Fail extends Error {
  constructor(readonly reason: RedactionFailure) {
    super(reason)
  }
}

/** JSON for redaction (§18): `application/json`, `text/json` or `…+json`. */
export function isJsonMediaType(contentType: string): boolean {
  const m = parseMediaTypeStrict(contentType)
  if (m === null) return false
  return m.type === 'application/json' || m.type === 'text/json' || (m.type.endsWith('+json') && m.type.includes('/'))
}

function routeMatches(r: RedactionRouteConfig, host: string, t: RedactionTarget): boolean {
  if (!hostMatches(host, r.host)) return false
  if ((r.methods ?? []).length > 0 && !r.methods!.includes(t.method)) return false
  const path = t.path === '' ? '/' : t.path
  if ((r.path_prefixes ?? []).length > 0 && !r.path_prefixes!.some((p) => path.startsWith(p))) return false
  if ((r.path_suffixes ?? []).length > 0 && !r.path_suffixes!.some((p) => path.endsWith(p))) return false
  if ((r.content_types ?? []).length > 0) {
    const m = parseMediaTypeStrict(t.contentType)
    if (m === null || !r.content_types!.includes(m.type)) return false
  }
  return true
}

/** One request's placeholder state: the same (class, original) pair gets the same placeholder. */
class Numbering {
  readonly pairs = new Map<string, string>()
  readonly perClass = new Map<string, number>()
  total = 0

  placeholder(cls: string, original: string): string {
    const key = `${cls}\u0000${original}`
    let p = this.pairs.get(key)
    if (p === undefined) {
      const n = (this.perClass.get(cls) ?? 0) + 1
      this.perClass.set(cls, n)
      p = `<pl:${/^[a-z0-9][a-z0-9_-]*$/.test(cls) ? cls : 'invalid'}:${n}>`
      this.pairs.set(key, p)
      this.total++
    }
    return p
  }

  has(cls: string, original: string): boolean {
    return this.pairs.has(`${cls}\u0000${original}`)
  }
}

/** The redactor of one config snapshot: matcher, limits, allowlists and providers. */
export class Redactor {
  readonly profile: string
  private readonly matcher: Matcher
  private readonly providers: Provider[]
  private readonly limits: RedactionSectionConfig['limits']

  constructor(private readonly cfg: RedactionSectionConfig, private readonly known: KnownSecrets) {
    this.profile = cfg.default_profile
    this.matcher = new Matcher(cfg, known)
    this.providers = providersOf(cfg)
    this.limits = cfg.limits
  }

  /** What this redactor was made from, as data: a scan-pool thread makes the same redactor from it. */
  get source(): {readonly cfg: RedactionSectionConfig; readonly known: KnownSecrets} {
    return {cfg: this.cfg, known: this.known}
  }

  /** The provider label of a request (§17.3). */
  provider(host: string, path: string): string {
    return matchProvider(this.providers, host, path)
  }

  /** Whether a non-JSON body to this target may pass unchanged (§18.1, §18.2). */
  allowsUnparseable(t: RedactionTarget): boolean {
    const host = bareHost(t.host)
    if (this.cfg.allowlist_unparseable.some((e) => hostMatches(host, e))) return true
    return this.cfg.allowlist_unparseable_routes.some((r) => routeMatches(r, host, t))
  }

  /** An HTTP request body (§16, §18). */
  redactBody(t: RedactionTarget, body: Buffer): RedactionOutcome {
    if (!isJsonMediaType(t.contentType)) return this.allowsUnparseable(t) ? {kind: 'passthrough'} : {kind: 'blocked', reason: 'non_json_body'}
    if (body.length > this.limits.max_body_bytes) return {kind: 'blocked', reason: 'body_too_large'}
    return this.redactText(body.toString('utf8'), this.provider(t.host, t.path))
  }

  /**
   * A complete JSON text (an HTTP body, a WebSocket text message, MCP arguments): the re-encoded
   * document with its summary, or the failure.
   */
  redactText(text: string, provider: string): RedactionOutcome {
    if (Buffer.byteLength(text, 'utf8') > this.limits.max_body_bytes) return {kind: 'blocked', reason: 'body_too_large'}
    const parsed = parseJsonDocument(text)
    if (!parsed.ok) return {kind: 'blocked', reason: parsed.reason}
    const scalars: string[] = []
    collectScalars(parsed.value, scalars, 0, this.limits.max_depth)
    const hits = new Hits(this.matcher.findAll(scalars))
    const num = new Numbering()
    let out: JNode
    try {
      out = this.walk(parsed.value, 0, hits, num)
    } catch (e) {
      if (e instanceof Fail) return {kind: 'blocked', reason: e.reason}
      return {kind: 'blocked', reason: 'internal_error'}
    }
    let encoded: string
    try {
      encoded = encodeJson(out)
    } catch {
      return {kind: 'blocked', reason: 'remarshal_failed'}
    }
    if (num.total === 0) return {kind: 'rewritten', body: Buffer.from(encoded, 'utf8'), summary: null}
    const byClass: Record<string, number> = {}
    for (const cls of [...num.perClass.keys()].sort()) byClass[cls] = num.perClass.get(cls)!
    return {
      kind: 'rewritten',
      body: Buffer.from(encoded, 'utf8'),
      summary: {profile: this.profile, provider, parser: 'json', total_redactions: num.total, by_class: byClass},
    }
  }

  private rewrite(s: string, hits: Hits, num: Numbering): string {
    const spans = hits.next()
    if (spans === undefined) return s
    let fresh = 0
    const seen = new Set<string>()
    for (const sp of spans) {
      const orig = s.slice(sp.start, sp.end)
      const k = `${sp.cls}\u0000${orig}`
      if (!seen.has(k) && !num.has(sp.cls, orig)) fresh++
      seen.add(k)
    }
    if (num.total + fresh > this.limits.max_redactions_per_request) throw new Fail('redaction_overflow')
    let out = ''
    let at = 0
    for (const sp of spans) {
      out += s.slice(at, sp.start) + num.placeholder(sp.cls, s.slice(sp.start, sp.end))
      at = sp.end
    }
    return out + s.slice(at)
  }

  private walk(v: JNode, depth: number, hits: Hits, num: Numbering): JNode {
    if (depth > this.limits.max_depth) throw new Fail('json_depth_exceeded')
    if (typeof v === 'string') return this.rewrite(v, hits, num)
    if (v === null || typeof v === 'boolean') return v
    if (v instanceof JNum) {
      if (hits.next() !== undefined) throw new Fail('secret_in_numeric_scalar')
      return v
    }
    if (Array.isArray(v)) {
      const a: JNode[] = new Array(v.length)
      for (let i = 0; i < v.length; i++) a[i] = this.walk(v[i]!, depth + 1, hits, num)
      return a
    }
    const o = new JObj()
    let emitted: Set<string> | null = null
    for (let i = 0; i < v.keys.length; i++) {
      const k0 = v.keys[i]!
      const k = this.rewrite(k0, hits, num)
      if (k !== k0 && emitted === null) emitted = new Set(o.keys)
      if (emitted !== null) {
        if (emitted.has(k)) throw new Fail('key_collision')
        emitted.add(k)
      }
      o.keys.push(k)
      o.vals.push(this.walk(v.vals[i]!, depth + 1, hits, num))
    }
    return o
  }
}

/** The spans of each scalar, handed out in the walk's order (the order `collectScalars` listed them). */
class Hits {
  private i = 0
  constructor(private readonly byIndex: Map<number, Span[]>) {}
  next(): Span[] | undefined {
    return this.byIndex.size === 0 ? (this.i++, undefined) : this.byIndex.get(this.i++)
  }
}

/** Keys, strings and number lexemes of the tree (down to the depth the walk visits), for the prefilter. */
function collectScalars(v: JNode, out: string[], depth: number, max: number): void {
  if (depth > max) return
  if (typeof v === 'string') out.push(v)
  else if (v instanceof JNum) out.push(v.lexeme)
  else if (Array.isArray(v)) for (const x of v) collectScalars(x, out, depth + 1, max)
  else if (v instanceof JObj) {
    for (let i = 0; i < v.keys.length; i++) {
      out.push(v.keys[i]!)
      collectScalars(v.vals[i]!, out, depth + 1, max)
    }
  }
}
