/** Checksum validators of runtime spec §9.2. Inputs are regex hits; none of them logs its input. */
import {createHash} from 'node:crypto'
import {isAsciiText} from './ascii-text.js'
import {CORE_DLP_PATTERNS, DEFAULT_DLP_PATTERNS} from './catalogue.js'
import type {HitCheck, OneCaseCheck} from './pattern-types.js'
import {compileGlobalAsWritten, execBytes, type Re2} from './regex.js'

/** Credit card: digit count, issuer prefix/length table, then the Luhn sum. */
export function validateLuhn(hit: string): boolean {
  const digits: number[] = []
  for (const ch of hit) {
    if (ch >= '0' && ch <= '9') {
      digits.push(ch.charCodeAt(0) - 48)
      if (digits.length > 19) return false
    }
  }
  const n = digits.length
  if (n < 15 || n > 19) return false
  const prefix = (k: number): number => Number(digits.slice(0, k).join(''))
  let issuerOk = false
  switch (digits[0]) {
    case 4:
      issuerOk = n === 16 || n === 19
      break
    case 5:
      issuerOk = digits[1]! >= 1 && digits[1]! <= 5 && n === 16
      break
    case 3: {
      const p2 = prefix(2)
      const p4 = prefix(4)
      issuerOk = ((p2 === 34 || p2 === 37) && n === 15) || (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19)
      break
    }
    case 6: {
      const p4 = prefix(4)
      const p2 = prefix(2)
      issuerOk = (p4 === 6011 || (p4 >= 6440 && p4 <= 6499) || p2 === 65) && (n === 16 || n === 19)
      break
    }
    case 2: {
      const p4 = prefix(4)
      issuerOk = p4 >= 2221 && p4 <= 2720 && n === 16
      break
    }
    default:
      issuerOk = false
  }
  if (!issuerOk) return false
  let sum = 0
  for (let i = 0; i < n; i++) {
    let d = digits[n - 1 - i]!
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

/** IBAN lengths by country (§9.2). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(
    ('AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 ' +
      'EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 ' +
      'KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 ' +
      'PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SN28 SO23 ST25 SV28 TL23 TN24 ' +
      'TR26 UA29 VA22 VG24 XK20 YE30')
      .split(' ')
      .map((e) => [e.slice(0, 2), Number(e.slice(2))]),
  ),
)

function isUpper(c: string): boolean {
  return c >= 'A' && c <= 'Z'
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9'
}

export function validateMod97(hit: string): boolean {
  let s = ''
  for (const ch of hit) if (ch !== ' ' && ch !== '-') s += ch
  s = s.toUpperCase()
  if (s.length < 15 || s.length > 34) return false
  if (!isUpper(s[0]!) || !isUpper(s[1]!) || !isDigit(s[2]!) || !isDigit(s[3]!)) return false
  const want = IBAN_LENGTHS[s.slice(0, 2)]
  if (want === undefined || want !== s.length) return false
  const moved = s.slice(4) + s.slice(0, 4)
  let rem = 0
  for (const ch of moved) {
    let v: number
    if (isDigit(ch)) v = ch.charCodeAt(0) - 48
    else if (isUpper(ch)) v = ch.charCodeAt(0) - 55
    else return false
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97
  }
  return rem === 1
}

/** ABA routing number: 9 digits, Fed prefix ranges, weights 3,7,1. */
export function validateAba(hit: string): boolean {
  if (hit.length !== 9) return false
  for (const ch of hit) if (!isDigit(ch)) return false
  const p = Number(hit.slice(0, 2))
  const prefixOk = (p >= 0 && p <= 12) || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p === 80
  if (!prefixOk) return false
  const w = [3, 7, 1]
  let sum = 0
  for (let i = 0; i < 9; i++) sum += (hit.charCodeAt(i) - 48) * w[i % 3]!
  return sum % 10 === 0
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** Each ASCII code unit's base58 digit, or -1. */
const B58_DIGIT = new Int8Array(128).fill(-1)
for (let i = 0; i < B58.length; i++) B58_DIGIT[B58.charCodeAt(i)] = i

/** 58⁰ … 58⁸ as BigInt: eight digits (< 2⁴⁷) are gathered in a Number, then folded in at once. */
const POW58 = Array.from({length: 9}, (_, k) => 58n ** BigInt(k))

export function base58Decode(s: string): Buffer | null {
  // Digits gathered eight at a time in a Number, one BigInt step per eight (a digit per BigInt
  // step was most of a WIF check: the sorted join of a JSON body's numbers holds dozens of
  // 51-digit runs starting with '5'). A code unit outside the alphabet (a surrogate included,
  // as the code-point walk's indexOf found no astral character) is a refusal.
  let n = 0n
  let chunk = 0
  let k = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const v = c < 128 ? B58_DIGIT[c]! : -1
    if (v < 0) return null
    chunk = chunk * 58 + v
    if (++k === 8) {
      n = n * POW58[8]! + BigInt(chunk)
      chunk = 0
      k = 0
    }
  }
  if (k > 0) n = n * POW58[k]! + BigInt(chunk)
  let hex = n === 0n ? '' : n.toString(16)
  if (hex.length % 2 === 1) hex = '0' + hex
  let zeros = 0
  while (zeros < s.length && s[zeros] === '1') zeros++
  return Buffer.concat([Buffer.alloc(zeros), Buffer.from(hex, 'hex')])
}

function sha256(b: Buffer): Buffer {
  return createHash('sha256').update(b).digest()
}

/** Whether decoded Base58Check bytes (≥ 5) end with the first 4 bytes of SHA-256(SHA-256(payload)). */
function checksumHolds(raw: Buffer): boolean {
  const body = raw.subarray(0, raw.length - 4)
  return sha256(sha256(body)).subarray(0, 4).equals(raw.subarray(raw.length - 4))
}

/** Base58Check with the 4-byte double-SHA-256 checksum; returns the payload incl. version byte. */
export function base58CheckDecode(s: string): Buffer | null {
  const raw = base58Decode(s)
  if (raw === null || raw.length < 5) return null
  return checksumHolds(raw) ? raw.subarray(0, raw.length - 4) : null
}

/**
 * Bitcoin WIF: version 0x80, 32-byte key, or 33 bytes ending 0x01 (compressed). The version and
 * length are read before the checksum is hashed (the same conjunction; most hits fail them).
 */
export function validateWif(hit: string): boolean {
  const raw = base58Decode(hit)
  if (raw === null || raw.length < 5 || raw[0] !== 0x80) return false
  const keyLength = raw.length - 5
  if (keyLength !== 32 && !(keyLength === 33 && raw[33] === 0x01)) return false
  return checksumHolds(raw)
}

const IS_B58 = new Uint8Array(128)
for (let i = 0; i < B58.length; i++) IS_B58[B58.charCodeAt(i)] = 1

/** Whether a UTF-16 code unit is a base58 digit. */
export function isBase58Unit(c: number): boolean {
  return c < 128 && IS_B58[c] === 1
}

/**
 * False only when no substring of `text` can pass validator `name`, so its pattern's hits need
 * not be enumerated. `wif`, whatever the regex: an accepted hit is base58 throughout
 * (`base58Decode` rejects any other character) and decodes to 37 or 38 bytes starting 0x80 (no
 * leading '1', which would decode to a zero byte), so it is the base58 form of a number in
 * [0x80·256³⁶, 0x81·256³⁶) — 51 digits, the first '5' — or in [0x80·256³⁷, 0x81·256³⁷) — 52
 * digits, the first 'K' or 'L' (`validator-prefilter.test.ts` checks these bounds). So the text
 * holds a '5' followed by 50 more base58 characters, or a 'K' or 'L' followed by 51, led by
 * the two digits `isKeyStart` allows. The
 * case-insensitive WIF regex matches any long alphanumeric run (a value without spaces, a
 * sorted join of JSON values glued by DLP's normalisation), and enumerating those hits was the
 * largest part of text DLP on such texts (issue 36). Other validators: true.
 */
export function mayValidateIn(name: HitCheck, text: string): boolean {
  if (name !== 'wif') return true
  // Walked from the end: `ahead` = base58 characters in a row from position i on.
  let ahead = 0
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i)
    if (c >= 128 || IS_B58[c] !== 1) {
      ahead = 0
      continue
    }
    ahead++
    if (ahead >= 51 && isKeyStart(c, text.charCodeAt(i + 1), ahead)) return true
  }
  return false
}

