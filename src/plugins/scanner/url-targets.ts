/**
 * The texts the URL scanner's DLP stages read (runtime §5.5, §5.6, §5.8): the §5.5 targets, the
 * subsequence values and the seed-phrase targets, with the per-scan memo of their decodings.
 *
 * The targets are produced by a visitor (`visitDlpTargets`), so the common case — a clean URL —
 * can be proven clean by one set pass over them (`targetsProvenClean`) without a target list,
 * a map of normalised texts or a joined string (bench: cee; the URL scan's garbage set the GC
 * tail of every request). `dlpTargets` collects the same visits for the stage-by-stage path.
 */
import {goEscapedPath, goUrlString, splitQuery, type GoUrl} from '../canonical/index.js'
import {candidateDecodings, isNoiseUnit, iterativeDecode, stripNoise, type CandidateDecoding, type DecodeScratch} from './decoders.js'
import {addToNoMatchPass, noMatchInPass, startNoMatchPass, type DlpEngine} from './dlp-engine.js'
import {utf8Length} from './entropy.js'
import {dropFromJoint, hostJoint, isDotUnit, jointWithout, LABELS_JOINED, pushCut, WORDS_JOINED, type Cut, type Joint, type JointRule} from './joints.js'
import {memoised} from './memo.js'

export interface DlpTarget {
  readonly text: string
  readonly kind: string
  /** §5.6 decodings of query keys/values: configured DLP only, never core. */
  readonly decoding: boolean
  /** A joined text's cuts (joints.ts): read guarded, `guardedJoint`. */
  readonly cuts?: readonly Cut[]
  /** How a hit across its cuts is judged (`guardedJoint`'s rule; its default when absent). */
  readonly rule?: JointRule
}

/**
 * Work shared by the stages of one scan: the same query values and path segments are decoded
 * for the DLP targets, the subsequences and the seed-phrase targets; each distinct string is
 * decoded once. Lives for one scan only.
 */
export class ScanMemo {
  // Made on first use: a clean URL without '%' or '+' and without a long path segment needs neither.
  private decoded: Map<string, string> | null = null
  private decodings: Map<string, readonly CandidateDecoding[]> | null = null
  /** Decodings of query pair i's decoded key (slot 2i) and value (2i + 1), with the text decoded. */
  private slotText: string[] = []
  private slotDecodings: Array<readonly CandidateDecoding[]> = []
  private pairsOf: {raw: string; pairs: ReturnType<typeof splitQuery>} | null = null
  private readonly decodeCandidates: (s: string) => readonly CandidateDecoding[]

  constructor(private readonly scratch?: DecodeScratch) {
    this.decodeCandidates = (s) => candidateDecodings(s, scratch)
  }

  decode(s: string): string {
    // Without '%' and '+' every round of `iterativeDecode` is the identity: nothing to remember.
    if (!s.includes('%') && !s.includes('+')) return s
    return memoised((this.decoded ??= new Map()), s, iterativeDecode)
  }

  candidates(s: string): readonly CandidateDecoding[] {
    return memoised((this.decodings ??= new Map()), s, this.decodeCandidates)
  }

  /** `candidates(s)` for the text in a numbered slot (query keys and values: no map of them all). */
  slotCandidates(slot: number, s: string): readonly CandidateDecoding[] {
    if (this.slotText[slot] !== s) {
      this.slotText[slot] = s
      this.slotDecodings[slot] = candidateDecodings(s, this.scratch)
    }
    return this.slotDecodings[slot]!
  }

  query(rawQuery: string): ReturnType<typeof splitQuery> {
    if (this.pairsOf === null || this.pairsOf.raw !== rawQuery) {
      const pairs = splitQuery(rawQuery)
      this.pairsOf = {raw: rawQuery, pairs}
      // The slot memo is sized once for the query's keys and values: grown slot by slot, its two
      // arrays were reallocated ≈ 8 times per 2 KiB URL (≈ 10 KiB of garbage per scan, bench: cee).
      this.slotText = new Array<string>(2 * pairs.length)
      this.slotDecodings = new Array<readonly CandidateDecoding[]>(2 * pairs.length)
    }
    return this.pairsOf.pairs
  }
}

