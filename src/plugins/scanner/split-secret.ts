/**
 * The pairwise split-secret pass (spec mcp.md §4.2): values that each hold part of a secret are
 * joined in pairs at their junctions, each side cut to a window. Moved here from the MCP request
 * screen so request-body DLP runs the same pass over a body's string values (issue 37).
 */
import type {DlpEngine, DlpFinding} from './dlp-engine.js'
import {isCatalogueDlpPattern} from './dlp-patterns.js'
import {junctionPairsToScan, type JunctionPair} from './joined-text-screen.js'
import {cutsBetween, guardedJoint, WORDS_JOINED} from './joints.js'
import {isSegmentDelimiter} from './text-dlp.js'

/** Above this many values the pairwise split check uses the first and last 32 (reference edge sampling). */
const PAIR_EDGE = 32

/**
 * Characters of each value kept on either side of a pair's junction in the pairwise split check,
 * at least. The longest minimum match of a built-in DLP pattern is 112 characters (Extended
 * Private Key) and its encoded forms are longer (base64 150, base32 180, hex 224), so 256 per side
 * keeps every built-in pattern and its encodings whole whatever the split (a part longer than
 * its pattern's minimum matches in its own value's scan anyway); the presets' own `Ethereum
 * Address` matches from 42. The reference scans the whole
 * `a+b` (§4.2, up to 4,032 full scans per message — the §18.4 hazard); the window cuts that work
 * for long values. Literal secrets and canaries widen it to their longest variant, and a
 * configured pattern outside the catalogue (unknown match length) turns the window off
 * (`junctionWindow`): the whole `a+b` is scanned, as the reference does (docs/compatibility.md).
 */
export const JUNCTION_WINDOW = 256

/**
 * The junction window for this scanner's patterns and secrets, or null when the whole `a+b` must
 * be scanned (a configured pattern outside the catalogue: its match length is unknown).
 */
export function junctionWindow(scanner: {readonly dlp: DlpEngine}): number | null {
  const d = scanner.dlp
  if (!d.configured.every(isCatalogueDlpPattern)) return null
  let w = JUNCTION_WINDOW
  for (const s of [...d.literalSecrets, ...d.canaries]) for (const v of s.variants) w = Math.max(w, v.needle.length)
  return w
}

/**
 * About how many bytes of joined pairs the pass reads for `count` values holding `bytes` bytes
 * together, read from the average value: every ordered pair of the values `junctionPairs` pools
 * (the first and last PAIR_EDGE above twice that many), each side cut to JUNCTION_WINDOW. The
 * proxy places a body's scan by it (`requestBodyScanBytes`): 64 SHA-1s in 2.7 KB of JSON make
 * 4,032 pairs, tens of milliseconds of scanning.
 */
export function pairPassBytes(count: number, bytes: number): number {
  if (count < 2) return 0
  const pool = Math.min(count, 2 * PAIR_EDGE)
  return pool * (pool - 1) * 2 * Math.min(JUNCTION_WINDOW, Math.ceil(bytes / count))
}

/** Start of the segment (text DLP step 7) that contains position `i` of `v`. */
function segmentStart(v: string, i: number): number {
  while (i > 0 && !isSegmentDelimiter(v, i - 1)) i--
  return i
}

/**
 * The end of `v` kept before a junction: the last JUNCTION_WINDOW characters, moved back to the
 * start of the segment they begin in when that is near, else to an 8-character boundary of it,
 * so the decoders (base64/base32/hex) see the same alignment as in `a+b`.
 */
function tailWindow(v: string, window: number): {text: string; junctionSegment: number} {
  let start = 0
  if (v.length > window) {
    start = v.length - window
    const seg = segmentStart(v, start)
    start = start - seg <= window ? seg : start - ((start - seg) % 8)
  }
  const text = v.slice(start)
  return {text, junctionSegment: segmentStart(text, text.length)}
}

