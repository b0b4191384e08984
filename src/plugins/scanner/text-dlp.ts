/** `ScanTextForDLP(text)` — runtime spec §6.1. */
import {isAsciiText} from './ascii-text.js'
import {unitsOf} from './text-units.js'
import {ALL_DECODERS, candidateDecodings, decodeBase32Std, decodeBase64Variants, decodeHexAny, bytesToText, iterativeDecode, REJECTS} from './decoders.js'
import {FindingSet, findCanary, findingOf, matchingPatterns, matchingPatternsOfBytes, runEngine, type DlpEngine, type DlpFinding} from './dlp-engine.js'
import {matchDlpPattern} from './dlp-patterns.js'
import type {Normalizer} from './normalize.js'
import {cutsBetween, dropFromJoint, guardedJoint, isDotUnit, WORDS_JOINED, type Joint} from './joints.js'
import {memoised} from './memo.js'
import {compactLatin1, unitsToString} from './normalize.js'
import {MIN_PHRASE_UNITS} from './seed-phrase.js'
import {findLiteralSecret} from './secrets.js'
import {textFormsWriter} from './text-forms-wasm.js'
import {isSpaceCodePoint, utf8DotAndSpaceFree} from './utf8-text-forms.js'

export interface TextDlpResult {
  /** Enforced matches (core first). */
  readonly matches: DlpFinding[]
  /** Informational matches of `action: warn` patterns. */
  readonly warnings: DlpFinding[]
}

export const AWS_DOC_KEY = 'AKIAIOSFODNN7EXAMPLE'
export const AWS_DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const AWS_DOC_PHRASES = ['example credential', 'replace these with your actual credentials', 'official aws example']

/** Step 1: the official AWS documentation example credentials in a doc context are not secrets. */
export function neutraliseAwsDocExample(text: string): string {
  if (!text.includes(AWS_DOC_KEY) && !text.includes(AWS_DOC_SECRET)) return text
  const lower = text.toLowerCase()
  // `example credential` also covers `example credentials`.
  if (!AWS_DOC_PHRASES.some((p) => lower.includes(p))) return text
  return text.split(AWS_DOC_KEY).join('[aws-doc-example-key-id]').split(AWS_DOC_SECRET).join('[aws-doc-example-secret]')
}

/** `isSpaceCodePoint` of every code unit below 256, as a table (the per-unit test chain was most of the strip's time). */
const LATIN1_SPACE = new Uint8Array(256)
for (let c = 0; c < 256; c++) LATIN1_SPACE[c] = isSpaceCodePoint(c) ? 1 : 0

/** 1 for every byte that is not white space (`compactLatin1`'s table for the strip below). */
const KEEP_NON_SPACE = LATIN1_SPACE.map((space) => 1 - space)

export function stripUnicodeWhitespace(s: string): string {
  const length = s.length
  // A long all-ASCII text (a request body, its sorted join): its bytes copied natively and
  // compacted in place, half the time of the walk below on 64 KiB (issue 36).
  if (length >= 256 && isAsciiText(s)) return compactLatin1(s, KEEP_NON_SPACE)
  let first = 0
  for (; first < length; first++) {
    const c = s.charCodeAt(first)
    if (c < 256 ? LATIN1_SPACE[c] === 1 : isSpaceCodePoint(c)) break
  }
  if (first === length) return s
  // One-byte text (every code unit below 256, as nearly all is): the kept units are copied into
  // one buffer and read back as one flat string. Appending slices made two small strings per
  // word (prose, joined values) and a copy when the result was flattened.
  const buf = Buffer.allocUnsafe(length)
  let n = 0
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff) return stripUnits(s)
    if (LATIN1_SPACE[c] === 0) buf[n++] = c
  }
  return buf.toString('latin1', 0, n)
}

/** 1 for every byte but '.' (the dot-free form of step 5). */
const KEEP_NON_DOT = Uint8Array.from({length: 256}, (_, c) => (c === 0x2e ? 0 : 1))

