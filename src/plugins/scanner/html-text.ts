/**
 * The visible text of an HTML page, as `/fetch` reads it (§4.1 steps 19–20): the `<title>`, then
 * the text with scripts, styles, comments and tags removed, entities decoded and whitespace
 * collapsed. Response scanning reads the same view of markup on every other path (issue 37 §7:
 * an injection split by tags or entities), so it lives with the scanner. Linear in the input.
 *
 * Read into one reused array of UTF-16 code units (issue 36): one walk of the page skips its
 * tags, decodes character references and collapses lines as it writes the text there, and the
 * content becomes a string once. The former reader (slices concatenated, a regex replace per
 * reference, a string per line, the page lowercased) made half the garbage of a 64 KiB response;
 * html-text-differential.test.ts keeps it as the oracle. It decoded references after removing
 * the tags, so a reference cut by a tag (`&am<b></b>p;`) was whole: a page with such a cut is
 * read that way — its text first, then decoded as a text without tags.
 *
 * The walk of `pass` (without `raw`) also runs in WebAssembly (`html-text-wasm.ts`, about twice
 * as fast), the path for most pages; this file's walk is its reference and the path for the rest.
 */
import {htmlTextModule, type HtmlTextModule} from './html-text-wasm.js'
import {hexDigitValue} from '../canonical/index.js'
import {unitsToString} from './normalize.js'
import {copyUnits} from './text-units.js'
import {DecodingMode, EntityDecoder, htmlDecodeTree} from 'entities/decode'

/** What a tag name makes the reader do: nothing, a line break, the title, or skip to its closing tag. */
const NONE = 0
const BLOCK = 1
const TITLE = 2
const SKIP = 3
const BLOCK_TAGS = ['p', 'div', 'br', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'tr', 'section', 'article', 'header', 'footer', 'ul', 'ol', 'table', 'pre', 'blockquote']
/** Elements whose content is not text: read past their closing tag. */
const SKIPPED_TAGS = ['script', 'style', 'noscript', 'template']
/** The longest name any rule above reads ('blockquote'): a longer name is an ordinary tag. */
const LONGEST_NAME = 10

/** A name unit's digit in base 37 (a–z 1–26, 0–9 27–36), or 0 for a unit no name holds. */
function nameDigit(c: number): number {
  if (c >= 0x61 && c <= 0x7a) return c - 0x60
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 27
  return 0
}

/** A name of at most LONGEST_NAME units as a number (37^10 < 2^53): tags are looked up without a string. */
function tagKey(name: string): number {
  let key = 0
  for (let j = 0; j < name.length; j++) key = key * 37 + nameDigit(name.charCodeAt(j))
  return key
}

/**
 * Tag key → what the reader does, as a table of 2^bits slots indexed by a multiplicative hash of
 * the key's low 32 bits (the fewest bits under which the known names do not collide): a Map
 * lookup per tag was a tenth of the reader's time, and the key modulo a table size, a
 * floating-point remainder (keys reach 37^10), a library call per tag. `keys` holds the name at
 * each slot (0: none), `kinds` its kind; a key is compared whole, so a hash shared with a known
 * name reads NONE as before.
 */
interface TagTable {
  readonly shift: number
  readonly keys: Float64Array
  readonly kinds: Uint8Array
}

/** The table's hash multiplier (odd: the 32-bit golden ratio). */
const TAG_HASH = 0x9e3779b1

function tagSlot(key: number, shift: number): number {
  return Math.imul(key | 0, TAG_HASH) >>> shift
}

const TAG_TABLE: TagTable = (() => {
  const named: Array<readonly [number, number]> = [...BLOCK_TAGS.map((t) => [tagKey(t), BLOCK] as const), [tagKey('title'), TITLE], ...SKIPPED_TAGS.map((t) => [tagKey(t), SKIP] as const)]
  for (let bits = 5; ; bits++) {
    const shift = 32 - bits
    const keys = new Float64Array(1 << bits)
    const kinds = new Uint8Array(1 << bits)
    let apart = true
    for (const [key, kind] of named) {
      const slot = tagSlot(key, shift)
      if (keys[slot] !== 0) {
        apart = false
        break
      }
      keys[slot] = key
      kinds[slot] = kind
    }
    if (apart) return {shift, keys, kinds}
  }
})()

