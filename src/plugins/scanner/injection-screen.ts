/**
 * Which of a request body's texts the injection scan (`scanResponse`) is proven to find clean,
 * from a few walks over the texts joined instead of one scan per text (issue 36: on a 64 KiB
 * JSON body the thousand per-text scans were a quarter of the request path).
 *
 * Why a text the screen passes is clean. A text `t` is screened only when every code unit of it
 * is in the pass-text table's domain (`PassTextBuilder.takes`, `pass-texts.ts`): there each of passes 1, 2, 3 and 5 maps
 * every character on its own, so the pass texts of `a + '\n' + b` are the pass texts of `a`, of
 * `'\n'` (checked to be `'\n'` in all four) and of `b`, concatenated. With `t` go, recursively
 * to pass 6's depth, the decodings pass 6 would match (`passSixDecodings`): those in the domain
 * joined and walked as `t` is, the others as their pass-1 and pass-5 texts made one by one, as
 * the scan makes them (pass 6 reads only these two). Texts are joined by `'\n'` and walked by the
 * joint RE2 sets (core and configured lists, every variant). A text's pass text is a line of the
 * join's; a match inside it is a match of the join, because what a regex reads outside its match
 * is only `\b`/`\B` (start of text and `'\n'` are both non-word characters) and the anchors:
 * `\A`/`\z` and non-multiline `^`/`$` would differ, so a pattern list holding one is not
 * screened at all (`lineSafe`, the DLP line batch's test), while multiline `^`/`$` match at a
 * line's ends in both. So no joint hit on the join means no candidate pattern in any pass of
 * `t`, hence no match in passes 1–6 (matches come only from candidates; the educational filter
 * only removes matches). A group with a hit is split in halves down to one text, which is then
 * left to the full scan; so are RE2's undecided walks (null), texts outside the domain and
 * scanners without the table walk or the joint sets (the reference paths of the differential
 * tests). Pass 3's text is walked only where pass 1's holds `@` or `$`: elsewhere the walk of pass
 * 1's text by the pair set with pass 3's candidate sources in it (`JointSets.pairLeet`,
 * leet-source.ts) finds every pattern pass 3 could match, and more.
 */
import {hasCandidateRun} from './b64-runs.js'
import {lineSafe} from './dlp-engine.js'
import {foldVowels} from './normalize.js'
import {passSixDecodings, type JointSets, type PairLeetSet, type ResponseScanner} from './response-scanner.js'
import {setMatches} from './pattern-set.js'

/** Pass 6 reads decodings to this depth (`decodePass`: depth 0 is the content). */
const DECODE_DEPTH = 5
const SEPARATOR = '\n'

/** Per joint-set pair: whether the screen holds for its sources (computed once per scanner). */
const SAFE = new WeakMap<JointSets, boolean>()

function screenable(sc: ResponseScanner): JointSets | null {
  const joint = sc.joint
  const b = sc.passTexts
  if (joint === undefined || joint === null || b === null || b.source !== sc.normalizer.forMatching || sc.passBytes === false) return null
  let ok = SAFE.get(joint)
  if (ok === undefined) {
    const sep = b.passes(SEPARATOR)
    const sources = [...joint.pair.sources, ...joint.fold.sources]
    ok =
      joint.pair.set !== null && joint.fold.set !== null && sep !== null &&
      sep.normalized === SEPARATOR && sep.invisible === SEPARATOR && sep.leet === SEPARATOR && sep.folded === SEPARATOR &&
      sources.every(lineSafe)
    SAFE.set(joint, ok)
  }
  return ok ? joint : null
}

/**
 * What the screen walks, for every text screened, in flat lists (one array each, not three per
 * text: a JSON body has thousands of texts): members in the table's domain (joined, then walked
 * for all four passes), and the pass-1 and pass-5 texts of decodings outside it (pass 6 matches a
 * decoding's `forMatching` text and its vowel fold only: `decodePass`), made as the scan makes
 * them. Text k's entries are `walk[walkAt[k], walkAt[k + 1])` and `normalized`/`folded[outAt[k],
 * outAt[k + 1])`.
 */
