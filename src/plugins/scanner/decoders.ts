import {decodeHTMLStrict} from 'entities/decode'
import {goUnescape, hexDigitValue} from '../canonical/index.js'
import {joinedRuns, printableRunsWasm} from './text-runs.js'

const {isUtf8} = process.getBuiltinModule('node:buffer') as typeof import('node:buffer')

/**
 * Strict decoders matching Go's behaviour (§5.6, §25.4). `Buffer.from(s,'base64')` is lenient
 * (mixed alphabets, junk skipped), so every decoder here validates the whole input first and
 * returns null unless all of it is valid. Decoded bytes become strings as UTF-8 with
 * replacement characters (Go keeps invalid bytes; only matters for matching).
 */


function isHexDigits(s: string): boolean {
  // Fixed internal character-class check on a bounded alphabet (no backtracking possible).
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
    if (!ok) return false
  }
  return true
}

/**
 * The bytes a percent-encoded parameter or form field spells, read leniently (a `%` not followed
 * by two hex digits stays a literal `%`): `%XX` is its byte; `+` is a space with `plusIsSpace`
 * (form encoding); any other UTF-16 unit is its UTF-8 bytes (a surrogate half alone: U+FFFD), or
 * its own byte with `latin1` (a text read from bytes as Latin-1). An RFC 2231 parameter
 * (multipart.ts) and a form's fields in their declared charset (body-scanner.ts) read this way.
 */
export function percentBytes(s: string, o: {readonly plusIsSpace?: boolean; readonly latin1?: boolean} = {}): Buffer {
  const out = Buffer.allocUnsafe(o.latin1 === true ? s.length : s.length * 3)
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25 && i + 2 < s.length) {
      const hi = hexDigitValue(s.charCodeAt(i + 1))
      const lo = hexDigitValue(s.charCodeAt(i + 2))
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo
        i += 2
        continue
      }
    }
    if (c === 0x2b && o.plusIsSpace === true) out[n++] = 0x20
    else if (o.latin1 === true || c < 0x80) out[n++] = c & 0xff
    else n += out.write(s[i]!, n, 'utf8')
  }
  return out.subarray(0, n)
}

export function decodeHexStrict(s: string): Buffer | null {
  if (s.length === 0 || s.length % 2 !== 0 || !isHexDigits(s)) return null
  return Buffer.from(s, 'hex')
}

/** Normalised hex: drop `\x`/`\X`/`0x`/`0X` prefixes and `:`, space, `-`, `,` separators. */
export function decodeHexNormalised(s: string): Buffer | null {
  const t = hexWithoutNoise(s)
  return t === null ? null : decodeHexStrict(t)
}

/** `s` without the prefixes and separators of normalised hex, or null when that cannot be hex. */
function hexWithoutNoise(s: string): string | null {
  if (s.length < 4) return null
  // A character other than a hex digit, `\`, `x`, `X` or a separator survives the stripping
  // below and fails the hex check: reject without building the stripped string.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const hex = (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
    if (!hex && c !== 0x5c && c !== 0x78 && c !== 0x58 && c !== 0x3a && c !== 0x20 && c !== 0x2d && c !== 0x2c) return null
  }
  const t = s.split('\\x').join('').split('\\X').join('').split('0x').join('').split('0X').join('')
  let out = ''
  for (const ch of t) if (ch !== ':' && ch !== ' ' && ch !== '-' && ch !== ',') out += ch
  return out
}

/** Hex strict, else normalised hex (§5.6). */
export function decodeHexAny(s: string): Buffer | null {
  return decodeHexStrict(s) ?? decodeHexNormalised(s)
}

/** The hex digits `decodeHexAny` decodes (`s`, or `s` without its noise), or null when it fails. */
function hexDigitsOf(s: string): string | null {
  if (s.length > 0 && s.length % 2 === 0 && isHexDigits(s)) return s
  const t = hexWithoutNoise(s)
  return t !== null && t.length > 0 && t.length % 2 === 0 && isHexDigits(t) ? t : null
}

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function table(alphabet: string): Int8Array {
  const t = new Int8Array(128).fill(-1)
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i
  return t
}

/** A base64 digit's value in either alphabet ('+' and '-' are 62, '/' and '_' 63); −1 outside both. */
export const BASE64_DIGIT: Int8Array = (() => {
  const t = table(STD)
  t[URL.charCodeAt(62)] = 62
  t[URL.charCodeAt(63)] = 63
  return t
})()