/** What the tag whose name has key `key` makes the reader do. */
function tagKind(key: number): number {
  const slot = tagSlot(key, TAG_TABLE.shift)
  return TAG_TABLE.keys[slot] === key ? TAG_TABLE.kinds[slot]! : NONE
}

const SKIPPED_BY_KEY: ReadonlyMap<number, string> = new Map(SKIPPED_TAGS.map((t) => [tagKey(t), t]))

/** JavaScript's `\s` (the class the name regex and `trim` use), LF included. */
function isJsSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d)
  if (c < 0xa0) return false
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
}

/**
 * WORD_UNIT[c]: 1 for the units a text run copies as they are (U+0021–U+007E but '<' and '&'),
 * over every code unit so that the run's loop tests one table entry per unit.
 */
const WORD_UNIT: Uint8Array = (() => {
  const t = new Uint8Array(0x10000)
  for (let c = 0x21; c < 0x7f; c++) if (c !== 0x3c && c !== 0x26) t[c] = 1
  return t
})()

/** The blanks a line's inner runs are made of (`[ \t\r\f\v]`): each run becomes one space. */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0c || c === 0x0b
}

/**
 * What `toLowerCase` makes of the unit `c` wherever the reader compares it (with ASCII letters,
 * digits, '!', '-', '/' and `\s`): A–Z and the Kelvin sign (U+212A → 'k') are the only units whose
 * lowercase is ASCII, and no unit's lowercase is a space unless it is one. Identity on a
 * lowercased text's units wherever they are compared.
 */
function lowerUnit(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c === 0x212a ? 0x6b : c
}

/**
 * The text the reader reads names from, by `lowerUnit` of its units: the page itself, or — when it
 * holds U+0130, the one unit whose lowercase is two units — its real lowercase, whose offsets then
 * drift from the page's as they always did (the reader compares units of both at one index).
 */
function lowerSource(html: string): string {
  return html.includes('\u0130') ? html.toLowerCase() : html
}

/** `lower.indexOf('</' + name, from)` in the lowercase of `src` (see `lowerSource`); `name` is lowercase ASCII. */
function closeTag(src: string, name: string, from: number): number {
  for (let k = src.indexOf('</', from); k >= 0; k = src.indexOf('</', k + 1)) {
    let j = 0
    while (j < name.length && lowerUnit(src.charCodeAt(k + 2 + j)) === name.charCodeAt(j)) j++
    if (j === name.length) return k
  }
  return -1
}

/**
 * The key (`tagKey`) of the tag name at `lt` as far as `limit` (exclusive), or 0 — what
 * `/<\/?\s*([a-z0-9]+)/y` reads at `lt` in the lowercased page, cut at `limit`; a name longer
 * than any rule reads comes back as 0 (it matches none of them). Read by character codes from
 * `lower`, the lowercased page's `length` units and a 0 (`sourceUnits`): no match array, capture
 * or string per tag.
 */
function tagKeyAt(lower: Uint16Array, length: number, lt: number, limit: number): number {
  // Where lowercasing changed the page's length ('İ' reads 'i̇'), the page's '<' can sit
  // elsewhere in the lowercase, and the regex read no name there.
  if (lower[lt] !== 0x3c) return 0
  let k = lt + 1
  if (lower[k] === 0x2f) k++
  while (k < length && isJsSpace(lower[k]!)) k++
  const start = k
  let key = 0
  for (; k < limit; k++) {
    const d = nameDigit(lowerUnit(lower[k]!))
    if (d === 0) break
    if (k - start === LONGEST_NAME) return 0
    key = key * 37 + d
  }
  return key
}

/**
 * What the WebAssembly walk decodes (`html-text.wat`): `;`-ended numeric references to U+0001–U+10FFFF
 * and six names, matched case-insensitively (`&nbsp;` is a plain space). A page whose every
 * reference it decodes as `referenceAt` does is left to it; any other takes the JavaScript walk
 * (`wasmReadsAlike`).
 */
