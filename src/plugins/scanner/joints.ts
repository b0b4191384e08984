/**
 * Texts the URL scan reads joined across the separators that cut them (url-targets.ts): the host
 * name without its `-`, `_` and `.` (`akiaiosf-odnn7….example.com`), and the path's last segment
 * followed by the query's names and values without `?`, `=` and `&` (`/AKIAIOSF?ODNN7…`). A key
 * cut by one of them is whole only there.
 *
 * Ordinary names and words join into long runs of letters and digits as well, and a pattern with
 * no left boundary then matches across joins that hold no key: `AWS Access ID` (a prefix such as
 * `ASIA` or `ANVA`, then 16 letters or digits) in `asia-northeast1-docker.pkg.dev`,
 * `….asia-southeast1.firebasedatabase.app`, `southeastasia-1.in.applicationinsights.azure.com` or
 * `/canvas?page=2&sort=name`. In each the prefix ends its piece, or runs a letter or three into
 * it. So a hit in a joined text counts only when its first `JOINT_HEAD` characters were written
 * together, in one piece: where a hit has a cut among them, that separator is put back and the
 * text is read again (`guardedJoint`). A key whose first eight characters stand together is
 * found however the rest is cut (`AKIAIOSF-ODNN7…`); one cut among its first eight characters is
 * not (docs/security.md, known limits).
 *
 * The specified readings that take separators out (text DLP's step 5, the URL's noise-stripped
 * and concatenated texts, the dot-free host, the split-secret pass) are judged the same way with
 * the word rules below (`WORDS_JOINED`, `LABELS_JOINED`): there a key spaced out in groups of four
 * must be found, so the rule is about words, not about the first eight characters.
 */
import {matchingPatterns, type DlpEngine} from './dlp-engine.js'
import {eachDlpHit, isExemptFor, matchDlpPattern, type CompiledDlpPattern, type PatternHit} from './dlp-patterns.js'
import {awsKeyIdAsIssued} from './validators.js'
import type {Normalizer} from './normalize.js'

/** How many leading characters of a hit in a joined text must stand in one piece. */
export const JOINT_HEAD = 8

/** A separator taken out of a joined text: it stood before `text[at]`. */
export interface Cut {
  readonly at: number
  readonly sep: string
}

/** A joined text and its cuts, in ascending order of `at` (one per offset). */
export interface Joint {
  readonly text: string
  readonly cuts: readonly Cut[]
}

/** Appends a cut, merged with the last one when at the same offset (separators side by side). */
export function pushCut(cuts: Cut[], at: number, sep: string): void {
  const last = cuts[cuts.length - 1]
  if (last !== undefined && last.at === at) cuts[cuts.length - 1] = {at, sep: last.sep + sep}
  else cuts.push({at, sep})
}

/**
 * `joint`'s text without the code units `drop` says, its cuts moved to their places in what is
 * left and one more where each run of dropped units stood (its units as the separator).
 */
export function dropFromJoint(joint: Joint, drop: (unit: number) => boolean): Joint {
  const {text, cuts} = joint
  const out: Cut[] = []
  let kept = ''
  let from = 0
  let k = 0
  for (let i = 0; i <= text.length; i++) {
    while (k < cuts.length && cuts[k]!.at === i) pushCut(out, kept.length + i - from, cuts[k++]!.sep)
    if (i === text.length || !drop(text.charCodeAt(i))) continue
    kept += text.slice(from, i)
    pushCut(out, kept.length, text[i]!)
    from = i + 1
  }
  return {text: kept + text.slice(from), cuts: out}
}

/** The cuts between `pieces` joined with nothing between them: after each but the last, `sep` to put back. */
export function cutsBetween(pieces: readonly string[], sep: string): Cut[] {
  const cuts: Cut[] = []
  let at = 0
  for (let i = 0; i + 1 < pieces.length; i++) pushCut(cuts, (at += pieces[i]!.length), sep)
  return cuts
}

