/**
 * Taint / authority (runtime spec §16). A session remembers its exposure to external content
 * (responses from non-allowlisted domains, prompt-injection hits, media) since its current task
 * began. A later mutating request to a protected or elevated path from a contaminated session
 * yields `ask`; with no approver wired that is a 403 `authority_mismatch` (layer `taint_policy`).
 * Level names and numbers are the receipts' `recent_taint_sources[].level` scale (receipts §4.1).
 */

export const TAINT_LEVELS = ['trusted', 'internal_generated', 'allowlisted_reference', 'external_low_risk', 'external_untrusted', 'external_hostile'] as const
export type TaintLevelName = (typeof TAINT_LEVELS)[number]

export const TAINT = {
  trusted: 0,
  internal_generated: 1,
  allowlisted_reference: 2,
  external_low_risk: 3,
  external_untrusted: 4,
  external_hostile: 5,
} as const satisfies Record<TaintLevelName, number>

/** A session is contaminated once it has seen content at `external_untrusted` or worse. */
export const CONTAMINATED_AT = TAINT.external_untrusted

export type TaintSourceKind = 'response' | 'tunnel' | 'prompt_injection' | 'media' | 'mcp_response'

export interface TaintSource {
  readonly url: string
  readonly kind: TaintSourceKind
  readonly level: number
  readonly atMs: number
}

export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Path globs of `taint.protected_paths` / `elevated_paths` (such as `<star>/auth/<star>`): `*` matches
 * any run of characters, `/` included; everything else is literal; case-insensitive.
 */
export function compilePathGlob(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`, 'is')
}

export type PathClass = 'protected' | 'elevated' | null

export class PathClassifier {
  private readonly protectedRe: RegExp[]
  private readonly elevatedRe: RegExp[]
  constructor(protectedPaths: readonly string[], elevatedPaths: readonly string[]) {
    this.protectedRe = protectedPaths.map(compilePathGlob)
    this.elevatedRe = elevatedPaths.map(compilePathGlob)
  }
  /** Any of `paths` (the raw and the decoded form of one request path) decides. */
  classify(paths: readonly string[]): PathClass {
    // `\` is a separator too (a Windows path in a tool argument: `C:\repo\config\a.yaml`).
    const forms = paths.map((p) => p.replace(/\\/g, '/'))
    for (const p of forms) if (this.protectedRe.some((re) => re.test(p))) return 'protected'
    for (const p of forms) if (this.elevatedRe.some((re) => re.test(p))) return 'elevated'
    return null
  }
}

/** Per-session taint state; reset when the operator starts a new task (§12 `task`). */
export class TaintState {
  level: number = TAINT.trusted
  /** Oldest first, at most `taint.recent_sources` entries. */
  readonly sources: TaintSource[] = []

  get contaminated(): boolean {
    return this.level >= CONTAMINATED_AT
  }

  get levelName(): TaintLevelName {
    return TAINT_LEVELS[this.level]!
  }

  record(source: TaintSource, limit: number): void {
    if (source.level > this.level) this.level = source.level
    // Only what raises or sustains risk is worth listing; trusted reads are not sources.
    if (source.level < TAINT.external_low_risk) return
    const last = this.sources[this.sources.length - 1]
    if (last !== undefined && last.url === source.url && last.kind === source.kind && last.level === source.level) {
      this.sources[this.sources.length - 1] = source
      return
    }
    this.sources.push(source)
    while (this.sources.length > limit) this.sources.shift()
  }

  clear(): void {
    this.level = TAINT.trusted
    this.sources.length = 0
  }
}

/**
 * Scoped trust granted by the operator (§12 `POST …/trust`), valid for one task until it
 * expires. `action_match` is a glob over the request (full URL or path); `source_match` a glob
 * that every contaminating source URL must match. At least one of the two is set.
 */
export interface TrustOverride {
  readonly scope: 'task'
  readonly taskId: string
  readonly sourceMatch?: string
  readonly actionMatch?: string
  readonly expiresAtMs: number
  readonly grantedBy?: string
  readonly reason?: string
}

// ---- The taint policy matrix (policy-extra §1.4–1.8): classification, the decision table, overrides.

export type TaintPolicy = 'strict' | 'balanced' | 'permissive'
export type ActionClass = 'read' | 'browse' | 'summarize' | 'write' | 'exec' | 'secret' | 'publish' | 'network'
export type Sensitivity = 'normal' | 'elevated' | 'protected'
/** Who authorised the action: always `user_broad` when evaluated; `operator_override` once a human approved an ask. */
export type AuthorityKind = 'user_broad' | 'user_exact' | 'operator_override'
export type TaintDecision = 'allow' | 'ask' | 'block'

const SENSITIVITY_RANK: Readonly<Record<Sensitivity, number>> = {normal: 0, elevated: 1, protected: 2}
const AUTHORITY_RANK: Readonly<Record<AuthorityKind, number>> = {user_broad: 0, user_exact: 1, operator_override: 2}

/** What an action is, as the matrix reads it, and the reference string overrides match (`action_match`). */
export interface TaintAction {
  readonly cls: ActionClass
  readonly sensitivity: Sensitivity
  /** The path or URL that decided the sensitivity ('' when none). */
  readonly target: string
  /** `publish:post:https://api.example.com/auth/update`, `mcp:write_file:/srv/config/db.yaml`. */
  readonly ref: string
}

