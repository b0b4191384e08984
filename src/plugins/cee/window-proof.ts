/**
 * An incremental proof that text DLP (`scanTextForDlp`, runtime §6.1) over a growing
 * reassembly window W = f1 + f2 + … has **no finding at all** (no enforced match, no warn
 * match), fed one fragment at a time: O(new fragment + a bounded overlap) per request instead of
 * the whole-window pass. When it proves W clean, the §5.5 scan's answer is known without the
 * pass (no whole-window match ⇒ no finding); when it cannot, the caller runs the full pass (the
 * oracle) — so verdicts never change, only which requests pay for the full pass.
 *
 * Scope: every fragment printable ASCII without `%` or `+` (so forDlp(W) = forMatching(W) = W
 * and W's URL decoding is W itself); anything else makes the proof give up for good (`sticky`)
 * until the window is rebuilt. Per step of `scanTextForDlp(W)`:
 *  1. AWS doc example: W holds neither example string (checked over the last 39 characters of
 *     the previous window + the new fragment: an occurrence not seen before ends in it).
 *  2, 4, 5. Pattern findings in W, W without dots, W without white space (each form of W is the
 *     form of the fragments joined): the bounded core screen of every pattern
 *     (`coreScreenHits`: a text with no core match has no finding; a core match is at most
 *     `w` code points and assertion-free) is run over `tail(form(W_old), w − 1) + form(f)`;
 *     every core match of form(W) lies inside form(W_old) (proven clean before) or ends in
 *     form(f) and so lies in that string. After a hit these steps are run exactly instead, over
 *     the whole window's forms, on every later proof (`proven`).
 *  4, 8. Canaries and literal secrets: searched in the previous window's tail (longest needle
 *     − 1) + the new fragment (same argument).
 *  3. Seed phrase on W: a window of consecutive tokens either lies among W_old's tokens before its
 *     last (seen by an earlier `detect`) or holds W_old's last token or a later one; every token
 *     of such a phrase is a known word, so it lies in `seedTail + f`, where seedTail is W_old from
 *     the earliest of the (≤ 23) known words in a row before its junction-side token.
 *  6. Whole-window decodings: hex and base32 must fail (a character of W outside each alphabet;
 *     monotone in W). Base64 is decoded as a stream (`B64Track`): Go's raw decoder emits a byte as
 *     soon as 8 bits are in, so decode(W_old + f) = decode(W_old) + more bytes. The decoded text
 *     is cut only between an ASCII byte and a printable ASCII byte: UTF-8 decoding then splits
 *     there, and so does `forDlp` (control/space stripping and the confusable map are per code
 *     point; NFKC and NFD have a normalisation boundary before a printable ASCII starter, which
 *     never combines backwards, and after NFKC the chunk still starts with a starter whose
 *     decomposition starts with that character). So the normalised decoding is the join of the
 *     normalised chunks, and the core screen, `detect` (on the raw decoded text, as step 3 runs
 *     it) and the depth-1 decoders (which fail when the normalised decoding holds a character
 *     outside each alphabet and no `%` or `+`) are checked chunk by chunk with the same overlap
 *     arguments; the undecided bytes after the last cut are checked on each proof.
 *  7. Segment decodings: a segment (run between delimiters) of W is a segment completed inside
 *     a fragment (checked exactly, `segmentMayFind`, when it is appended), the junction segment
 *     completed by the new fragment (checked exactly when ≤ RUN_CAP characters, else sticky), or
 *     the open last run (checked exactly on each proof when ≤ RUN_CAP; when W has no delimiter it
 *     is W itself, which steps 3 and 7 skip and step 6 covers).
 * Checking more than a step looks at (all segments, warn patterns, decodings the decoder would
 * refuse for length) only proves less: sound either way.
 */
import {
  AWS_DOC_KEY, AWS_DOC_SECRET, DEC_ALL, DEC_B32, DEC_B64, DEC_HEX, coreScreenHits, coreScreenHitsJoined, coreScreenWindow,
  decoderRejects, forDlpOfDecoded, isSegmentDelimiter, longestNeedle, needleIn, patternsFindAnything, segmentMayFind,
  type DlpEngine,
} from '../scanner/index.js'
import {seedTailJoined} from './seed-tail.js'