/** The unit a dot-free reading drops (text DLP's `subdomain` form, the URL's dot-free host). */
export function isDotUnit(c: number): boolean {
  return c === 0x2e
}

/** `text` without the code units `drop` says, with where they stood. */
export function jointWithout(text: string, drop: (unit: number) => boolean): Joint {
  return dropFromJoint({text, cuts: []}, drop)
}

/**
 * `host` without its `-`, `_` and `.`, with where they were; null when the host has no `-` or `_`
 * (the dot-collapsed host, a target of its own, is that text already).
 */
export function hostJoint(host: string): Joint | null {
  if (!host.includes('-') && !host.includes('_')) return null
  let text = ''
  const cuts: Cut[] = []
  for (let i = 0; i < host.length; i++) {
    const c = host[i]!
    if (c === '-' || c === '_' || c === '.') pushCut(cuts, text.length, c)
    else text += c
  }
  return {text, cuts}
}

/**
 * The cuts of `text` at their places in `norm`, its `forDlp` form: the same offsets when the
 * normalisation left the text as it was (printable ASCII: every host, nearly every URL), else the
 * length of the normalised text before each cut.
 */
export function normalisedCuts(normalizer: Pick<Normalizer, 'forDlp'>, text: string, norm: string, cuts: readonly Cut[]): readonly Cut[] {
  if (norm === text) return cuts
  const out: Cut[] = []
  for (const c of cuts) pushCut(out, Math.min(norm.length, normalizer.forDlp(text.slice(0, c.at)).length), c.sep)
  return out
}

/** A hit of a pattern in a joined text and the cuts it crosses: `cuts[from]` up to `cuts[to - 1]`. */
interface CrossingHit {
  readonly index: number
  readonly length: number
  readonly from: number
  readonly to: number
}

/**
 * How a hit that crosses a cut is judged: true when it stands (it is read as found); false when
 * the first cut it crosses is put back and the text read again.
 */
export type JointRule = (text: string, hit: CrossingHit, cuts: readonly Cut[]) => boolean

/** The URL scan's joins (host without `-`/`_`, path|query, name|value): a hit's first `JOINT_HEAD` characters stand in one piece. */
export const HEAD_IN_ONE_PIECE: JointRule = (_text, hit, cuts) => cuts[hit.from]!.at >= hit.index + Math.min(JOINT_HEAD, hit.length)

/** Letters and digits of any script, and the marks that go with them: what a word is made of. */
const WORD_UNIT = /[\p{L}\p{N}\p{M}]/u

/** A piece of lower-case letters (and their marks) alone. */
const LOWER_WORD = /^[\p{Ll}\p{M}]+$/u

/** Whether a hit starts where a piece starts: at the text's start, at a cut, or after a character that is no letter or digit. */
function startsPiece(text: string, hit: CrossingHit, cuts: readonly Cut[]): boolean {
  if (hit.index === 0) return true
  if (hit.from > 0 && cuts[hit.from - 1]!.at === hit.index) return true
  const before = text.codePointAt(hit.index - 1)!
  const unit = before >= 0xdc00 && before <= 0xdfff && hit.index >= 2 ? text.codePointAt(hit.index - 2)! : before
  return !WORD_UNIT.test(String.fromCodePoint(unit))
}

/**
 * The specified readings that take separators out of a whole text (text DLP's step 5 without
 * dots or white space, the URL's noise-stripped and concatenated texts, values joined) join the
 * words of prose as well as a key someone spaced out: `the canvas element renders the chart`
 * reads `canvaselementrenders…`, `best asian restaurants 2024` reads `asianrestaurants2024`,
 * `?region=asia&category=electronicsandgadgets` reads `asiaelectronicsandgadgets`, each an `AWS
 * Access ID` (a prefix, then sixteen letters or digits, in one case). A hit that crosses a cut
 * stands when it starts a piece (a key is not written inside a word: `canvas`, `Slovakia`,
 * `eastasia`) and, with `words` on, when at most half of the pieces it covers whole are
 * lower-case letters alone (words of prose): `AKIA IOSF ODNN 7EXA MPLE` and `akia 2b3c 4d5e …`
 * stand, `asia pacific 2025 outlook` and `asia|electronicsandgadgets` do not. `words` is off where
 * the text's case says nothing (a host name, lower-cased): there a hit stands when it starts a
 * label.
 */