/**
 * The policy matrix, first row wins (policy-extra §1.6). `strict` differs from `balanced` only
 * in rows 5 and 9; `permissive` is `balanced` (the reference's Q-T4, kept).
 */
export function taintMatrix(level: number, cls: ActionClass, s: Sensitivity, a: AuthorityKind, policy: TaintPolicy): {decision: TaintDecision; reason: string} {
  const sens = SENSITIVITY_RANK[s]
  const auth = AUTHORITY_RANK[a]
  const strict = policy === 'strict'
  if (cls === 'read' || cls === 'browse' || cls === 'summarize') return {decision: 'allow', reason: 'taint_safe_read_only_action'}
  if (level < TAINT.external_untrusted) return {decision: 'allow', reason: 'trusted_or_allowlisted_context'}
  if (level >= TAINT.external_hostile && (sens >= SENSITIVITY_RANK.elevated || cls === 'write' || cls === 'exec' || cls === 'secret' || cls === 'publish')) {
    return {decision: 'block', reason: 'sensitive_action_after_hostile_external_exposure'}
  }
  const belowExact = auth < AUTHORITY_RANK.user_exact
  if (cls === 'write' && s === 'protected' && belowExact) return {decision: 'ask', reason: 'protected_write_after_untrusted_external_exposure'}
  if (cls === 'write' && strict && sens >= SENSITIVITY_RANK.elevated && belowExact) return {decision: 'ask', reason: 'elevated_write_after_untrusted_external_exposure'}
  if (cls === 'exec' && auth < AUTHORITY_RANK.operator_override) return {decision: 'ask', reason: 'mutating_exec_after_untrusted_external_exposure'}
  if (cls === 'secret' && belowExact) return {decision: 'ask', reason: 'secret_use_after_untrusted_external_exposure'}
  if (cls === 'publish' && belowExact) return {decision: 'ask', reason: 'external_publish_after_untrusted_external_exposure'}
  if (cls === 'network' && strict && sens >= SENSITIVITY_RANK.elevated && belowExact) return {decision: 'ask', reason: 'mutating_network_after_untrusted_external_exposure'}
  return {decision: 'allow', reason: 'no_taint_escalation_required'}
}