/**
 * The start of `v` kept after a junction: JUNCTION_WINDOW characters, extended to the end of the
 * segment they cut when that is near. `cut` = the window ends inside a segment; `lastSegment` =
 * where that segment starts (-1 when it is the junction's segment, which begins in the tail).
 */
function headWindow(v: string, window: number): {text: string; cut: boolean; lastSegment: number} {
  if (v.length <= window) return {text: v, cut: false, lastSegment: 0}
  let end = window
  let seg = end
  while (seg < v.length && !isSegmentDelimiter(v, seg)) seg++
  if (seg - end <= window) return {text: v.slice(0, seg), cut: false, lastSegment: 0}
  const last = segmentStart(v, end)
  // A cut segment is trimmed to a multiple of 8 characters, as an encoded value would be.
  if (last > 0) end -= (end - last) % 8
  return {text: v.slice(0, end), cut: true, lastSegment: last > 0 ? last : -1}
}

/**
 * The pairs of the pairwise split check (§4.2), as halves: for every pair `i<j` of non-empty
 * values (the first and last 32 above 64 values), `vals[i]` then `vals[j]`, then `vals[j]` then
 * `vals[i]` — each cut to its junction window (`window` characters a side, null = the whole
 * values). The text of a pair is `x + y`; it is not built here (see `junctionPairsToScan`).
 * Two pairs may give the same text: scanning it again finds the same, so that is only work.
 */
export function* junctionPairs(vals: readonly string[], window: number | null = JUNCTION_WINDOW): Generator<JunctionPair> {
  const pool = vals.length > 2 * PAIR_EDGE ? [...vals.slice(0, PAIR_EDGE), ...vals.slice(-PAIR_EDGE)] : vals
  const w = window ?? Infinity
  const tails = pool.map((v) => tailWindow(v, w))
  const heads = pool.map((v) => headWindow(v, w))
  const pair = (i: number, j: number): JunctionPair => {
    const t = tails[i]!
    const h = heads[j]!
    let y = h.text
    // A cut head inside the junction's segment: trim the joined segment to a multiple of 8.
    if (h.cut && h.lastSegment < 0) y = y.slice(0, y.length - ((t.text.length + y.length - t.junctionSegment) % 8))
    return {x: t.text, y, left: i, right: j}
  }
  for (let i = 0; i < pool.length; i++) {
    if (pool[i] === '') continue
    for (let j = i + 1; j < pool.length; j++) {
      if (pool[j] === '') continue
      yield pair(i, j)
      yield pair(j, i)
    }
  }
}

/**
 * The first of each pair of halves (`x`, `y`), in order. Values repeat (a JSON body's keys and
 * tags in every item, the same flag in every call): their pairs repeat, and the screen's verdict
 * and the scan's findings are functions of the halves alone, so a repeat only costs (a 4 KiB
 * chat body: 1,124 distinct pairs of 4,032).
 */
function distinctPairs(pairs: Iterable<JunctionPair>): JunctionPair[] {
  // Keyed by the halves themselves, not by their concatenation: a half is the same string
  // object in every pair it is in, so its hash is computed once (a joined key hashed 512
  // characters of a chat body's prose per pair).
  const seen = new Map<string, Set<string>>()
  const out: JunctionPair[] = []
  for (const p of pairs) {
    let ys = seen.get(p.x)
    if (ys === undefined) seen.set(p.x, (ys = new Set()))
    if (ys.has(p.y)) continue
    ys.add(p.y)
    out.push(p)
  }
  return out
}

