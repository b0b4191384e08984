/**
 * Response (prompt-injection) scanning, runtime spec §7: core patterns always first, then the
 * configured set through passes 1–6, the educational-quote filter, and strip/redaction.
 */
import {base64DecodingIllFormed, hexDecodingIllFormed} from './decoded-prefix.js'
import {CORE_RESPONSE_PATTERNS, DEFAULT_RESPONSE_PATTERNS, PRESET_RESPONSE_PATTERNS, PRESET_RESPONSE_VARIANTS} from './catalogue.js'
import {base64Runs, hasCandidateRun, wrappedBase64Blocks} from './b64-runs.js'
import {bytesToText, decodeBackslashEscapes, decodeBase64Variants, decodeHexStrict, decodeHtmlReferences, decodeSmuggledText, markdownText, markupText} from './decoders.js'
import {Utf8Scratch} from './utf8-scratch.js'
import {utf8ReadingOffsets} from './utf8-reading.js'
import {memoised} from './memo.js'
import {matchesAnyDomain} from './domain-match.js'
import {PageTextReader} from './html-text.js'
import {createNormalizer, foldVowels, leetspeak, replaceInvisibleWithSpace, type Normalizer} from './normalize.js'
import {matchingToOriginal} from './matching-offsets.js'
import {PassTextBuilder, tableReading, type PassBytes, type PassName, type PassTexts} from './pass-texts.js'
import type {ResponsePatternSpec} from './pattern-types.js'
import {compileGlobalAsWritten, findAll, foldVowelsSource, optionalWhitespaceSource, re2SourceOf, type Re2} from './regex.js'
import {compileFoldExact, foldHitExact, type FoldExact} from './fold-exact.js'
import {compileSet, setMatches, type Re2Set} from './pattern-set.js'
import {leetCandidatesHold, leetCandidateSource} from './leet-source.js'
import {SharedCompiled} from './shared-compiled.js'
import type {ResponseAction, ScannerSettings} from './settings.js'
import {binaryText, isUtf8Text, wellFormedUtf8Text} from './text-runs.js'
import {declaredText} from './declared-charset.js'
import {jsonTextView} from './json-view.js'

export interface CompiledResponsePattern {
  readonly name: string
  /** Sources the three regexes were compiled from (for the pattern-set pre-filter). */
  readonly sources: {readonly re: string; readonly optWs: string | null; readonly fold: string | null}
  readonly re: Re2
  /** Pass-4 variant (`\s+` → `\s*` …); null when the rewrite does not compile. */
  readonly optWs: Re2 | null
  /** Pass-5 variant (vowels folded); null when the rewrite does not compile. */
  readonly fold: Re2 | null
  /** The check a pass-5 hit must pass when the pattern has case-exact groups (`fold-exact.ts`); null or absent when it has none. */
  readonly foldExact?: FoldExact | null
  readonly core: boolean
}

export type ResponsePass = 'normalized' | 'invisible' | 'leetspeak' | 'optional_whitespace' | 'vowel_fold' | 'decoded'

/** One injection match: the pattern and where, never the text (secrets can sit next to it). */
export interface ResponseMatch {
  readonly pattern: string
  readonly core: boolean
  readonly pass: ResponsePass
  /** UTF-16 offset/length in the pass text (normalised content, or the decoded payload). */
  readonly position: number
  readonly length: number
}

type Variant = 're' | 'optWs' | 'fold'

/** An RE2::Set over one variant of a pattern list, and which pattern each set entry is. */
interface VariantSet {
  readonly set: Re2Set | null
  readonly patternIndex: readonly number[]
}

/**
 * A pattern list, with one RE2::Set per variant as a pre-filter: a single DFA pass says which
 * patterns match at all (measured: 38 patterns over 4 KiB in ~6 µs instead of ~200 µs for the
 * per-pattern loop; a plain alternation was slower because the `.{0,80}` patterns blow up the
 * DFA; in a set they do too on real prose, so `compileSet` walks them apart, behind guards:
 * pattern-set.ts). Only those patterns are then run on their own, so matches and positions are
 * unchanged.
 */
export interface ResponsePatternSet {
  readonly patterns: readonly CompiledResponsePattern[]
  readonly sets: Readonly<Record<Variant, VariantSet>>
  /**
   * One RE2::Set over the `re` and `optWs` sources together: passes 1 and 4 (and pass 6's first
   * two) read the same text, and one DFA pass over both lists costs what one list costs
   * (measured on 1 KiB: 3.1 µs either way), so a text is walked once for both.
   */
  readonly pair: PairSet
}

/** Set entry k is variant `entries[k][0]` of pattern `entries[k][1]` (`re` entries first, each list ascending). */
interface PairSet {
  readonly set: Re2Set | null
  readonly entries: ReadonlyArray<readonly [Variant, number]>
}

export interface ResponseScanner {
  readonly settings: ScannerSettings
  readonly core: ResponsePatternSet
  readonly configured: ResponsePatternSet
  readonly normalizer: Normalizer
  /** UTF-8 scratch for the set pre-filter (as the DLP engine's: no fresh Buffer per call). */
  readonly encoder: Utf8Scratch
  /**
   * Pass texts by table walk for short-code-point texts, and pass 6's exact shortcuts (no
   * whole-content decode of a text with a non-alphabet character, each distinct decoding tried
   * once). Null: every pass text through the normaliser and every decoding tried, the
   * reference path of the differential tests (test/unit/scanner/oracles.ts).
   */
  readonly passTexts: PassTextBuilder | null
  /**
   * False: the content's pass texts as four UTF-16 strings, each encoded again for the sets (the
   * path before the UTF-8 walk, kept as the differential tests' oracle: test/unit/scanner/oracles.ts).
   * Absent or true: written as UTF-8 straight from the tables, strings made only for a candidate.
   */
  readonly passBytes?: boolean
  /**
   * The core and configured lists' sets joined (`JointSets`): one DFA pass per pass text answers
   * both lists. Absent or null: each list's own sets (the oracle of test/unit/scanner/oracles.ts).
   */
  readonly joint?: JointSets | null
  /** The markup view's reader, which keeps its array of code units from page to page (absent: a fresh one per page). */
  readonly pages?: PageTextReader
  /** A configured pattern may match on what the JSON view leaves out (`readsJsonSyntax`): a JSON document is read as written too. Absent: no. */
  readonly jsonSyntax?: boolean
}

function tryCompile(src: string): Re2 | null {
  try {
    return compileGlobalAsWritten(src)
  } catch {
    return null
  }
}

/** Every catalogue response regex (core, defaults, preset-only): each and both rewrites are known to compile. */
const CATALOGUE_SOURCES: ReadonlySet<string> = new Set([...CORE_RESPONSE_PATTERNS, ...DEFAULT_RESPONSE_PATTERNS, ...PRESET_RESPONSE_PATTERNS].map((p) => p.regex))

/**
 * A catalogue pattern whose three regexes are built on first read: the sets decide which patterns
 * run, so in a session without findings none does, and ≈ 110 programs of ≈ 9 KiB were built and
 * kept for nothing (bench: mcp). Its `sources` are what the compiled regexes' `.source` would read
 * (`re2SourceOf`; the global regexes are compiled from that text, as `compileGlobalAsWritten` does).
 * A test compiles every catalogue regex and rewrite, so none is null here that would be null eagerly.
 */
class CataloguePattern implements CompiledResponsePattern {
  readonly sources: {readonly re: string; readonly optWs: string | null; readonly fold: string | null}
  private compiled: Re2 | undefined
  private optWsCompiled: Re2 | null | undefined
  private foldCompiled: Re2 | null | undefined
  private foldExactCompiled: FoldExact | null | undefined

  constructor(
    readonly name: string,
    private readonly regex: string,
    readonly core: boolean,
  ) {
    const optSrc = optionalWhitespaceSource(regex)
    const foldSrc = foldVowelsSource(regex)
    this.sources = {re: re2SourceOf(regex), optWs: optSrc === regex ? null : re2SourceOf(optSrc), fold: foldSrc === regex ? null : re2SourceOf(foldSrc)}
  }

  get re(): Re2 {
    return (this.compiled ??= compileGlobalAsWritten(this.sources.re))
  }

  get optWs(): Re2 | null {
    if (this.optWsCompiled === undefined) this.optWsCompiled = this.sources.optWs === null ? null : compileGlobalAsWritten(this.sources.optWs)
    return this.optWsCompiled
  }