interface Groups {
  readonly walk: string[]
  readonly normalized: string[]
  readonly folded: string[]
  readonly walkAt: number[]
  readonly outAt: number[]
}

/** Adds `s` and the decodings pass 6 would match, recursively; false when the text itself is outside the domain. */
function members(sc: ResponseScanner, s: string, depth: number, g: Groups): boolean {
  if (sc.passTexts!.takes(s)) g.walk.push(s)
  else if (depth === 0) return false
  else {
    const p1 = sc.normalizer.forMatching(s)
    g.normalized.push(p1)
    g.folded.push(foldVowels(p1))
  }
  if (depth >= DECODE_DEPTH || !hasCandidateRun(s)) return true
  for (const d of passSixDecodings(s)) members(sc, d, depth + 1, g)
  return true
}

/** Whether the joint sets find nothing in any pass text of texts `lo … hi − 1` (false: a hit, undecided, or not walkable). */
function nothingIn(sc: ResponseScanner, joint: JointSets, g: Groups, lo: number, hi: number): boolean {
  const none = (set: JointSets['pair']['set'], b: Buffer | string): boolean => setMatches(set, b)?.length === 0
  const join = (xs: readonly string[], from: number, to: number): string => (from === 0 && to === xs.length ? xs : xs.slice(from, to)).join(SEPARATOR)
  const o0 = g.outAt[lo]!
  const o1 = g.outAt[hi]!
  if (o1 > o0 && !none(joint.pair.set, join(g.normalized, o0, o1))) return false
  if (o1 > o0 && !none(joint.fold.set, join(g.folded, o0, o1))) return false
  const p = sc.passTexts!.passBytes(join(g.walk, g.walkAt[lo]!, g.walkAt[hi]!))
  if (p === null) return false
  // Pass 3's candidates read from pass 1's walk (leet-source.ts), where they hold on its text.
  const leet = leetScreen(joint)
  const both = leet === null || p.leet.equals(p.normalized) ? null : leet.walk(p.normalized)
  if (both !== null) return both.pair.length === 0 && both.leet.length === 0 && none(joint.pair.set, p.invisible) && none(joint.fold.set, p.folded)
  return none(joint.pair.set, p.normalized) && none(joint.pair.set, p.invisible) && none(joint.pair.set, p.leet) && none(joint.fold.set, p.folded)
}

/** The joint sets' pair-and-leetspeak set when its sources are line-safe as the others are (checked once per joint sets). */
function leetScreen(joint: JointSets): PairLeetSet | null {
  let leet = LEET_SAFE.get(joint)
  if (leet === undefined) {
    const pl = joint.pairLeet
    leet = pl !== null && pl.sources.every(lineSafe) ? pl : null
    LEET_SAFE.set(joint, leet)
  }
  return leet
}
const LEET_SAFE = new WeakMap<JointSets, PairLeetSet | null>()

/** The texts of `texts` that `scanResponse(sc, t)` is proven to find clean (see above); the rest need the full scan. */
export function provenCleanTexts(sc: ResponseScanner, texts: readonly string[]): Set<string> {
  const proven = new Set<string>()
  const joint = screenable(sc)
  if (joint === null || texts.length < 2) return proven
  const g: Groups = {walk: [], normalized: [], folded: [], walkAt: [0], outAt: [0]}
  const owners: string[] = []
  for (const t of texts) {
    // Outside the domain (false before anything is added): left to the full scan.
    if (!members(sc, t, 0, g)) continue
    g.walkAt.push(g.walk.length)
    g.outAt.push(g.normalized.length)
    owners.push(t)
  }
  const screen = (lo: number, hi: number): void => {
    if (nothingIn(sc, joint, g, lo, hi)) {
      for (let k = lo; k < hi; k++) proven.add(owners[k]!)
      return
    }
    if (hi - lo < 2) return
    const mid = (lo + hi) >>> 1
    screen(lo, mid)
    screen(mid, hi)
  }
  if (owners.length > 0) screen(0, owners.length)
  return proven
}