/**
 * A text from this length on has step 5's forms written as bytes (`asciiDotAndSpaceFree`,
 * `utf8DotAndSpaceFree`); a shorter one as strings (a binary body's text runs are a few hundred
 * units).
 */
const FORMS_AS_BYTES_FROM = 256

/** Reused by `asciiDotAndSpaceFree` (single-threaded; grown on demand, not kept above 1 MiB). */
let formScratch: Buffer | null = null

/**
 * Step 5's dot-free and white-space-free forms of a long all-ASCII text, as their bytes (an
 * ASCII text's UTF-8 bytes are its Latin-1 bytes): the text copied natively once and both forms
 * compacted from it in one pass, without a string each, a split and join, and the two encodings
 * the set walks needed (the forms of a 64 KiB request body). Null for a short text or
 * one with a unit at or above U+0080 (then the string forms are built). For ASCII,
 * `stripUnicodeWhitespace` drops exactly the bytes `KEEP_NON_SPACE` drops (every other white
 * space code point is above U+007F). The views are valid until the next call.
 */
function asciiDotAndSpaceFree(s: string): {readonly noDots: Buffer; readonly noSpace: Buffer} | null {
  const length = s.length
  if (length < FORMS_AS_BYTES_FROM || !isAsciiText(s)) return null
  // The same forms in WebAssembly (`text-forms-wasm.ts`), the loop below the reference.
  const wasm = textFormsWriter(KEEP_NON_SPACE)
  if (wasm !== null && length <= wasm.maxLength) return wasm.forms(s)
  let b = formScratch
  if (b === null || b.length < 3 * length) b = Buffer.allocUnsafeSlow(3 * length)
  if (b.length <= 1 << 20) formScratch = b
  b.write(s, 0, length, 'latin1')
  // The text at [0, length), the forms from `length` and `2 × length`: neither outruns its region.
  let d = length
  let w = 2 * length
  for (let i = 0; i < length; i++) {
    const c = b[i]!
    b[d] = c
    d += KEEP_NON_DOT[c]!
    b[w] = c
    w += KEEP_NON_SPACE[c]!
  }
  return {noDots: b.subarray(length, d), noSpace: b.subarray(2 * length, w)}
}

/**
 * A reading of `source` that takes separators out (`form`: its text, or its bytes read as
 * `reading`; step 4's cleaned text, whose normalisation drops line breaks and tabs with the other
 * controls, and step 5's URL-decoded, dot-free and white-space-free forms of that) over all
 * patterns, as `runEngine` runs them, with each hit judged as the pieces joined (`piecesOf`: every
 * place a separator was taken out, the lines' joints included) (joints.ts `WORDS_JOINED`: a hit
 * that starts inside a word, or runs through a lower-case word, is prose). The set walks the form
 * first; a pattern's first hit that `source` (the text as given) holds as it is crosses no
 * separator and is found as it stands (the usual hit: a key written whole). Only when a first hit
 * is not so is the form cut into its pieces, judged, and the judged text scanned instead.
 */
function runJoinedForm(
  engine: DlpEngine, source: string, form: string | Buffer, encoding: string, out: FindingSet, reading: 'latin1' | 'utf8', piecesOf: () => Joint,
): void {
  const candidates = typeof form === 'string' ? matchingPatterns(engine, form) : matchingPatternsOfBytes(engine, form)
  if (candidates !== null && candidates.size === 0) return
  const text = typeof form === 'string' ? form : form.toString(reading)
  if (text.length < engine.minMatchLength || out.ranBefore(encoding, text)) return
  if (candidates === null && engine.allPrefilter !== null && !engine.allPrefilter.test(text)) return
  let judged: string | undefined
  for (const p of engine.all) {
    if (candidates !== null && !candidates.has(p)) continue
    const hit = matchDlpPattern(p, text)
    if (hit === null) continue
    if (judged === undefined && !source.includes(text.slice(hit.index, hit.index + hit.length))) {
      // A hit across a separator: the form as its pieces (a walk made only for one), judged.
      const joint = piecesOf()
      judged = guardedJoint(engine, joint.text, joint.cuts, undefined, WORDS_JOINED)
      if (judged !== text) {
        runEngine(engine, engine.all, judged, encoding, out)
        return
      }
    }
    out.add(findingOf(p, encoding, hit))
  }
}