  get fold(): Re2 | null {
    if (this.foldCompiled === undefined) this.foldCompiled = this.sources.fold === null ? null : compileGlobalAsWritten(this.sources.fold)
    return this.foldCompiled
  }

  get foldExact(): FoldExact | null {
    if (this.foldExactCompiled === undefined) this.foldExactCompiled = this.sources.fold === null ? null : compileFoldExact(this.regex)
    return this.foldExactCompiled
  }
}

export function compileResponsePattern(p: ResponsePatternSpec, core: boolean): CompiledResponsePattern {
  if (CATALOGUE_SOURCES.has(p.regex)) return new CataloguePattern(p.name, p.regex, core)
  const optSrc = optionalWhitespaceSource(p.regex)
  const foldSrc = foldVowelsSource(p.regex)
  const optWs = optSrc === p.regex ? null : tryCompile(optSrc)
  const fold = foldSrc === p.regex ? null : tryCompile(foldSrc)
  const re = compileGlobalAsWritten(p.regex)
  return {
    name: p.name,
    // The set must compile exactly what each regex compiled: the global regexes were built from
    // their compiled twin's `.source`.
    sources: {re: re.source, optWs: optWs === null ? null : optWs.source, fold: fold === null ? null : fold.source},
    re,
    optWs,
    fold,
    foldExact: fold === null ? null : compileFoldExact(p.regex),
    core,
  }
}

/** Merge-by-name like DLP (§9.5). */
export function mergeResponsePatterns(includeDefaults: boolean, user: readonly ResponsePatternSpec[]): ResponsePatternSpec[] {
  const out: ResponsePatternSpec[] = includeDefaults ? [...DEFAULT_RESPONSE_PATTERNS] : []
  for (const p of user) {
    const i = out.findIndex((d) => d.name === p.name)
    if (i >= 0) out[i] = p
    else out.push(p)
  }
  return out
}

function variantSet(patterns: readonly CompiledResponsePattern[], which: Variant, onFirstRead = false): VariantSet {
  const patternIndex: number[] = []
  const sources: string[] = []
  patterns.forEach((p, i) => {
    const src = p.sources[which]
    if (src === null) return
    patternIndex.push(i)
    sources.push(src)
  })
  return onFirstRead ? new VariantSetOnFirstRead(sources, patternIndex) : {set: compileSet(sources), patternIndex}
}

/** A `VariantSet` whose RE2::Set is compiled when first read. */
class VariantSetOnFirstRead implements VariantSet {
  private compiled: Re2Set | null | undefined

  constructor(
    private readonly sources: readonly string[],
    readonly patternIndex: readonly number[],
  ) {}

  get set(): Re2Set | null {
    if (this.compiled === undefined) this.compiled = compileSet(this.sources)
    return this.compiled
  }
}

/** Entries (a `PairSet`'s, a `JointSet`'s) with their sources' RE2::Set, compiled when first read. */
class EntrySetOnFirstRead<E> {
  private compiled: Re2Set | null | undefined

  constructor(
    readonly sources: readonly string[],
    readonly entries: readonly E[],
  ) {}

  get set(): Re2Set | null {
    if (this.compiled === undefined) this.compiled = compileSet(this.sources)
    return this.compiled
  }
}

function patternSet(patterns: CompiledResponsePattern[]): ResponsePatternSet {
  // The `re` and `optWs` sets are read only where the pair set is missing or cannot decide (the
  // reference path, a DFA out of memory): compiled on first read, they cost a wrap nothing (bench: mcp).
  // The pair and fold sets too: the joint sets (`JointSets`) answer for both lists, and a list's
  // own sets are read only where a joint set is missing or cannot decide (issue 36).
  const sets = {re: variantSet(patterns, 're', true), optWs: variantSet(patterns, 'optWs', true), fold: variantSet(patterns, 'fold', true)}
  const both = (['re', 'optWs'] as const).flatMap((w) => sets[w].patternIndex.map((i) => [w, i] as const))
  return {patterns, sets, pair: new EntrySetOnFirstRead(both.map(([w, i]) => patterns[i]!.sources[w]!), both)}
}

/** Indices of the patterns that can match `text` with this variant; null = try them all. */
function candidatePatterns(t: ScanTexts, set: ResponsePatternSet, which: Variant, text: string): number[] | null {
  if (which !== 'fold') {
    const both = t.pairHits(set, text)
    if (both !== null) return ofVariant(both, which)
  }
  const joint = which === 'fold' ? t.foldHits(set, text) : null
  if (joint !== null) return joint
  const vs = set.sets[which]
  return vs.set === null ? null : variantHits(vs, t.sc.encoder.encode(text))
}

/** `candidatePatterns` for one of the content's pass texts, read from its UTF-8 bytes (the same sets on the same bytes). */
function passCandidates(t: ScanTexts, set: ResponsePatternSet, which: Variant, pass: PassName): number[] | null {
  if (which !== 'fold') {
    const both = t.passPairHits(set, pass)
    if (both !== null) return ofVariant(both, which)
  }
  const joint = which === 'fold' ? t.passFoldHits(set, pass) : null
  if (joint !== null) return joint
  const vs = set.sets[which]
  return vs.set === null ? null : variantHits(vs, t.bytesOf(pass))
}

/** Entry k of a joint set is pattern `[k][2]`'s variant `[k][1]` of list `[k][0]` (0: core, 1: configured). */
type JointEntry = readonly [0 | 1, Variant, number]

interface JointSet {
  readonly set: Re2Set | null
  readonly entries: readonly JointEntry[]
  /** Entry k's source. */
  readonly sources: readonly string[]
}

/**
 * The core and configured lists' pair sets as one RE2::Set, and their fold sets as another (issue
 * 36): a clean body was walked six times per text (three pass texts × two lists) where three
 * walks answer both lists — one DFA pass costs the same for 55 sources as for 14 (measured on a
 * 64 KiB page: 80 µs either way; on prose only once the gap patterns are laid out apart,
 * pattern-set.ts). A list's candidates are its own entries of the joint hits, in
 * the order its own set reports them (`re` before `optWs`, each ascending), so every later step
 * is unchanged. Each RE2::Set is compiled when first read (a wrap that never scans a response
 * builds none).
 */
export class JointSets {
  private pairSet: JointSet | undefined
  private foldSet: JointSet | undefined
  private pairLeetSet: PairLeetSet | null | undefined

  constructor(private readonly lists: readonly [ResponsePatternSet, ResponsePatternSet]) {}

  get pair(): JointSet {
    return (this.pairSet ??= this.join((list) => list.pair.entries))
  }

  get fold(): JointSet {
    return (this.foldSet ??= this.join((list) => list.sets.fold.patternIndex.map((i) => ['fold', i] as const)))
  }

  /**
   * The pair set's sources, each `re` entry followed by its leetspeak candidate source
   * (leet-source.ts): one walk of pass 1's text answers the pair set and names a superset of pass 3's
   * candidates, where pass 3's own text took a second walk (issue 36). Null when a source cannot
   * be rewritten; its set is compiled on first read.
   */
  get pairLeet(): PairLeetSet | null {
    if (this.pairLeetSet === undefined) {
      const pair = this.pair
      const sources: string[] = []
      const roles: number[] = []
      let readable = true
      pair.entries.forEach(([, w], k) => {
        sources.push(pair.sources[k]!)
        roles.push(k)
        if (w !== 're') return
        const candidate = leetCandidateSource(pair.sources[k]!)
        if (candidate === null) {
          readable = false
          return
        }
        // Beside its pattern: a gap pattern and its candidate then share a gap set
        // (pattern-set.ts), walked once when their guards are found.
        sources.push(candidate)
        roles.push(-1 - k)
      })
      this.pairLeetSet = readable ? new PairLeetSet(sources, roles) : null
    }
    return this.pairLeetSet
  }

  private join(entriesOf: (list: ResponsePatternSet) => ReadonlyArray<readonly [Variant, number]>): JointSet {
    const entries: JointEntry[] = []
    this.lists.forEach((list, owner) => {
      for (const [w, i] of entriesOf(list)) entries.push([owner as 0 | 1, w, i])
    })
    return new EntrySetOnFirstRead(entries.map(([owner, w, i]) => this.lists[owner]!.patterns[i]!.sources[w]!), entries)
  }
}