/** The methods the matrix reads as reads (§1.4). */
export const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/**
 * An HTTP request as the matrix reads it (§1.4): reads are `read`; POST/PUT/PATCH/DELETE
 * `publish` and other methods `network`, with the sensitivity of the path. A read that carries a
 * body (`carriesBody`) sends data out as a POST does: it is a `publish` of its own method (the
 * spec reads the method alone; docs/compatibility.md).
 */
export function classifyHttpAction(method: string, url: {scheme: string; host: string; requestUri: string}, paths: PathClassifier, pathForms: readonly string[], carriesBody = false): TaintAction {
  const m = method.toUpperCase()
  const cls: ActionClass = READ_METHODS.has(m) ? (carriesBody ? 'publish' : 'read') : MUTATING_METHODS.has(m) ? 'publish' : 'network'
  const pc = cls === 'read' ? null : paths.classify(pathForms)
  const ref = `${cls}:${m.toLowerCase()}:${url.scheme.toLowerCase()}://${url.host.toLowerCase()}${url.requestUri === '' ? '/' : url.requestUri}`
  return {cls, sensitivity: pc ?? 'normal', target: pathForms[0] ?? '', ref}
}

const SECRET_FRAGMENTS = ['/.env', '/secrets', '/.ssh/', '/.aws/', '/id_rsa', '/id_ed25519', '/kubeconfig', '/etc/shadow', '/etc/passwd']
const EXEC_NAME = ['bash', 'shell', 'exec', 'command', 'terminal', 'run']
const MUTATING_FRAGMENTS = ['rm ', ' mv ', 'mv ', 'cp ', 'chmod ', 'chown ', 'git push', 'git commit', 'apply_patch', 'sed -i', 'tee ', 'cat >', 'curl -x post', 'curl -x put', 'curl -x patch', 'curl -d', 'wget --post', 'gh pr create', 'gh pr merge', 'npm publish']
const WRITE_NAME = ['write', 'edit', 'update', 'create', 'delete', 'remove', 'rename', 'move', 'patch']
const PATH_KEYS: ReadonlySet<string> = new Set(['path', 'file_path', 'filepath', 'target_path', 'destination_path', 'new_path', 'old_path'])
const CONTENT_KEYS: ReadonlySet<string> = new Set(['content', 'contents', 'text', 'diff', 'patch', 'replacement', 'edits', 'changes'])
const PUBLISH_NAME = ['http', 'request', 'post', 'put', 'patch', 'publish', 'send', 'webhook']
const PUBLISH_KEYS: ReadonlySet<string> = new Set(['webhook', 'endpoint', 'payload', 'request_body', 'form_data', 'upload'])
const BROWSE_NAME = ['browse', 'fetch', 'scrape', 'crawl']
const READ_NAME = ['read', 'cat', 'open', 'list', 'search', 'find', 'get']
const EXEC_KEYS = ['command', 'cmd', 'script', 'shell', 'program', 'argv']

interface Flat {
  readonly strings: string[]
  readonly keys: Set<string>
  methodMutating: boolean
}

/** Every string value and every object key, depth first, object keys sorted (the reference's Q-T5 fixed: deterministic). */
function flatten(v: unknown, out: Flat): void {
  if (typeof v === 'string') out.strings.push(v)
  else if (Array.isArray(v)) for (const x of v) flatten(x, out)
  else if (v !== null && typeof v === 'object') {
    // A parsed MCP frame holds objects as Maps (canonical JSON); plain objects come from tests and callers.
    const get = v instanceof Map ? (k: string): unknown => (v as Map<string, unknown>).get(k) : (k: string): unknown => (v as Record<string, unknown>)[k]
    const keys = v instanceof Map ? [...(v as Map<string, unknown>).keys()] : Object.keys(v)
    for (const k of keys.sort()) {
      const lk = k.toLowerCase()
      out.strings.push(k)
      out.keys.add(lk)
      const x = get(k)
      if (lk === 'method' && typeof x === 'string' && MUTATING_METHODS.has(x.toUpperCase())) out.methodMutating = true
      flatten(x, out)
    }
  }
}