const WASM_NAMED: ReadonlyArray<readonly [string, number]> = [
  ['amp', 0x26],
  ['lt', 0x3c],
  ['gt', 0x3e],
  ['quot', 0x22],
  ['apos', 0x27],
  ['nbsp', 0x20],
]
/** The longest name above: a longer one is unknown to the module. */
const WASM_LONGEST_REF = 4

/** A lowercase name of at most WASM_LONGEST_REF letters as a number (five bits a letter). */
function nameKey(name: string): number {
  let key = 0
  for (let j = 0; j < name.length; j++) key = key * 32 + (name.charCodeAt(j) - 0x60)
  return key
}
const WASM_NAMED_BY_KEY: ReadonlyMap<number, number> = new Map(WASM_NAMED.map(([name, c]) => [nameKey(name), c]))

/**
 * The reference at `r` of `s` as the WebAssembly walk reads it: the code point × 64 + the
 * reference's length, or -1 when the module leaves it as written.
 */
function wasmReferenceAt(s: string, r: number, end: number): number {
  let k = r + 1
  if (k >= end) return -1
  let cp = 0
  if (s.charCodeAt(k) === 0x23) {
    k++
    const x = s.charCodeAt(k)
    if (x === 0x78 || x === 0x58) {
      const from = ++k
      for (let d: number; k < end && k - from < 7 && (d = hexDigitValue(s.charCodeAt(k))) >= 0; k++) cp = cp * 16 + d
      if (k - from < 1 || k - from > 6) return -1
    } else {
      const from = k
      for (let c: number; k < end && k - from < 8 && (c = s.charCodeAt(k)) >= 0x30 && c <= 0x39; k++) cp = cp * 10 + (c - 0x30)
      if (k - from < 1 || k - from > 7) return -1
    }
    if (k >= end || s.charCodeAt(k) !== 0x3b || cp <= 0 || cp > 0x10ffff) return -1
  } else {
    const from = k
    let key = 0
    for (let c: number; k < end && k - from < 9 && (c = s.charCodeAt(k) | 0x20) >= 0x61 && c <= 0x7a; k++) key = key * 32 + (c - 0x60)
    if (k - from < 2 || k - from > WASM_LONGEST_REF || k >= end || s.charCodeAt(k) !== 0x3b) return -1
    const v = WASM_NAMED_BY_KEY.get(key)
    if (v === undefined) return -1
    cp = v
  }
  return cp * 64 + (k + 1 - r)
}

/**
 * Character references are decoded as the HTML standard's tokenizer decodes them in text, so
 * that the scan reads what a browser shows: numeric ones ended by `;` or by any other character,
 * the standard's ~2,200 names (some are two code points), and the legacy names a browser also
 * takes without `;` (`&nbsp`, `&amp`, `&Iuml`…). The name table is a fact of the standard: it
 * comes from `entities`, the maintained decoder htmlparser2 (the browser shield) is built on,
 * rather than a copy kept here.
 */
const decoder = new EntityDecoder(htmlDecodeTree, (cp) => {
  if (decodedCount++ === 0) decodedFirst = cp
  else decodedSecond = cp
})
let decodedCount = 0
/** The code point(s) the last `referenceAt` found (`decodedSecond` -1 when there is one). */
let decodedFirst = 0
let decodedSecond = -1

/**
 * The length of the character reference at `r` (an '&') of `s`, or -1 when there is none
 * there (the '&' is text); sets `decodedFirst` and `decodedSecond`. Any named reference to
 * U+00A0 (`&nbsp;`, `&NonBreakingSpace;`) reads as a plain space, as it always has here.
 */
function referenceAt(s: string, r: number): number {
  const next = s.charCodeAt(r + 1)
  // A reference starts with '#', a letter or (never matching) a digit: anything else is text.
  if (!(next === 0x23 || ((next | 0x20) >= 0x61 && (next | 0x20) <= 0x7a))) return -1
  decodedCount = 0
  decodedSecond = -1
  decoder.startEntity(DecodingMode.Legacy)
  let length = decoder.write(s, r + 1)
  if (length < 0) length = decoder.end()
  if (length <= 0 || decodedCount === 0) return -1
  if (decodedFirst === 0xa0 && next !== 0x23) decodedFirst = 0x20
  return length
}