/** `JointSets.pairLeet`: entry k is the pair set's entry `roles[k]` when that is ≥ 0, else the candidate source of pair entry `-1 - roles[k]`. */
export class PairLeetSet extends EntrySetOnFirstRead<number> {
  constructor(sources: readonly string[], roles: readonly number[]) {
    super(sources, roles)
  }

  /**
   * One walk of pass 1's bytes: the pair set's hits on them and pass 3's candidates as pair-set
   * `re` entries, both ascending; null when the candidates do not hold on these bytes
   * (`leetCandidatesHold`) or RE2 could not decide.
   */
  walk(normalized: Buffer): {pair: number[]; leet: number[]} | null {
    if (!leetCandidatesHold(normalized)) return null
    const hits = setMatches(this.set, normalized)
    if (hits === null) return null
    const pair: number[] = []
    const leet: number[] = []
    for (const k of hits) {
      const role = this.entries[k]!
      if (role >= 0) pair.push(role)
      else leet.push(-1 - role)
    }
    return {pair, leet}
  }
}

/** The joint hits `hits` of one list, as that list's own set would report them. */
function ownHits(hits: readonly number[], joint: JointSet, owner: 0 | 1): Array<readonly [Variant, number]> {
  const out: Array<readonly [Variant, number]> = []
  for (const k of hits) {
    const e = joint.entries[k]!
    if (e[0] === owner) out.push([e[1], e[2]])
  }
  return out
}

function ofVariant(both: ReadonlyArray<readonly [Variant, number]>, which: Variant): number[] {
  const out: number[] = []
  for (const [w, i] of both) if (w === which) out.push(i)
  return out
}

function variantHits(vs: VariantSet, input: Buffer): number[] | null {
  const hits = setMatches(vs.set, input)
  return hits === null ? null : hits.map((k) => vs.patternIndex[k]!)
}

const responsePatternSets = new SharedCompiled<ResponsePatternSet>()
const passTextBuilders = new WeakMap<Normalizer, PassTextBuilder>()
const jointSets = new WeakMap<ResponsePatternSet, WeakMap<ResponsePatternSet, JointSets>>()

/** The pass-text builder of a normaliser: its tables are learnt from that normaliser alone, and a walk's bytes are checked as still current before they are read (`current`). */
function sharedPassTexts(n: Normalizer): PassTextBuilder {
  let b = passTextBuilders.get(n)
  if (b === undefined) passTextBuilders.set(n, (b = new PassTextBuilder(n.forMatching)))
  return b
}

function sharedJointSets(core: ResponsePatternSet, configured: ResponsePatternSet): JointSets {
  let byConfigured = jointSets.get(core)
  if (byConfigured === undefined) jointSets.set(core, (byConfigured = new WeakMap()))
  let j = byConfigured.get(configured)
  if (j === undefined) byConfigured.set(configured, (j = new JointSets([core, configured])))
  return j
}

export function createResponseScanner(settings: ScannerSettings, normalizer?: Normalizer): ResponseScanner {
  const rs = settings.responseScanning
  const n = normalizer ?? createNormalizer(tableReading)
  // The compiled lists, their joint sets and the pass-text tables are shared by every scanner
  // with the same patterns and normaliser (shared-compiled.ts: agent profiles); each is a
  // function of those alone, used within one synchronous call.
  const core = responsePatternSets.get('core', () => patternSet(CORE_RESPONSE_PATTERNS.map((p) => compileResponsePattern(p, true))))
  const specs = mergeResponsePatterns(rs.includeDefaults, rs.patterns)
  const configured = responsePatternSets.get(JSON.stringify(specs), () => patternSet(specs.map((p) => compileResponsePattern(p, false))))
  return {
    settings,
    core,
    configured,
    normalizer: n,
    encoder: new Utf8Scratch(),
    passTexts: sharedPassTexts(n),
    joint: sharedJointSets(core, configured),
    pages: new PageTextReader(),
    jsonSyntax: readsJsonSyntax(specs),
  }
}

function matchSet(
  t: ScanTexts,
  set: ResponsePatternSet,
  text: string,
  which: Variant,
  pass: ResponsePass,
  unfolded?: string,
): ResponseMatch[] {
  if (text.length === 0) return []
  return matchPatterns(set, text, candidatePatterns(t, set, which, text), which, pass, unfolded)
}

/**
 * Every hit of the patterns `only` names (null: all of them) in `text`, the given variant of each.
 * `unfolded`, for the folded variant: the text `text` was folded from, which a hit of a pattern
 * with case-exact groups must read the same there (`fold-exact.ts`).
 */
function matchPatterns(set: ResponsePatternSet, text: string, only: readonly number[] | null, which: Variant, pass: ResponsePass, unfolded?: string): ResponseMatch[] {
  const out: ResponseMatch[] = []
  const indices = only ?? set.patterns.map((_, i) => i)
  for (const i of indices) {
    const p = set.patterns[i]!
    const re = p[which]
    if (re === null) continue
    const exact = which === 'fold' && unfolded !== undefined ? (p.foldExact ?? null) : null
    for (const h of findAll(re, text, 100)) {
      if (exact !== null && !foldHitExact(exact, text, unfolded!, h.index)) continue
      out.push({pattern: p.name, core: p.core, pass, position: h.index, length: h.length})
    }
  }
  return out
}


const EDU_A = ['common injection pattern', 'common attack pattern', 'attack pattern is', 'include phrases like']
const EDU_B = ['defense', 'defenders', 'input validation', 'scan for these patterns']

/** Whether a (normalised) text reads as an article about prompt injection: §7 step 3's condition. */
function readsEducational(normalised: string): boolean {
  const lower = normalised.toLowerCase()
  return lower.includes('prompt injection') && EDU_A.some((p) => lower.includes(p)) && EDU_B.some((p) => lower.includes(p))
}

/** §7 step 3: in an article about prompt injection, quoted single-line examples are not attacks. */
function educationalFilter(normalised: string, text: string, matches: ResponseMatch[]): ResponseMatch[] {
  if (matches.length === 0 || !readsEducational(normalised)) return matches
  return matches.filter((m) => m.pattern === 'System Prompt Disclosure' || !insideQuote(text, m.position, m.position + m.length))
}

function insideQuote(text: string, start: number, end: number): boolean {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1
  const nl = text.indexOf('\n', end)
  const lineEnd = nl < 0 ? text.length : nl
  if (text.slice(start, end).includes('\n')) return false
  for (const q of ["'", '"']) {
    const before = text.slice(lineStart, start)
    const after = text.slice(end, lineEnd)
    let count = 0
    for (const c of before) if (c === q) count++
    if (count % 2 === 1 && after.includes(q)) return true
  }
  return false
}

function isPrintableRatioOk(s: string): boolean {
  let total = 0
  let printable = 0
  for (const ch of s) {
    total++
    const cp = ch.codePointAt(0)!
    if (cp === 0xfffd) return false // invalid UTF-8 → not accepted
    if ((cp >= 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp <= 0x9f)) || cp === 0x09 || cp === 0x0a || cp === 0x0d) printable++
  }
  return total > 0 && printable / total >= 0.8
}

/**
 * The base64 and hex decodings of `s` as text. `wellFormed`: only those whose bytes are
 * well-formed UTF-8 — another reads with a U+FFFD, which `isPrintableRatioOk` refuses, so a run's
 * decoding that is not is never made into a string (the 48 KiB of random bytes an image's run
 * decodes to: a third of a chat request's response scan went into making them a string).
 */
function decodeCandidates(s: string, wellFormed = false): string[] {
  const out: string[] = []
  let prev: Buffer | null = null
  // A decoding whose first bytes are already ill-formed is not made at all (decoded-prefix.ts).
  if (!wellFormed || !base64DecodingIllFormed(s)) {
    for (const d of decodeBase64Variants(s)) {
      if (d.bytes === prev) continue // equivalent variants share one buffer
      prev = d.bytes
      if (!wellFormed || isUtf8Text(d.bytes)) out.push(bytesToText(d.bytes))
    }
  }
  const h = wellFormed && hexDecodingIllFormed(s) ? null : decodeHexStrict(s)
  if (h !== null && (!wellFormed || isUtf8Text(h))) out.push(bytesToText(h))
  return out
}

/**
 * The text transformations of one scan — normalised, invisible-stripped, leetspeak, vowel-folded
 * and decoded forms — computed once and shared by the core and the configured pattern sets
 * (each set used to recompute all of them: half the normalisation work of a clean response).
 * Lives for one scan only.
 */