/** Go's decoders skip '\r' and '\n' anywhere. Unchanged runs are copied as slices. */
function withoutCrLf(input: string): string {
  // Most candidates hold neither: two native searches, not a read of every unit here.
  if (input.indexOf('\n') < 0 && input.indexOf('\r') < 0) return input
  let out = ''
  let from = 0
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i)
    if (c !== 0x0d && c !== 0x0a) continue
    out += input.slice(from, i)
    from = i + 1
  }
  return from === 0 ? input : out + input.slice(from)
}

/**
 * The data characters of `s` (CR/LF removed) for one base64 variant — its length less the
 * padding — or −1 when `s` is not valid in that variant. `s` holds only units of one alphabet and
 * `=` (`base64Kind` said so of the text it came from), so the one unit left to refuse is an `=`
 * before the end of the data: found by a native search, not a read of every unit here.
 */
function base64DataLength(s: string, padded: boolean): number {
  if (s.length === 0) return -1
  let end = s.length
  if (padded) {
    if (s.length % 4 !== 0) return -1
    let pad = 0
    while (pad < 2 && end > 0 && s.charCodeAt(end - 1) === 0x3d) {
      end--
      pad++
    }
  } else if (s.length % 4 === 1) {
    return -1
  }
  const eq = s.indexOf('=')
  return eq >= 0 && eq < end ? -1 : end
}

/**
 * Decodes the first `end` characters of `s` — validated for one alphabet, without CR/LF and
 * padding — into `out`; returns the byte count, ⌊6·end/8⌋. Node's decoder reads both alphabets
 * and, on such input, gives the strict decoder's bytes (leftover bits dropped, as Go's does);
 * a JavaScript loop over a 64 KiB image's run was a sixth of its response scan.
 */
function base64Write(s: string, end: number, out: Uint8Array): number {
  const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  return buf.write(end === s.length ? s : s.slice(0, end), 0, Math.floor((end * 6) / 8), 'base64')
}

/** One variant's decoding of a text `base64Kind` accepts (padded or not), or null. */
function decodeBase64With(input: string, padded: boolean): Buffer | null {
  const s = withoutCrLf(input)
  const end = base64DataLength(s, padded)
  const size = Math.floor((end * 6) / 8)
  if (end < 0 || size === 0) return null
  // From Node's pool for small sizes: an ArrayBuffer of its own per decoding was a fifth of text
  // DLP on a JSON body's short values (issue 36). Every byte is written.
  const out = Buffer.allocUnsafe(size)
  base64Write(s, end, out)
  return out
}

export type Base64Variant = 'std' | 'url' | 'std_raw' | 'url_raw'

/**
 * Standard padded, URL-safe padded, standard unpadded, URL-safe unpadded — in that order (§5.6).
 * Variants that would decode the same bytes share one decode (a 1 MiB token is decoded at most
 * twice, not four times).
 */
export function decodeBase64Variants(s: string): Array<{variant: Base64Variant; bytes: Buffer}> {
  const kind = base64Kind(s)
  if (kind === B64_NONE) return []
  const hasStd = kind === B64_STD
  const hasUrl = kind === B64_URL
  const padded = decodeBase64With(s, true)
  // Without '=' and with a length that is a multiple of 4, raw and padded decodings coincide.
  const raw = padded !== null && !s.includes('=') ? padded : decodeBase64With(s, false)
  const out: Array<{variant: Base64Variant; bytes: Buffer}> = []
  if (padded !== null) {
    if (!hasUrl) out.push({variant: 'std', bytes: padded})
    if (!hasStd) out.push({variant: 'url', bytes: padded})
  }
  if (raw !== null) {
    if (!hasUrl) out.push({variant: 'std_raw', bytes: raw})
    if (!hasStd) out.push({variant: 'url_raw', bytes: raw})
  }
  return out
}

/** `base64Kind`: no variant decodes; only characters both alphabets share; `+` or `/`; `-` or `_`. */
const B64_NONE = 0
const B64_COMMON = 1
const B64_STD = 2
const B64_URL = 3

/**
 * Which alphabets can decode `s`: none when it holds a character outside both alphabets, '='
 * and CR/LF, or characters of both (mixed alphabets never decode).
 */