/**
 * Whether the WebAssembly walk reads every reference of `html` as `referenceAt` does (only the
 * references it knows, or none): looked at only where an '&' is, so a page without one costs a
 * search.
 */
function wasmReadsAlike(html: string): boolean {
  const n = html.length
  for (let r = html.indexOf('&'); r >= 0; r = html.indexOf('&', r + 1)) {
    const its = wasmReferenceAt(html, r, n)
    if (its >= 0 && plainlyAlike(html, r, its)) continue
    const mine = referenceAt(html, r)
    if (mine < 0 && its < 0) continue
    if (mine < 0 || its < 0 || decodedSecond >= 0 || (its & 63) !== mine || its >> 6 !== decodedFirst) return false
  }
  return true
}

/**
 * Whether the standard reads the reference the module read at `r` of `s` (`its`, from
 * `wasmReferenceAt`) as the module does, known without asking the decoder (the `&amp;` of every
 * link text: the decoder's trie walk was a fifth of the page's visible-text step, issue 36): a
 * numeric one to a code point the standard keeps (not a C1 control, which it maps to
 * windows-1252, nor a surrogate), or one of the module's names written in lowercase (the
 * standard's names are case-sensitive: `&AMP;` and `&Amp;` are asked).
 */
function plainlyAlike(s: string, r: number, its: number): boolean {
  const cp = its >> 6
  if (s.charCodeAt(r + 1) === 0x23) return !(cp >= 0x80 && cp <= 0x9f) && !(cp >= 0xd800 && cp <= 0xdfff)
  const end = r + (its & 63) - 1 // the ';'
  for (let k = r + 1; k < end; k++) {
    const c = s.charCodeAt(k)
    if (c < 0x61 || c > 0x7a) return false
  }
  return true
}

/** The most units after '&' a reference is read to (`#x`, seven hex digits, ';'). */
const REFERENCE_READ = 10

/**
 * Whether the reading of a reference at `r` of the page reached a '<' (a tag cut it: what follows
 * in the page's text comes after the tag, so the page is read the long way). Conservative: any
 * '<' the reading could reach, past units that can continue a reference.
 */
function cutByTag(s: string, r: number, end: number): boolean {
  for (let k = r + 1; k < end && k <= r + REFERENCE_READ; k++) {
    const c = s.charCodeAt(k)
    if (c === 0x3c) return true
    if (!(c === 0x23 || (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a))) return false
  }
  return false
}

/** A walked page: its title, and its content as `length` units of `units` from the offset asked for on. */
interface WalkedPage {
  readonly title: string
  readonly units: Uint16Array
  readonly length: number
}

export interface ExtractedPage {
  readonly title: string
  readonly content: string
}

/** The 0s after a text's units in `sourceUnits`: a '<' at the end is followed by three. */
const PAD = 4

/** Past this many units a reader does not keep its array for the next page. */
const KEEP_UNITS = 1 << 20

/**
 * Reads pages into one reused array of code units (one per scanner: not shared between threads).
 * `extractHtmlText` uses a fresh one per page.
 */
export class PageTextReader {
  private units = new Uint16Array(0)

  /** The visible text of `html`. Scans the markup once, char by char, so hostile input stays linear. */
  read(html: string): ExtractedPage {
    const page = this.walk(html, 0)
    return {title: page.title, content: unitsToString(page.units, page.length)}
  }

  /**
   * What response scanning reads of a page: its title and its content joined by LF (the
   * content alone when there is no title), made as one string — the content is written after
   * room left for the title, which is copied in front of it when there is one.
   */
  visibleText(html: string): string {
    // Room for a title of up to 256 units without moving the content; a longer one moves it.
    const room = 257
    const page = this.walk(html, room)
    const {title, units, length} = page
    if (title === '') return unitsToString(units.subarray(room), length)
    let u = units
    let at = room - title.length - 1
    if (at < 0) {
      u = new Uint16Array(title.length + 1 + length)
      u.set(units.subarray(room, room + length), title.length + 1)
      at = 0
    }
    for (let k = 0; k < title.length; k++) u[at + k] = title.charCodeAt(k)
    u[at + title.length] = 0x0a
    return unitsToString(u.subarray(at), title.length + 1 + length)
  }