/** Space, tab, LF and CR, removed before the whole content is decoded (a fixed class: no backtracking). */
const SPACES = /[ \t\n\r]+/g

export class ScanTexts {
  // The memos are made on first use (bench: proxy; five empty maps were ≈ 1 KB per response scan, and
  // a clean body in the walk's domain uses one).
  private normalisedMemo: Map<string, string> | undefined
  private foldedMemo: Map<string, string> | undefined
  private decodedMemo: Map<string, readonly string[]> | undefined
  private get normalised(): Map<string, string> {
    return (this.normalisedMemo ??= new Map())
  }
  private get folded(): Map<string, string> {
    return (this.foldedMemo ??= new Map())
  }
  private get decodedOf(): Map<string, readonly string[]> {
    return (this.decodedMemo ??= new Map())
  }
  private invisible: string | undefined
  private leet: string | undefined
  /** The content's four pass texts from one table walk (undefined: not tried yet; null: outside the table's domain). */
  private walked: PassTexts | null | undefined

  /** The table walk, when it was learnt from this scanner's own normaliser (a copy of the scanner with another normaliser uses that one). */
  private readonly fast: PassTextBuilder | null

  /**
   * `whole`: whether pass 6 tries the whole content as one encoding (squeezed of its spaces). Not
   * for a JSON view: its strings are joined by spaces, and a JSON document as written (quotes,
   * braces) never decodes whole; each of its base64 runs is decoded as before.
   */
  constructor(
    readonly sc: ResponseScanner,
    readonly content: string,
    readonly whole = true,
  ) {
    const b = sc.passTexts
    this.fast = b !== null && b.source === sc.normalizer.forMatching ? b : null
  }

  /** The pair set's hits per text (pattern set → text → hits), asked for by passes 1 and 4 alike. */
  private pairsMemo: Map<ResponsePatternSet, Map<string, ReadonlyArray<readonly [Variant, number]> | null>> | undefined

  /** The `re` and `optWs` candidates of `text` from one pair-set pass; null when there is no pair set (reference path) or RE2 could not decide. */
  pairHits(set: ResponsePatternSet, text: string): ReadonlyArray<readonly [Variant, number]> | null {
    if (this.sc.passTexts === null) return null
    const pairs = (this.pairsMemo ??= new Map())
    let byText = pairs.get(set)
    if (byText === undefined) pairs.set(set, (byText = new Map()))
    return memoised(byText, text, (s) => this.textJoint('pair', set, s) ?? this.ownPairHits(set, this.sc.encoder.encode(s)))
  }

  /** `set`'s own pair-set hits on `input`; null when it has no pair set or RE2 could not decide. */
  private ownPairHits(set: ResponsePatternSet, input: Buffer): ReadonlyArray<readonly [Variant, number]> | null {
    if (set.pair.set === null) return null
    return setMatches(set.pair.set, input)?.map((k) => set.pair.entries[k]!) ?? null
  }

  /** The fold-set candidates (pattern indices) of a text from the joint fold set; null when there is none to ask (the reference path asks none). */
  foldHits(set: ResponsePatternSet, text: string): number[] | null {
    if (this.sc.passTexts === null) return null
    return this.textJoint('fold', set, text)?.map(([, i]) => i) ?? null
  }

  /** The content's pass texts as UTF-8 (undefined: not tried yet; null: the string path), their strings once made, and their pair-set hits per set. */
  private walkedBytes: PassBytes | null | undefined
  private readonly passStrings: Partial<Record<PassName, string>> = {}
  private readonly passPairs = new Map<ResponsePatternSet, Partial<Record<PassName, ReadonlyArray<readonly [Variant, number]> | null>>>()

  /** The content's four pass texts as UTF-8 from one table walk, or null (too long for the walk's scratch, or the string path asked for). */
  passBytes(): PassBytes | null {
    if (this.walkedBytes === undefined) this.walkedBytes = this.fast !== null && this.sc.passBytes !== false ? this.fast.passBytes(this.content) : null
    return this.walkedBytes
  }

  /** One pass text's bytes (walked again, to the same bytes, if another walk reused the scratch since). */
  bytesOf(pass: PassName): Buffer {
    let b = this.walkedBytes!
    if (!this.fast!.current(b)) b = this.walkedBytes = this.fast!.passBytes(this.content)!
    return b[pass]
  }

  /** One pass text as a string (UTF-8 round trip: the domain's outputs hold no surrogates), made once. */
  passText(pass: PassName): string {
    return (this.passStrings[pass] ??= this.bytesOf(pass).toString('utf8'))
  }

  /** Whether two of the content's pass texts are equal (equal UTF-8 bytes: equal strings). */
  samePass(a: PassName, b: PassName): boolean {
    return this.bytesOf(a).equals(this.bytesOf(b))
  }

  /** `pairHits` for one of the content's pass texts, from its bytes (the joint set's walk when there is one). */
  passPairHits(set: ResponsePatternSet, pass: PassName): ReadonlyArray<readonly [Variant, number]> | null {
    let byPass = this.passPairs.get(set)
    if (byPass === undefined) this.passPairs.set(set, (byPass = {}))
    let hits = byPass[pass]
    if (hits === undefined) hits = byPass[pass] = this.passJoint('pair', set, pass) ?? this.ownPairHits(set, this.bytesOf(pass))
    return hits
  }

  /** The fold-set candidates (pattern indices) of one pass text from the joint fold set; null when there is none to ask. */
  passFoldHits(set: ResponsePatternSet, pass: PassName): number[] | null {
    return this.passJoint('fold', set, pass)?.map(([, i]) => i) ?? null
  }

  /** Joint-set hits per kind, by pass text (the content's, from its bytes) and by text (the string path), each walk made once for both lists. */
  private readonly jointByPass: Record<'pair' | 'fold', Partial<Record<PassName, readonly number[] | null>>> = {pair: {}, fold: {}}
  private jointByText: Record<'pair' | 'fold', Map<string, readonly number[] | null>> | undefined

  private passJoint(kind: 'pair' | 'fold', set: ResponsePatternSet, pass: PassName): Array<readonly [Variant, number]> | null {
    return this.ownJoint(kind, set, (js) => {
      if (kind === 'pair' && pass === 'normalized' && this.jointByPass.pair.normalized === undefined) this.pairWithLeet()
      let hits = this.jointByPass[kind][pass]
      if (hits === undefined) hits = this.jointByPass[kind][pass] = setMatches(js.set, this.bytesOf(pass))
      return hits
    })
  }

  /**
   * Pass 1's pair walk with pass 3's candidates in it (`JointSets.pairLeet`), when pass 3 has a
   * text of its own and the candidates hold on pass 1's: pass 3 then reads its candidates from
   * this walk (only as `re` entries: pass 3 reads no other) instead of walking its text.
   */
  private pairWithLeet(): void {
    const pl = this.sc.joint?.pairLeet
    if (pl === undefined || pl === null || this.samePass('leet', 'normalized')) return
    const both = pl.walk(this.bytesOf('normalized'))
    if (both === null) return
    this.jointByPass.pair.normalized = both.pair
    this.jointByPass.pair.leet = both.leet
  }

  private textJoint(kind: 'pair' | 'fold', set: ResponsePatternSet, text: string): Array<readonly [Variant, number]> | null {
    return this.ownJoint(kind, set, (js) => {
      const byText = (this.jointByText ??= {pair: new Map(), fold: new Map()})[kind]
      return memoised(byText, text, (t) => setMatches(js.set, this.sc.encoder.encode(t)))
    })
  }

  /** `set`'s entries of the joint set's hits (`hitsOf`); null: no joint set for this list, or RE2 could not decide. */
  private ownJoint(kind: 'pair' | 'fold', set: ResponsePatternSet, hitsOf: (js: JointSet) => readonly number[] | null): Array<readonly [Variant, number]> | null {
    const joint = this.sc.joint
    if (joint === undefined || joint === null) return null
    if (set !== this.sc.core && set !== this.sc.configured) return null
    const js = joint[kind]
    // `js.set` is read by the walk that needs it (a null set: `setMatches` answers null).
    const hits = hitsOf(js)
    return hits === null ? null : ownHits(hits, js, set === this.sc.core ? 0 : 1)
  }

