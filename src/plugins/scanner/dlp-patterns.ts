/** Compiled DLP pattern sets: the immutable core floor and the configured (merged) list. */
import {CORE_DLP_PATTERNS, DEFAULT_DLP_PATTERNS, ETHEREUM_ADDRESS_PATTERN} from './catalogue.js'
import type {DlpPatternSpec, HitCheck, OneCaseCheck, Severity} from './pattern-types.js'
import {compileDlp, eachHit, forcedCaseInsensitiveSource, globalOf, re2SourceOf, type Re2} from './regex.js'
import {firstValidWifHit, mayValidateIn, ONE_CASE_PATTERNS, oneCaseRegex, runValidator, wifCandidateRuns} from './validators.js'
import {matchesAnyDomain} from './domain-match.js'
import {isAsciiText} from './ascii-text.js'

export interface CompiledDlpPattern {
  readonly name: string
  readonly severity: Severity
  readonly re: Re2
  /** `re.source` (RE2's escaped text), known without compiling `re`: what the set and screens are built from. */
  readonly source: string
  /** The source `re` was compiled from: the configured regex with the forced `(?i)` (§9.1). */
  readonly compiledFrom: string
  /**
   * Global twin of `re`, for iterating every hit: compiled for validator patterns only, the one
   * use (each RE2 program is ≈ 5–8 KiB of malloc that stays for the process, bench: mcp).
   */
  readonly reAll?: Re2
  /**
   * Global twin of `re` for any pattern, built on first read: for the readings that judge hits
   * one by one (joints.ts), which reach it only for a pattern whose first hit they put aside.
   */
  readonly reEach: Re2
  readonly validator?: HitCheck
  readonly exemptDomains: readonly string[]
  readonly warn: boolean
  readonly core: boolean
}

/**
 * A compiled pattern whose regexes are built on first read. The RE2::Set over all patterns
 * decides which patterns run at all, so in a session without findings none does: a built-in's
 * two programs (≈ 9 KiB of malloc each, ≈ 60 of them) were built and kept for nothing (bench: mcp).
 * Only catalogue regexes are deferred (a test compiles every one of them); any other regex is
 * compiled when the pattern is built, so an invalid one fails there with RE2's error, as before.
 */
class DlpPattern implements CompiledDlpPattern {
  readonly name: string
  readonly severity: Severity
  readonly source: string
  readonly compiledFrom: string
  readonly validator: HitCheck | undefined
  readonly exemptDomains: readonly string[]
  readonly warn: boolean
  readonly core: boolean
  private compiled: Re2 | undefined
  private twin: Re2 | undefined

  constructor(p: DlpPatternSpec, core: boolean) {
    this.name = p.name
    this.severity = p.severity
    this.compiledFrom = forcedCaseInsensitiveSource(p.regex)
    this.validator = hitCheckOf(p)
    this.exemptDomains = p.exemptDomains ?? []
    this.warn = p.action === 'warn'
    this.core = core
    if (CATALOGUE_SOURCES.has(this.compiledFrom)) {
      this.source = re2SourceOf(this.compiledFrom)
    } else {
      this.compiled = compileDlp(p.regex)
      this.source = this.compiled.source
      if (p.validator !== undefined) this.twin = globalOf(this.compiled)
    }
  }

  get re(): Re2 {
    return (this.compiled ??= compileDlp(this.compiledFrom))
  }

  get reAll(): Re2 | undefined {
    return this.validator === undefined ? undefined : this.reEach
  }
  get reEach(): Re2 {
    return (this.twin ??= globalOf(this.re))
  }
}

function compileSpec(p: DlpPatternSpec, core: boolean): CompiledDlpPattern {
  return new DlpPattern(p, core)
}

/**
 * Whether a configured pattern is a built-in default with its regex unchanged: its compiled-from
 * source is one a default compiles from. Compared as written rather than as RE2 normalises it,
 * which would compile every default once more at import only to read back its source (48 RE2
 * programs, bench: mcp); a pattern written differently that RE2 would normalise to a default's
 * source counts as not built-in, and the caller then takes its general path (fail-safe).
 */
export function isBuiltinDlpPattern(p: CompiledDlpPattern): boolean {
  return BUILTIN_SOURCES.has(p.compiledFrom)
}

/**
 * Whether a configured pattern is a regex of the catalogue, unchanged: a built-in default
 * (`isBuiltinDlpPattern`) or the presets' own `Ethereum Address`. Their least match lengths are
 * known (the split-secret junction window, split-secret.ts).
 */
export function isCatalogueDlpPattern(p: CompiledDlpPattern): boolean {
  return isBuiltinDlpPattern(p) || p.compiledFrom === PRESET_ONLY_SOURCE
}

/** The presets' own pattern as compiled. */
const PRESET_ONLY_SOURCE = forcedCaseInsensitiveSource(ETHEREUM_ADDRESS_PATTERN.regex)

/** The sources the built-in default patterns compile from (the catalogue is constant). */
const BUILTIN_SOURCES: ReadonlySet<string> = new Set(DEFAULT_DLP_PATTERNS.map((p) => forcedCaseInsensitiveSource(p.regex)))

/** Every catalogue DLP regex as compiled (core floor, defaults, the preset-only one): each is known to compile. */
const CATALOGUE_SOURCES: ReadonlySet<string> = new Set([...CORE_DLP_PATTERNS, ...DEFAULT_DLP_PATTERNS, ETHEREUM_ADDRESS_PATTERN].map((p) => forcedCaseInsensitiveSource(p.regex)))

