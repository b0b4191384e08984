/**
 * A screen for text DLP (§6.1) over joined texts `t = x + y` — the MCP split-secret pairs
 * (mcp.md §4.2), hundreds of ~500-character texts per message that share their halves. It
 * proves most of them have no finding at all (no enforced match, no `warn` match) without
 * running `scanTextForDlp` on them; the rest must be scanned as before. Skipping a proven text
 * therefore changes neither the first text with a finding, nor its findings, nor the warnings.
 *
 * The proof covers texts in which every character is printable ASCII (else: scan). Then
 * `forDlp(t) = forMatching(t) = t` and, per step of `scanTextForDlp`:
 *  1. AWS doc neutralising is the identity unless `t` holds one of the two example strings;
 *  2, 4. pattern findings in `t` (core and all patterns, warn patterns included): every pattern
 *     has a bounded, assertion-free screen regex (`joined-text-cores.ts`: its core, or a shape
 *     every hit its validator accepts holds; at most `w` code points) that matches wherever the
 *     pattern has a finding; a screen match in `t` lies in `x`, in `y`, or within
 *     `tail(x, w−1) + head(y, w−1)` (the argument of `subsequence.ts`, batched set passes), `w`
 *     the longest match of an entry other than the WIF shape; a WIF shape across the junction
 *     (51 or 52 base58 characters from a `5`, `K` or `L`) is possible only when `x`'s last base58
 *     run holds such a start and, from it, that run and `y`'s first base58 run reach 51
 *     characters — counted per half, no chain walked (then the WIF patterns are candidates). A
 *     text the screen still keeps gets steps 2, 4 and 5 exactly as the scan runs them (every
 *     pattern over each form), and is kept only if they find something;
 *  4, 8. canaries and literal secrets: searched in `t` itself, as the scan does;
 *  5. the URL decoding is `t` when no `%` or `+` occurs; dot and white-space removal map `x + y`
 *     to `f(x) + f(y)`, so the core argument applies to `f(x)`, `f(y)` and their junction;
 *  3, 6. whole-text decodings (base64 ×4, hex, base32; URL as above) are empty when `t` holds a
 *     character outside each decoder's alphabet — known per half (padding `=` counted as valid);
 *  3. seed phrase on `t`: a window of consecutive tokens lies in `x`'s tokens before its last
 *     (then `detect(x)` sees it), in `y`'s after its first (`detect(y)`), or within the
 *     `max(WINDOWS)` tokens on each side of the junction (`detect` of that span: a window that
 *     holds the junction's token has at most `max(WINDOWS) − 1` others on either side) — run
 *     only when the known words in a row on both sides, plus the two junction tokens, can make
 *     the smallest window;
 *  7. segment decodings (and the seed step's segment decodings): a segment of `t` is a whole
 *     segment of `x` or `y`, or the junction segment (last run of `x` + first run of `y`); each
 *     distinct segment is decoded and checked once per call. A junction segment that is all of
 *     `t` (neither half holds a delimiter: ids, tokens, JWTs) is not: both steps pass by a segment
 *     equal to the text, whose decodings are steps 3 and 6's.
 * Checking more than a step looks at (e.g. every segment of ≥ 10 characters for seed phrases,
 * or a segment equal to the whole text) only keeps more texts: sound either way.
 */
import {ALL_DECODERS, candidateDecodings, REJECTS} from './decoders.js'
import {FindingSet, findCanary, runEngine, type DlpEngine} from './dlp-engine.js'
import type {CompiledDlpPattern} from './dlp-patterns.js'
import {isPrintableAscii} from './normalize.js'
import {findLiteralSecret} from './secrets.js'
import {isSeparator, WINDOWS} from './seed-phrase.js'
import {setMatches} from './pattern-set.js'
import {hitting} from './subsequence.js'
import {AWS_DOC_KEY, AWS_DOC_SECRET, isSegmentDelimiter, recursiveDecode, segmentsOfAtLeast, stripUnicodeWhitespace} from './text-dlp.js'
import {WIF_SHAPE_MIN_LENGTH} from './joined-text-cores.js'
import {isBase58Unit} from './validators.js'