  /** Passes 1, 2, 3 and 5 of the content by one table walk, stored where the passes look them up. */
  private walk(): void {
    if (this.walked !== undefined) return
    this.walked = this.fast?.passes(this.content) ?? null
    if (this.walked === null) return
    const {normalized, invisible, leet, folded} = this.walked
    this.normalised.set(this.content, normalized)
    this.folded.set(normalized, folded)
    this.invisible = invisible
    this.leet = leet
  }

  forMatching(s: string): string {
    if (s === this.content) this.walk()
    return memoised(this.normalised, s, (text) => this.fast?.forMatching(text) ?? this.sc.normalizer.forMatching(text))
  }

  fold(s: string): string {
    return memoised(this.folded, s, foldVowels)
  }

  /** Pass 2's text: the content with invisibles as spaces, normalised (pass 1's text when equal). */
  invisiblePass(): string {
    this.walk()
    if (this.invisible === undefined) {
      const inv = replaceInvisibleWithSpace(this.content)
      this.invisible = inv === this.content ? this.forMatching(this.content) : this.forMatching(inv)
    }
    return this.invisible
  }

  leetspeakPass(): string {
    this.walk()
    if (this.leet === undefined) this.leet = leetspeak(this.forMatching(this.content))
    return this.leet
  }

  /** Pass 6's candidates for `s`: the whole squeezed string's decodings, then each run's printable ones. */
  decoded(s: string): readonly string[] {
    // The content itself (every scan's first pass 6) without hashing it as a map key.
    if (s === this.content) return (this.contentDecoded ??= this.decodeRuns(s, this.contentUnits(), this.whole))
    return memoised(this.decodedOf, s, (text) => this.decodeRuns(text))
  }

  private contentDecoded: readonly string[] | undefined

  /**
   * The content's own code units as bytes, when its pass-1 bytes are exactly those (a plain
   * text: `PassBytes.plain`) and are still in the builder's scratch; else undefined.
   */
  private contentUnits(): Uint8Array | undefined {
    const b = this.walkedBytes
    return b !== undefined && b !== null && b.plain === true && this.fast!.current(b) ? b.normalized : undefined
  }

  private decodeRuns(s: string, units?: Uint8Array, whole = true): readonly string[] {
    return this.sc.passTexts === null ? decodeRunsReference(s, whole) : passSixDecodings(s, units, whole)
  }
}

/**
 * Pass 6's candidates for `s` (scanners with the table walk): the whole squeezed string's
 * decodings, then each run's printable ones, each distinct decoding once — a repeat would be
 * matched and recursed into exactly as the first was, which found nothing (else the pass had
 * returned). Exported for the request-body injection screen (`injection-screen.ts`), which must
 * see exactly the texts pass 6 would match. `units`: `s`'s code units as bytes, when the
 * caller has them (`base64Runs`).
 */
export function passSixDecodings(s: string, units?: Uint8Array, whole = true): readonly string[] {
  const out: string[] = []
  const seen = new Set<string>()
  const add = (d: string): void => {
    if (seen.has(d)) return
    seen.add(d)
    out.push(d)
  }
  // A character no decoder accepts (outside the base64 alphabets, '=', hex digits and the
  // squeezed spaces) fails every whole-content decoding: skip the squeeze and the attempts.
  const squeezed = whole && mayDecodeWhole(s) ? s.replace(SPACES, '') : null
  if (squeezed !== null) for (const d of decodeCandidates(squeezed)) if (d !== '') add(d)
  const tried = new Set<string>()
  const runs = base64Runs(s, 200, units)
  for (const run of runs) {
    if (run === squeezed || tried.has(run)) continue // the whole content was one run, or the same run again: already tried
    tried.add(run)
    for (const d of decodeCandidates(run, true)) if (isPrintableRatioOk(d)) add(d)
  }
  // Wrapped base64 (MIME, PEM) is read only whole: its lines are two runs or more.
  if (runs.length >= 2) {
    for (const block of wrappedBase64Blocks(s, WRAPPED_BLOCKS)) {
      if (block === squeezed || tried.has(block)) continue
      tried.add(block)
      for (const d of decodeCandidates(block, true)) if (isPrintableRatioOk(d)) add(d)
    }
  }
  return out
}

/** The most wrapped base64 blocks pass 6 decodes in one text (as the 200 runs bound the runs). */
const WRAPPED_BLOCKS = 20

/** Pass 6's candidates as first written: every decoding of the squeezed content and of every run, repeats included. */
function decodeRunsReference(s: string, whole = true): readonly string[] {
  const out: string[] = []
  const squeezed = whole ? s.replace(SPACES, '') : null
  // The whole-content decoding is taken as is; only the per-run decodings need the
  // UTF-8 / 80 %-printable test (§7 pass 6).
  if (squeezed !== null) for (const d of decodeCandidates(squeezed)) if (d !== '') out.push(d)
  const runs = base64Runs(s, 200)
  for (const run of runs) {
    if (run === squeezed) continue // the whole content was one run: already tried
    for (const d of decodeCandidates(run)) if (isPrintableRatioOk(d)) out.push(d)
  }
  if (runs.length >= 2) {
    for (const block of wrappedBase64Blocks(s, WRAPPED_BLOCKS)) {
      if (block === squeezed) continue
      for (const d of decodeCandidates(block)) if (isPrintableRatioOk(d)) out.push(d)
    }
  }
  return out
}

/**
 * False when `s` has a character outside `[A-Za-z0-9+/_=-]` and the squeezed spaces: no base64
 * variant (each rejects a character outside its alphabet, '=' allowed only as trailing padding)
 * and no hex decoding (hex digits only) of the squeezed content can then succeed.
 */
function mayDecodeWhole(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x5f || c === 0x3d || c === 0x2d || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
    if (!ok) return false
  }
  return true
}

/** Pass 6 (§7): decoded payloads, matched with passes 1, 4, 5, recursively to depth 5. */
function decodePass(t: ScanTexts, patterns: ResponsePatternSet, content: string, depth: number): ResponseMatch[] {
  if (depth >= 5 || !hasCandidateRun(content)) return []
  for (const d of t.decoded(content)) {
    const p1 = t.forMatching(d)
    const hits = [
      ...matchSet(t, patterns, p1, 're', 'decoded'),
      ...matchSet(t, patterns, p1, 'optWs', 'decoded'),
      ...matchSet(t, patterns, t.fold(p1), 'fold', 'decoded', p1),
    ]
    if (hits.length > 0) return hits
    const deeper = decodePass(t, patterns, d, depth + 1)
    if (deeper.length > 0) return deeper
  }
  return []
}

/** `matchSet` on one of the content's pass texts: the sets read its bytes; the string is made only for a candidate. */
function matchPass(t: ScanTexts, set: ResponsePatternSet, pass: PassName, which: Variant, label: ResponsePass): ResponseMatch[] {
  if (t.bytesOf(pass).length === 0) return []
  const only = passCandidates(t, set, which, pass)
  if (only !== null && only.length === 0) return []
  return matchPatterns(set, t.passText(pass), only, which, label, which === 'fold' ? t.passText('normalized') : undefined)
}

/** `multiPass` with the content's pass texts as UTF-8 bytes: the same passes, in the same order, on the same texts. */
function multiPassBytes(t: ScanTexts, patterns: ResponsePatternSet): ResponseMatch[] {
  const filtered = (pass: PassName, ms: ResponseMatch[]): ResponseMatch[] => (ms.length === 0 ? ms : educationalFilter(t.passText('normalized'), t.passText(pass), ms))
  let m = filtered('normalized', matchPass(t, patterns, 'normalized', 're', 'normalized'))
  if (m.length > 0) return m
  // Passes 2 and 3 reuse pass 1's regexes: an unchanged text cannot match now, so skip it.
  if (!t.samePass('invisible', 'normalized')) {
    m = filtered('invisible', matchPass(t, patterns, 'invisible', 're', 'invisible'))
    if (m.length > 0) return m
  }
  if (!t.samePass('leet', 'normalized') && !t.samePass('leet', 'invisible')) {
    m = filtered('leet', matchPass(t, patterns, 'leet', 're', 'leetspeak'))
    if (m.length > 0) return m
  }
  m = filtered('normalized', matchPass(t, patterns, 'normalized', 'optWs', 'optional_whitespace'))
  if (m.length > 0) return m
  m = filtered('folded', matchPass(t, patterns, 'folded', 'fold', 'vowel_fold'))
  if (m.length > 0) return m
  return decodePass(t, patterns, t.content, 0)
}