const pathLike = (s: string): boolean => s.startsWith('/') || s.startsWith('./') || s.startsWith('../') || s.includes('/') || s.includes('\\')
const hasAny = (s: string, words: readonly string[]): boolean => words.some((w) => s.includes(w))

/**
 * An MCP `tools/call` as the matrix reads it (§1.4, rules 1–9). `category` is the tool-chain
 * category of the tool (mcp chains), when known. Non-JSON arguments count as one string.
 */
export function classifyMcpToolCall(tool: string, args: unknown, paths: PathClassifier, category?: string | null): TaintAction {
  const name = tool.trim().toLowerCase()
  const flat: Flat = {strings: [], keys: new Set(), methodMutating: false}
  flatten(args, flat)
  const strings = flat.strings
  const sensOf = (s: string): Sensitivity => paths.classify([s.replace(/\\/g, '/')]) ?? 'normal'
  const firstPath = strings.find(pathLike)
  const done = (cls: ActionClass, sensitivity: Sensitivity, target = ''): TaintAction => {
    const t = target.trim().toLowerCase()
    return {cls, sensitivity, target, ref: `mcp:${name}${t === '' ? '' : `:${t}`}`}
  }
  for (const s of strings) {
    const l = s.toLowerCase().replace(/\\/g, '/')
    if (SECRET_FRAGMENTS.some((f) => l.includes(f))) return done('secret', 'protected', s)
  }
  const joined = strings.join(' ').toLowerCase()
  const execSensitivity = (): {s: Sensitivity; t: string} => {
    if (!hasAny(joined, MUTATING_FRAGMENTS)) return {s: 'protected', t: firstPath ?? ''}
    if (firstPath !== undefined) return {s: sensOf(firstPath), t: firstPath}
    return {s: joined.includes('git push') || joined.includes('gh pr create') ? 'elevated' : 'protected', t: ''}
  }
  if (hasAny(name, EXEC_NAME) || category === 'exec') {
    const e = execSensitivity()
    return done('exec', e.s, e.t)
  }
  if (category === 'persist') return done('exec', 'protected', firstPath ?? '')
  const writeIntent = [...flat.keys].some((k) => PATH_KEYS.has(k)) && [...flat.keys].some((k) => CONTENT_KEYS.has(k))
  if (hasAny(name, WRITE_NAME) || category === 'write' || writeIntent) return done('write', firstPath === undefined ? 'normal' : sensOf(firstPath), firstPath ?? '')
  const firstUrl = strings.find((s) => /^https?:\/\//i.test(s)) ?? ''
  const publishIntent = flat.methodMutating || [...flat.keys].some((k) => PUBLISH_KEYS.has(k))
  if (hasAny(name, PUBLISH_NAME) || publishIntent) return done('publish', 'elevated', firstUrl)
  if (hasAny(name, BROWSE_NAME) || category === 'network') return publishIntent ? done('publish', 'elevated', firstUrl) : done('browse', 'normal', firstUrl)
  if (hasAny(name, READ_NAME) || category === 'read' || category === 'list') return done('read', 'normal', firstPath ?? '')
  if (EXEC_KEYS.some((k) => flat.keys.has(k))) {
    const e = execSensitivity()
    return done('exec', e.s, e.t)
  }
  return done('read', 'normal')
}

/** Go's `path.Match` (`*` and `?` never cross `/`; `[...]` classes; `\` escapes); null on a bad pattern. */
export function goPathMatch(pattern: string, name: string): boolean | null {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '\\') {
      if (i + 1 >= pattern.length) return null
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end < 0) return null
      let cls = pattern.slice(i + 1, end)
      const neg = cls.startsWith('^')
      if (neg) cls = cls.slice(1)
      if (cls === '') return null
      re += `[${neg ? '^' : ''}${cls.replace(/[\]\\^]/g, '\\$&')}]`
      i = end
    } else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
  }
  try {
    return new RegExp(`${re}$`, 's').test(name)
  } catch {
    return null
  }
}