/** A text `x + y` with `split = x.length`. */
export interface JoinedText {
  readonly text: string
  readonly split: number
  /**
   * Optional identities of the halves: texts with the same `left` share `x`; texts with the same
   * `right` and the same `y` length share `y` (a prefix of one string). Saves re-hashing halves.
   */
  readonly left?: number
  readonly right?: number
}

/**
 * A joined text given by its halves, `x + y`, not built: the split pass materialises only the
 * texts the screen keeps (hundreds of ~500-character texts per message were most of its
 * allocation, and copying them was most of its collection time). `left` / `right` as above.
 */
export interface JunctionPair {
  readonly x: string
  readonly y: string
  readonly left?: number
  readonly right?: number
}

/**
 * Whether a printable-ASCII text holds, for each whole-text decoder (base64, hex, base32), a
 * character that makes it fail. A text alone (`x + ''`) that does not is always kept by the
 * screen (its whole-text decodings might find something): a caller screening single texts can
 * keep it without building its half.
 */
export function failsEveryWholeDecoding(s: string): boolean {
  let rejects = 0
  for (let i = 0; i < s.length && rejects !== ALL_DECODERS; i++) {
    const c = s.charCodeAt(i)
    if (c >= 128) return false
    rejects |= REJECTS[c]!
  }
  return rejects === ALL_DECODERS
}

/** What one half contributes, computed once per distinct half. */
interface Half {
  /** Printable ASCII with no `%` or `+` (else every text holding it is scanned). */
  readonly plain: boolean
  /** Decoders that fail on any text holding this half. */
  readonly rejects: number
  /** A whole segment of this half (not the junction's) may decode to a finding. */
  readonly segments: boolean
  /** `detect` finds a seed phrase in this half alone. */
  readonly seed: boolean
  /**
   * Known words in a row next to the junction, its own junction-side token left out (Infinity
   * when the detector cannot tell words).
   */
  readonly wordRun: number
  /** This half as is, without dots, without white space (step 5). */
  readonly byForm: readonly [string, string, string]
  /** The run of non-delimiters at the junction side (last of x, first of y). */
  readonly run: string
  /** This half as is. */
  readonly s: string
  /** Holds an AWS documentation example string, a canary or a literal secret (steps 1, 4, 8). */
  readonly needle: boolean
  /** Per form, its `chainWindow − 1` characters at the junction side (the half of a junction chain). */
  readonly edge: readonly [string, string, string]
  /**
   * Per form, for the WIF shape across the junction (`wifTail` / `wifHead`): as x, the most
   * characters from a `5`, `K` or `L` of its last base58 run to its end (at most
   * WIF_SHAPE_MIN_LENGTH; 0: none); as y, the length of its first base58 run (at most 52).
   */
  readonly wif: readonly [number, number, number]
  /** Per form: neither a space nor a dash (the strict screen applies). */
  readonly noSep: readonly [boolean, boolean, boolean]
  /** `needleCuts` of this half at its junction side. */
  readonly cuts: readonly number[]
}

/**
 * For the WIF shape (a `5` and 50 base58 characters, or `K`/`L` and 51, `joined-text-cores.ts`)
 * across a junction: the most characters from a `5`, `K` or `L` of the last base58 run of `f`
 * to its end, counting only starts at most WIF_SHAPE_MIN_LENGTH from the end (a shape starting
 * further back lies in `f` alone); 0 when there is none.
 */
function wifTail(f: string): number {
  let most = 0
  for (let i = f.length - 1; i >= 0 && f.length - i <= WIF_SHAPE_MIN_LENGTH; i--) {
    const c = f.charCodeAt(i)
    if (!isBase58Unit(c)) break
    if (c === 0x35 || c === 0x4b || c === 0x4c) most = f.length - i
  }
  return most
}

/** The length of the first base58 run of `f`, counted up to 52 (the longest WIF shape). */
function wifHead(f: string): number {
  let n = 0
  while (n < f.length && n < 52 && isBase58Unit(f.charCodeAt(n))) n++
  return n
}

