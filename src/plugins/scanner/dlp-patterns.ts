/** Compiled DLP pattern sets: the immutable core floor and the configured (merged) list. */
import {CORE_DLP_PATTERNS, DEFAULT_DLP_PATTERNS} from './catalogue.js'
import type {DlpPatternSpec, Severity, ValidatorName} from './pattern-types.js'
import {compileDlp, findAll, globalOf, type Re2} from './regex.js'
import {mayValidateIn, runValidator} from './validators.js'
import {matchesAnyDomain} from './domain-match.js'

export interface CompiledDlpPattern {
  readonly name: string
  readonly severity: Severity
  readonly re: Re2
  /** Global twin of `re`, for iterating every hit (validator patterns). */
  readonly reAll: Re2
  readonly validator?: ValidatorName
  readonly exemptDomains: readonly string[]
  readonly warn: boolean
  readonly core: boolean
}

function compileSpec(p: DlpPatternSpec, core: boolean): CompiledDlpPattern {
  const re = compileDlp(p.regex)
  return {
    name: p.name,
    severity: p.severity,
    re,
    reAll: globalOf(re),
    ...(p.validator !== undefined ? {validator: p.validator} : {}),
    exemptDomains: p.exemptDomains ?? [],
    warn: p.action === 'warn',
    core,
  }
}

/** Sources of the built-in default patterns as compiled (the catalogue is constant). */
const BUILTIN_SOURCES: ReadonlySet<string> = new Set(DEFAULT_DLP_PATTERNS.map((p) => compileDlp(p.regex).source))

/** Whether a configured pattern is a built-in default with its regex unchanged. */
export function isBuiltinDlpPattern(p: CompiledDlpPattern): boolean {
  return BUILTIN_SOURCES.has(p.re.source)
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
  if (!mayValidateIn(p.validator, text)) return null
  for (const h of findAll(p.reAll, text)) {
    if (runValidator(p.validator, h.text)) return {index: h.index, length: h.length}
  }
  return null
}

export function isExemptFor(p: CompiledDlpPattern, host: string | undefined): boolean {
  return host !== undefined && p.exemptDomains.length > 0 && matchesAnyDomain(host, p.exemptDomains) !== null
}