/**
 * The values joined whole in each order a receiver reassembles pieces in, beyond the one the
 * concatenation check already scans (mcp.md §4.2 step a): `vals` (the scan's order: for MCP the
 * byte-sorted key walk, for a body its document order) read backwards, and `sent` — the values in
 * the order the message carries them, which the sender chooses — forwards and backwards. A secret
 * cut into any number of pieces is found when the pieces sit next to each other, in order, in one
 * of these four sequences (other values before or after them do not matter: a pattern matches
 * anywhere in the text). That is every order a receiver gets by reading the fields sorted by
 * name or as sent, either way round; the pair pass covers two pieces in any order. A receiver
 * that reassembles some other permutation, or skips fields between the pieces, is not covered:
 * n pieces have n! orders and 2^n subsets, and scanning those is the blow-up this stays clear of.
 * Bounded: at most three texts more, each as long as the values together, for any number of
 * values (texts equal to one already scanned are dropped, so sorted input costs one). Only for
 * a tool call's arguments (`sent` given): on a request body (up to megabytes, whose document
 * order `vals` already is) each extra order would be one more whole-body DLP scan on every
 * JSON request, for an order no HTTP API reads its fields in.
 */
function reassemblies(vals: readonly string[], sent: readonly string[] | null): Array<readonly string[]> {
  if (vals.length < 3 || sent === null) return [] // two pieces: the pair pass tries both orders
  return [[...vals].reverse(), sent, [...sent].reverse()]
}

/**
 * `scan` of values joined with nothing between them, judged first as joined pieces (joints.ts
 * `WORDS_JOINED`): a hit that starts inside one value, or runs through a value of lower-case
 * letters alone, is the values' words (`{"type":"canvas","id":"a1b2…"}` joins into
 * `canvasa1b2…`, an `AWS Access ID` to the regex), and a space is put back where it crosses into
 * the next value. The text so judged is what `scan` reads (it may note findings, so it reads one
 * text). A key cut into values is found.
 */
function scanJoined(engine: DlpEngine, scan: (text: string) => DlpFinding[], pieces: readonly string[], text: string): DlpFinding[] {
  return scan(guardedJoint(engine, text, cutsBetween(pieces, ' '), undefined, WORDS_JOINED))
}

/**
 * Split-secret check (mcp.md §4.2): the values concatenated (unless that is `joined`, already
 * scanned), then every junction pair the joined-text screen cannot prove clean, then the values
 * joined whole in the other orders a receiver may reassemble them in (`reassemblies`); first hit
 * wins. `scan` is the caller's text DLP (it may note warnings). Shared by the MCP argument screen
 * and request-body DLP (issue 37): one implementation of the pass. `sent`: the values in the order
 * the message holds them, when the caller's `vals` are in another order (null = not known).
 */
export function splitSecretFindings(
  engine: DlpEngine, scan: (text: string) => DlpFinding[], vals: readonly string[], joined: string | null, window: number | null,
  sent: readonly string[] | null = null,
): DlpFinding[] {
  if (vals.length <= 1) return []
  const concat = vals.join('')
  if (concat !== joined) {
    const m = scanJoined(engine, scan, vals, concat)
    if (m.length > 0) return m
  }
  // The distinct junction pairs, less those the joined-text screen proves to have no finding (no
  // match, no warning): the first text with a finding, its findings and the warnings are unchanged.
  // Only the texts kept are built; one already scanned is not scanned again.
  const pairs = distinctPairs(junctionPairs(vals, window))
  const keep = junctionPairsToScan(engine, pairs)
  const scanned = new Set<string>()
  for (let k = 0; k < pairs.length; k++) {
    if (!keep[k]) continue
    const text = pairs[k]!.x + pairs[k]!.y
    if (scanned.has(text)) continue
    scanned.add(text)
    const m = scanJoined(engine, scan, [pairs[k]!.x, pairs[k]!.y], text)
    if (m.length > 0) return m
  }
  // After the pairs, so every message the pairs caught keeps its finding.
  for (const order of reassemblies(vals, sent)) {
    const text = order.join('')
    if (text === concat || text === joined || scanned.has(text)) continue
    scanned.add(text)
    const m = scanJoined(engine, scan, order, text)
    if (m.length > 0) return m
  }
  return []
}