/** Start of the span of `limit` tokens before `i` (a token boundary), walking back. */
function tokensBack(t: string, i: number, limit: number): number {
  let n = 0
  while (i > 0 && n < limit) {
    while (i > 0 && isSeparator(t.charCodeAt(i - 1))) i--
    if (i === 0) break
    while (i > 0 && !isSeparator(t.charCodeAt(i - 1))) i--
    n++
  }
  return i
}

function tokensForward(t: string, i: number, limit: number): number {
  let n = 0
  while (i < t.length && n < limit) {
    while (i < t.length && isSeparator(t.charCodeAt(i))) i++
    if (i === t.length) break
    while (i < t.length && !isSeparator(t.charCodeAt(i))) i++
    n++
  }
  return i
}

const SEED_SPAN = Math.max(...WINDOWS)
const MIN_SEED_WINDOW = Math.min(...WINDOWS)

/**
 * Known words in a row before `s`'s last token (`fromHead`: after its first), up to SEED_SPAN:
 * tokens are walked from the junction side, so only the few next to it are sliced.
 */
function wordRun(engine: DlpEngine, s: string, fromHead: boolean): number {
  const isWord = engine.seed.isWord
  if (!engine.seed.active) return 0
  if (isWord === undefined) return Infinity
  // The junction-side token is left out whether or not the half ends in a separator.
  let n = -1
  let i = fromHead ? 0 : s.length
  while (n < SEED_SPAN) {
    let end: number
    if (fromHead) {
      while (i < s.length && isSeparator(s.charCodeAt(i))) i++
      if (i === s.length) break
      const start = i
      while (i < s.length && !isSeparator(s.charCodeAt(i))) i++
      end = i
      if (n >= 0 && !isWord(s.slice(start, end).toLowerCase())) break
    } else {
      while (i > 0 && isSeparator(s.charCodeAt(i - 1))) i--
      if (i === 0) break
      end = i
      while (i > 0 && !isSeparator(s.charCodeAt(i - 1))) i--
      if (n >= 0 && !isWord(s.slice(i, end).toLowerCase())) break
    }
    n++
  }
  return Math.max(0, n)
}

/**
 * For each text, whether `scanTextForDlp(engine, text)` may have a finding (true: scan it) —
 * false only when proven to have none (module comment). Without a junction screen (a pattern
 * with no bounded core) every text is kept.
 */
export function joinedTextsToScan(engine: DlpEngine, texts: readonly JoinedText[]): boolean[] {
  return junctionPairsToScan(engine, texts.map(({text, split, left, right}) => ({x: text.slice(0, split), y: text.slice(split), left, right})))
}

/** A string whose presence anywhere in a text makes step 1, 4 or 8 act on it; `lower`: searched in the lower-cased text. */
export interface Needle {
  readonly text: string
  readonly lower: boolean
}

/** The AWS documentation example strings, the canaries' and the literal secrets' variants. */
function needles(engine: DlpEngine): Needle[] {
  const out: Needle[] = [{text: AWS_DOC_KEY, lower: false}, {text: AWS_DOC_SECRET, lower: false}]
  for (const s of [...engine.canaries, ...engine.literalSecrets]) for (const v of s.variants) if (v.needle !== '') out.push({text: v.needle, lower: v.lowerHaystack})
  return out
}

/** ASCII lower case of one code unit (the texts screened are printable ASCII). */
function lowerUnit(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c
}

/**
 * The cuts `k` (0 < k < length) at which a half ends with a needle's first k characters (`tail`)
 * or starts with its characters from k on (head), as keys `needle · stride + k`: a needle lies
 * across the junction of `x + y` iff a key is in both x's tail cuts and y's head cuts.
 *
 * Looked up, not tried one by one: every (needle, k) is filed under the one or two characters
 * next to the junction that a half must show for it (the last of the needle's first k, with the
 * one before it when k ≥ 2; the first of the rest, with the one after it), so a half is compared
 * only with the cuts its edge characters allow. Trying every cut of every needle cost
 * needles × length per half: with 500 canary tokens a 2 KiB chat request's split-secret pass
 * took 13 ms.
 */