/** A C0 or C1 control or DEL: what `ForDLP` drops between two words (a line break, a tab). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/

/**
 * `cleaned` (`ForDLP` of `text`) as the pieces of `text` between its controls, each normalised:
 * the cuts are where a line break or a tab stood. When the pieces normalised apart do not make
 * `cleaned` (a mark that composes across a line break), no cut: every hit stands (fail closed).
 */
function controlJoint(norm: Normalizer, text: string, cleaned: string): Joint {
  return piecewiseJoint(text, cleaned, (p) => norm.forDlp(p))
}

/**
 * `target`, a reading of `text` (`read` of the whole), as the readings of `text`'s pieces between
 * its controls, when those joined make it: the cuts are where the controls stood. Otherwise (a
 * reading that crosses a line break: a mark composing across it, an escape cut by it) no cut, and
 * every hit stands (fail closed).
 */
function piecewiseJoint(text: string, target: string, read: (piece: string) => string): Joint {
  const pieces = text.split(CONTROL).map(read)
  return pieces.join('') === target ? {text: target, cuts: cutsBetween(pieces, '\n')} : {text: target, cuts: []}
}

/** The units step 5's white-space-free form drops (`stripUnicodeWhitespace`). */
function isDroppedSpace(c: number): boolean {
  return c < 256 ? LATIN1_SPACE[c] === 1 : isSpaceCodePoint(c)
}


/**
 * `stripUnicodeWhitespace` of a text with a unit above U+00FF: its UTF-16 units copied
 * (`unitsOf`), compacted in place and read back as one string (issue 36: slices appended per
 * word were a twelfth of a Cyrillic page's request scan). Every space code point is in the BMP and
 * not a surrogate, so testing code units is testing code points, and lone surrogates are copied
 * as they are.
 */
function stripUnits(s: string): string {
  const length = s.length
  const u = unitsOf(s)
  let n = 0
  for (let i = 0; i < length; i++) {
    const c = u[i]!
    u[n] = c
    n += c < 256 ? KEEP_NON_SPACE[c]! : isSpaceCodePoint(c) ? 0 : 1
  }
  return unitsToString(u, n)
}

type Decodings = Array<{encoding: string; text: string}>

/**
 * Per-scan cache of whole-string decodings: the seed-phrase step and the recursive decoder
 * decode the same text when it is plain ASCII (ForMatching = ForDLP = the text), and a whole
 * window's base64 decoding was a tenth of a cross-request scan. Lives for one scan.
 */
type DecodingMemo = Map<string, Decodings>

/**
 * `iterativeDecode(s)` read from the scan's whole-string decodings of `s` (its `url` entry, present
 * when the decoding changes `s`): steps 3, 5 and 6 decode the same text once between them.
 */
function urlDecodingOf(s: string, decoded: DecodingMemo): string {
  for (const d of memoised(decoded, s, wholeDecodings)) if (d.encoding === 'url') return d.text
  return s
}

/** Whole-string decodings used by the recursive decoder: base64 ×4, hex, base32, URL. */
function wholeDecodings(s: string): Decodings {
  const out: Array<{encoding: string; text: string}> = []
  let prev: Buffer | null = null
  for (const d of decodeBase64Variants(s)) {
    if (d.bytes === prev) continue // equivalent variants share one buffer
    prev = d.bytes
    out.push({encoding: 'base64', text: bytesToText(d.bytes)})
  }
  const h = decodeHexAny(s)
  if (h !== null && h.length > 0) out.push({encoding: 'hex', text: bytesToText(h)})
  const b = decodeBase32Std(s)
  if (b !== null) out.push({encoding: 'base32', text: bytesToText(b)})
  const u = iterativeDecode(s)
  if (u !== s) out.push({encoding: 'url', text: u})
  return out
}