  /** The title, and the content as `length` units of `units` from `offset` on. */
  private walk(html: string, offset: number): WalkedPage {
    const wasm = wasmWalker()
    const alike = wasm !== null && (!html.includes('&') || wasmReadsAlike(html))
    return (alike ? PageTextReader.wasmWalk(wasm, html, offset) : null) ?? this.jsWalk(html, offset)
  }

  /**
   * `walk` by the WebAssembly module, or null for a page it leaves to the JavaScript walk: a
   * lowercase of another length (U+0130, see `lowerSource`), too large, a reference cut by a
   * tag, or an empty first title with another after it (the JavaScript walk reads the next).
   */
  private static wasmWalk(wasm: HtmlTextModule, html: string, offset: number): WalkedPage | null {
    if (html.length > wasm.maxUnits || offset > wasm.maxRoom || html.includes('\u0130')) return null
    const page = wasm.walk(html, offset)
    if (page.length < 0) return null
    const title = page.titles === 0 ? '' : titleText(html, page.titleFrom, page.titleTo)
    return title !== '' || page.titles <= 1 ? {title, units: wasm.out, length: page.length} : null
  }

  /**
   * Whether the module's walk gives this file's walk's title and text on a page of every
   * construct they read (checked once per process before the module is used).
   */
  static agrees(wasm: HtmlTextModule): boolean {
    try {
      const w = PageTextReader.wasmWalk(wasm, SELF_CHECK_PAGE, 0)
      if (w === null) return false
      const got = {title: w.title, content: unitsToString(w.units, w.length)}
      const j = new PageTextReader().jsWalk(SELF_CHECK_PAGE, 0)
      return got.title === j.title && got.content === unitsToString(j.units, j.length)
    } catch {
      return false
    }
  }

  /** `walk` by this file's walk. */
  private jsWalk(html: string, offset: number): WalkedPage {
    const n = html.length
    // The text between tags and one LF per block tag: never longer than the page.
    let whole = this.units
    if (whole.length < offset + n) {
      whole = new Uint16Array(Math.max(offset + n, 4096))
      if (whole.length <= KEEP_UNITS) this.units = whole
    }
    const u = offset === 0 ? whole : whole.subarray(offset)
    let length = this.pass(html, this.sourceUnits(html), u, false)
    if (length < 0) {
      // A reference cut by a tag: the page's text is read first (references as written), then
      // decoded and collapsed as a text without tags — the order the former reader used.
      const text = unitsToString(u, this.pass(html, this.sourceUnits(html), u, true))
      const title = this.lastTitle
      length = this.pass(text, this.sourceUnits(text), u, false)
      this.lastTitle = title
    }
    return {title: this.lastTitle, units: whole, length}
  }

  /** The code units of the page being read and of its lowercase (when it differs), each then a 0 (see `sourceUnits`). */
  private readonly sources: Buffer[] = [Buffer.allocUnsafeSlow(0), Buffer.allocUnsafeSlow(0)]

  /**
   * `s`'s code units and PAD 0s after them, in an array (issue 36): a walk reads a typed array's
   * elements at about half the cost of `charCodeAt`. The 0s end a text run or a tag name at the
   * text's end as `charCodeAt`'s NaN did (no rule reads a 0 as text, '<', '!', '-', '/' or a
   * name), and the tests of the units after a '<' read no further. Valid until
   * the next call with the same `slot`.
   */
  private sourceUnits(s: string, slot = 0): Uint16Array {
    const n = s.length
    let b = this.sources[slot]!
    if (b.length < 2 * (n + PAD)) {
      b = Buffer.allocUnsafeSlow(Math.max(2 * (n + PAD), 8192))
      if (b.length <= 2 * KEEP_UNITS) this.sources[slot] = b
    }
    const units = new Uint16Array(b.buffer, 0, n + PAD)
    copyUnits(s, units)
    units.fill(0, n)
    return units
  }