export class NeedleCuts {
  readonly stride: number
  private readonly tails = new Map<string, number[]>()
  private readonly heads = new Map<string, number[]>()

  constructor(private readonly needleList: readonly Needle[]) {
    // A loop, not a spread: a secrets file of thousands of secrets has tens of thousands of variants.
    this.stride = needleList.reduce((most, n) => Math.max(most, n.text.length), 0) + 1
    needleList.forEach((n, a) => {
      const t = n.text
      const tag = n.lower ? 'l' : 'e'
      for (let k = 1; k < t.length; k++) {
        file(this.tails, tag + t.slice(Math.max(0, k - 2), k), a * this.stride + k)
        file(this.heads, tag + t.slice(k, k + 2), a * this.stride + k)
      }
    })
  }

  /** The cuts of `s` at its end (`tail`) or its start. */
  of(s: string, tail: boolean): number[] {
    if (s.length === 0) return []
    const out: number[] = []
    const edge = (lower: boolean, n: number): string => {
      const part = tail ? s.slice(s.length - n) : s.slice(0, n)
      return lower ? lowerAscii(part) : part
    }
    for (const lower of [false, true]) {
      const tag = lower ? 'l' : 'e'
      // A key's length is the cut's side, up to two: one character files only the cuts whose side is one.
      for (const n of s.length >= 2 ? [1, 2] : [1]) {
        for (const cut of (tail ? this.tails : this.heads).get(tag + edge(lower, n)) ?? []) if (this.fits(cut, s, tail)) out.push(cut)
      }
    }
    return out
  }

  /** Whether `s` holds the cut's side of its needle at its end (`tail`) or start. */
  private fits(cut: number, s: string, tail: boolean): boolean {
    const needle = this.needleList[Math.floor(cut / this.stride)]!
    const t = needle.text
    const k = cut % this.stride
    const len = tail ? k : t.length - k
    if (len > s.length) return false
    const from = tail ? s.length - k : 0
    const at = tail ? 0 : k
    for (let m = 0; m < len; m++) {
      const c = s.charCodeAt(from + m)
      if ((needle.lower ? lowerUnit(c) : c) !== t.charCodeAt(at + m)) return false
    }
    return true
  }
}

function file(index: Map<string, number[]>, key: string, cut: number): void {
  const list = index.get(key)
  if (list === undefined) index.set(key, [cut])
  else list.push(cut)
}

function lowerAscii(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(lowerUnit(s.charCodeAt(i)))
  return out
}

/** Each engine's needle cuts, built on first use (its canaries and secrets are fixed). */
const cutsOf = new WeakMap<DlpEngine, NeedleCuts>()

/** The needle cuts of `engine`: the AWS documentation strings, its canaries' and its literal secrets' variants. */
export function engineNeedleCuts(engine: DlpEngine): NeedleCuts {
  let c = cutsOf.get(engine)
  if (c === undefined) cutsOf.set(engine, (c = new NeedleCuts(needles(engine))))
  return c
}

/** Whether `t` holds a string of `needles`: an AWS example string, a canary or a literal secret. */
export function holdsNeedle(engine: DlpEngine, t: string): boolean {
  if (t.includes(AWS_DOC_KEY) || t.includes(AWS_DOC_SECRET)) return true
  if (engine.canaries.length > 0 && findCanary(engine.canaries, [t]) !== null) return true
  return engine.literalSecrets.length > 0 && findLiteralSecret(engine.literalSecrets, [t]) !== null
}

/**
 * Step 7 and the seed step's segment decodings for one segment, exactly as `scanTextForDlp`
 * runs them: whether any decoding of `seg` has a pattern finding (enforced or warn) or a seed
 * phrase. False means that segment contributes nothing to either step.
 */