function base64Kind(s: string): number {
  if (s.length >= LONG_KIND) return base64KindLong(s)
  let hasStd = false
  let hasUrl = false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x2b || c === 0x2f) hasStd = true
    else if (c === 0x2d || c === 0x5f) hasUrl = true
    // A character outside both alphabets, '=' and CR/LF fails every variant: no decode, no garbage.
    else if (c >= 128 || (ANY_B64[c] === 0)) return B64_NONE
  }
  if (hasStd && hasUrl) return B64_NONE
  return hasStd ? B64_STD : hasUrl ? B64_URL : B64_COMMON
}

/**
 * From this length on, `base64Kind` asks V8's regular expressions (their compiled class loops
 * read a unit in ≈ 0.8 ns, the JavaScript loop above ≈ 3 ns on a sliced string: issue 36, a
 * 64 KiB image's run was a fifth of a chat request's response scan). Below it a call's own cost
 * outweighs the loop (a JSON body's short values).
 */
const LONG_KIND = 256
const STD_ONLY = /^[A-Za-z0-9+/=\r\n]*$/
const URL_ONLY = /^[A-Za-z0-9_=\r\n-]*$/
const STD_MARK = /[+/]/

/** `base64Kind` for a long text: one anchored class match (two when it is not the standard alphabet). */
function base64KindLong(s: string): number {
  if (STD_ONLY.test(s)) return STD_MARK.test(s) ? B64_STD : B64_COMMON
  // Not the standard alphabet alone: a unit outside it is `-` or `_` when the URL-safe one holds them all.
  return URL_ONLY.test(s) ? B64_URL : B64_NONE
}

/**
 * The UTF-8 text of the one distinct decoding among `decodeBase64Variants(s)` (they share one
 * buffer: the padded decoding when it succeeds, else the unpadded one), or null when no variant
 * decodes.
 */
function base64Text(s: string, into: ByteSource): string | null {
  const kind = base64Kind(s)
  if (kind === B64_NONE) return null
  const t = withoutCrLf(s)
  let end = base64DataLength(t, true)
  if (end < 0 || Math.floor((end * 6) / 8) === 0) end = base64DataLength(t, false)
  const size = Math.floor((end * 6) / 8)
  if (end < 0 || size === 0) return null
  const buf = into.bytes(size)
  return buf.toString('utf8', 0, base64Write(t, end, buf))
}

/** 1 for the characters a base64 variant can accept somewhere: both alphabets, '=', CR and LF. */
const ANY_B64 = new Uint8Array(128)
for (const ch of STD + URL + '=\r\n') ANY_B64[ch.charCodeAt(0)] = 1

const B32_TABLE = table('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')

/** Base32 standard alphabet, padded (Go `base32.StdEncoding`). */
export function decodeBase32Std(input: string): Buffer | null {
  const body = base32Body(input)
  const size = body === null ? 0 : Math.floor((body.length * 5) / 8)
  if (body === null || size === 0) return null
  const out = Buffer.allocUnsafe(size) // pooled, as base64's; every byte is written
  base32Write(body, out)
  return out
}

/** The data characters of a valid padded base32 text (CR/LF and padding removed), or null. */
function base32Body(input: string): string | null {
  // A character outside the alphabet, '=' and CR/LF fails the decode: reject before copying.
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i)
    if (c >= 128 || (B32_TABLE[c]! < 0 && c !== 0x3d && c !== 0x0d && c !== 0x0a)) return null
  }
  const s = withoutCrLf(input)
  if (s.length === 0 || s.length % 8 !== 0) return null
  let end = s.length
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--
  const pad = s.length - end
  if (![0, 1, 3, 4, 6].includes(pad)) return null
  // '=' inside the data.
  for (let i = 0; i < end; i++) if (s.charCodeAt(i) === 0x3d) return null
  return end === s.length ? s : s.slice(0, end)
}