/**
 * Step 7's delimiters: the spec's (`/ ? & = space \n \r \t " ' \` { } [ ] ( ) < > : , ;`) and
 * the punctuation no base64, hex or base32 alphabet holds that a sender puts beside a blob: `.`
 * (a JWT's parts, `v1.<base64>`), `| ! @ # * ~ $ ^`. With the spec's list alone, one such
 * character before an encoded key spoilt the segment's every decoding and the key passed
 * (docs/compatibility.md). `%` and `+` stay inside segments (URL decoding reads them), and so
 * does `\` (hex written `\x41\x4b…`).
 */
const SEGMENT_DELIMS = ['/', '?', '&', '=', ' ', '\n', '\r', '\t', '"', "'", '`', '{', '}', '[', ']', '(', ')', '<', '>', ':', ',', ';', '.', '|', '!', '@', '#', '*', '~', '$', '^']
// Code-unit lookup table: a per-character Set lookup (and the one-character string it needs)
// was a third of text DLP's time on prose.
const IS_DELIM = new Uint8Array(128)
for (const d of SEGMENT_DELIMS) IS_DELIM[d.charCodeAt(0)] = 1

/** Whether the code unit at `i` is one of the segment delimiters of step 7. */
export function isSegmentDelimiter(s: string, i: number): boolean {
  const c = s.charCodeAt(i)
  return c < 128 && IS_DELIM[c] === 1
}

export function splitOnDelimiters(s: string): string[] {
  return [...segmentsOfAtLeast(s, 1)]
}

/**
 * Per ASCII unit, for the segment walk: 1 a delimiter; 2 (in the decodable table) a unit that
 * every decoder of step 7 rejects (`REJECTS`: not in the base64, hex or base32 alphabets); 0
 * otherwise. A unit at or above U+0080 is in no alphabet either (`SEGMENT_HIGH`).
 */
const SEGMENT_UNITS = IS_DELIM
const DECODABLE_SEGMENT_UNITS = IS_DELIM.map((d, c) => (d === 1 ? 1 : REJECTS[c] === ALL_DECODERS ? 2 : 0))

/**
 * The segments of `splitOnDelimiters(s)` at least `min` code units long, in order. Delimiters
 * are ASCII (never half of a surrogate pair), so the walk is over code units. It skips ahead: a
 * segment starting at `start` reaches `start + min − 1`, so the units are read backwards from
 * there, and a delimiter found restarts the search just after it — most short words and numbers
 * are never read in full, none is copied (issue 36: the forward walk of a generator over a
 * 64 KiB body, twice per text scan, was a third of its DLP time). Each unit is read at most
 * once backwards and once forwards (`min` ≥ 1; below 1 it is taken as 1).
 *
 * `decodable`: only the segments with a base64, hex or base32 decoding possible — those holding
 * no unit that all three alphabets reject (`REJECTS`; any non-ASCII unit). A segment holding
 * one has no candidate decoding and no whole-text base64, hex or base32 decoding, so the
 * decoding steps find nothing in it; its URL decoding is the caller's to rule out (no `%` or
 * `+` in the text). Such a unit met on the backward read skips the whole segment through it
 * unsliced (the prose of a 64 KiB body: `dog.12345`, `finished;`).
 */