/** An open or completed junction segment longer than this is not checked incrementally. */
export const RUN_CAP = 256
/** Seed tails and undecided decoded bytes beyond this give up (bounds the state per key). */
export const TAIL_CAP = 512

/**
 * A copy of `s` that holds no reference to the string it was cut from: V8 keeps a slice of 13 or
 * more code units as a view of its parent, so a 50-character tail kept per key would otherwise
 * keep the whole fragment-plus-tail concatenation (and decoded texts) alive — measured at 6.7 KiB
 * per key instead of < 1 KiB. UTF-16LE round-trips every code unit, lone surrogates included.
 */
function detach(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf16le').toString('utf16le')
}

/** The last `n` code points of `s`. */
function lastCodePoints(s: string, n: number): string {
  let i = s.length
  for (let k = 0; k < n && i > 0; k++) {
    i--
    if (i > 0 && (s.charCodeAt(i) & 0xfc00) === 0xdc00 && (s.charCodeAt(i - 1) & 0xfc00) === 0xd800) i--
  }
  return s.slice(i)
}

/**
 * `detach(lastCodePoints(tail + s, n))` without the concatenation when `s` alone holds the
 * answer: a cut inside `s` (at an index > 0) sees the same units as in `tail + s`.
 */
function nextTail(tail: string, s: string, n: number): string {
  const t = lastCodePoints(s, n)
  return detach(t.length < s.length ? t : lastCodePoints(tail + s, n))
}

/** `s` without any `ch` (`s` itself when it has none: no copy). */
const withoutAll = (s: string, ch: string): string => (s.includes(ch) ? s.split(ch).join('') : s)

const hasPctOrPlus = (s: string): boolean => s.includes('%') || s.includes('+')

/** A code unit outside printable ASCII, or `%` or `+` (the proof's scope, module comment). */
const OUT_OF_SCOPE = /[^\x20-\x24\x26-\x2a\x2c-\x7e]/
const NOT_BASE64 = /[^A-Za-z0-9+/_-]/
const ONLY_PADDING = /^=*$/
/** The segment delimiters of step 7 (`isSegmentDelimiter`, all ASCII) as one class. */
const DELIMITER = new RegExp(
  `[${Array.from({length: 128}, (_, c) => c).filter((c) => isSegmentDelimiter(String.fromCharCode(c), 0)).map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('')}]`,
)

const isHexUnit = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)

/**
 * Whether `head + tail` holds a `%` not followed by two hex digits: Go's `QueryUnescape` then
 * fails, so `iterativeDecode` returns its input unchanged (no URL decoding). `whole`: the text
 * ends there (a `%` in its last two characters counts); otherwise only `%`s with both successors
 * in it. Read across the junction: the decoded stream's last two units + a ≈ 1,000-unit decoded
 * text were flattened (twice) for a few `%` lookups.
 */
export function malformedPercentJoined(head: string, tail: string, whole: boolean): boolean {
  const h = head.length
  const n = h + tail.length
  const at = (i: number): number => (i < h ? head.charCodeAt(i) : tail.charCodeAt(i - h))
  const nextPct = (from: number): number => {
    if (from < h) {
      const j = head.indexOf('%', from)
      if (j >= 0) return j
      from = h
    }
    const j = tail.indexOf('%', from - h)
    return j < 0 ? -1 : h + j
  }
  for (let i = nextPct(0); i >= 0; i = nextPct(i + 1)) {
    if (i + 2 >= n && !whole) {
      if (i + 1 < n && !isHexUnit(at(i + 1))) return true
      continue
    }
    if (i + 2 >= n || !isHexUnit(at(i + 1)) || !isHexUnit(at(i + 2))) return true
  }
  return false
}