/** Decodes a `base32Body` into `out`; returns the byte count, ⌊5·length/8⌋. */
function base32Write(body: string, out: Uint8Array): number {
  let bits = 0
  let acc = 0
  let o = 0
  for (let i = 0; i < body.length; i++) {
    acc = ((acc << 5) | B32_TABLE[body.charCodeAt(i)]!) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  return o
}

export function bytesToText(b: Buffer): string {
  return b.toString('utf8')
}

/** Where a decoder writes bytes that are only read into a string. */
export interface ByteSource {
  /** A buffer of at least `size` bytes (contents undefined; valid until the next call). */
  bytes(size: number): Buffer
}

/** A buffer from Node's pool per call (short-lived: the bytes are read into a string at once). */
const POOLED: ByteSource = {bytes: (size) => Buffer.allocUnsafe(size)}

/** A reused output buffer for `candidateDecodings` (one per DLP engine; single-threaded). */
export class DecodeScratch implements ByteSource {
  private buf: Buffer = Buffer.allocUnsafeSlow(256)

  bytes(size: number): Buffer {
    if (size <= this.buf.length) return this.buf
    // A huge token gets a buffer of its own (not kept).
    if (size > 1 << 20) return Buffer.allocUnsafe(size)
    this.buf = Buffer.allocUnsafeSlow(Math.max(size, this.buf.length * 2))
    return this.buf
  }
}

/** The decoders of §5.6 a character can make fail, as bits of `REJECTS`. */
const B64 = 1
const HEX = 2
const B32 = 4
export const ALL_DECODERS = B64 | HEX | B32

/**
 * Per ASCII character: which decoders of a whole text or candidate (base64 ×4, hex strict or
 * normalised, base32) fail on any text holding it (bitmask of B64, HEX, B32), read from the
 * alphabets above. A character rejected by all three (`ALL_DECODERS`), or any unit at or above
 * U+0080, leaves a text with no such decoding at all. CR and LF, which base64 and base32 skip,
 * are marked as failing: the table is for texts without them (printable ASCII, or the segments
 * of step 7, which they delimit).
 */
export const REJECTS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  const alnum = /[A-Za-z0-9]/.test(ch)
  const hex = /[0-9a-fA-F]/.test(ch)
  let r = 0
  if (!(alnum || ch === '+' || ch === '/' || ch === '-' || ch === '_' || ch === '=')) r |= B64
  if (!(hex || ch === '\\' || ch === 'x' || ch === 'X' || ch === ':' || ch === ' ' || ch === '-' || ch === ',')) r |= HEX
  if (!(/[A-Z2-7]/.test(ch) || ch === '=')) r |= B32
  REJECTS[c] = r
}

export interface CandidateDecoding {
  readonly encoding: string
  readonly text: string
}

const NO_DECODINGS: readonly CandidateDecoding[] = Object.freeze([])

/**
 * Every successful decoding of a candidate string (§5.6): hex (or normalised hex), base64 ×4,
 * base32 — variants decoding to the same buffer once. The bytes go to `into` (a reused scratch,
 * or a pooled temporary) and only their UTF-8 text is kept.
 */
export function candidateDecodings(s: string, into: ByteSource = POOLED): readonly CandidateDecoding[] {
  // Each list is built at its final size: `[]` then `push` gives an array a 17-slot backing
  // store (≈ 150 B of garbage per decoding; every key and value of a query is decoded, bench: cee).
  const hex = hexDigitsOf(s)
  let h: CandidateDecoding | null = null
  if (hex !== null) {
    const buf = into.bytes(hex.length >> 1)
    h = {encoding: 'hex', text: buf.toString('utf8', 0, buf.write(hex, 0, hex.length >> 1, 'hex'))}
  }
  const b64 = base64Text(s, into)
  const b = b64 === null ? null : {encoding: 'base64', text: b64}
  const b32 = base32Body(s)
  const b32Size = b32 === null ? 0 : Math.floor((b32.length * 5) / 8)
  let t: CandidateDecoding | null = null
  if (b32Size > 0) {
    const buf = into.bytes(b32Size)
    t = {encoding: 'base32', text: buf.toString('utf8', 0, base32Write(b32!, buf))}
  }
  return decodingList(h, b, t)
}

/** The decodings present, in order (hex, base64, base32), as an array of exactly that length. */
function decodingList(h: CandidateDecoding | null, b: CandidateDecoding | null, t: CandidateDecoding | null): readonly CandidateDecoding[] {
  if (h === null) {
    if (b === null) return t === null ? NO_DECODINGS : [t]
    return t === null ? [b] : [b, t]
  }
  if (b === null) return t === null ? [h] : [h, t]
  return t === null ? [h, b] : [h, b, t]
}

/** `IterativeDecode` (§5.5): QueryUnescape until unchanged or error, at most 500 rounds. */
export function iterativeDecode(s: string): string {
  let cur = s
  for (let i = 0; i < 500; i++) {
    const next = goUnescape(cur, true)
    if (next === null || next === cur) break
    cur = next
  }
  return cur
}