export function segmentsOfAtLeast(s: string, min: number, decodable = false): string[] {
  const out: string[] = []
  const length = s.length
  // Read from a copy of the units (`unitsOf`): the walk reads most of a body's units.
  const u = unitsOf(s)
  const span = Math.max(1, min)
  const units = decodable ? DECODABLE_SEGMENT_UNITS : SEGMENT_UNITS
  const high = decodable ? 2 : 0
  let start = 0
  let known = 0 // the units in [start, known) are neither delimiters nor (decodable) rejected
  while (start + span <= length) {
    const probe = start + span - 1
    let j = probe
    let kind = 0
    for (; j >= known; j--) {
      const c = u[j]!
      kind = c < 128 ? units[c]! : high
      if (kind !== 0) break
    }
    if (j >= known && kind === 1) {
      // (j, probe] holds no delimiter and no rejected unit: the next backward read stops there.
      start = j + 1
      known = probe + 1
      continue
    }
    // A rejected unit at j (and none after it up to probe) puts j and probe in one segment:
    // skipped to its end. Otherwise [start, probe] is a segment's start; read on to its end.
    let skip = j >= known
    let end = probe + 1
    for (; end < length; end++) {
      const c = u[end]!
      const k = c < 128 ? units[c]! : high
      if (k === 1) break
      if (k === 2) skip = true
    }
    if (!skip) out.push(s.slice(start, end))
    start = end + 1
    known = start
  }
  return out
}

/**
 * Whether step 7 may find anything in a segment of a text holding `%` or `+` (where the
 * decodable walk of `segmentsOfAtLeast` does not apply): false for a segment holding neither `%`
 * nor `+` and a unit every decoder rejects — the segments that walk passes by, for the same
 * reason. Such a segment has no candidate decoding and no whole-text base64, hex or base32
 * decoding (`REJECTS`; any unit at or above U+0080), and it is its own URL decoding (`goUnescape`
 * changes only `%` escapes and `+`), so `recursiveDecode` finds nothing in it and the loop of
 * step 7 passes it by without a finding or a stop. A binary body's printable runs and text runs
 * hold `%` or `+` nearly always, and a dozen such segments each took its decodings (issue 36).
 */
export function segmentMayDecode(seg: string): boolean {
  let rejected = false
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i)
    if (c === 0x25 || c === 0x2b) return true
    if (c >= 128 || DECODABLE_SEGMENT_UNITS[c] === 2) rejected = true
  }
  return !rejected
}

/** What `scanTextForDlp` reads a text for beyond the patterns. */
export interface TextDlpOptions {
  /**
   * Step 3, seed phrases (default true). Off for a sorted join of texts (`body-scanner.ts`): its
   * texts are read for phrases one by one, and a phrase across them is read in their own order
   * (`holdsSeedPhrase`), never in the order sorting gives them.
   */
  readonly seedPhrase?: boolean
  /**
   * What earlier scans of the same message learnt about its segments (`SegmentMemo`): the
   * texts of one request body share theirs (a body's sorted join and its values' concatenation
   * hold every segment of its texts again).
   */
  readonly segments?: SegmentMemo
  /**
   * The text's UTF-8 encoding, when the caller has it (a request body read whole as UTF-8 is
   * that encoding): step 2's set walk reads it instead of encoding the text again.
   */
  readonly utf8?: Buffer
}

/**
 * What one segment gives step 7 (`segmentFindings`): the findings its candidate decodings add to
 * an empty set, in order, and those its recursive decode adds to another (made when first asked).
 */
interface SegmentOutcome {
  readonly candidates: readonly DlpFinding[]
  recursive: readonly DlpFinding[] | undefined
}

/** How many segments a memo keeps (each a string of the message and a few findings); later ones are decoded each time. */
const SEGMENT_MEMO_ENTRIES = 1 << 16

/**
 * Step 7's and the seed step's segment decodings by segment, for the scans of one message. Both
 * are functions of the segment alone, and step 7 reads its segment's findings back in the order
 * they were made (`FindingSet` logged), so a scan that meets a segment again adds what decoding
 * it would add, and stops where it would stop. A body's sorted join and the concatenation of
 * its values hold its texts' segments again: a 1 MiB base64 image in a chat request has some
 * 16,000 segments (base64's `/` parts it), and each scan decoded and read all of them.
 */
export class SegmentMemo {
  // Made on first use: every request's header DLP has a collector, and most never decode a segment.
  private outcomes: Map<string, SegmentOutcome> | undefined
  /** Per reading (as is, `varied`), whether a segment's decodings hold a phrase. */
  private readonly seeds: [Map<string, boolean> | undefined, Map<string, boolean> | undefined] = [undefined, undefined]

