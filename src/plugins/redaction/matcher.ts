/**
 * The matcher of one redaction config (envelope-redaction §14, §15): the profile's built-in
 * classes and dictionaries, the always-on known secrets, class priorities (per class, R9), and
 * the span search with overlap admission. Built once per config snapshot (reload rebuilds it).
 */
import RE2 from 're2'
import {dictionaryEntries, type RedactionSectionConfig} from '../config/index.js'
import {secretVariants} from '../scanner/index.js'
import {BUILTIN_CLASSES, KNOWN_SECRET_CLASS, KNOWN_SECRET_PRIORITY} from './classes.js'
import {seedPhraseSpans} from './seed.js'

type Re2 = InstanceType<typeof RE2>
type Re2Set = InstanceType<typeof RE2.Set>

interface Rule {
  readonly cls: string
  readonly src: string
  readonly re: Re2
}

interface Literal {
  readonly cls: string
  readonly needle: string
}

/** An admitted match: [start, end) UTF-16 offsets into the scalar and its class. */
export interface Span {
  readonly start: number
  readonly end: number
  readonly cls: string
}

/** Known secrets (§14.3): env secrets become `env-secret`, secrets-file values `known-secret`. */
export interface KnownSecrets {
  readonly env: readonly string[]
  readonly file: readonly string[]
}

const MAX_ENTRY = 65536

function escapeRe2(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}-]/g, '\\$&')
}

/** §14.4: drop empties, dedupe (first kept), longest first (stable), escaped, one alternation. */
export function dictionarySource(entries: readonly string[], caseInsensitive: boolean, wordBoundary: boolean): string | null {
  const seen = new Set<string>()
  const list: string[] = []
  for (const e of entries) {
    if (e === '' || seen.has(e)) continue
    seen.add(e)
    list.push(e)
  }
  if (list.length === 0) return null
  const ordered = list.map((e, i) => [e, i] as const).sort((a, b) => b[0].length - a[0].length || a[1] - b[1]).map(([e]) => escapeRe2(e))
  let src = `(?:${ordered.join('|')})`
  if (wordBoundary) src = `\\b${src}\\b`
  if (caseInsensitive) src = `(?i)${src}`
  return src
}

export class RedactionBuildError extends Error {}

export class Matcher {
  private readonly rules: Rule[] = []
  private readonly set: Re2Set | null
  private readonly literals: Literal[] = []
  private readonly prio = new Map<string, number>()
  private readonly seed: boolean

  constructor(cfg: RedactionSectionConfig, known: KnownSecrets) {
    const profile = cfg.profiles[cfg.default_profile] ?? {}
    const classes = new Set(profile.classes ?? [])
    const lift = (cls: string, p: number): void => {
      this.prio.set(cls, Math.max(this.prio.get(cls) ?? -Infinity, p))
    }
    this.seed = classes.has('seed-phrase')
    for (const c of BUILTIN_CLASSES) {
      if (!classes.has(c.name)) continue
      lift(c.name, c.priority)
      if (c.source !== null) this.rules.push({cls: c.name, src: c.source, re: new RE2(c.source, 'gu')})
    }
    for (const name of profile.dictionaries ?? []) {
      const d = cfg.dictionaries[name]!
      const src = dictionarySource(dictionaryEntries(d), d.case_insensitive ?? false, d.word_boundary ?? false)
      lift(d.class!, d.priority ?? 0)
      if (src !== null) this.rules.push({cls: d.class!, src, re: new RE2(src, 'gu')})
    }
    const addSecret = (cls: string, s: string): void => {
      for (const v of secretVariants(s)) {
        const forms = v.lowerHaystack ? [v.needle.toLowerCase(), v.needle.toUpperCase()] : [v.needle]
        for (const f of forms) {
          if (f.length > MAX_ENTRY) throw new RedactionBuildError(`add ${cls === 'env-secret' ? 'env' : 'known'} secret redaction dictionary: entry length ${f.length} exceeds max dictionary chunk size ${MAX_ENTRY}`)
          if (f !== '' && !this.literals.some((l) => l.cls === cls && l.needle === f)) this.literals.push({cls, needle: f})
        }
      }
      lift(cls, KNOWN_SECRET_PRIORITY)
    }
    for (const s of known.env) addSecret('env-secret', s)
    for (const s of known.file) if (!known.env.includes(s)) addSecret(KNOWN_SECRET_CLASS, s)
    this.set = this.rules.length === 0 ? null : new RE2.Set(this.rules.map((r) => r.src), 'u')
  }

  /** Whether anything could match in a document whose scalars, joined by newlines, are `joined`. */
  prefilter(joined: string): Candidates {
    const rules = this.set === null ? [] : this.set.match(joined)
    const lits = this.literals.filter((l) => joined.includes(l.needle))
    return {rules, literals: lits, seed: this.seed}
  }

  /** The admitted spans of one scalar, ordered by start (§15). */
  spans(text: string, cand: Candidates): Span[] {
    if (text === '') return []
    const found: {start: number; end: number; cls: string; prio: number}[] = []
    let ruleIdx: readonly number[] = cand.rules
    if (ruleIdx.length > 1 && this.set !== null) ruleIdx = this.set.match(text)
    for (const i of ruleIdx) {
      const r = this.rules[i]!
      r.re.lastIndex = 0
      let m: RegExpExecArray | null
      while ((m = r.re.exec(text)) !== null) {
        const len = m[0].length
        if (len === 0) {
          r.re.lastIndex = m.index + 1
          continue
        }
        found.push({start: m.index, end: m.index + len, cls: r.cls, prio: this.prio.get(r.cls)!})
      }
    }
    for (const l of cand.literals) {
      let at = text.indexOf(l.needle)
      while (at >= 0) {
        found.push({start: at, end: at + l.needle.length, cls: l.cls, prio: this.prio.get(l.cls)!})
        at = text.indexOf(l.needle, at + 1)
      }
    }
    if (cand.seed && text.length >= 35) {
      for (const [s, e] of seedPhraseSpans(text)) found.push({start: s, end: e, cls: 'seed-phrase', prio: this.prio.get('seed-phrase')!})
    }
    if (found.length === 0) return []
    if (found.length === 1) return [found[0]!]
    found.sort((a, b) => b.prio - a.prio || a.start - b.start || (b.end - b.start) - (a.end - a.start))
    const admitted: Span[] = []
    for (const f of found) {
      if (admitted.some((a) => f.start < a.end && a.start < f.end)) continue
      admitted.push(f)
    }
    return admitted.sort((a, b) => a.start - b.start)
  }
}

export interface Candidates {
  readonly rules: readonly number[]
  readonly literals: readonly Literal[]
  readonly seed: boolean
}

export function noCandidates(c: Candidates): boolean {
  return c.rules.length === 0 && c.literals.length === 0 && !c.seed
}