/** `stripNoise` drops these code units (all ASCII). */
const NOISE = new Uint8Array(128)
for (const ch of './ \t\n\r+,;|') NOISE[ch.charCodeAt(0)] = 1

/** Whether `stripNoise` drops the code unit `c`. */
export function isNoiseUnit(c: number): boolean {
  return c < 128 && NOISE[c] === 1
}

/** Noise stripping (§5.7). A string without noise is returned as is; runs between noise are copied as slices. */
export function stripNoise(s: string): string {
  let out = ''
  let from = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 128 || NOISE[c] === 0) continue
    if (i > from) out += s.slice(from, i)
    from = i + 1
  }
  return from === 0 ? s : out + s.slice(from)
}

/**
 * Named character references a secret can be spelt with: the ASCII punctuation HTML5 names, the
 * markup five and `nbsp`. Letters and digits have no names (only numeric references).
 */
const HTML_NAMED: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', Tab: '\t', NewLine: '\n', excl: '!', num: '#',
  dollar: '$', percnt: '%', lpar: '(', rpar: ')', ast: '*', midast: '*', plus: '+', comma: ',', period: '.', sol: '/',
  colon: ':', semi: ';', equals: '=', quest: '?', commat: '@', lsqb: '[', lbrack: '[', bsol: '\\', rsqb: ']',
  rbrack: ']', Hat: '^', lowbar: '_', UnderBar: '_', grave: '`', lcub: '{', lbrace: '{', verbar: '|', vert: '|',
  VerticalLine: '|', rcub: '}', rbrace: '}', hyphen: '-', dash: '-', minus: '\u2212',
}

// A fixed internal pattern (bounded repeats, no nesting: linear), like the normalisation classes;
// RE2 is for catalogue and user patterns.
const HTML_REF = /&(?:#[xX]([0-9a-fA-F]{1,6});?|#([0-9]{1,7});?|([A-Za-z][A-Za-z0-9]{1,31});)/g

function htmlRefOnce(s: string): string {
  return s.replace(HTML_REF, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    // The table's own names first: `&constructor;` or `&toString;` are no references (an inherited
    // member once decoded to a function's source text). Every other name HTML defines is read
    // from the `entities` tables (the maintained decoder htmlparser2 uses): `&shy;`, `&zwnj;`
    // and `&ZeroWidthSpace;` part a key invisibly, `&Aopf;` spells its letters.
    if (name !== undefined) return Object.hasOwn(HTML_NAMED, name) ? HTML_NAMED[name]! : decodeHTMLStrict(whole)
    const cp = hex !== undefined ? parseInt(hex, 16) : Number(dec)
    // As a browser reads them: NUL, surrogates and out-of-range code points become U+FFFD.
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd'
    return String.fromCodePoint(cp)
  })
}

/**
 * HTML character references decoded (`&#65;`, `&#x41;`, `&amp;`; numeric ones with or without
 * their `;`), repeated while that changes the text (at most 3 rounds: `&amp;#65;`). `s` itself
 * when it holds no `&`.
 */
export function decodeHtmlReferences(s: string): string {
  return s.includes('&') ? untilStable(s, htmlRefOnce) : s
}

/** `once` applied while it changes the text, at most three rounds (an escape spelt with an escape: `&amp;#65;`, JSON in a JSON string). */
function untilStable(s: string, once: (s: string) => string): string {
  let out = s
  for (let i = 0; i < 3; i++) {
    const next = once(out)
    if (next === out) break
    out = next
  }
  return out
}

