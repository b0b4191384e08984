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

/**
 * A document-wide screen for `seed-phrase` (§14.2), run natively over the joined scalars' UTF-8
 * bytes: twelve tokens in a row, each of which could be a BIP-39 word — 3 to 8 ASCII letters, or
 * ASCII letters and at least one non-ASCII character (whose lower case may be a word: U+212A
 * KELVIN SIGN is `k`) — between the splitter's separators `[-\s,|;:]`. Every window of a phrase
 * in one scalar is such a run of the joined text (the junction is a newline, a separator), so no
 * match means no scalar holds a phrase, and the per-scalar search (seed.ts) is skipped. Most
 * texts (prose with short or long words, code) never hold such a run.
 */
const SEED_SEP = '[\\-\\t\\n\\f\\r ,|;:]'
const SEED_TOKEN = '(?:[A-Za-z]{3,8}|[A-Za-z]*[^\\x00-\\x7f][^\\x00-\\x40\\x5b-\\x60\\x7b-\\x7f]*)'
export const SEED_SCREEN = `(?:^|${SEED_SEP})${SEED_TOKEN}(?:${SEED_SEP}+${SEED_TOKEN}){11}(?:${SEED_SEP}|$)`

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
  /** The `seed-phrase` screen (null when the class is off), see SEED_SCREEN. */
  private readonly seedScreen: Re2 | null

  constructor(cfg: RedactionSectionConfig, known: KnownSecrets) {
    const profile = cfg.profiles[cfg.default_profile] ?? {}
    const classes = new Set(profile.classes ?? [])
    const lift = (cls: string, p: number): void => {
      this.prio.set(cls, Math.max(this.prio.get(cls) ?? -Infinity, p))
    }
    this.seedScreen = classes.has('seed-phrase') ? new RE2(SEED_SCREEN, 'u') : null
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

  /**
   * The admitted spans (§15) of every scalar of one document, by scalar index (scalars without a
   * hit are absent). Each candidate rule runs once over the scalars joined by newlines (as a
   * UTF-8 buffer: no per-call conversion); a match inside one scalar is that scalar's, and a match
   * that crosses a junction makes the rule run again on each scalar it touched, alone, so no
   * match is lost or invented at a junction.
   */
  findAll(scalars: readonly string[]): Map<number, Span[]> {
    const out = new Map<number, Span[]>()
    const n = scalars.length
    if (n === 0) return out
    const joined = scalars.join('\n')
    const buf = Buffer.from(joined, 'utf8')
    const ascii = buf.length === joined.length
    // Byte offset of each scalar's start (and the end sentinel).
    const starts = new Array<number>(n + 1)
    let at = 0
    for (let i = 0; i < n; i++) {
      starts[i] = at
      at += (ascii ? scalars[i]!.length : Buffer.byteLength(scalars[i]!, 'utf8')) + 1
    }
    starts[n] = at
    const scalarAt = (byte: number): number => {
      let lo = 0
      let hi = n - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (starts[mid]! <= byte) lo = mid
        else hi = mid - 1
      }
      return lo
    }
    const found = new Map<number, Found[]>()
    const push = (i: number, f: Found): void => {
      const l = found.get(i)
      if (l === undefined) found.set(i, [f])
      else l.push(f)
    }
    // Byte offsets within scalar i → UTF-16 offsets of the scalar string.
    const toUnits = (i: number, b: number): number => (ascii ? b : buf.toString('utf8', starts[i]!, starts[i]! + b).length)
    const ruleIdx = this.set === null ? [] : this.set.match(buf)
    for (const ri of ruleIdx) {
      const r = this.rules[ri]!
      const prio = this.prio.get(r.cls)!
      r.re.lastIndex = 0
      let m: RegExpExecArray | null
      while ((m = r.re.exec(buf as unknown as string)) !== null) {
        const s = m.index
        const len = (m[0] as unknown as Buffer).length
        if (len === 0) {
          r.re.lastIndex = s + 1
          continue
        }
        const e = s + len
        const i = scalarAt(s)
        if (e <= starts[i + 1]! - 1) {
          push(i, {start: toUnits(i, s - starts[i]!), end: toUnits(i, e - starts[i]!), cls: r.cls, prio})
          continue
        }
        // Crosses a junction: each scalar it touched is searched alone; go on after the last.
        const j = scalarAt(Math.min(e - 1, buf.length - 1))
        for (let k = i; k <= j; k++) for (const f of this.scanOne(r, prio, scalars[k]!)) push(k, f)
        if (j + 1 >= n) break
        r.re.lastIndex = starts[j + 1]!
      }
    }
    for (const l of this.literals) {
      if (!joined.includes(l.needle)) continue
      const prio = this.prio.get(l.cls)!
      for (let i = 0; i < n; i++) {
        const t = scalars[i]!
        let k = t.indexOf(l.needle)
        while (k >= 0) {
          push(i, {start: k, end: k + l.needle.length, cls: l.cls, prio})
          k = t.indexOf(l.needle, k + 1)
        }
      }
    }
    if (this.seedScreen !== null) this.seedPhrases(scalars, push)
    for (const [i, l] of found) out.set(i, admit(l))
    return out
  }

  /**
   * `seed-phrase` spans of the scalars long enough to hold a phrase (35 UTF-16 units, as before):
   * the screen runs once over those scalars joined (short keys and values, which would make a run
   * of plausible tokens across their junctions, are left out), and only when it matches is each
   * of them searched (seed.ts).
   */
  private seedPhrases(scalars: readonly string[], push: (i: number, f: Found) => void): void {
    const long: number[] = []
    for (let i = 0; i < scalars.length; i++) if (scalars[i]!.length >= 35) long.push(i)
    if (long.length === 0) return
    const text = long.length === 1 ? scalars[long[0]!]! : long.map((i) => scalars[i]!).join('\n')
    if (!this.seedScreen!.test(Buffer.from(text, 'utf8') as unknown as string)) return
    const prio = this.prio.get('seed-phrase')!
    for (const i of long) for (const [s, e] of seedPhraseSpans(scalars[i]!)) push(i, {start: s, end: e, cls: 'seed-phrase', prio})
  }

  private scanOne(r: Rule, prio: number, text: string): Found[] {
    const out: Found[] = []
    r.re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = r.re.exec(text)) !== null) {
      if (m[0].length === 0) {
        r.re.lastIndex = m.index + 1
        continue
      }
      out.push({start: m.index, end: m.index + m[0].length, cls: r.cls, prio})
    }
    return out
  }
}

interface Found {
  readonly start: number
  readonly end: number
  readonly cls: string
  readonly prio: number
}

/** §15: by (priority desc, start asc, length desc), each admitted unless it overlaps one admitted; then by start. */
function admit(found: Found[]): Span[] {
  if (found.length === 1) return [found[0]!]
  found.sort((a, b) => b.prio - a.prio || a.start - b.start || (b.end - b.start) - (a.end - a.start))
  const admitted: Span[] = []
  for (const f of found) {
    if (admitted.some((a) => f.start < a.end && a.start < f.end)) continue
    admitted.push(f)
  }
  return admitted.sort((a, b) => a.start - b.start)
}