export function segmentMayFind(engine: DlpEngine, seg: string): boolean {
  if (seg.length < 10) return false
  const out = new FindingSet()
  for (const d of candidateDecodings(seg)) {
    runEngine(engine, engine.all, engine.normalizer.forDlp(d.text), d.encoding, out)
    if (engine.seed.active && engine.seed.detect(d.text)) return true
  }
  recursiveDecode(engine, seg, 0, out, new Map())
  return out.enforcedCount > 0 || out.warnings.length > 0
}

/** `segmentMayFind` for one engine, each distinct segment decided once (values repeat their segments). */
export function memoSegmentMayFind(engine: DlpEngine): (seg: string) => boolean {
  const memo = new Map<string, boolean>()
  return (seg) => {
    let may = memo.get(seg)
    if (may === undefined) memo.set(seg, (may = segmentMayFind(engine, seg)))
    return may
  }
}

/**
 * `joinedTextsToScan` over texts given by their halves: the same answer for `x + y`, without
 * building the text unless the cheap checks leave it in doubt. The needle checks of steps 1, 4
 * and 8 split the same way: a string lies in `x + y` iff it lies in `x`, in `y`, or `x` ends
 * with its first k characters and `y` starts with the rest, for some 0 < k < its length
 * (lower-casing, for hex needles, is per character on printable ASCII).
 */