/** The one-character escapes of JSON and JavaScript string literals. */
const SHORT_ESCAPES: Readonly<Record<string, string>> = {n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\u0000', '/': '/', '\\': '\\', '"': '"', "'": "'"}

// A fixed internal pattern (bounded repeats, no nesting: linear), like HTML_REF.
const BACKSLASH_ESCAPE = /\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|([nrtbfv0/\\"']))/g

function backslashEscapeOnce(s: string): string {
  return s.replace(BACKSLASH_ESCAPE, (whole, braced: string | undefined, u4: string | undefined, x2: string | undefined, short: string | undefined) => {
    if (short !== undefined) return SHORT_ESCAPES[short]!
    if (u4 !== undefined) return String.fromCharCode(parseInt(u4, 16))
    const cp = parseInt(braced ?? x2!, 16)
    return cp > 0x10ffff ? whole : String.fromCodePoint(cp)
  })
}

/**
 * The backslash escapes of JSON, JavaScript and Python string literals decoded (`\u0041`,
 * `\u{41}`, `\x41`, `\n`, `\t`, `\"` …), as the parser of whoever reads the text decodes them:
 * a JSON body labelled as anything, or a JSON response whose words are parted by `\t`, reads as
 * the secret or the instruction it spells. Repeated while that changes the text (at most 3
 * rounds: JSON inside a JSON string). `s` itself when it holds no backslash.
 */
export function decodeBackslashEscapes(s: string): string {
  return s.includes('\\') ? untilStable(s, backslashEscapeOnce) : s
}

/** RUN_BYTE[c]: 1 for printable ASCII or tab, a byte of a printable run. */
const RUN_BYTE: Uint8Array = (() => {
  const t = new Uint8Array(256)
  for (let c = 0x20; c < 0x7f; c++) t[c] = 1
  t[0x09] = 1
  return t
})()

/** The control bytes that make a body binary here: C0 but tab, LF and CR, and DEL. */
const CONTROL_BYTES: readonly number[] = [...Array.from({length: 0x20}, (_, c) => c).filter((c) => c !== 0x09 && c !== 0x0a && c !== 0x0d), 0x7f]

/**
 * Whether `body` holds a control byte: one native search per byte value. A text request body
 * has none, and reading its 64 KiB byte by byte in JavaScript took 57-61 us against 16 us for
 * the 30 searches (issue 36); random bytes hold a NUL within a few hundred bytes.
 */
function holdsControlByte(body: Uint8Array): boolean {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  for (const c of CONTROL_BYTES) if (buf.indexOf(c) >= 0) return true
  return false
}

/** The fewest bytes of a printable run (`printableRuns`). */
export const PRINTABLE_RUN_MIN = 6

/**
 * The runs of printable ASCII (and tab) of at least `min` bytes in a body holding other bytes
 * (control bytes, non-ASCII), one per line; null when every byte is printable text (the body's
 * own text says the same). Normalisation drops control characters, so inside a binary body a
 * card number would otherwise be glued to the bytes around it.
 */
export function printableRuns(body: Uint8Array, min = PRINTABLE_RUN_MIN, found: string | null = null): string | null {
  if (!holdsControlByte(body)) return null
  // `found`: the caller's runs from the WebAssembly finder (`textAndPrintableRuns`, text-runs.ts).
  if (found !== null) return found
  // The same runs by the WebAssembly finder when it takes the body (text-runs.ts); else the loop below.
  const fast = printableRunsWasm(body, min)
  if (fast !== null) return fast
  // A run of `min` printable bytes ends in `min` printable ones: the window's last three bytes
  // are read at once through a 256-byte table, `v` counting the printable ones at its end without
  // a branch, and when it is under three the window moves past the last one that is not (95 % of
  // windows in random bytes). A probe of the last byte alone, then a read backwards, was a coin
  // toss for the branch predictor (a byte is printable 37 % of the time): 91-103 against 64-65 us
  // per random 64 KiB (issue 36). The runs' bytes are copied into one buffer read once, not a
  // string per run joined.
  const n = body.length
  const three = min >= 3
  const bounds: number[] = []
  let total = 0
  let i = 0
  while (i + min <= n) {
    let p = i + min - 1
    if (three) {
      const xy = RUN_BYTE[body[p - 1]!]! & RUN_BYTE[body[p]!]!
      const v = RUN_BYTE[body[p]!]! + xy + (RUN_BYTE[body[p - 2]!]! & xy)
      if (v < 3) {
        i = p + 1 - v
        continue
      }
      p -= 3
    }
    while (p >= i && RUN_BYTE[body[p]!] === 1) p--
    if (p >= i) {
      i = p + 1
      continue
    }
    let e = i + min
    while (e < n && RUN_BYTE[body[e]!] === 1) e++
    bounds.push(i, e)
    total += e - i + 1
    i = e + 1
  }
  return joinedRuns(body, bounds, total - 1, 0x0a)
}

/**
 * Text hidden in invisible code points, read out ("ASCII smuggling"): the normalisation passes
 * remove these code points as invisible (runtime §8), which removes what they encode with them,
 * while a language model reads it. Two encodings:
 * - **Tag characters** U+E0020–U+E007E shadow ASCII U+0020–U+007E one for one; U+E0001
 *   (language tag), U+E007F (cancel tag) and the unassigned rest read as nothing.
 * - **Variation selectors** as bytes: U+FE00–U+FE0F are 0–15 and U+E0100–U+E01EF 16–255, a
 *   run of two or more read as UTF-8 when the bytes are well-formed UTF-8 (one selector after
 *   an emoji or a CJK character is ordinary text and reads as nothing).
 * Each run becomes its text between spaces, a word of its own beside the visible text around it;
 * the visible text is kept. `s` itself when it holds neither (one native search).
 */
export function decodeSmuggledText(s: string): string {
  // U+E0000–U+E01EF are all written with the high surrogate U+DB40. A run of BMP selectors
  // alone spells bytes 0–15 only (controls): every byte of text but those needs U+E0100 and up.
  if (!s.includes('\udb40')) return s
  return s.replace(TAG_RUNS, tagRunText).replace(SELECTOR_RUNS, selectorRunText)
}

const TAG_RUNS = /[\u{E0000}-\u{E007F}]+/gu
const SELECTOR_RUNS = /[\ufe00-\ufe0f\u{E0100}-\u{E01EF}]{2,}/gu

function tagRunText(run: string): string {
  let text = ''
  for (const ch of run) {
    const c = ch.codePointAt(0)! - 0xe0000
    if (c >= 0x20 && c <= 0x7e) text += String.fromCharCode(c)
  }
  return text === '' ? run : ` ${text} `
}

function selectorRunText(run: string): string {
  const bytes: number[] = []
  for (const ch of run) {
    const c = ch.codePointAt(0)!
    bytes.push(c <= 0xfe0f ? c - 0xfe00 : c - 0xe0100 + 16)
  }
  const buf = Buffer.from(bytes)
  return isUtf8(buf) ? ` ${buf.toString('utf8')} ` : run
}

/**
 * The text of markup as a parser joins it: CDATA sections' contents kept without their markers,
 * comments, processing instructions, declarations and tags removed, nothing put in their place —
 * `AKIAQWER<b></b>TYUI…`, `AKIAQWER<![CDATA[TYUI…]]>` or `previ<!-- x -->ous` read as one word,
 * as an XML or HTML parser hands the receiver the text. One pass with `indexOf` (linear: each
 * unit is read once); a `<` that starts no markup, or markup left open at the end, is kept as
 * written. `s` itself when it holds no `<`.
 */
export function markupText(s: string): string {
  if (!s.includes('<')) return s
  let out = ''
  let at = 0
  for (let i = s.indexOf('<'); i >= 0; i = s.indexOf('<', at)) {
    let end: number
    let keep = ''
    if (s.startsWith('<![CDATA[', i)) {
      const close = s.indexOf(']]>', i + 9)
      keep = close < 0 ? s.slice(i + 9) : s.slice(i + 9, close)
      end = close < 0 ? s.length : close + 3
    } else if (s.startsWith('<!--', i)) {
      const close = s.indexOf('-->', i + 4)
      end = close < 0 ? -1 : close + 3
    } else if (MARKUP_START.test(s.charAt(i + 1))) {
      const close = s.indexOf('>', i + 1)
      end = close < 0 ? -1 : close + 1
    } else {
      end = i + 1
      keep = '<'
    }
    if (end < 0) break
    out += s.slice(at, i) + keep
    at = end
  }
  return out + s.slice(at)
}
const MARKUP_START = /^[A-Za-z/?!]$/

/**
 * Markdown's emphasis, code and link syntax removed (`**all**`, `_all_`, `` `all` ``,
 * `~~all~~`, `[all](https://x)` read as `all`), as a model reads the words. `s` itself when it
 * holds no `*`, `` ` ``, `~~` or `](`: underscores alone (identifiers, URLs) are left to texts
 * that have other emphasis too.
 */
export function markdownText(s: string): string {
  if (!s.includes('*') && !s.includes('`') && !s.includes('~~') && !s.includes('](')) return s
  return s.replace(MD_LINK_TARGET, ' ').replace(MD_MARKERS, '')
}
const MD_LINK_TARGET = /\]\([^)\n]*\)/g
const MD_MARKERS = /[*_~`[]+/g
