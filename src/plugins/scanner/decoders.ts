import {goUnescape} from '../canonical/index.js'

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

export function decodeHexStrict(s: string): Buffer | null {
  if (s.length === 0 || s.length % 2 !== 0 || !isHexDigits(s)) return null
  return Buffer.from(s, 'hex')
}

/** Normalised hex: drop `\x`/`\X`/`0x`/`0X` prefixes and `:`, space, `-`, `,` separators. */
export function decodeHexNormalised(s: string): Buffer | null {
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
  return decodeHexStrict(out)
}

/** Hex strict, else normalised hex (§5.6). */
export function decodeHexAny(s: string): Buffer | null {
  return decodeHexStrict(s) ?? decodeHexNormalised(s)
}

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function table(alphabet: string): Int8Array {
  const t = new Int8Array(128).fill(-1)
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i
  return t
}

/** Go's decoders skip '\r' and '\n' anywhere. Unchanged runs are copied as slices. */
function withoutCrLf(input: string): string {
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

function decodeBase64With(input: string, tbl: Int8Array, padded: boolean): Buffer | null {
  const s = withoutCrLf(input)
  if (s.length === 0) return null
  let end = s.length
  if (padded) {
    if (s.length % 4 !== 0) return null
    let pad = 0
    while (pad < 2 && end > 0 && s.charCodeAt(end - 1) === 0x3d) {
      end--
      pad++
    }
  } else if (s.length % 4 === 1) {
    return null
  }
  // Validate before allocating: most candidates (prose, joined values) fail on an early character.
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c >= 128 || tbl[c]! < 0) return null
  }
  const out = new Uint8Array(Math.floor((end * 6) / 8))
  let o = 0
  let bits = 0
  let acc = 0
  for (let i = 0; i < end; i++) {
    const v = tbl[s.charCodeAt(i)]!
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  if (o === 0) return null
  return Buffer.from(out.buffer, 0, o)
}

export type Base64Variant = 'std' | 'url' | 'std_raw' | 'url_raw'

/**
 * Standard padded, URL-safe padded, standard unpadded, URL-safe unpadded — in that order (§5.6).
 * Variants that would decode the same bytes share one decode (a 1 MiB token is decoded at most
 * twice, not four times).
 */
export function decodeBase64Variants(s: string): Array<{variant: Base64Variant; bytes: Buffer}> {
  let hasStd = false
  let hasUrl = false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x2b || c === 0x2f) hasStd = true
    else if (c === 0x2d || c === 0x5f) hasUrl = true
    // A character outside both alphabets, '=' and CR/LF fails every variant: no decode, no garbage.
    else if (c >= 128 || (ANY_B64[c] === 0)) return []
  }
  if (hasStd && hasUrl) return [] // mixed alphabets never decode
  const tbl = hasUrl ? URL_TABLE : STD_TABLE
  const padded = decodeBase64With(s, tbl, true)
  // Without '=' and with a length that is a multiple of 4, raw and padded decodings coincide.
  const raw = padded !== null && !s.includes('=') ? padded : decodeBase64With(s, tbl, false)
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

const STD_TABLE = table(STD)
const URL_TABLE = table(URL)
/** 1 for the characters a base64 variant can accept somewhere: both alphabets, '=', CR and LF. */
const ANY_B64 = new Uint8Array(128)
for (const ch of STD + URL + '=\r\n') ANY_B64[ch.charCodeAt(0)] = 1

const B32_TABLE = table('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')

/** Base32 standard alphabet, padded (Go `base32.StdEncoding`). */
export function decodeBase32Std(input: string): Buffer | null {
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
  const body = s.slice(0, end)
  if (![0, 1, 3, 4, 6].includes(pad)) return null
  let bits = 0
  let acc = 0
  const out = new Uint8Array(Math.floor((body.length * 5) / 8))
  let o = 0
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i)
    const v = c < 128 ? B32_TABLE[c]! : -1
    if (v < 0) return null
    acc = ((acc << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  if (o === 0) return null
  return Buffer.from(out.buffer, 0, o)
}

export function bytesToText(b: Buffer): string {
  return b.toString('utf8')
}

/** Every successful decoding of a candidate string (§5.6): hex (or normalised hex), base64 ×4, base32. */
export function candidateDecodings(s: string): Array<{encoding: string; text: string}> {
  const out: Array<{encoding: string; text: string}> = []
  const seen = new Set<Buffer>()
  const add = (encoding: string, b: Buffer): void => {
    // Identical decodings (shared buffers of equivalent base64 variants) are scanned once.
    if (seen.has(b)) return
    seen.add(b)
    out.push({encoding, text: bytesToText(b)})
  }
  const h = decodeHexAny(s)
  if (h !== null && h.length > 0) add('hex', h)
  for (const d of decodeBase64Variants(s)) add('base64', d.bytes)
  const b32 = decodeBase32Std(s)
  if (b32 !== null) add('base32', b32)
  return out
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

/** Noise stripping (§5.7). */
export function stripNoise(s: string): string {
  let out = ''
  for (const ch of s) {
    if (ch === '.' || ch === '/' || ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '+' || ch === ',' || ch === ';' || ch === '|') continue
    out += ch
  }
  return out
}