/** Base64 value of a code unit in the union of both alphabets (−1: neither). */
const B64_VALUE = new Int8Array(128).fill(-1)
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('').forEach((c, i) => (B64_VALUE[c.charCodeAt(0)] = i))
B64_VALUE[0x2b] = 62 // '+'
B64_VALUE[0x2f] = 63 // '/'
B64_VALUE[0x2d] = 62 // '-'
B64_VALUE[0x5f] = 63 // '_'

/** `detect(head + tail)`, without the concatenation when the detector can screen the pair. */
const seedIn = (engine: DlpEngine, head: string, tail: string): boolean =>
  engine.seed.detectJoined !== undefined ? engine.seed.detectJoined(head, tail) : engine.seed.detect(head + tail)

/** Text-side checks shared by the window and its base64 decoding: screen tail and seed tail. */
class TextChecks {
  private tail = ''
  private seedTail = ''
  /** A seed phrase, or more state than TAIL_CAP: nothing is proven from here on. */
  dirty = false
  /** Some bounded core matched (maybe a false alarm: cores over-approximate the patterns). */
  screenHit = false

  constructor(private readonly engine: DlpEngine, private readonly w: number) {}

  /** Checks `screened` (the normalised text appended) and `seedText` (the raw text appended); commits. */
  append(screened: readonly string[], seedText: string, tails: string[] | null): void {
    if (this.dirty) return
    if (tails === null) {
      if (!this.screenHit && coreScreenHitsJoined(this.engine, this.tail, screened[0]!)) this.screenHit = true
      this.tail = nextTail(this.tail, screened[0]!, this.w - 1)
    } else {
      // Forms equal to an earlier one (a fragment with no dot or no space, same tail) are one
      // probe: screened and their tails computed once.
      const first = screened.map((s, i) => screened.findIndex((o, j) => o === s && tails[j] === tails[i]))
      if (first.every((f) => f === 0)) {
        if (!this.screenHit && coreScreenHitsJoined(this.engine, tails[0]!, screened[0]!)) this.screenHit = true
        tails.fill(nextTail(tails[0]!, screened[0]!, this.w - 1))
        return this.appendSeed(seedText)
      }
      const probes = screened.map((s, i) => (first[i] === i ? tails[i]! + s : ''))
      if (!this.screenHit && coreScreenHits(this.engine, probes.filter((_, i) => first[i] === i))) this.screenHit = true
      for (let i = 0; i < probes.length; i++) tails[i] = first[i] === i ? detach(lastCodePoints(probes[i]!, this.w - 1)) : tails[first[i]!]!
    }
    this.appendSeed(seedText)
  }

  private appendSeed(seedText: string): void {
    if (!this.engine.seed.active) return
    if (seedIn(this.engine, this.seedTail, seedText)) this.dirty = true
    this.seedTail = detach(seedTailJoined(this.engine, this.seedTail, seedText))
    if (this.seedTail.length > TAIL_CAP) this.dirty = true
  }

  /** Whether appending would still be clean (nothing committed). */
  cleanWith(screened: string, seedText: string): boolean {
    if (this.dirty || this.screenHit) return false
    if (screened !== '' && coreScreenHits(this.engine, [this.tail + screened])) return false
    return !this.engine.seed.active || !seedIn(this.engine, this.seedTail, seedText)
  }

  get size(): number {
    return 2 * (this.tail.length + this.seedTail.length)
  }
}

/**
 * The base64 decoding of the window as a stream (step 6 of the module comment). `dead`: no
 * extension of the window decodes (a character outside both alphabets, mixed alphabets, `=`
 * not at the end); `padEnd`: the window ends in `=` (its padded decoding is not tracked).
 */
class B64Track {
  dead = false
  private pads = 0
  private alphabet = 0
  /** Decoded bytes after the last safe cut (whole quanta only) and the last partial quantum's characters. */
  private pending: Uint8Array = new Uint8Array(0)
  private carry = ''
  private decodedAny = false
  private rejects = 0
  /** The committed decoded text holds a `%` (`+`), a malformed `%`; its last two code units. */
  private anyPct = false
  private anyPlus = false
  private badPct = false
  private end = ''
  private readonly text: TextChecks

  constructor(private readonly engine: DlpEngine, w: number) {
    this.text = new TextChecks(engine, w)
  }