/**
 * The overrides' wildcard matcher (§1.8): `path.Match`; else without `*` exact equality; else a
 * glob whose `*` crosses `/` (pieces in order, anchored unless the pattern starts/ends with `*`).
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  if (pattern === '' || value === '') return false
  // Step 1 matters only for `?`, `[` and `\`: without them a path.Match success (`*` within a
  // segment, literals) is also a success of the steps below — and they compile no regex.
  if (/[?[\\]/.test(pattern) && goPathMatch(pattern, value) === true) return true
  if (!pattern.includes('*')) return pattern === value
  const pieces = pattern.split('*')
  let at = 0
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!
    if (i === 0) {
      if (!value.startsWith(p)) return false
      at = p.length
      continue
    }
    if (i === pieces.length - 1) {
      if (p === '') return true
      return value.length - p.length >= at && value.endsWith(p)
    }
    const k = value.indexOf(p, at)
    if (k < 0) return false
    at = k + p.length
  }
  return true
}

/** A `taint.trust_overrides[]` entry (config; §1.8), with its attribution kept for receipts. */
export interface ConfigTrustOverride {
  readonly scope: string
  readonly sourceMatch: string
  readonly actionMatch: string
  readonly expiresAtMs: number
  readonly grantedBy: string
  readonly reason: string
}

/** Who turned a decision into allow: a config override or a runtime (task) grant, with its attribution. */
export interface OverrideUse {
  readonly kind: 'config' | 'runtime'
  readonly grantedBy: string
  readonly reason: string
}

/**
 * The URL an override's `source_match` reads: the latest source at `external_untrusted` or
 * worse (the reference reads the last external URL of any level, so an allowlisted read after a
 * hostile one launders it — its Q-T3, fixed here).
 */
export function contaminatingSource(t: TaintState): string {
  for (let i = t.sources.length - 1; i >= 0; i--) if (t.sources[i]!.level >= CONTAMINATED_AT) return t.sources[i]!.url
  return ''
}

/** The first config override in force that covers `ref` with source `source` (§1.8). */
export function matchingConfigOverride(overrides: readonly ConfigTrustOverride[], nowMs: number, ref: string, source: string): ConfigTrustOverride | undefined {
  return overrides.find((o) => {
    if (o.expiresAtMs < nowMs) return false
    if (o.scope === 'action') return wildcardMatch(o.actionMatch, ref) && (o.sourceMatch === '' || wildcardMatch(o.sourceMatch, source))
    if (o.scope === 'source') return wildcardMatch(o.sourceMatch, source) && (o.actionMatch === '' || wildcardMatch(o.actionMatch, ref))
    return false
  })
}

/** The runtime (task) grant in force for `taskId` covering `ref`/`source`; one set matcher suffices, each set one must match. */
export function matchingRuntimeOverride(overrides: readonly TrustOverride[], taskId: string, nowMs: number, ref: string, source: string): TrustOverride | undefined {
  return overrides.find((o) => {
    if (taskId === '' || o.taskId !== taskId || nowMs >= o.expiresAtMs) return false
    if (o.actionMatch === undefined && o.sourceMatch === undefined) return false
    if (o.actionMatch !== undefined && !wildcardMatch(o.actionMatch, ref)) return false
    if (o.sourceMatch !== undefined && !wildcardMatch(o.sourceMatch, source)) return false
    return true
  })
}

/** One taint evaluation: the decision, why, what the action was, and the override that applied. */
export interface TaintEvaluation {
  readonly decision: TaintDecision
  /** The matrix reason, or `taint_runtime_task_override` / `taint_trust_override` / `taint_disabled`. */
  readonly reason: string
  readonly action: TaintAction
  readonly authority: AuthorityKind
  readonly override?: OverrideUse
}