/**
 * Whether an accepted WIF string can start with the units `c`, `next` followed by base58
 * characters to `ahead` in all: the interval [0x80·256³⁶, 0x81·256³⁶) in base58 runs from `5HpH…`
 * to `5Km2…` (51 digits), and [0x80·256³⁷, 0x81·256³⁷) from `KwDi…` to `L5oL…` (52 digits), so
 * its first two digits are `5H`, `5J` or `5K` (base58 has no `I`), or `Kw`–`Kz` or `L1`–`L5`
 * (`validator-prefilter.test.ts` checks these bounds). The two-digit lead refuses the runs of
 * digits a sorted join of JSON numbers glues (a `5` then digits).
 */
function isKeyStart(c: number, next: number, ahead: number): boolean {
  if (c === 0x35) return next === 0x48 || next === 0x4a || next === 0x4b
  if (ahead < 52) return false
  if (c === 0x4b) return next >= 0x77 && next <= 0x7a
  return c === 0x4c && next >= 0x31 && next <= 0x35
}

/** `[1-9A-Za-z]`: the ASCII characters the built-in WIF regex matches, case-insensitively. */
const IS_WIF_CLASS = new Uint8Array(128)
for (let c = 0x31; c <= 0x39; c++) IS_WIF_CLASS[c] = 1
for (let c = 0x41; c <= 0x5a; c++) IS_WIF_CLASS[c] = IS_WIF_CLASS[c + 32] = 1