/**
 * The pieces of a text between the punctuation no base64, hex or base32 alphabet holds (`. | ! @
 * # * ~ $ ^`, as text DLP's step 7 cuts segments), at least 10 UTF-8 bytes long, when it has any
 * such punctuation: a blob sent as `v1.<base64>` or a JWT's `<header>.<payload>.` decodes as
 * nothing whole, and as the key part by part. Empty for the ordinary value (one native test).
 */
function blobPieces(text: string): string[] {
  if (!BLOB_PUNCTUATION.test(text)) return []
  return text.split(BLOB_PUNCTUATION_ALL).filter((p) => utf8Length(p) >= 10)
}
const BLOB_PUNCTUATION = /[.|!@#*~$^]/
const BLOB_PUNCTUATION_ALL = /[.|!@#*~$^]/g

/** Target kinds of the decodings, without building them per target. */
const PARAM_KIND: Readonly<Record<string, string>> = {hex: 'param_hex', base64: 'param_base64', base32: 'param_base32'}
const SEGMENT_KIND: Readonly<Record<string, string>> = {hex: 'segment_hex', base64: 'segment_base64', base32: 'segment_base32'}
const HOST_KIND: Readonly<Record<string, string>> = {hex: 'host_hex', base32: 'host_base32'}
const NO_DECODINGS: readonly CandidateDecoding[] = Object.freeze([])

/** `cuts` and `rule`: only for a joined text, and only when the visit asked for them (`withCuts`). */
export type TargetVisitor = (text: string, kind: string, decoding: boolean, cuts?: readonly Cut[], rule?: JointRule) => void

/** The path's last segment: after its last '/', one trailing '/' left off (`/AKIA…/?…` is cut there as well). */
function lastSegment(path: string): string {
  const end = path.endsWith('/') ? path.length - 1 : path.length
  return path.slice(path.lastIndexOf('/', end - 1) + 1, end)
}

/**
 * §5.5 target strings, in order, each non-empty one passed to `visit`. A noise-stripped text
 * equal to the text it was stripped from (the usual case) is not visited again: it would be the
 * same target, later, with the same `decoding` flag — every consumer keeps a text's first
 * occurrence, so leaving it out changes nothing.
 */
function visitDlpTargets(
  u: GoUrl,
  host: string,
  m: ScanMemo,
  visit: TargetVisitor,
  hostDecodings: readonly CandidateDecoding[],
  joint: Joint | null,
  withCuts: boolean,
): void {
  const add = (text: string, kind: string, decoding = false): void => {
    if (text !== '') visit(text, kind, decoding)
  }
  // A specified reading that joins pieces (noise stripped, values concatenated, the host without
  // its dots) is judged as words joined (joints.ts `WORDS_JOINED`): `?q=the+canvas+element+renders…`
  // is no `AWS Access ID`. Without `withCuts` (the proof of a clean URL) no cuts are kept and
  // the plain join is read: it holds every hit the judged text holds.
  const addJoint = (j: Joint, kind: string, rule: JointRule = WORDS_JOINED): void => {
    if (j.text === '') return
    if (j.cuts.length === 0) add(j.text, kind)
    else visit(j.text, kind, false, j.cuts, rule)
  }
  const addStripped = (from: string, kind: string, cuts?: readonly Cut[]): void => {
    if (!withCuts) {
      const s = stripNoise(from)
      if (s !== from) add(s, kind)
      return
    }
    const j = dropFromJoint({text: from, cuts: cuts ?? []}, isNoiseUnit)
    if (j.text !== from) addJoint(j, kind)
  }
  const addParam = (slot: number, x: string): string => {
    const d = m.decode(x)
    add(d, 'param')
    const decs = m.slotCandidates(slot, d)
    for (let i = 0; i < decs.length; i++) add(decs[i]!.text, PARAM_KIND[decs[i]!.encoding] ?? `param_${decs[i]!.encoding}`, true)
    // Beyond §5.6: the pieces between punctuation no decoder alphabet holds (`v1.<base64>`, a JWT).
    for (const piece of blobPieces(d)) for (const dec of m.candidates(piece)) add(dec.text, PARAM_KIND[dec.encoding] ?? `param_${dec.encoding}`, true)
    addStripped(d, 'param_noise')
    return d
  }
  add(goUrlString(u), 'url')
  add(u.path, 'path')
  const query = m.decode(u.rawQuery)
  add(query, 'query')
  const pairs = m.query(u.rawQuery)
  // Each name joined to its value (query_named, at the end); the last path segment and every
  // name and value with nothing between them (path_query, last), and where they were cut.
  const last = pairs.length > 0 ? lastSegment(u.path) : ''
  let named = ''
  let flat = last
  const cuts: Cut[] | undefined = withCuts && last !== '' ? [] : undefined
  const namedCuts: Cut[] = []
  for (let i = 0; i < pairs.length; i++) {
    const k = addParam(2 * i, pairs[i]!.key)
    const v = addParam(2 * i + 1, pairs[i]!.value)
    named = i === 0 ? k + v : `${named} ${k}${v}`
    if (withCuts && k !== '' && v !== '') pushCut(namedCuts, named.length - v.length, '=')
    if (last === '') continue
    if (cuts !== undefined) pushCut(cuts, flat.length, i === 0 ? '?' : '&')
    flat += k
    if (cuts !== undefined) pushCut(cuts, flat.length, '=')
    flat += v
  }
  const escaped = goEscapedPath(u)
  const rawDecoded = m.decode(escaped)
  if (rawDecoded !== u.path) add(rawDecoded, 'raw_path')
  for (const seg of u.path.split('/')) {
    if (utf8Length(seg) < 10) continue
    for (const dec of m.candidates(seg)) add(dec.text, SEGMENT_KIND[dec.encoding] ?? `segment_${dec.encoding}`)
    for (const piece of blobPieces(seg)) for (const dec of m.candidates(piece)) add(dec.text, SEGMENT_KIND[dec.encoding] ?? `segment_${dec.encoding}`)
  }
  if (withCuts) addJoint(jointWithout(host, isDotUnit), 'host', LABELS_JOINED)
  else add(host.replaceAll('.', ''), 'host')
  // Beyond §5.5: the host without its '-' and '_' as well (joints.ts), when it has any: a key cut
  // by one inside a label (`akiaiosf-odnn7….example.com`) is whole only there. Core-eligible: the
  // resolver and the name's zone get the pieces in clear. The name is not echoed once it matches
  // (`safeEcho`, the proxy's `safeTarget`).
  if (joint !== null && joint.text !== '') visit(joint.text, 'host_joined', false, withCuts ? joint.cuts : undefined)
  // Beyond §5.5: the labels' hex and base32 decodings (host-decodings.ts), core-eligible as a
  // path segment's are — a name goes to the resolver after this scan.
  for (let i = 0; i < hostDecodings.length; i++) add(hostDecodings[i]!.text, HOST_KIND[hostDecodings[i]!.encoding] ?? `host_${hostDecodings[i]!.encoding}`)
  addStripped(u.path, 'path_noise')
  if (u.rawQuery.includes('&')) {
    // Every part of the raw query, split on '&', decoded after its first '=' (nothing without
    // one): the pairs' raw values (`splitQuery` leaves out only empty parts, which add nothing).
    let joined = ''
    const joinedCuts: Cut[] = []
    for (let i = 0; i < pairs.length; i++) {
      const v = m.decode(pairs[i]!.rawValue)
      if (withCuts && joined !== '' && v !== '') pushCut(joinedCuts, joined.length, '&')
      joined += v
    }
    addJoint({text: joined, cuts: joinedCuts}, 'concat')
    addStripped(joined, 'concat_noise', joinedCuts)
  }
  // Beyond §5.5: the parameters' names and values, decoded, each name joined to its value and the
  // parameters joined by a space: `?AKIA…=…` splits a key at the `=`, which neither the name, the
  // value nor the values' join holds whole. The space keeps each parameter's text apart (a pattern's
  // `\b` or validator sees it as it would alone: one target instead of one per parameter); its
  // noise-stripped form, without the spaces, is the join of them all in order (a key cut over
  // `?AKIA…=…&…=…`). Both core-eligible: the server receives the halves in clear.
  if (named !== query) {
    addJoint({text: named, cuts: namedCuts}, 'query_named')
    addStripped(named, 'query_named_noise', namedCuts)
  }
  // Beyond §5.5: the last path segment, then every parameter's name and value, decoded, with no
  // '?', '=' or '&' between them (joints.ts): `/AKIA…?…` and `/AKIA…?…=1` cut a key where the path
  // ends, which neither the path nor any query target holds whole. Core-eligible, as query_named.
  if (last !== '') visit(flat, 'path_query', false, cuts)
}

/** The visits of `visitDlpTargets`, as a list. */
export function dlpTargets(
  u: GoUrl,
  host: string,
  m: ScanMemo,
  hostDecodings: readonly CandidateDecoding[] = NO_DECODINGS,
  joint: Joint | null = hostJoint(host),
): DlpTarget[] {
  const t: DlpTarget[] = []
  visitDlpTargets(u, host, m, (text, kind, decoding, cuts, rule) => t.push(cuts === undefined ? {text, kind, decoding} : {text, kind, decoding, cuts, rule}), hostDecodings, joint, true)
  return t
}

/**
 * True when one set pass proves that no pattern of `dlp.all` matches any normalised target or
 * any of `extra` — what `noPatternMatchesAny` over the distinct normalised targets and `extra`
 * concludes, without the target list, the map or the joined text (a repeated target only
 * lengthens the pass). False: not proven; the caller screens target by target.
 */
export function targetsProvenClean(
  dlp: DlpEngine,
  u: GoUrl,
  host: string,
  m: ScanMemo,
  extra: readonly string[],
  hostDecodings: readonly CandidateDecoding[] = NO_DECODINGS,
  joint: Joint | null = hostJoint(host),
): boolean {
  if (!startNoMatchPass(dlp)) return false
  let within = true
  visitDlpTargets(
    u,
    host,
    m,
    (text) => {
      if (within) within = addToNoMatchPass(dlp, dlp.normalizer.forDlp(text))
    },
    hostDecodings,
    joint,
    false,
  )
  for (let i = 0; i < extra.length && within; i++) within = addToNoMatchPass(dlp, extra[i]!)
  return within && noMatchInPass(dlp)
}

/**
 * Query values for the subsequence check (§5.5): raw split on `&`, after `=`, non-empty,
 * decoded — the pairs' non-empty raw values (a part without '=' has an empty one).
 */
export function subsequenceValues(rawQuery: string, m: ScanMemo): string[] {
  const vals: string[] = []
  const pairs = m.query(rawQuery)
  for (let i = 0; i < pairs.length; i++) if (pairs[i]!.rawValue !== '') vals.push(m.decode(pairs[i]!.rawValue))
  return vals
}

/**
 * §5.8 seed-phrase targets, in order, each passed to `visit` until it answers true (then true).
 * A visitor, not a list: a list of every value and decoding grown by `push` was ≈ 6 KiB of
 * garbage per 2 KiB URL (bench: cee).
 */
export function someSeedTarget(u: GoUrl, host: string, m: ScanMemo, visit: (text: string) => boolean): boolean {
  if (visit(u.path) || visit(m.decode(u.rawQuery))) return true
  const pairs = m.query(u.rawQuery)
  const values = new Array<string>(pairs.length)
  for (let i = 0; i < pairs.length; i++) {
    const v = m.decode(pairs[i]!.value)
    values[i] = v
    if (visit(v)) return true
    const decs = m.slotCandidates(2 * i + 1, v)
    for (let k = 0; k < decs.length; k++) if (visit(decs[k]!.text)) return true
  }
  if (visit(values.join(' '))) return true
  for (const seg of u.path.split('/')) {
    if (utf8Length(seg) < 20) continue
    for (const d of m.candidates(seg)) if (visit(d.text)) return true
  }
  return visit(host.replaceAll('.', ' ')) || visit(u.path.replaceAll('/', ' '))
}