export function junctionPairsToScan(engine: DlpEngine, pairs: readonly JunctionPair[]): boolean[] {
  const screen = engine.joinedTextScreens()
  if (screen === null) return pairs.map(() => true)
  // A junction chain holds `chainWindow − 1` characters of each side: every screen entry but the
  // WIF shape matches at most `chainWindow` characters. A WIF shape across the junction is
  // decided from each side's base58 run instead (`wif` of the halves): its 51 or 52 characters
  // would make every chain twice as long.
  const w = screen.chainWindow
  const wifCandidates = screen.wifEntries.map((i) => engine.all[i]!)
  const cuts = engineNeedleCuts(engine)

  const segmentMay = memoSegmentMayFind(engine)

  // Halves by identity (a tail by its value; a head by its value and length), else by text.
  const byText = new Map<string, Half>()
  const tailsById = new Map<number, Half>()
  const headsById = new Map<number, Map<number, Half>>()
  const half = (s: string, isHead: boolean, id: number | undefined): Half => {
    let ofHead: Map<number, Half> | undefined
    let known: Half | undefined
    if (id === undefined) known = byText.get((isHead ? 'y' : 'x') + s)
    else if (!isHead) known = tailsById.get(id)
    else {
      ofHead = headsById.get(id)
      if (ofHead === undefined) headsById.set(id, (ofHead = new Map()))
      known = ofHead.get(s.length)
    }
    if (known !== undefined) return known
    let rejects = 0
    let plain = isPrintableAscii(s)
    for (let i = 0; plain && i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c === 0x25 || c === 0x2b) plain = false
      rejects |= REJECTS[c]!
    }
    // The run at the junction side, and the whole segments (the run excluded).
    let cut = isHead ? 0 : s.length
    if (isHead) while (cut < s.length && !isSegmentDelimiter(s, cut)) cut++
    else while (cut > 0 && !isSegmentDelimiter(s, cut - 1)) cut--
    const run = isHead ? s.slice(0, cut) : s.slice(cut)
    const rest = isHead ? s.slice(cut) : s.slice(0, cut)
    let segments = false
    if (plain) {
      for (const seg of segmentsOfAtLeast(rest, 10)) {
        if (!segmentMay(seg)) continue
        segments = true
        break
      }
    }
    const seed = plain && engine.seed.active && engine.seed.detect(s)
    const noDots = s.includes('.') ? s.split('.').join('') : s
    const byForm: [string, string, string] = [s, noDots, stripUnicodeWhitespace(s)]
    const edge = byForm.map((f) => (isHead ? f.slice(0, w - 1) : f.slice(Math.max(0, f.length - (w - 1))))) as [string, string, string]
    const wif = (wifCandidates.length === 0 ? [0, 0, 0] : byForm.map((f) => (isHead ? wifHead(f) : wifTail(f)))) as [number, number, number]
    const h: Half = {
      plain, rejects, segments, seed, byForm, run, wif, wordRun: plain ? wordRun(engine, s, isHead) : 0,
      s, needle: plain && holdsNeedle(engine, s), edge, noSep: [noSeparator(byForm[0]), noSeparator(byForm[1]), noSeparator(byForm[2])],
      cuts: plain ? cuts.of(s, !isHead) : [],
    }
    if (id === undefined) byText.set((isHead ? 'y' : 'x') + s, h)
    else if (!isHead) tailsById.set(id, h)
    else ofHead!.set(s.length, h)
    return h
  }

  const keep = new Array<boolean>(pairs.length).fill(true)
  // Pairs that passed every other check; per pair and form, the probe indices of x's form, y's
  // form and their junction chain (whose core matches would keep the pair).
  const pendingK: number[] = []
  const pendingX: Half[] = []
  const pendingY: Half[] = []
  const probe: string[] = []
  const refs = new Int32Array(9 * pairs.length)
  const strictRef = new Uint8Array(3 * pairs.length)
  // Per pair and form: a WIF shape may lie across the junction.
  const wifRef = new Uint8Array(3 * pairs.length)
  let nRefs = 0
  // Each half's forms enter the probe list once.
  const formIds = new Map<Half, number[]>()
  const idsOf = (h: Half): number[] => {
    let ids = formIds.get(h)
    if (ids === undefined) {
      ids = h.byForm.map((f, i) => (i > 0 && f === h.byForm[0] ? -1 : probe.push(f) - 1))
      for (let i = 1; i < 3; i++) if (ids[i] === -1) ids[i] = ids[0]!
      formIds.set(h, ids)
    }
    return ids
  }
  for (let k = 0; k < pairs.length; k++) {
    const {x: xs, y: ys, left, right} = pairs[k]!
    const x = half(xs, false, left)
    const y = half(ys, true, right)
    if (!x.plain || !y.plain || (x.rejects | y.rejects) !== ALL_DECODERS || x.segments || y.segments || x.seed || y.seed) continue
    if (x.needle || y.needle || (x.cuts.length > 0 && y.cuts.length > 0 && x.cuts.some((c) => y.cuts.includes(c)))) continue
    // The junction segment, unless it is the whole text (module comment, 7).
    if ((x.run.length < xs.length || y.run.length < ys.length) && segmentMay(x.run + y.run)) continue
    // A window of known words across the junction holds both halves' runs and at most two
    // tokens in between (x's last, y's first, or the one they merge into). The span of tokens
    // around the junction of `x + y` is x's last tokens then y's first ones.
    if (engine.seed.active && x.wordRun + y.wordRun + 2 >= MIN_SEED_WINDOW && engine.seed.detect(xs.slice(tokensBack(xs, xs.length, SEED_SPAN)) + ys.slice(0, tokensForward(ys, 0, SEED_SPAN)))) continue
    // The three forms of x + y (as is, no dots, no white space) pair up form by form; a form
    // equal to the as-is one on both sides gives the same chain.
    const xi = idsOf(x)
    const yi = idsOf(y)
    let chain0 = -1
    for (let f = 0; f < 3; f++) {
      const same = f > 0 && x.byForm[f] === x.byForm[0] && y.byForm[f] === y.byForm[0]
      const c = same ? chain0 : probe.push(x.edge[f] + y.edge[f]) - 1
      if (f === 0) chain0 = c
      refs[3 * nRefs] = xi[f]!
      refs[3 * nRefs + 1] = yi[f]!
      refs[3 * nRefs + 2] = c
      // A shape across the junction starts in x's last base58 run and goes on in y's first.
      wifRef[nRefs] = x.wif[f]! > 0 && y.wif[f]! > 0 && x.wif[f]! + y.wif[f]! >= WIF_SHAPE_MIN_LENGTH ? 1 : 0
      strictRef[nRefs++] = x.noSep[f]! && y.noSep[f]! ? 1 : 0
    }
    pendingK.push(k)
    pendingX.push(x)
    pendingY.push(y)
  }
  if (pendingK.length === 0) return keep

  // Batched set passes: every form of every half involved, and every junction chain — through
  // the strict screen too when the string has no space and no dash. Each string goes through
  // the screen its pairs need (most need only one of the two).
  const useful = new Uint8Array(probe.length)
  for (let r = 0; r < nRefs; r++) {
    const bit = strictRef[r] ? 2 : 1
    for (let q = 3 * r; q < 3 * r + 3; q++) useful[refs[q]!] = useful[refs[q]!]! | bit
  }
  const hit = new Uint8Array(probe.length)
  const hitsByProbe = new Map<number, readonly CompiledDlpPattern[] | null>()
  for (const [bit, set] of [[1, screen.set], [2, screen.strict]] as const) {
    const ids: number[] = []
    for (let i = 0; i < probe.length; i++) if ((useful[i]! & bit) !== 0) ids.push(i)
    for (const k of hitting(ids.map((i) => probe[i]!), {set, window: screen.window}, engine.lines)) hit[ids[k]!] = hit[ids[k]!]! | bit
  }
  for (let n = 0; n < pendingK.length; n++) {
    let any = false
    for (let r = 3 * n; r < 3 * n + 3 && !any; r++) {
      const bit = strictRef[r] ? 2 : 1
      if (wifRef[r] === 1) any = true
      for (let q = 3 * r; q < 3 * r + 3; q++) if ((hit[refs[q]!]! & bit) !== 0) any = true
    }
    const k = pendingK[n]!
    if (!any) {
      keep[k] = false
      continue
    }
    // A core hit (often a validated pattern, e.g. WIF keys, whose regex matches any long
    // alphanumeric run): run steps 2, 4 and 5 on this text exactly as the scan does — every
    // pattern over each form — and keep the text only if one of them finds something. A pattern
    // with a finding in a form of x + y has its screen entry matching x's form, y's form or
    // their chain (the proof above), so only the patterns whose entries match one of the three
    // are run: the same findings without a walk of the whole DLP set over x + y per form.
    const x = pendingX[n]!
    const y = pendingY[n]!
    const out = new FindingSet()
    for (let f = 0; f < 3; f++) {
      if (f > 0 && x.byForm[f] === x.byForm[f - 1] && y.byForm[f] === y.byForm[f - 1]) continue
      if (f === 2 && x.byForm[2] === x.byForm[0] && y.byForm[2] === y.byForm[0]) continue
      const r = 3 * n + f
      runEngine(engine, engine.all, x.byForm[f] + y.byForm[f], '', out, undefined, candidatesOf(refs[3 * r]!, refs[3 * r + 1]!, refs[3 * r + 2]!, wifRef[r] === 1))
    }
    keep[k] = out.enforcedCount > 0 || out.warnings.length > 0
  }
  return keep

  /**
   * The patterns whose screen entries match probe `a`, `b` or `c`, and the WIF patterns when a
   * shape may lie across the junction (`wif`); undefined when the set could not tell.
   */
  function candidatesOf(a: number, b: number, c: number, wif: boolean): ReadonlySet<CompiledDlpPattern> | undefined {
    const out = new Set<CompiledDlpPattern>(wif ? wifCandidates : [])
    for (const id of [a, b, c]) {
      const hits = screenHits(id)
      if (hits === null) return undefined
      for (const p of hits) out.add(p)
    }
    return out
  }

  /** The patterns whose entries of the screen set (sound for any text) match probe `id`, once per probe. */
  function screenHits(id: number): readonly CompiledDlpPattern[] | null {
    let hits = hitsByProbe.get(id)
    if (hits === undefined) {
      hits = setMatches(screen!.set, probe[id]!)?.map((i) => engine.all[i]!) ?? null
      hitsByProbe.set(id, hits)
    }
    return hits
  }
}

/** Neither a space nor a dash (the strict screen's condition). */
function noSeparator(s: string): boolean {
  return !s.includes(' ') && !s.includes('-')
}