/**
 * Possible key starts, as `mayValidateIn` reads them: `5H`/`5J`/`5K` followed by 49 more base58
 * characters, or `Kw`–`Kz`/`L1`–`L5` followed by 50 (case-sensitive, unlike the pattern). Built
 * on first use.
 */
let keyStarts: Re2 | undefined
export const WIF_KEY_START = '5[HJK][1-9A-HJ-NP-Za-km-z]{49}|K[w-z][1-9A-HJ-NP-Za-km-z]{50}|L[1-5][1-9A-HJ-NP-Za-km-z]{50}'

/**
 * For the built-in WIF regex over an all-ASCII text: the maximal runs of `[1-9A-Za-z]` that hold
 * a possible key start (`mayValidateIn`'s '5' followed by 50 more base58 characters, or 'K'/'L'
 * by 51), as ascending `[start, end)` pairs; null when the text holds a non-ASCII unit. Every
 * hit of that regex lies inside one such run of its class (the case-insensitive class is
 * `[1-9A-Za-z]` in ASCII), so a run's hits do not depend on the hits before it, and a hit that
 * validates lies in a run with a key start. The key starts are found by a native search of the
 * text's bytes (a match is base58 throughout, so inside one run): each match's run is read out
 * around it and the search goes on after the run (a run's first key start is matched unless an
 * earlier match of the same run holds it).
 */
export function wifCandidateRuns(text: string): number[] | null {
  if (!isAsciiText(text)) return null
  const out: number[] = []
  const g = (keyStarts ??= compileGlobalAsWritten(WIF_KEY_START))
  // Most texts hold no key start: asked on the string first (a global regex's `test` from
  // `lastIndex` 0, reset after), without copying the text into a buffer.
  g.lastIndex = 0
  const any = g.test(text)
  g.lastIndex = 0
  if (!any) return out
  const bytes = Buffer.from(text, 'latin1')
  try {
    for (;;) {
      const m = execBytes.call(g, bytes)
      if (m === null) break
      let start = m.index
      while (start > 0 && IS_WIF_CLASS[bytes[start - 1]!] === 1) start--
      let end = m.index + m[0].length
      while (end < bytes.length && IS_WIF_CLASS[bytes[end]!] === 1) end++
      out.push(start, end)
      if (end >= bytes.length) break
      g.lastIndex = end
    }
  } finally {
    g.lastIndex = 0
  }
  return out
}

/**
 * The first hit of the built-in WIF regex that its validator accepts in an all-ASCII text, among
 * the regex's first `limit` hits, or null: what enumerating its hits with RE2 and validating each
 * finds, read by one walk of the text. The forced case-insensitive regex,
 * `(?i)(?:5[…]{50}|[KL][…]{51})`, has class `[1-9A-Za-z]` in ASCII and two branches of fixed
 * length that a start's first unit tells apart: inside a run of that class, a hit starts at the
 * first `5` with 50 class units after it or `K`/`L` (either case) with 51, and the search goes on
 * after it, leftmost-first as RE2's. Hits are counted as RE2's are, and only a hit whose two first
 * units can begin an accepted key (`isKeyStart`) is decoded and checked. On long base64 text (a
 * request's image) RE2's walk of the regex ran at 35 MB/s: its counted class keeps dozens of
 * threads alive in such text (issue 36); this walk reads each unit once.
 */