  outcome(engine: DlpEngine, seg: string): SegmentOutcome {
    return kept((this.outcomes ??= new Map()), seg, () => ({candidates: candidateFindings(engine, seg), recursive: undefined}))
  }

  /** `decodingsHoldPhrase`, once per segment and reading. */
  seed(engine: DlpEngine, seg: string, varied: boolean): boolean {
    const k = varied ? 1 : 0
    return kept((this.seeds[k] ??= new Map()), seg, () => decodingsHoldPhrase(engine, seg, varied))
  }
}

/** `map`'s value for `key`, else `compute()`, kept while the map holds fewer than SEGMENT_MEMO_ENTRIES. */
function kept<V>(map: Map<string, V>, key: string, compute: () => V): V {
  let v = map.get(key)
  if (v === undefined) {
    v = compute()
    if (map.size < SEGMENT_MEMO_ENTRIES) map.set(key, v)
  }
  return v
}

/** Whether a candidate decoding of a segment holds a seed phrase (the seed step's segment decodings). */
function decodingsHoldPhrase(engine: DlpEngine, seg: string, varied: boolean): boolean {
  return candidateDecodings(seg).some((d) => engine.seed.detect(d.text, varied))
}

/** Step 7's candidate decodings of `seg`, each read by the whole pattern list into `out`; whether one added an enforced finding. */
function runCandidates(engine: DlpEngine, seg: string, out: FindingSet): boolean {
  let hit = false
  for (const d of candidateDecodings(seg)) if (runEngine(engine, engine.all, engine.normalizer.forDlp(d.text), d.encoding, out) > 0) hit = true
  return hit
}

/** The findings step 7's candidate decodings of `seg` add to an empty set, in order. */
function candidateFindings(engine: DlpEngine, seg: string): readonly DlpFinding[] {
  const f = new FindingSet(true)
  runCandidates(engine, seg, f)
  return f.added!
}

/** The findings `recursiveDecode(seg)` adds to an empty set, in order. */
function recursiveFindings(engine: DlpEngine, seg: string, decoded: DecodingMemo): readonly DlpFinding[] {
  const f = new FindingSet(true)
  recursiveDecode(engine, seg, 0, f, decoded)
  return f.added!
}

/** Adds `fs` to `out` in order; whether an enforced finding was new to it. */
function addAll(out: FindingSet, fs: readonly DlpFinding[]): boolean {
  const before = out.enforcedCount
  for (const f of fs) out.add(f)
  return out.enforcedCount > before
}

/**
 * Step 7 for one segment: its candidate decodings, then, when they add no enforced finding, its
 * recursive decode; whether either added one (the loop then stops). Read from `memo` when given.
 */
function segmentFindings(engine: DlpEngine, seg: string, out: FindingSet, decoded: DecodingMemo, memo: SegmentMemo | undefined): boolean {
  // Without a memo, straight into the scan's set: no set of its own per segment to read back.
  if (memo === undefined) return runCandidates(engine, seg, out) || recursiveDecode(engine, seg, 0, out, decoded)
  const o = memo.outcome(engine, seg)
  if (addAll(out, o.candidates)) return true
  o.recursive ??= recursiveFindings(engine, seg, decoded)
  return addAll(out, o.recursive)
}

/** The finding of step 3. */
export const SEED_PHRASE_FINDING: DlpFinding = {pattern: 'BIP-39 Seed Phrase', severity: 'critical', core: false, encoding: '', warn: false}