export function wordJoinRule(words: boolean): JointRule {
  return (text, hit, cuts) => {
    if (!startsPiece(text, hit, cuts)) return false
    if (!words) return true
    // The pieces from the hit's start to each cut it crosses (whole: it starts a piece), and the
    // last one when the hit runs to its end.
    const end = hit.index + hit.length
    let pieces = 0
    let lower = 0
    let from = hit.index
    const piece = (to: number): void => {
      pieces++
      if (LOWER_WORD.test(text.slice(from, to))) lower++
      from = to
    }
    for (let k = hit.from; k < hit.to; k++) piece(cuts[k]!.at)
    if (end === text.length || cuts[hit.to]?.at === end || !WORD_UNIT.test(text[end]!)) piece(end)
    return 2 * lower <= pieces
  }
}

/** `wordJoinRule(true)` and `wordJoinRule(false)`, made once. */
export const WORDS_JOINED = wordJoinRule(true)
export const LABELS_JOINED = wordJoinRule(false)

/**
 * Rounds of put-backs before a joined text is answered as it stands. A round puts back a cut for
 * every hit that does not stand; prose needs one per key-prefix word in a run without punctuation
 * (two or three). A text that needs more is read as it is: its hits are found (fail closed).
 */
const MAX_ROUNDS = 12

/**
 * Whether a hit across the cuts `cuts[from]` … `cuts[to - 1]` may be the token its pattern names
 * as issued: an `AWS Access ID` (the built-in regex's check, `validator`) only when its sixteen
 * characters after the prefix are base32, as every issued key id's are (`awsKeyIdAsIssued`); a
 * number (`numberAsWritten`) only when no cut it crosses was a decimal point; any other hit may
 * be. A key spaced out or cut is still such a key; a user name joined to a hex id is not.
 */
function issuedAcross(p: CompiledDlpPattern, text: string, h: PatternHit, cuts: readonly Cut[], from: number, to: number): boolean {
  const found = text.slice(h.index, h.index + h.length)
  if (p.validator === 'aws_key_id' && !awsKeyIdAsIssued(found)) return false
  return !NUMBER_HIT.test(found) || numberAsWritten(text, cuts, from, to)
}

/** A hit of digits, `-` and spaces alone (a Social Security Number, a card number). */
const NUMBER_HIT = /^[0-9][0-9 -]*$/

/** The fewest digits on each side of a cut inside a number written in groups (`4111.1111.…`). */
const NUMBER_GROUP_MIN = 3

/**
 * Whether each dot cut out from `from` up to `to` that stood between two digits has at least
 * `NUMBER_GROUP_MIN` digits on either side (up to the next non-digit or cut): a number written
 * in dotted groups (`4111.1111.1111.1111`) is still that number, but a dot with fewer digits on
 * a side was a decimal point (`55.9-6.2-112.3`, an SVG path's coordinates, reads `559-62-1123`
 * without its dots: a Social Security Number on every page of an HTML book whose theme draws an
 * icon with such a path; `41.11-11.11-1.111-111.1` reads a card number). A line break or a
 * space between digits is not judged so: a number wrapped or spaced at any column is found.
 */
function numberAsWritten(text: string, cuts: readonly Cut[], from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const at = cuts[k]!.at
    if (cuts[k]!.sep !== '.' || !isDigitAt(text, at - 1) || !isDigitAt(text, at)) continue
    const lo = k > 0 ? cuts[k - 1]!.at : 0
    const hi = k + 1 < cuts.length ? cuts[k + 1]!.at : text.length
    let left = 0
    while (at - left - 1 >= lo && isDigitAt(text, at - left - 1)) left++
    let right = 0
    while (at + right < hi && isDigitAt(text, at + right)) right++
    if (left < NUMBER_GROUP_MIN || right < NUMBER_GROUP_MIN) return false
  }
  return true
}

function isDigitAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i)
  return c >= 0x30 && c <= 0x39
}

/** `first` (the pattern's first hit in `text`), then its other hits, walked only when asked for. */
function* withFirst(first: PatternHit, p: CompiledDlpPattern, text: string): Generator<PatternHit> {
  yield first
  for (const h of eachDlpHit(p, text)) if (h.index > first.index) yield h
}

/** The index of the first cut at or after offset `at` (cuts ascending). */
function firstCutFrom(cuts: readonly Cut[], at: number): number {
  let lo = 0
  let hi = cuts.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cuts[mid]!.at < at) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * `text` (a joined text, normalised) with the separators put back that `rule` says a hit may not
 * cross: every hit left in the answer crosses no cut, stands by the rule, or crosses a put-back
 * separator as the text spelt it. A text without a hit of any pattern is answered as it is, so a
 * scan that proves the plain join clean has proved the answer clean. `host`: a pattern exempt
 * there is not read (as the scan skips it). Each round judges every hit of every pattern that
 * may match (up to the hit limit) and puts back the first cut of each that does not stand.
 */
export function guardedJoint(dlp: DlpEngine, text: string, cuts: readonly Cut[], host?: string, rule: JointRule = HEAD_IN_ONE_PIECE): string {
  let open = cuts.filter((c) => c.at > 0 && c.at < text.length)
  for (let round = 0; open.length > 0 && round < MAX_ROUNDS; round++) {
    const cand = matchingPatterns(dlp, text)
    if (cand !== null && cand.size === 0) return text
    const back = new Set<number>()
    for (const p of dlp.all) {
      if ((cand !== null && !cand.has(p)) || isExemptFor(p, host)) continue
      // The first hit alone unless it is put aside: only then are the others walked.
      const first = matchDlpPattern(p, text)
      if (first === null) continue
      for (const h of withFirst(first, p, text)) {
        const from = firstCutFrom(open, h.index + 1)
        const to = firstCutFrom(open, h.index + h.length)
        const hit = {index: h.index, length: h.length, from, to}
        if (from === to || (issuedAcross(p, text, h, open, from, to) && rule(text, hit, open))) break
        back.add(from)
      }
    }
    if (back.size === 0) return text
    let out = ''
    let last = 0
    let shift = 0
    const left: Cut[] = []
    for (let k = 0; k < open.length; k++) {
      const c = open[k]!
      if (back.has(k)) {
        out += text.slice(last, c.at) + c.sep
        last = c.at
        shift += c.sep.length
      } else {
        left.push(shift === 0 ? c : {at: c.at + shift, sep: c.sep})
      }
    }
    text = out + text.slice(last)
    open = left
  }
  return text
}

/**
 * The host joined without its `-`, `_` and `.`, normalised and guarded (`guardedJoint`), as the
 * URL scan reads it; null when the host has no `-` or `_`. For the places that decide whether a
 * host may be echoed: they judge the host as the scan did.
 */
export function guardedHostJoint(dlp: DlpEngine, host: string): string | null {
  const j = hostJoint(host.toLowerCase())
  if (j === null) return null
  const norm = dlp.normalizer.forDlp(j.text)
  return guardedJoint(dlp, norm, normalisedCuts(dlp.normalizer, j.text, norm, j.cuts))
}

/**
 * The host (normalised) without its dots, guarded as the URL scan reads its `host` target
 * (`LABELS_JOINED`: a hit that starts inside a label is no key, `eastasia.api.…`). For the places
 * that decide whether a host may be echoed.
 */
export function guardedLabelJoin(dlp: DlpEngine, host: string): string {
  const j = jointWithout(host, isDotUnit)
  return guardedJoint(dlp, j.text, j.cuts, undefined, LABELS_JOINED)
}