  feed(s: string): void {
    if (this.dead || s.length === 0) return
    let body = s
    const eq = s.indexOf('=')
    if (this.pads > 0 || eq >= 0) {
      // Padding ends every decodable text: at most two `=`, nothing after them.
      const cut = this.pads > 0 ? 0 : eq
      const rest = s.slice(cut)
      if (!ONLY_PADDING.test(rest) || this.pads + rest.length > 2) return this.kill()
      this.pads += rest.length
      body = s.slice(0, cut)
    }
    if (NOT_BASE64.test(body)) return this.kill()
    const std = body.includes('+') || body.includes('/')
    const url = body.includes('-') || body.includes('_')
    if ((std && (url || this.alphabet === 2)) || (url && this.alphabet === 1)) return this.kill()
    if (std) this.alphabet = 1
    if (url) this.alphabet = 2
    // Whole quanta decode natively (Node's base64 decoder takes both alphabets); a quantum's
    // bytes are those the strict decoders emit for it wherever it stands.
    const q = this.carry + body
    const full = q.length - (q.length % 4)
    if (full > 0) {
      // Own exact-size memory: a small Buffer is a view of a shared 8 KiB pool slab, which a
      // per-key reference would keep alive.
      const b = Buffer.from(q.slice(0, full), 'base64')
      const next = new Uint8Array(this.pending.length + b.length)
      next.set(this.pending)
      next.set(b, this.pending.length)
      this.pending = next
      this.decodedAny = true
    }
    this.carry = q.slice(full)
    if (this.carry.length >= 2) this.decodedAny = true
    this.commit()
  }

  private kill(): void {
    this.dead = true
    this.pending = new Uint8Array(0)
    this.carry = ''
  }

  /** Checks and drops the decoded bytes up to the last safe cut (ASCII byte, then printable ASCII). */
  private commit(): void {
    const p = this.pending
    let k = p.length - 1
    while (k > 0 && !(p[k - 1]! < 0x80 && p[k]! >= 0x20 && p[k]! <= 0x7e)) k--
    if (k > 0) {
      const u = Buffer.from(p.buffer, p.byteOffset, k).toString('utf8')
      const t = forDlpOfDecoded(this.engine.normalizer, u)
      this.rejects |= decoderRejects(t)
      this.anyPct ||= t.includes('%')
      this.anyPlus ||= t.includes('+')
      this.badPct ||= malformedPercentJoined(this.end, t, false)
      this.end = t.length >= 2 ? t.slice(-2) : (this.end + t).slice(-2)
      this.text.append([t], u, null)
      this.pending = p.slice(k)
    }
    if (this.pending.length > TAIL_CAP) this.text.dirty = true
  }

  /** The decoding of the whole window so far has no finding (steps 3 and 6). */
  proven(): boolean {
    if (this.dead) return true
    if (this.pads > 0 || this.text.dirty || this.text.screenHit) return false
    if (!this.decodedAny) return true
    const u = Buffer.concat([this.pending, Buffer.from(this.carry, 'base64')]).toString('utf8')
    const t = forDlpOfDecoded(this.engine.normalizer, u)
    if ((this.rejects | decoderRejects(t)) !== DEC_ALL) return false
    // The depth-1 URL decoding of the normalised decoding: none when a `%` is malformed (Go's
    // decoder fails) or when there is neither `%` nor `+`; otherwise not proven.
    if (!this.badPct && !malformedPercentJoined(this.end, t, true) && (this.anyPct || this.anyPlus || hasPctOrPlus(t))) return false
    return this.text.cleanWith(t, u)
  }

  get size(): number {
    return this.dead ? 0 : 64 + this.pending.length + 2 * (this.carry.length + this.end.length) + this.text.size
  }
}

export class WindowProof {
  /** The first fragment the proof covers (the buffer's own object) and how many it covers. */
  first: object | null = null
  count = 0
  private sticky = false
  private rejects = 0
  private readonly formTails = ['', '', '']
  private needleTail = ''
  private readonly needleKeep: number
  private readonly needles: boolean
  private run = ''
  private runLong = false
  private delimited = false
  private readonly text: TextChecks
  private readonly b64: B64Track