/**
 * The built-in regexes of tokens issued in one case, as compiled, and their check: a pattern
 * compiled from one, from the core list, the defaults or a preset's list, checks its hits with
 * `validateOneCase` (a token written in one case).
 */
const ONE_CASE_SOURCES: ReadonlyMap<string, OneCaseCheck> = new Map(
  (Object.keys(ONE_CASE_PATTERNS) as OneCaseCheck[]).map((check) => [forcedCaseInsensitiveSource(oneCaseRegex(check)), check]),
)

/** What a pattern checks its hits with: its validator, or the one-case check of a built-in regex (`ONE_CASE_SOURCES`). */
export function hitCheckOf(p: {readonly regex: string; readonly validator?: HitCheck}): HitCheck | undefined {
  return p.validator ?? ONE_CASE_SOURCES.get(forcedCaseInsensitiveSource(p.regex))
}

export function compileCoreDlp(): CompiledDlpPattern[] {
  return CORE_DLP_PATTERNS.map((p) => compileSpec(p, true))
}

/** §9.1 merge: defaults (when included), a user pattern with the same name replaces, others append. */
export function mergeDlpPatterns(includeDefaults: boolean, user: readonly DlpPatternSpec[]): DlpPatternSpec[] {
  const out: DlpPatternSpec[] = includeDefaults ? [...DEFAULT_DLP_PATTERNS] : []
  for (const p of user) {
    const i = out.findIndex((d) => d.name === p.name)
    if (i < 0) {
      out.push(p)
      continue
    }
    // Built-ins cannot be demoted to warn (§9.1, Appendix B #5): config validation rejects it;
    // should such a pattern reach us anyway, it is enforced (fail closed).
    const {action: _dropped, ...enforced} = p
    void _dropped
    out[i] = DEFAULT_DLP_PATTERNS.some((d) => d.name === p.name) ? enforced : p
  }
  return out
}

export function compileConfiguredDlp(includeDefaults: boolean, user: readonly DlpPatternSpec[]): CompiledDlpPattern[] {
  return mergeDlpPatterns(includeDefaults, user).map((p) => compileSpec(p, false))
}

/** `eachHit`'s hit limit, as `matchDlpPattern` uses it. */
const HIT_LIMIT = 1000

/** The built-in Bitcoin WIF Private Key regex as compiled (the only source `wifCandidateRuns` speaks for). */
const BUILTIN_WIF_SOURCE = forcedCaseInsensitiveSource(DEFAULT_DLP_PATTERNS.find((d) => d.validator === 'wif')!.regex)

/** Texts shorter than this cannot hold `HIT_LIMIT` hits of the built-in WIF regex (51 units each). */
const WIF_RUNS_BELOW = HIT_LIMIT * 51

export interface PatternHit {
  readonly index: number
  readonly length: number
}

/**
 * First hit of a pattern, or null. With a validator every regex hit is tried until one
 * validates (§9.2: decoys before the real value do not hide it).
 */
export function matchDlpPattern(p: CompiledDlpPattern, text: string): PatternHit | null {
  if (text.length === 0) return null
  if (p.validator === undefined) {
    const m = p.re.exec(text)
    return m === null ? null : {index: m.index, length: m[0].length}
  }
  for (const h of eachDlpHit(p, text)) return h
  return null
}

/**
 * Every hit of a pattern in `text` that counts, in order, up to the hit limit: with a validator
 * the hits that validate (the built-in WIF regex over a long ASCII text: its first valid hit).
 * For readings that judge hits one by one (joints.ts).
 */
export function* eachDlpHit(p: CompiledDlpPattern, text: string): Generator<PatternHit> {
  if (text.length === 0) return
  if (p.validator === undefined) {
    for (const h of eachHit(p.reEach, text, HIT_LIMIT)) yield {index: h.index, length: h.length}
    return
  }
  // The built-in WIF regex over ASCII: only the runs of its class that hold a key start are
  // searched (`wifCandidateRuns`, which also answers `mayValidateIn`), each from its start; its
  // hits elsewhere (long letter runs of a sorted join of JSON values) cannot validate. Below
  // `WIF_RUNS_BELOW` units the full enumeration never reaches its hit limit (a hit spans ≥ 51),
  // so both try the same hits. A longer all-ASCII text: the regex's hits, up to the limit, by a
  // walk of its own (validators.ts).
  const builtinWif = p.validator === 'wif' && p.compiledFrom === BUILTIN_WIF_SOURCE
  if (builtinWif && text.length >= WIF_RUNS_BELOW && isAsciiText(text)) {
    const first = firstValidWifHit(text, HIT_LIMIT)
    if (first !== null) yield first
    return
  }
  const runs = builtinWif && text.length < WIF_RUNS_BELOW ? wifCandidateRuns(text) : null
  if (runs !== null ? runs.length === 0 : !mayValidateIn(p.validator, text)) return
  // Hit by hit: a long text (a sorted join of numbers) holds hundreds of regex hits, and the
  // first one that validates is the answer to `matchDlpPattern`.
  for (const h of eachHit(p.reEach, text, HIT_LIMIT, runs ?? undefined)) if (runValidator(p.validator, h.text)) yield {index: h.index, length: h.length}
}

export function isExemptFor(p: CompiledDlpPattern, host: string | undefined): boolean {
  return host !== undefined && p.exemptDomains.length > 0 && matchesAnyDomain(host, p.exemptDomains) !== null
}