export function scanTextForDlp(engine: DlpEngine, input: string, options?: TextDlpOptions): TextDlpResult {
  const out = new FindingSet()
  const text = neutraliseAwsDocExample(input)
  const all = engine.all
  const norm = engine.normalizer
  const decoded: DecodingMemo = new Map()

  // 2. Core DLP on the text as given (always). The set's verdict on the text is kept for step 4,
  // which scans the same string whenever normalising changes nothing.
  // From the caller's bytes when they encode the text walked: step 1 changed nothing, and the
  // text is long enough for a match (below that `matchingPatterns` answers without a walk).
  const bytes = options?.utf8
  const textCandidates = bytes !== undefined && text === input && text.length >= engine.minMatchLength ? matchingPatternsOfBytes(engine, bytes) : matchingPatterns(engine, text)
  runEngine(engine, engine.core, text, '', out, undefined, textCandidates)

  // 3. Seed phrases.
  if (engine.seed.active && options?.seedPhrase !== false && seedPhraseIn(engine, text, decoded, false, options?.segments)) out.add({...SEED_PHRASE_FINDING})

  // 4. Normalised text; canaries; all patterns.
  const cleaned = norm.forDlp(text)
  const canary = findCanary(engine.canaries, [text, cleaned])
  if (canary !== null) {
    out.add({pattern: `Canary Token (${canary.name})`, severity: 'critical', core: false, encoding: canary.encoding, warn: false})
  }
  // The cleaned text as its pieces between the text's controls (made only for a hit to judge):
  // step 4 joins the lines, and step 5's readings are made from the lines so joined.
  let lines: Joint | undefined
  const linesOf = (): Joint => (lines ??= cleaned === text ? {text: cleaned, cuts: []} : controlJoint(norm, text, cleaned))
  if (cleaned === text) runEngine(engine, all, cleaned, '', out, undefined, textCandidates)
  else runJoinedForm(engine, text, cleaned, '', out, 'latin1', linesOf)

  // 5. Simple re-shapes of the cleaned text, each judged at the lines' joints as well as its own.
  const urlDecoded = urlDecodingOf(cleaned, decoded)
  if (urlDecoded !== cleaned) {
    const urlForm = norm.forDlp(urlDecoded)
    if (cleaned === text) runEngine(engine, all, urlForm, 'url', out)
    else runJoinedForm(engine, text, urlForm, 'url', out, 'latin1', () => piecewiseJoint(text, urlForm, (p) => norm.forDlp(iterativeDecode(norm.forDlp(p)))))
  }
  const without = (drop: (unit: number) => boolean) => (): Joint => dropFromJoint(linesOf(), drop)
  const ascii = asciiDotAndSpaceFree(cleaned)
  const utf8 = ascii === null && cleaned.length >= FORMS_AS_BYTES_FROM ? utf8DotAndSpaceFree(cleaned) : null
  if (ascii !== null) {
    // A form as long as the text is the text: nothing was dropped (as the string forms below
    // then are the text itself).
    if (ascii.noDots.length !== cleaned.length) runJoinedForm(engine, text, ascii.noDots, 'subdomain', out, 'latin1', without(isDotUnit))
    if (ascii.noSpace.length !== cleaned.length) runJoinedForm(engine, text, ascii.noSpace, 'whitespace', out, 'latin1', without(isDroppedSpace))
  } else if (utf8 !== null) {
    // The same forms of a text with units at or above U+0080, as UTF-8 (`utf8-text-forms.ts`):
    // a form as long as the text's encoding dropped nothing, as above.
    if (utf8.noDots.length !== utf8.length) runJoinedForm(engine, text, utf8.noDots, 'subdomain', out, 'utf8', without(isDotUnit))
    if (utf8.noSpace.length !== utf8.length) runJoinedForm(engine, text, utf8.noSpace, 'whitespace', out, 'utf8', without(isDroppedSpace))
  } else {
    const noDots = cleaned.includes('.') ? cleaned.split('.').join('') : cleaned
    if (noDots !== cleaned) runJoinedForm(engine, text, noDots, 'subdomain', out, 'latin1', without(isDotUnit))
    const noSpace = stripUnicodeWhitespace(cleaned)
    if (noSpace !== cleaned) runJoinedForm(engine, text, noSpace, 'whitespace', out, 'latin1', without(isDroppedSpace))
  }

  // 6. Recursive decode of the whole text.
  recursiveDecode(engine, cleaned, 0, out, decoded)

  // 7. Segment decodings, only when nothing enforced was found yet; first hit stops.
  if (out.enforcedCount === 0) {
    // Only segments a decoder may accept when the text holds no `%` or `+`: another segment has
    // no candidate decoding, no whole-text one, and is its own URL decoding (`goUnescape`
    // changes only `%` escapes and `+`), so `recursiveDecode` finds nothing in it and the loop
    // would pass it by without a finding or a stop (`segmentsOfAtLeast`, `decodable`).
    const decodable = !cleaned.includes('%') && !cleaned.includes('+')
    for (const seg of segmentsOfAtLeast(cleaned, 10, decodable)) {
      // A segment equal to the whole text was already decoded by step 6.
      if (seg === cleaned) continue
      // In a text holding `%` or `+`, the segments the decodable walk would pass by are passed
      // by here, one by one (`segmentMayDecode`).
      if (!decodable && !segmentMayDecode(seg)) continue
      if (segmentFindings(engine, seg, out, decoded, options?.segments)) break
    }
  }

  // 8. Env / file secrets.
  const lit = findLiteralSecret(engine.literalSecrets, [text, cleaned, urlDecoded])
  if (lit !== null) {
    out.add({
      pattern: lit.kind === 'env' ? 'Environment Variable Leak' : 'Known Secret Leak',
      severity: 'critical',
      core: false,
      encoding: lit.kind === 'env' && lit.encoding === '' ? 'env' : lit.encoding,
      warn: false,
    })
  }
  return {matches: out.enforced(), warnings: out.warnings}
}