  /** The title the last `pass` found ('' when none). */
  private lastTitle = ''

  /**
   * One walk of `html` writing its text into `u`: with `raw`, as written (tags removed, an LF per
   * block tag); else references decoded and lines collapsed as it goes (lines split at LF after
   * decoding, trimmed of `\s`, runs of `[ \t\r\f\v]` inside them as one space, empty ones
   * dropped, the rest joined by LF). Returns the length written, or -1 when a reference is cut
   * by a tag (never with `raw`, nor in a text without '<'). Sets `lastTitle`.
   */
  private pass(html: string, src: Uint16Array, u: Uint16Array, raw: boolean): number {
    const n = html.length
    let title = ''
    let w = 0
    /** Where the current line's text ends (blanks written after it are dropped at its end). */
    let textEnd = 0
    let inLine = false
    let anyLine = false
    let inRun = false
    /** The second code point of the reference just decoded, or -1. */
    let second = -1
    const lower = lowerSource(html)
    const low = lower === html ? src : this.sourceUnits(lower, 1)
    for (let i = 0; i < n; ) {
      let c = src[i]!
      if (raw && c !== 0x3c) {
        u[w++] = c
        i++
        continue
      }
      if (c === 0x3c) {
        const lt = i
        if (lowerUnit(low[lt + 1]!) === 0x21 && low[lt] === 0x3c && low[lt + 2] === 0x2d && low[lt + 3] === 0x2d) {
          const end = html.indexOf('-->', lt + 4)
          i = end < 0 ? n : end + 3
          continue
        }
        // The tag's end: most tags are short, so the first units are read here, the rest searched.
        let gt = lt + 1
        const near = lt + 32 < n ? lt + 32 : n
        while (gt < near && src[gt] !== 0x3e) gt++
        if (gt === near) gt = html.indexOf('>', gt)
        if (gt < 0) break
        const key = tagKeyAt(low, lower.length, lt, Math.min(gt + 1, lt + 40))
        const kind = key === 0 ? NONE : tagKind(key)
        const closing = low[lt + 1] === 0x2f
        if (!closing && kind === SKIP) {
          const end = closeTag(lower, SKIPPED_BY_KEY.get(key)!, gt + 1)
          const close = end < 0 ? -1 : html.indexOf('>', end)
          i = close < 0 ? n : close + 1
          continue
        }
        if (!closing && kind === TITLE) {
          const end = closeTag(lower, 'title', gt + 1)
          if (title === '') title = titleText(html, gt + 1, end < 0 ? n : end)
          const close = end < 0 ? -1 : html.indexOf('>', end)
          i = close < 0 ? n : close + 1
          continue
        }
        i = gt + 1
        if (kind !== BLOCK) continue
        if (raw) {
          u[w++] = 0x0a
          continue
        }
        c = 0x0a
      } else if (c === 0x26) {
        // A reference a tag may cut is read the long way first, as the former reader read it.
        if (!raw && cutByTag(html, i, n)) return -1
        const length = referenceAt(html, i)
        if (length < 0) i++
        else {
          i += length
          c = decodedFirst
          second = decodedSecond
        }
      } else if (WORD_UNIT[c] === 1) {
        // A run of text (issue 36): printable ASCII other than '<' and '&', with single spaces
        // between its characters, copied in a loop of its own — what the character-by-character
        // steps below write for it (no blank run, no line end, the line's text ending at its
        // last character), without their tests per character.
        if (!inLine) {
          if (anyLine) u[w++] = 0x0a
          inLine = true
          anyLine = true
        }
        u[w++] = c
        for (;;) {
          c = src[++i]!
          if (WORD_UNIT[c] === 1) {
            u[w++] = c
            continue
          }
          if (c !== 0x20) break
          const d = src[i + 1]!
          if (WORD_UNIT[d] !== 1) break
          u[w++] = 0x20
          u[w++] = d
          i++
        }
        inRun = false
        textEnd = w
        continue
      } else i++
      // One character of text (read, or decoded): printable ASCII first (most of any page), then
      // a line break, a space, or any other character (an astral one decoded from a reference
      // writes both its units).
      if ((c > 0x20 && c < 0x7f) || (c !== 0x0a && !isJsSpace(c))) {
        if (!inLine) {
          if (anyLine) u[w++] = 0x0a
          inLine = true
          anyLine = true
        }
        if (c < 0x10000) u[w++] = c
        else w = putCodePoint(u, w, c)
        if (second >= 0) {
          // The second code point of a two-point name (a combining mark or a space).
          w = putCodePoint(u, w, second)
          second = -1
        }
        inRun = false
        textEnd = w
      } else if (c === 0x0a) {
        if (inLine) w = textEnd
        inLine = false
        inRun = false
      } else {
        // A JavaScript white-space character (and a second, where a name is two: `&ThickSpace;`).
        if (!inLine) {
          second = -1
          continue
        }
        if (isBlank(c)) {
          if (!inRun) u[w++] = 0x20
          inRun = true
        } else {
          u[w++] = c
          if (second >= 0) w = putCodePoint(u, w, second)
          inRun = false
        }
      }
      second = -1
    }
    this.lastTitle = title
    if (raw) return w
    return inLine ? textEnd : w
  }
}