/** Runs the multi-pass scheme with one pattern set; the first pass with a (surviving) match wins. */
function multiPass(t: ScanTexts, patterns: ResponsePatternSet): ResponseMatch[] {
  if (t.passBytes() !== null) return multiPassBytes(t, patterns)
  const content = t.content
  const p1 = t.forMatching(content)
  const filtered = (text: string, ms: ResponseMatch[]) => educationalFilter(p1, text, ms)
  let m = filtered(p1, matchSet(t, patterns, p1, 're', 'normalized'))
  if (m.length > 0) return m
  // Passes 2 and 3 reuse pass 1's regexes: an unchanged text cannot match now, so skip it.
  const p2 = t.invisiblePass()
  if (p2 !== p1) {
    m = filtered(p2, matchSet(t, patterns, p2, 're', 'invisible'))
    if (m.length > 0) return m
  }
  const p3 = t.leetspeakPass()
  if (p3 !== p1 && p3 !== p2) {
    m = filtered(p3, matchSet(t, patterns, p3, 're', 'leetspeak'))
    if (m.length > 0) return m
  }
  m = filtered(p1, matchSet(t, patterns, p1, 'optWs', 'optional_whitespace'))
  if (m.length > 0) return m
  const p5 = t.fold(p1)
  m = filtered(p5, matchSet(t, patterns, p5, 'fold', 'vowel_fold', p1))
  if (m.length > 0) return m
  return decodePass(t, patterns, content, 0)
}

export interface ResponseScanResult {
  readonly clean: boolean
  /** True when the hit came from the immutable core set. */
  readonly core: boolean
  readonly matches: readonly ResponseMatch[]
}

/**
 * `ScanResponse(content)` (§7 steps 1–4), then, when that is clean, the same over the content
 * with its backslash escapes decoded (`decodeBackslashEscapes`): the agent's JSON parser turns
 * `previous\tinstructions` or `\u0069nstructions` into the words the patterns look for.
 */
export function scanResponse(sc: ResponseScanner, content: string, whole = true, markdown = true): ResponseScanResult {
  return withEscapedView(content, (text) => scanResponseText(sc, text, whole), markdown)
}

/**
 * `scan(content)`; when that is clean and the content holds escapes, `scan` of it decoded; when
 * that is clean too and it holds text hidden in tag characters or variation selectors
 * (`decodeSmuggledText`), `scan` of that text read out; then of its markup's joined text
 * (`markupText`: CDATA, comments and tags, HTML escaped as `&lt;b&gt;` decoded first) and of its
 * Markdown's words (`markdownText`; not for `markdown` false: the text runs of a body that is no
 * UTF-8 text, where `*` and `` ` `` are bytes, not Markdown), each only when it changes the text.
 */
function withEscapedView(content: string, scan: (text: string) => ResponseScanResult, markdown = true): ResponseScanResult {
  const r = scan(content)
  if (!r.clean) return r
  const decoded = decodeBackslashEscapes(content)
  if (decoded !== content) {
    const e = scan(decoded)
    if (!e.clean) return e
  }
  const revealed = decodeSmuggledText(decoded)
  if (revealed !== decoded) {
    const v = scan(revealed)
    if (!v.clean) return v
  }
  // Markup the HTML reading does not join (a CDATA section, HTML escaped into an RSS
  // description: tags and comments it joins already, so a page pays nothing here), and
  // Markdown's emphasis and links: the words a reader is handed.
  const cdata = revealed.includes('<![CDATA[')
  const escapedMarkup = revealed.includes('&lt;')
  const joined = cdata || escapedMarkup ? markupText(escapedMarkup ? decodeHtmlReferences(revealed) : revealed) : revealed
  for (const view of [joined, markdown ? markdownText(revealed) : revealed]) {
    if (view === revealed) continue
    const v = scan(view)
    if (!v.clean) return v
  }
  return r
}

/** `whole`: as `ScanTexts`'s (false for a JSON view). */
function scanResponseText(sc: ResponseScanner, content: string, whole: boolean): ResponseScanResult {
  const t = new ScanTexts(sc, content, whole)
  const core = multiPass(t, sc.core)
  if (core.length > 0) return {clean: false, core: true, matches: core}
  if (!sc.settings.responseScanning.enabled) return {clean: true, core: false, matches: []}
  return configuredResult(multiPass(t, sc.configured))
}

function configuredResult(m: ResponseMatch[]): ResponseScanResult {
  return m.length > 0 ? {clean: false, core: false, matches: m} : {clean: true, core: false, matches: []}
}

/**
 * What a regex source writes when it may match what the JSON view leaves out of a document: its
 * quotes, brackets, `:` and `,`; a digit, `\d`, `\D`, `\S` or `\W` (a number's characters, or a
 * run through the punctuation that one space does not stand for); `true`, `false` or `null`
 * (JSON_LITERAL). `[` covers every character class, `{` every counted repeat.
 */
