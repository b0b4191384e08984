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

export type TaintSourceKind = 'response' | 'tunnel' | 'prompt_injection' | 'media'

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
    for (const p of paths) if (this.protectedRe.some((re) => re.test(p))) return 'protected'
    for (const p of paths) if (this.elevatedRe.some((re) => re.test(p))) return 'elevated'
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

export interface TaintVerdict {
  readonly decision: 'allow' | 'ask'
  readonly pathClass: PathClass
  readonly reason: string
  /** An operator trust grant turned an `ask` into `allow` (receipts' `task_override_applied`). */
  readonly overrideApplied?: boolean
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

/** The first live override that covers this request, if any. */
export function matchingOverride(
  overrides: readonly TrustOverride[], taskId: string, nowMs: number, targets: readonly string[], taint: TaintState,
): TrustOverride | undefined {
  return overrides.find((o) => {
    if (o.taskId !== taskId || nowMs >= o.expiresAtMs) return false
    if (o.actionMatch !== undefined) {
      const re = compilePathGlob(o.actionMatch)
      if (!targets.some((t) => re.test(t))) return false
    }
    if (o.sourceMatch !== undefined) {
      const re = compilePathGlob(o.sourceMatch)
      const risky = taint.sources.filter((x) => x.level >= CONTAMINATED_AT)
      if (risky.length === 0 || !risky.every((x) => re.test(x.url))) return false
    }
    return true
  })
}

/**
 * The authority check of §4.2 step 3 / §16 under policy `balanced`: a mutating method to a
 * protected or elevated path from a contaminated session → `ask`. Everything else is allowed.
 */
export function authorityDecision(method: string, pathClass: PathClass, taint: TaintState): TaintVerdict {
  if (!MUTATING_METHODS.has(method.toUpperCase()) || pathClass === null) return {decision: 'allow', pathClass, reason: 'not a mutating request to a protected path'}
  if (!taint.contaminated) return {decision: 'allow', pathClass, reason: `session taint ${taint.levelName}`}
  return {decision: 'ask', pathClass, reason: `${method.toUpperCase()} to a ${pathClass} path after exposure to ${taint.levelName} content`}
}