  private constructor(readonly engine: DlpEngine, w: number) {
    const longest = longestNeedle(engine)
    this.needles = longest > 0
    this.needleKeep = Math.max(longest, AWS_DOC_SECRET.length, AWS_DOC_KEY.length) - 1
    this.text = new TextChecks(engine, w)
    this.b64 = new B64Track(engine, w)
  }

  /** A proof for an empty window, or null when the engine has no core screen. */
  static start(engine: DlpEngine): WindowProof | null {
    const w = coreScreenWindow(engine)
    return w === null ? null : new WindowProof(engine, w)
  }

  /** Appends one fragment's text (the window grows by it). */
  extend(frag: object, s: string): void {
    if (this.count++ === 0) this.first = frag
    if (this.sticky) return
    if (OUT_OF_SCOPE.test(s)) return this.giveUp()
    this.rejects |= decoderRejects(s)
    const nt = this.needleTail + s
    if (nt.includes(AWS_DOC_KEY) || nt.includes(AWS_DOC_SECRET) || (this.needles && needleIn(this.engine, nt))) return this.giveUp()
    this.needleTail = detach(nt.slice(Math.max(0, nt.length - this.needleKeep)))
    this.text.append([s, withoutAll(s, '.'), withoutAll(s, ' ')], s, this.formTails)
    if (this.text.dirty) return this.giveUp()
    this.segments(s)
    if (this.sticky) return
    this.b64.feed(s)
  }

  /** Step 7: segments completed by `s` are checked now; the open run is kept for `proven`. */
  private segments(s: string): void {
    let from = 0
    for (let i = DELIMITER.test(s) ? 0 : s.length; i < s.length; i++) {
      if (!isSegmentDelimiter(s, i)) continue
      const seg = from === 0 ? (this.runLong ? null : this.run + s.slice(0, i)) : s.slice(from, i)
      if (seg === null || (from === 0 && seg.length > RUN_CAP) || segmentMayFind(this.engine, seg)) return this.giveUp()
      this.delimited = true
      this.run = ''
      this.runLong = false
      from = i + 1
    }
    if (this.runLong) return
    this.run = detach(this.run + s.slice(from))
    if (this.run.length > RUN_CAP) {
      this.run = ''
      this.runLong = true
    }
  }

  /** The proof gave up for good (a rebuild over the current window is needed to prove anything). */
  get gaveUp(): boolean {
    return this.sticky
  }

  /** A proof that gave up keeps giving up over a window that moved on (no rebuild). */
  slide(first: object, count: number): void {
    this.first = first
    this.count = count
  }

  private giveUp(): void {
    this.sticky = true
    this.run = ''
    this.needleTail = ''
  }

  /**
   * True only when `scanTextForDlp` over the covered window is proven to have no finding.
   * `window()` gives the window's text: once a core matched somewhere in a form of the window
   * (often a false alarm: e.g. the WIF shape on a long base58 run), steps 2, 4 and 5 are run
   * exactly on the whole window's forms instead (`patternsFindAnything`: the engine's pattern
   * pass, as the scan runs it) — still no decoding, normalisation or seed pass.
   */
  proven(window: () => string): boolean {
    if (this.sticky) return false
    if ((this.rejects & (DEC_HEX | DEC_B32)) !== (DEC_HEX | DEC_B32)) return false
    if ((this.rejects & DEC_B64) === 0 && !this.b64.proven()) return false
    if (this.delimited && (this.runLong || segmentMayFind(this.engine, this.run))) return false
    if (this.text.screenHit) {
      const w = window()
      if (patternsFindAnything(this.engine, [w, withoutAll(w, '.'), withoutAll(w, ' ')])) return false
    }
    return true
  }

  /** Approximate bytes held (strings at 2 bytes per code unit, numbers at 8). */
  get size(): number {
    if (this.sticky) return 64
    return 128 + 2 * (this.needleTail.length + this.run.length + this.formTails.join('').length) + this.text.size + this.b64.size
  }
}