export function firstValidWifHit(text: string, limit: number): {index: number; length: number} | null {
  const n = text.length
  let hits = 0
  let i = 0
  while (i < n) {
    if (IS_WIF_CLASS[text.charCodeAt(i)] !== 1) {
      i++
      continue
    }
    let end = i + 1
    while (end < n && IS_WIF_CLASS[text.charCodeAt(end)] === 1) end++
    for (let p = i; p + 51 <= end; ) {
      const c = text.charCodeAt(p)
      const length = c === 0x35 ? 51 : c === 0x4b || c === 0x4c || c === 0x6b || c === 0x6c ? 52 : 0
      if (length === 0 || p + length > end) {
        p++
        continue
      }
      hits++
      if (isKeyStart(c, text.charCodeAt(p + 1), length) && validateWif(text.slice(p, p + length))) return {index: p, length}
      if (hits >= limit) return null
      p += length
    }
    i = end + 1
  }
  return null
}

/** The built-in patterns whose tokens are issued in one case, by the check they carry (`dlp-patterns.ts`). */
export const ONE_CASE_PATTERNS: Readonly<Record<OneCaseCheck, string>> = {aws_key_id: 'AWS Access ID', databricks_token: 'Databricks Token'}

/** The catalogue regex (as written) of the built-in pattern a one-case check belongs to. */
export function oneCaseRegex(check: OneCaseCheck): string {
  return [...CORE_DLP_PATTERNS, ...DEFAULT_DLP_PATTERNS].find((p) => p.name === ONE_CASE_PATTERNS[check])!.regex
}

/**
 * Each check's catalogue regex, case-sensitive, written in upper case and in lower case: the
 * token as issued (`AKIA…`, `dapi…`) and a copy changed in case, which the forced `(?i)` is there
 * to find. Built on first use from the catalogue entry itself; neither regex holds an escape or a
 * class a change of case would alter (refused here if one ever did).
 */
const oneCaseForms = new Map<OneCaseCheck, readonly [RegExp, RegExp]>()
function formsOf(check: OneCaseCheck): readonly [RegExp, RegExp] {
  let forms = oneCaseForms.get(check)
  if (forms === undefined) {
    const regex = oneCaseRegex(check)
    if (/[\\]|\(\?/.test(regex)) throw new Error(`${ONE_CASE_PATTERNS[check]}: its regex cannot be read in one case by changing its case`)
    forms = [new RegExp(regex.toUpperCase()), new RegExp(regex.toLowerCase())]
    oneCaseForms.set(check, forms)
  }
  return forms
}

/**
 * A hit of a built-in pattern whose tokens are issued in one case (`AWS Access ID` in upper
 * case, `Databricks Token` in lower) holds a token when some stretch of it is one written in a
 * single case, either case. The regexes are case-insensitive, as every DLP pattern is, so they
 * also match runs of mixed case, which are no such token: base64 holds `A3T` and sixteen letters
 * and digits of mixed case in about two of three 48 KiB images, and an image sent to a model in
 * a chat request was blocked as a critical finding (docs/compatibility.md). The whole hit is
 * searched, not its start: a token inside a longer run of letters and digits is in the same hit.
 */
export function validateOneCase(check: OneCaseCheck, hit: string): boolean {
  const [upper, lower] = formsOf(check)
  return upper.test(hit) || lower.test(hit)
}

/**
 * Whether some stretch of `hit` is an AWS access key id as issued: its prefix, then sixteen
 * characters of the base32 alphabet (A–Z and 2–7), either case. The catalogue regex takes any
 * sixteen letters or digits, as the reference's does, and a key written whole is read by it;
 * this narrower form judges a hit that only a reading joining pieces makes (joints.ts): a user
 * name and a hex id, `aidan` and `/8e8fa57c…` of a gist URL, read `AIDAN8E8FA57C…`, which no
 * issued key id is (hex holds 0, 1, 8 and 9).
 */
export function awsKeyIdAsIssued(hit: string): boolean {
  return (awsIssued ??= issuedForm()).test(hit)
}
let awsIssued: RegExp | undefined
function issuedForm(): RegExp {
  const regex = oneCaseRegex('aws_key_id')
  const body = '[A-Z0-9]{16,}'
  if (!regex.endsWith(body)) throw new Error(`AWS Access ID: its regex no longer ends in ${body}`)
  return new RegExp(`${regex.slice(0, -body.length)}[A-Z2-7]{16}`, 'i')
}

export function runValidator(name: HitCheck, hit: string): boolean {
  switch (name) {
    case 'aws_key_id':
    case 'databricks_token':
      return validateOneCase(name, hit)
    case 'luhn':
      return validateLuhn(hit)
    case 'mod97':
      return validateMod97(hit)
    case 'aba':
      return validateAba(hit)
    case 'wif':
      return validateWif(hit)
  }
}