const JSON_SYNTAX = /["{}[\]:,0-9]|\\[dDSW]/
const JSON_LITERAL = /true|false|null/i

/** Every regex this build ships (catalogue, and the presets' older variants): each read for what the JSON view leaves out. */
const SHIPPED_SOURCES: ReadonlySet<string> = new Set([...CATALOGUE_SOURCES, ...Object.values(PRESET_RESPONSE_VARIANTS)])

/**
 * Whether a configured pattern may match only on what the JSON view leaves out of a document
 * (its syntax, numbers and literals). No shipped pattern (core, default, preset-only, preset
 * variant) can. Every place two strings meet is a quote as written, and no shipped pattern
 * reads a quote between words (Output Format Forcing's optional `"` needs white space and a word
 * on its far side, which JSON syntax never writes next to a quote), so a match as written that
 * crosses strings does so through a `.{m,n}` gap, which the view shortens. The rest they read in
 * the syntax follows a word JSON never writes unquoted: `\[/?INST\]`, `\{GODMODE\s*:\s*TRUE\}`,
 * System Override's `system\s*:`, Prompt Injection's `[-,;:.\s]+` and Covert Action Directive's
 * `[,;:]?` after a word, Instruction Invalidation's `as\s+null`, Pliny Divider's `-` between
 * `=` and `/`. A number is digits and `.eE+-` alone, which no shipped word is. A user's pattern
 * is of unknown shape: one whose source holds JSON_SYNTAX or JSON_LITERAL anywhere (a
 * quantifier, a class or `(?:` included, to be safe) keeps the document as written scanned too,
 * by the configured list.
 */
function readsJsonSyntax(specs: readonly ResponsePatternSpec[]): boolean {
  return specs.some((p) => !SHIPPED_SOURCES.has(p.regex) && (JSON_SYNTAX.test(p.regex) || JSON_LITERAL.test(p.regex)))
}

/**
 * §7 step 5: replace every match of the main, optional-whitespace and vowel-folded patterns
 * (found in the normalised content) by `[REDACTED: <name>]`, cut from the content as it came:
 * the rest of it is kept unchanged, not normalised as the reference returns it. Returns null
 * when nothing changed, or when the matches cannot be placed in the content (strip impossible →
 * the caller must block, §24 #8 fixed).
 */
export function redactResponse(sc: ResponseScanner, content: string): string | null {
  return redactResponseNamed(sc, content)?.content ?? null
}

/** The names a strip reports: the scan's matches, then the names only the redaction wrote. */
export function strippedNames(matches: readonly ResponseMatch[], redacted: readonly string[]): string[] {
  return [...new Set([...matches.map((m) => m.pattern), ...redacted])]
}

/**
 * `redactResponse` with the names it wrote, each once, in text order. The redaction reads every
 * pattern of both sets in three passes, while the scan stops at its first pass with a hit: a
 * caller that reports what it stripped names these, not only the scan's matches.
 */
export function redactResponseNamed(sc: ResponseScanner, content: string): {content: string; names: string[]} | null {
  const cuts = redactionCuts(sc, content)
  if (cuts === null) return null
  const out = withCuts(content, cuts)
  return out === content ? null : {content: out, names: cutNames(cuts)}
}

/**
 * `redactResponseNamed` of a body's bytes. A well-formed UTF-8 body is its text's redaction (no
 * `bytes`). Another is cut in its bytes: the cuts are found in its UTF-8 reading
 * (`body.toString('utf8')`, as the scan read it) and made at the bytes each cut character was
 * read from (`utf8ReadingOffsets`); every other byte is relayed as the origin sent it, not as the
 * U+FFFD that reading shows, and `content` is that reading with the same cuts (for an operator's
 * preview and the logs). Null when nothing is cut, or the cuts cannot be placed (the caller blocks).
 */
export function redactBodyNamed(sc: ResponseScanner, body: Uint8Array): {content: string; names: string[]; bytes?: Buffer} | null {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (isUtf8Text(buf)) return redactResponseNamed(sc, wellFormedUtf8Text(buf))
  const reading = buf.toString('utf8')
  const cuts = redactionCuts(sc, reading)
  if (cuts === null) return null
  const offsets = utf8ReadingOffsets(buf, reading)
  if (offsets === null) return null
  const text = withCuts(reading, cuts)
  if (text === reading) return null
  const parts: Buffer[] = []
  let byteAt = 0
  for (const c of cuts) {
    parts.push(buf.subarray(byteAt, offsets[c.start]!), Buffer.from(redactionMark(c), 'utf8'))
    byteAt = offsets[c.end]!
  }
  parts.push(buf.subarray(byteAt))
  return {content: text, bytes: Buffer.concat(parts), names: cutNames(cuts)}
}

/** What a cut is replaced by. */
function redactionMark(c: RedactionCut): string {
  return `[REDACTED: ${c.name}]`
}

/** `content` with each cut replaced by its mark. */
function withCuts(content: string, cuts: readonly RedactionCut[]): string {
  let out = ''
  let at = 0
  for (const c of cuts) {
    out += content.slice(at, c.start) + redactionMark(c)
    at = c.end
  }
  return out + content.slice(at)
}

function isLowSurrogate(s: string, i: number): boolean {
  const c = s.charCodeAt(i)
  return c >= 0xdc00 && c <= 0xdfff && i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff
}

/** One replacement of a strip: `[start, end)` of the content, named by the first match that starts it. */
interface RedactionCut {
  readonly start: number
  end: number
  readonly name: string
}

/**
 * §7 step 5's cuts in `content`, in order and apart: every match of the main, optional-whitespace
 * and vowel-folded patterns of both lists (found in the normalised content), mapped to the
 * characters of the content it was read from; overlapping matches make one cut, named by the
 * first. Null when nothing matched or the matches cannot be placed in the content.
 */
function redactionCuts(sc: ResponseScanner, content: string): RedactionCut[] | null {
  const t = new ScanTexts(sc, content)
  const p1 = t.forMatching(content)
  const folded = t.fold(p1)
  const sets = [sc.core, ...(sc.settings.responseScanning.enabled ? [sc.configured] : [])]
  const ranges: Array<{start: number; end: number; name: string}> = []
  const found = sets.flatMap((set) => [
    ...matchSet(t, set, p1, 're', 'normalized'),
    ...matchSet(t, set, p1, 'optWs', 'optional_whitespace'),
    ...matchSet(t, set, folded, 'fold', 'vowel_fold', p1),
  ])
  for (const m of found) {
    if (m.length > 0) ranges.push({start: m.position, end: m.position + m.length, name: m.pattern})
  }
  if (ranges.length === 0) return null
  // The matches are cut from the content as sent: the matching form rewrites every confusable,
  // accent, ligature and invisible of the page, which the agent must get as the origin wrote them.
  const original = matchingToOriginal(content, p1, (s) => sc.normalizer.forMatching(s))
  if (original === null) return null
  const spans = ranges.map((r) => {
    const o = original(r.start, r.end)
    // A cut never splits a character: a boundary inside a surrogate pair takes the whole pair.
    return {start: isLowSurrogate(content, o.start) ? o.start - 1 : o.start, end: isLowSurrogate(content, o.end) ? o.end + 1 : o.end, name: r.name}
  })
  spans.sort((a, b) => a.start - b.start || b.end - a.end)
  const cuts: RedactionCut[] = []
  for (const r of spans) {
    const last = cuts[cuts.length - 1]
    // Overlapping: one replacement covers both.
    if (last !== undefined && r.start < last.end) last.end = Math.max(last.end, r.end)
    else cuts.push({start: r.start, end: r.end, name: r.name})
  }
  return cuts
}

/** The body a strip relays: its bytes when the strip was made in them (`redactBodyNamed`), else its text as UTF-8. */
export function strippedBody(strip: {readonly content: string; readonly bytes?: Uint8Array}): Buffer {
  const b = strip.bytes
  return b === undefined ? Buffer.from(strip.content, 'utf8') : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

/** The names the cuts write, each once, in text order. */
function cutNames(cuts: readonly RedactionCut[]): string[] {
  return [...new Set(cuts.map((c) => c.name))]
}

export type ResponseDecision =
  | {readonly action: 'allow'; readonly matches: readonly ResponseMatch[]}
  | {readonly action: 'warn'; readonly matches: readonly ResponseMatch[]}
  | {readonly action: 'ask'; readonly matches: readonly ResponseMatch[]}
  /** `names`: every pattern the strip reports — the scan's matches, then those only the redaction found (it reads every pattern; the scan stops at its first pass with a hit). */
  /**
   * `content`: the stripped text. `bytes`: the stripped body, when the body scanned was not
   * well-formed UTF-8 — its bytes outside the cuts as the origin sent them (`content` is then its
   * UTF-8 reading, with U+FFFD where a byte is not UTF-8): relay these, not `content`.
   */
  | {readonly action: 'strip'; readonly matches: readonly ResponseMatch[]; readonly content: string; readonly names: readonly string[]; readonly bytes?: Uint8Array}
  | {readonly action: 'block'; readonly matches: readonly ResponseMatch[]; readonly reason: 'prompt_injection'; readonly layer: 'response_scan'; readonly detail: string}

export interface ResponseDecisionOptions {
  /** Destination host, for `response_scanning.exempt_domains`. */
  readonly host?: string
  /** True only when an interactive approver is wired (terminal HITL); otherwise `ask` = `block`. */
  readonly approverAvailable?: boolean
  /** operations.md §4.3: true for a finding name a `suppress` entry removes (the caller audits it). */
  readonly suppress?: Suppressor
  /** The response's Content-Type: `decideResponseBody` also reads the body in the charset it declares. */
  readonly contentType?: string
  /** The content is the text runs of a body that is not UTF-8 text (`decideResponseBody`): no Markdown reading. */
  readonly binary?: boolean
  /**
   * Where the response's own text starts in the content (UTF-16 offset; absent: 0): `/fetch` scans
   * the Content-Type and title it answers with ahead of the page text. A JSON document is read
   * (`jsonTextView`) from there.
   */
  readonly textAt?: number
}

/** Decides, per finding (pattern) name, whether a `suppress` entry removes it; records the suppression. */
export type Suppressor = (patternName: string) => boolean

/** The matches no suppress entry removes (each name asked once). */
export function unsuppressed<M extends {readonly pattern: string}>(matches: readonly M[], suppress: Suppressor | undefined): readonly M[] {
  if (suppress === undefined || matches.length === 0) return matches
  const verdict = new Map<string, boolean>()
  return matches.filter((m) => {
    let v = verdict.get(m.pattern)
    if (v === undefined) {
      v = suppress(m.pattern)
      verdict.set(m.pattern, v)
    }
    return !v
  })
}

/** Starts of a tag (`<p`, `</`, `<!`) or a character reference (`&#`, `&amp;`): markup to read. */
function looksLikeMarkup(s: string): boolean {
  for (let i = s.indexOf('<'); i >= 0 && i + 1 < s.length; i = s.indexOf('<', i + 1)) {
    const c = s.charCodeAt(i + 1)
    if (c === 0x2f || c === 0x21 || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true
  }
  return s.includes('&') && decodeHtmlReferences(s) !== s
}

/** The visible text of markup when it differs from the content itself, else null. */
function markupView(sc: ResponseScanner, content: string): string | null {
  if (!looksLikeMarkup(content)) return null
  const view = (sc.pages ?? new PageTextReader()).visibleText(content)
  return view === content || view === '' ? null : view
}

/**
 * The JSON view of `content` (`jsonTextView`) from `textAt` on, behind the head before it; null
 * when that is not one JSON object or array. It replaces the document in the scan: its strings
 * joined, escapes decoded (the escaped view of the document as written reads nothing more).
 */
function jsonView(content: string, textAt: number): string | null {
  const view = jsonTextView(textAt === 0 ? content : content.slice(textAt))
  return view === null || textAt === 0 ? view : content.slice(0, textAt) + view
}

/**
 * `scan` of a text, then, when that is clean, of its markup read as a page reads (issue 37 §7): an
 * injection split by tags or character references is whole in the visible text — the view
 * `/fetch` scans — and is seen on every path. A hit there cannot be stripped from the raw bytes:
 * `strip` then blocks.
 */
function readText(sc: ResponseScanner, text: string, scan: (text: string) => ResponseScanResult): ResponseScanResult {
  const result = scan(text)
  if (!result.clean) return result
  const view = markupView(sc, text)
  return view === null ? result : scan(view)
}

/**
 * `scanResponse` of a text, then, when that is clean, of its markup read as a page reads: what an
 * SSE event relays is read as every other response is.
 */
export function scanResponseRead(sc: ResponseScanner, text: string): ResponseScanResult {
  return readText(sc, text, (t) => scanResponse(sc, t))
}

/**
 * Resolves the action for one response body (§7): core hits with scanning disabled block;
 * `ask` without an approver blocks; `strip` that cannot remove anything blocks (fail closed).
 * Exempt domains skip the configured patterns only — the core floor still runs.
 */
export function decideResponse(sc: ResponseScanner, content: string, opts: ResponseDecisionOptions = {}): ResponseDecision {
  try {
    return decideResponseUnguarded(sc, content, opts)
  } catch {
    // Fail closed: a response we could not scan is not forwarded.
    return {action: 'block', matches: [], reason: 'prompt_injection', layer: 'response_scan', detail: 'response could not be scanned'}
  }
}

/**
 * `decideResponse` for a body as received (issue 36): a body that is valid UTF-8 is decided on
 * its UTF-8 reading, as before; any other body — whatever its Content-Type says — on its text
 * runs (`text-runs.ts`), so a real binary body costs one pass over its bytes and text labelled
 * as binary is read as text. `strip` rewrites the body's whole UTF-8 reading, as before (and
 * blocks when nothing there can be removed). With `opts.contentType`, a clean body is then read
 * in the charset that type declares too (`decideDeclaredCharset`).
 */
export function decideResponseBody(sc: ResponseScanner, body: Uint8Array, opts: ResponseDecisionOptions = {}): ResponseDecision {
  const d = decideBodyBytes(sc, body, opts)
  if (d.action !== 'allow') return d
  // Without a Content-Type a byte-order mark still names the encoding (`declaredText`).
  return decideDeclaredCharset(sc, body, opts.contentType ?? '', opts) ?? d
}

/**
 * The decision on the body read in the charset its Content-Type declares, when that reading
 * differs from the UTF-8 one (`declared-charset.ts`); null when it does not. A charset that
 * cannot be decoded here blocks (the body cannot be scanned as its reader will read it); a hit
 * cannot be stripped from bytes in another charset, so `strip` blocks too.
 */
function decideDeclaredCharset(sc: ResponseScanner, body: Uint8Array, contentType: string, opts: ResponseDecisionOptions): ResponseDecision | null {
  const declared = declaredText(contentType, body)
  if (declared.kind === 'same') return null
  if (declared.kind === 'unreadable') {
    const named = declared.charset === null ? 'its declared charset' : `charset ${declared.charset}`
    return {action: 'block', matches: [], reason: 'prompt_injection', layer: 'response_scan', detail: `response in ${named} cannot be scanned`}
  }
  for (const text of declared.texts) {
    const d = decideResponse(sc, text, opts)
    if (d.action === 'allow') continue
    if (d.action !== 'strip') return d
    const names = [...new Set(d.matches.map((m) => m.pattern))].join(', ')
    return {action: 'block', matches: d.matches, reason: 'prompt_injection', layer: 'response_scan', detail: `response contains injection: ${names}`}
  }
  return null
}

/** `decideResponseBody` on the body's bytes alone (its UTF-8 reading, else `binaryText`: its text runs and spoilt text). */
function decideBodyBytes(sc: ResponseScanner, body: Uint8Array, opts: ResponseDecisionOptions): ResponseDecision {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (isUtf8Text(buf)) return decideResponse(sc, wellFormedUtf8Text(buf), opts)
  // The text runs are not the content's offsets: a JSON document is read from their start.
  const d = decideResponse(sc, binaryText(buf), {...opts, textAt: 0, binary: true})
  if (d.action !== 'strip') return d
  let red: ReturnType<typeof redactBodyNamed> = null
  try {
    // A hit in the spoilt text (`binaryText`) stands in the UTF-8 reading as U+FFFD-parted pieces,
    // which the normaliser reads as the spoilt text does (U+FFFD removed, or a space): cut from
    // there, and from the body's bytes at the same characters.
    red = redactBodyNamed(sc, buf)
  } catch {
    red = null
  }
  if (red !== null) return {...d, content: red.content, ...(red.bytes === undefined ? {} : {bytes: red.bytes}), names: strippedNames(d.matches, red.names)}
  const names = [...new Set(d.matches.map((m) => m.pattern))].join(', ')
  return {action: 'block', matches: d.matches, reason: 'prompt_injection', layer: 'response_scan', detail: `response contains injection: ${names}`}
}

function decideResponseUnguarded(sc: ResponseScanner, content: string, opts: ResponseDecisionOptions): ResponseDecision {
  const rs = sc.settings.responseScanning
  const exempt = opts.host !== undefined && matchesAnyDomain(opts.host, rs.exemptDomains) !== null
  const markdown = opts.binary !== true
  const scan = (text: string, whole = true): ResponseScanResult => {
    if (!exempt) return scanResponse(sc, text, whole, markdown)
    return withEscapedView(text, (v) => {
      const core = multiPass(new ScanTexts(sc, v, whole), sc.core)
      return core.length > 0 ? {clean: false, core: true, matches: core} : {clean: true, core: false, matches: []}
    }, markdown)
  }
  const textAt = opts.textAt ?? 0
  // A JSON document is read by its view (`jsonView`) instead of as written.
  const read = (c: string): {json: boolean; result: ResponseScanResult} => {
    const v = jsonView(c, textAt)
    return v === null ? {json: false, result: readText(sc, c, scan)} : {json: true, result: readText(sc, v, (x) => scan(x, false))}
  }
  const first = read(content)
  const json = first.json
  let result = first.result
  if (json) {
    // Matches in an article about prompt injection served as JSON: §7 step 3 drops the quoted
    // examples, and every string of the document as written is quoted; decided as written.
    if (!result.clean && readsEducational(sc.normalizer.forMatching(content))) result = readText(sc, content, scan)
    // A configured pattern that may match on JSON syntax alone reads the document as written too.
    else if (result.clean && !exempt && rs.enabled && sc.jsonSyntax === true) result = withEscapedView(content, (v) => configuredResult(multiPass(new ScanTexts(sc, v), sc.configured)))
  }
  if (!result.clean && opts.suppress !== undefined) {
    // Suppressed findings are removed before the action is chosen (§4.3): nothing left = clean.
    const kept = unsuppressed(result.matches, opts.suppress)
    result = kept.length === 0 ? {clean: true, core: false, matches: []} : {...result, matches: kept}
  }
  if (result.clean) return {action: 'allow', matches: []}
  const names = [...new Set(result.matches.map((m) => m.pattern))].join(', ')
  const block = {action: 'block' as const, matches: result.matches, reason: 'prompt_injection' as const, layer: 'response_scan' as const, detail: `response contains injection: ${names}`}
  let action: ResponseAction = rs.enabled ? rs.action : 'block'
  if (action === 'ask' && !opts.approverAvailable) action = 'block'
  switch (action) {
    case 'warn':
      return {action: 'warn', matches: result.matches}
    case 'strip': {
      const red = redactResponseNamed(sc, content)
      if (red === null) return block
      // A hit the JSON view read across strings may be left whole by a strip of other matches.
      if (json && !read(red.content).result.clean) return block
      return {action: 'strip', matches: result.matches, content: red.content, names: strippedNames(result.matches, red.names)}
    }
    case 'ask':
      // Only reached with an approver wired: the caller asks, then blocks or forwards.
      return {action: 'ask', matches: result.matches}
    default:
      return block
  }
}