/** Depth-limited (< 3) recursive decoder (§6.1 step 6). Returns true when it found something. */
export function recursiveDecode(engine: DlpEngine, s: string, depth: number, out: FindingSet, decoded: DecodingMemo): boolean {
  if (depth >= 3 || s.length < 4) return false
  const all = engine.all
  let found = false
  for (const d of memoised(decoded, s, wholeDecodings)) {
    const t = engine.normalizer.forDlp(d.text)
    if (t === '' || t === s) continue
    if (runEngine(engine, all, t, d.encoding, out) > 0) found = true
    if (recursiveDecode(engine, t, depth + 1, out, decoded)) found = true
  }
  return found
}

/**
 * Step 3 of `scanTextForDlp` alone, for a text joined from several texts (`input`): whether it
 * holds a seed phrase whose words are nearly all different (the detector's `varied` reading: the
 * values of records repeat a few words, a mnemonic does not); false while detection is off.
 */
export function holdsSeedPhrase(engine: DlpEngine, input: string): boolean {
  return engine.seed.active && seedPhraseIn(engine, neutraliseAwsDocExample(input), new Map(), true)
}

/** §6.1 step 3: seed phrase on ForMatching(text), its URL decode, whole-text and segment decodings. */
function seedPhraseIn(engine: DlpEngine, text: string, decoded: DecodingMemo, varied = false, memo?: SegmentMemo): boolean {
  const m = engine.normalizer.forMatching(text)
  // Too short for a phrase, and so is every target below: the URL decoding, a segment and the
  // base64/hex/base32 decodings are no longer than `m` (a decoded byte is at most one unit).
  // A JSON body's short values (`alpha`, `item-7`, numbers) each skip the decodings here.
  if (m.length < MIN_PHRASE_UNITS) return false
  if (engine.seed.detect(m, varied)) return true
  const u = urlDecodingOf(m, decoded)
  if (u !== m && engine.seed.detect(u, varied)) return true
  for (const d of memoised(decoded, m, wholeDecodings)) if (d.encoding !== 'url' && engine.seed.detect(d.text, varied)) return true
  // Only segments a decoder may accept: another has no candidate decoding to test.
  for (const seg of segmentsOfAtLeast(m, 20, true)) {
    // A segment equal to the whole text: its decodings (hex, base64, base32) are among the
    // whole-text decodings just tested, so the answer is already known (false).
    if (seg === m) continue
    if (memo !== undefined ? memo.seed(engine, seg, varied) : decodingsHoldPhrase(engine, seg, varied)) return true
  }
  return false
}