/**
 * The WebAssembly walk (`html-text-wasm.ts`), or null: unavailable, switched off, or — checked once
 * per process — giving another text than this file's walk on a page of every construct it reads.
 */
function wasmWalker(): HtmlTextModule | null {
  const m = htmlTextModule(TAG_TABLE)
  if (m === null) return null
  walkerAgrees ??= PageTextReader.agrees(m)
  return walkerAgrees ? m : null
}
/** Whether the module passed its self-check (`PageTextReader.agrees`); unset until first used. */
let walkerAgrees: boolean | undefined

/** A page with every construct the walk reads: every rule's names, references, comments, spaces, lines. */
const SELF_CHECK_PAGE = [
  '<!DOCTYPE html><html><head><TITLE> A &amp; B </TITLE><style>p{x:1}</style></head><body>',
  ...[...BLOCK_TAGS, 'span', 'blockquotes', 'x'.repeat(12)].map((t) => `<${t} class="c">${t} text\t \u00a0 x</${t.toUpperCase()}>\n`),
  ...SKIPPED_TAGS.map((t) => `<${t}>hidden</${t}> after ${t}`),
  '<!-- a comment --> &lt;&gt;&quot;&apos;&nbsp;&AMP;&#65;&#x42;&#x1F600;&foo; &ab &',
  '\u2028\u3000\ufeff\u212a\r\n\f\v  word  <br/>bloc\u212Aquote<  p>< /div>last',
].join('')

/** The title between `from` and `to` of `html`: references decoded, `\s` runs as one space, trimmed. */
function titleText(html: string, from: number, to: number): string {
  // `to` may lie before `from` when the lowercase drifted (U+0130); slice reads that as empty.
  const t = html.slice(from, to)
  if (!t.includes('&')) return t.replace(/\s+/g, ' ').trim()
  const u = new Uint16Array(2 * t.length)
  let w = 0
  for (let r = 0; r < t.length; ) {
    const length = t.charCodeAt(r) === 0x26 ? referenceAt(t, r) : -1
    if (length < 0) {
      u[w++] = t.charCodeAt(r++)
      continue
    }
    w = putCodePoint(u, w, decodedFirst)
    if (decodedSecond >= 0) w = putCodePoint(u, w, decodedSecond)
    r += length
  }
  return unitsToString(u, w).replace(/\s+/g, ' ').trim()
}

/** Writes code point `cp` as one or two units at `w`; returns the index after them. */
function putCodePoint(u: Uint16Array, w: number, cp: number): number {
  if (cp < 0x10000) {
    u[w] = cp
    return w + 1
  }
  u[w] = 0xd800 + ((cp - 0x10000) >> 10)
  u[w + 1] = 0xdc00 + ((cp - 0x10000) & 0x3ff)
  return w + 2
}

/** The visible text of `html` (a reader of its own; a scanner keeps one `PageTextReader`). */
export function extractHtmlText(html: string): ExtractedPage {
  return new PageTextReader().read(html)
}
