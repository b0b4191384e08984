/**
 * The URL scan's allocation cuts (issue 15) are optimisations only. The oracles below are the
 * code they replaced, kept verbatim in behaviour: the §5.6 candidate decoders, noise stripping,
 * the string-built junction screen (`hitting` / chains / `subsequenceTexts`), the joined
 * no-match pass, and the target list with its per-scan memo. On seeded random and crafted
 * inputs — non-ASCII, surrogates, percent-encoding, '+', base64/hex/base32 pieces, secrets split
 * across query values — every replacement gives the same result, and whole URL scans through
 * the one-pass clean proof equal the target-by-target path.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {goEscapedPath, goUnescape, goUrlString, parseGoUrl, splitQuery, type GoUrl} from '../../../src/plugins/canonical/index.js'
import {
  candidateDecodings, createDlpEngine, createUrlScanner, decodeBase32Std, decodeBase64Variants, decodeHexAny, defaultScannerSettings,
  iterativeDecode, RateLimiter, scanUrl, stripNoise,
} from '../../../src/plugins/scanner/index.js'
import {ByteLines} from '../../../src/plugins/scanner/byte-lines.js'
import {DecodeScratch} from '../../../src/plugins/scanner/decoders.js'
import {FindingSet, noPatternMatchesAny, runEngine, type DlpEngine} from '../../../src/plugins/scanner/dlp-engine.js'
import {utf8Length} from '../../../src/plugins/scanner/entropy.js'
import {setMatches} from '../../../src/plugins/scanner/pattern-set.js'
import {hitting, subsequenceTexts, type JunctionScreen} from '../../../src/plugins/scanner/subsequence.js'
import {dlpTargets, ScanMemo, someSeedTarget, subsequenceValues, targetsProvenClean} from '../../../src/plugins/scanner/url-targets.js'
import {alnum, anthropicKey, awsKeyId, githubToken, hexLower, j, prng, splitSecret} from './fixtures.js'

/** Every visit of `someSeedTarget`, as a list (what the scan's seed stage looks at, in order). */
function seedTargets(u: GoUrl, host: string, m: ScanMemo): string[] {
  const out: string[] = []
  someSeedTarget(u, host, m, (t) => {
    out.push(t)
    return false
  })
  return out
}

// ---- Oracles: the replaced code ----------------------------------------------------------

function isHexDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false
  }
  return true
}
function oldHexStrict(s: string): Buffer | null {
  if (s.length === 0 || s.length % 2 !== 0 || !isHexDigits(s)) return null
  return Buffer.from(s, 'hex')
}
function oldHexNormalised(s: string): Buffer | null {
  if (s.length < 4) return null
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const hex = (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
    if (!hex && c !== 0x5c && c !== 0x78 && c !== 0x58 && c !== 0x3a && c !== 0x20 && c !== 0x2d && c !== 0x2c) return null
  }
  const t = s.split('\\x').join('').split('\\X').join('').split('0x').join('').split('0X').join('')
  let out = ''
  for (const ch of t) if (ch !== ':' && ch !== ' ' && ch !== '-' && ch !== ',') out += ch
  return oldHexStrict(out)
}
const table = (alphabet: string): Int8Array => {
  const t = new Int8Array(128).fill(-1)
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i
  return t
}
const STD_T = table('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
const URL_T = table('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')
const B32_T = table('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')
const ANY_B64 = new Uint8Array(128)
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=\r\n') ANY_B64[ch.charCodeAt(0)] = 1
function oldWithoutCrLf(input: string): string {
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
function oldBase64With(input: string, tbl: Int8Array, padded: boolean): Buffer | null {
  const s = oldWithoutCrLf(input)
  if (s.length === 0) return null
  let end = s.length
  if (padded) {
    if (s.length % 4 !== 0) return null
    let pad = 0
    while (pad < 2 && end > 0 && s.charCodeAt(end - 1) === 0x3d) {
      end--
      pad++
    }
  } else if (s.length % 4 === 1) return null
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c >= 128 || tbl[c]! < 0) return null
  }
  const out = new Uint8Array(Math.floor((end * 6) / 8))
  let o = 0
  let bits = 0
  let acc = 0
  for (let i = 0; i < end; i++) {
    acc = ((acc << 6) | tbl[s.charCodeAt(i)]!) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  if (o === 0) return null
  return Buffer.from(out.buffer, 0, o)
}
function oldBase64Variants(s: string): Array<{variant: string; bytes: Buffer}> {
  let hasStd = false
  let hasUrl = false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x2b || c === 0x2f) hasStd = true
    else if (c === 0x2d || c === 0x5f) hasUrl = true
    else if (c >= 128 || ANY_B64[c] === 0) return []
  }
  if (hasStd && hasUrl) return []
  const tbl = hasUrl ? URL_T : STD_T
  const padded = oldBase64With(s, tbl, true)
  const raw = padded !== null && !s.includes('=') ? padded : oldBase64With(s, tbl, false)
  const out: Array<{variant: string; bytes: Buffer}> = []
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
function oldBase32(input: string): Buffer | null {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i)
    if (c >= 128 || (B32_T[c]! < 0 && c !== 0x3d && c !== 0x0d && c !== 0x0a)) return null
  }
  const s = oldWithoutCrLf(input)
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
    const v = c < 128 ? B32_T[c]! : -1
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
function oldCandidateDecodings(s: string): Array<{encoding: string; text: string}> {
  const out: Array<{encoding: string; text: string}> = []
  const seen = new Set<Buffer>()
  const add = (encoding: string, b: Buffer): void => {
    if (seen.has(b)) return
    seen.add(b)
    out.push({encoding, text: b.toString('utf8')})
  }
  const h = oldHexStrict(s) ?? oldHexNormalised(s)
  if (h !== null && h.length > 0) add('hex', h)
  for (const d of oldBase64Variants(s)) add('base64', d.bytes)
  const b32 = oldBase32(s)
  if (b32 !== null) add('base32', b32)
  return out
}
function oldStripNoise(s: string): string {
  let out = ''
  for (const ch of s) {
    if (ch === '.' || ch === '/' || ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '+' || ch === ',' || ch === ';' || ch === '|') continue
    out += ch
  }
  return out
}

function oldHitting(texts: readonly string[], screen: JunctionScreen): number[] {
  const out: number[] = []
  const probe = (lo: number, hi: number): void => {
    const r = setMatches(screen.set, Buffer.from(hi - lo === 1 ? texts[lo]! : texts.slice(lo, hi).join('\n'), 'utf8'))
    if (r !== null && r.length === 0) return
    if (hi - lo === 1) {
      out.push(lo)
      return
    }
    const mid = (lo + hi) >> 1
    probe(lo, mid)
    probe(mid, hi)
  }
  let lo = 0
  let size = 0
  for (let i = 0; i < texts.length; i++) {
    size += texts[i]!.length + 1
    if (size >= 16384) {
      probe(lo, i + 1)
      lo = i + 1
      size = 0
    }
  }
  if (lo < texts.length) probe(lo, texts.length)
  return out
}

function oldSubsequenceTexts(values: readonly string[], screen: JunctionScreen | null, normalize: (s: string) => string): string[] {
  if (values.length < 3) return []
  const v = values.slice(0, 20)
  const n = v.length
  const printable = (s: string): boolean => [...s].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) <= 0x7e)
  const screened = screen !== null && v.every(printable)
  let h: {value: Uint8Array; pair: Uint8Array; triple: Uint8Array; quad: Set<number>} | null = null
  if (screened) {
    const w = screen.window
    const tail = (s: string, k: number): string => (s.length <= k ? s : s.slice(s.length - k))
    const head = (s: string, k: number): string => (s.length <= k ? s : s.slice(0, k))
    const texts: string[] = [...v]
    const keys: number[] = v.map((_, i) => i)
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        texts.push(tail(v[a]!, w - 1) + head(v[b]!, w - 1))
        keys.push(n + a * n + b)
        const mb = v[b]!.length
        if (mb > w - 2) continue
        for (let c = b + 1; c < n; c++) {
          const k3 = w - 1 - mb
          texts.push(tail(v[a]!, k3) + v[b]! + head(v[c]!, k3))
          keys.push(n + n * n + (a * n + b) * n + c)
          const mc = mb + v[c]!.length
          if (mc > w - 2) continue
          const k4 = w - 1 - mc
          for (let d = c + 1; d < n; d++) {
            texts.push(tail(v[a]!, k4) + v[b]! + v[c]! + head(v[d]!, k4))
            keys.push(-(((a * n + b) * n + c) * n + d) - 1)
          }
        }
      }
    }
    const hit = oldHitting(texts, screen)
    if (hit.length === 0 && (screen.runs ?? []).length === 0) return []
    h = {value: new Uint8Array(n), pair: new Uint8Array(n * n), triple: new Uint8Array(n * n * n), quad: new Set<number>()}
    for (const i of hit) {
      const key = keys[i]!
      if (key < 0) h.quad.add(-key - 1)
      else if (key < n) h.value[key] = 1
      else if (key < n + n * n) h.pair[key - n] = 1
      else h.triple[key - n - n * n] = 1
    }
  }
  const out = new Set<string>()
  const add = (t: string): void => void out.add(screened ? t : normalize(t))
  // A run rule, read on the built string: some maximal run of its class has a length in its range.
  const rules = screened ? screen.runs ?? [] : []
  const byRuns = (t: string): boolean => rules.some((r) => {
    // The maximal runs of the class, by a regex over the whole string (printable ASCII).
    const cls = `[${[...Array(128).keys()].filter((c) => r.cls[c] === 1).map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('')}]+`
    return (t.match(new RegExp(cls, 'g')) ?? []).some((run) => run.length >= r.min && run.length <= r.max)
  })
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const k2 = h === null || h.value[a] === 1 || h.value[b] === 1 || h.pair[a * n + b] === 1
      if (k2 || byRuns(v[a]! + v[b]!)) add(v[a]! + v[b]!)
      for (let c = b + 1; c < n; c++) {
        const k3 = k2 || h === null || h.value[c] === 1 || h.pair[b * n + c] === 1 || h.triple[(a * n + b) * n + c] === 1
        if (k3 || byRuns(v[a]! + v[b]! + v[c]!)) add(v[a]! + v[b]! + v[c]!)
        for (let d = c + 1; d < n; d++) {
          const k4 = k3 || h === null || h.value[d] === 1 || h.pair[c * n + d] === 1 || h.triple[(b * n + c) * n + d] === 1 || h.quad.has(((a * n + b) * n + c) * n + d)
          if (k4 || byRuns(v[a]! + v[b]! + v[c]! + v[d]!)) add(v[a]! + v[b]! + v[c]! + v[d]!)
        }
      }
    }
  }
  return [...out]
}

function oldNoPatternMatchesAny(engine: DlpEngine, texts: readonly string[]): boolean {
  if (engine.allSet === null || !engine.lineBatchable) return false
  const joined = texts.join('\n')
  if (joined.length > 65536) return false
  const idx = setMatches(engine.allSet, Buffer.from(joined, 'utf8'))
  return idx !== null && idx.length === 0
}

/** The per-scan memo and target builders as they were. */
class OldMemo {
  private readonly decoded = new Map<string, string>()
  private readonly decodings = new Map<string, ReadonlyArray<{encoding: string; text: string}>>()
  decode(s: string): string {
    let v = this.decoded.get(s)
    if (v === undefined) this.decoded.set(s, (v = iterativeDecode(s)))
    return v
  }
  candidates(s: string): ReadonlyArray<{encoding: string; text: string}> {
    let v = this.decodings.get(s)
    if (v === undefined) this.decodings.set(s, (v = oldCandidateDecodings(s)))
    return v
  }
}
function oldDlpTargets(u: GoUrl, host: string, m: OldMemo): Array<{text: string; kind: string; decoding: boolean}> {
  const t: Array<{text: string; kind: string; decoding: boolean}> = []
  const add = (text: string, kind: string, decoding = false): void => {
    if (text !== '') t.push({text, kind, decoding})
  }
  add(goUrlString(u), 'url')
  add(u.path, 'path')
  add(m.decode(u.rawQuery), 'query')
  for (const p of splitQuery(u.rawQuery)) {
    for (const x of [p.key, p.value]) {
      const d = m.decode(x)
      add(d, 'param')
      for (const dec of m.candidates(d)) add(dec.text, `param_${dec.encoding}`, true)
      // The pieces between punctuation no decoder alphabet holds, 10 bytes or more, when there is any.
      if (/[.|!@#*~$^]/.test(d)) for (const piece of d.split(/[.|!@#*~$^]/).filter((x) => utf8Length(x) >= 10)) for (const dec of m.candidates(piece)) add(dec.text, `param_${dec.encoding}`, true)
      add(oldStripNoise(d), 'param_noise')
    }
  }
  const rawDecoded = m.decode(goEscapedPath(u))
  if (rawDecoded !== u.path) add(rawDecoded, 'raw_path')
  for (const seg of u.path.split('/')) {
    if (utf8Length(seg) < 10) continue
    for (const dec of m.candidates(seg)) add(dec.text, `segment_${dec.encoding}`)
    if (/[.|!@#*~$^]/.test(seg)) for (const piece of seg.split(/[.|!@#*~$^]/).filter((x) => utf8Length(x) >= 10)) for (const dec of m.candidates(piece)) add(dec.text, `segment_${dec.encoding}`)
  }
  add(host.split('.').join(''), 'host')
  // A host with a '-' or '_' also without them (joints.ts).
  if (/[-_]/.test(host)) add(host.split(/[-_.]/).join(''), 'host_joined')
  add(oldStripNoise(u.path), 'path_noise')
  if (u.rawQuery.includes('&')) {
    const joined = u.rawQuery.split('&').map((part) => {
      const eq = part.indexOf('=')
      return m.decode(eq >= 0 ? part.slice(eq + 1) : '')
    }).join('')
    add(joined, 'concat')
    add(oldStripNoise(joined), 'concat_noise')
  }
  // Each parameter's decoded name and value as one text, the parameters space-separated.
  const named = splitQuery(u.rawQuery).map((p) => m.decode(p.key) + m.decode(p.value)).join(' ')
  if (named !== m.decode(u.rawQuery)) {
    add(named, 'query_named')
    add(oldStripNoise(named), 'query_named_noise')
  }
  // The path's last segment (one trailing '/' left off), then every decoded name and value, with
  // nothing between them.
  const pairs = splitQuery(u.rawQuery)
  const last = u.path.replace(/\/$/, '').split('/').pop()!
  if (pairs.length > 0 && last !== '') add(last + pairs.map((p) => m.decode(p.key) + m.decode(p.value)).join(''), 'path_query')
  return t
}
function oldSubsequenceValues(rawQuery: string, m: OldMemo): string[] {
  const vals: string[] = []
  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const v = part.slice(eq + 1)
    if (v !== '') vals.push(m.decode(v))
  }
  return vals
}
function oldSeedTargets(u: GoUrl, host: string, m: OldMemo): string[] {
  const out: string[] = [u.path, m.decode(u.rawQuery)]
  const values: string[] = []
  for (const p of splitQuery(u.rawQuery)) {
    const v = m.decode(p.value)
    values.push(v)
    out.push(v)
    for (const d of m.candidates(v)) out.push(d.text)
  }
  out.push(values.join(' '))
  for (const seg of u.path.split('/')) {
    if (utf8Length(seg) < 20) continue
    for (const d of m.candidates(seg)) out.push(d.text)
  }
  out.push(host.split('.').join(' '))
  out.push(u.path.split('/').join(' '))
  return out
}

/** What the scanner does with a target list: first occurrence of each normalised text, core-eligible if any duplicate is. */
function byText(engine: DlpEngine, targets: ReadonlyArray<{text: string; kind: string; decoding: boolean}>): Array<[string, string, boolean]> {
  const m = new Map<string, {kind: string; decoding: boolean}>()
  for (const t of targets) {
    const norm = engine.normalizer.forDlp(t.text)
    const seen = m.get(norm)
    if (seen === undefined) m.set(norm, {kind: t.kind, decoding: t.decoding})
    else if (seen.decoding && !t.decoding) seen.decoding = false
  }
  return [...m].map(([k, v]) => [k, v.kind, v.decoding])
}

// ---- Inputs ---------------------------------------------------------------------------

const ODD = ['é', 'ｓｋ', '\u200b', 'a\u0301', '\u212a', '😀', '\ud800', '\udc00', '\u0000', '\u007f', 'Ω', '\ufffd', 'ß']

/** A random candidate-decoder input over the alphabets, separators, padding, CR/LF and odd characters. */
function decoderInput(r: () => number): string {
  const pools = [
    '0123456789abcdefABCDEF', '0123456789abcdef\\x:- ,0X', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=',
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=', 'AB2=\r\n', 'hotel-97634+/_',
  ]
  const pool = pools[Math.floor(r() * pools.length)]!
  const n = Math.floor(r() * 48)
  let s = ''
  for (let i = 0; i < n; i++) s += r() < 0.02 ? ODD[Math.floor(r() * ODD.length)]! : pool[Math.floor(r() * pool.length)]!
  return s
}

/** Percent-encoding of `s`, lone surrogates (which it cannot encode) as 'x'. */
const pct = (s: string): string => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, 'x'))

/** Encodings of a text as a query value would carry it. */
function encodings(r: () => number, s: string): string {
  const x = r()
  if (x < 0.2) return Buffer.from(s).toString('base64')
  if (x < 0.35) return Buffer.from(s).toString('base64url')
  if (x < 0.5) return Buffer.from(s).toString('hex')
  if (x < 0.55) return Buffer.from(s).toString('hex').replace(/(..)/g, '\\x$1')
  if (x < 0.65) return pct(s)
  return s
}

function secretList(r: () => number): string[] {
  const s = Math.floor(r() * 1e6)
  return [awsKeyId(s), githubToken(s), anthropicKey(s), j('sk', '-proj-', alnum(30, s)), j('0x', hexLower(64, s)), j('xo', 'xb-', alnum(20, s)), 'GB82WEST12345698765432', j('MY_', 'API_KEY', '=', alnum(12, s))]
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet']

/** A random URL: clean words and ids, encoded pieces, secrets whole and split across values, odd characters. */
/** `blobs`: some values and path segments an encoded key beside punctuation no decoder alphabet holds. */
function randomUrl(r: () => number, i: number, blobs = true): string {
  const hosts = [
    'api.example.com', 'example.org', 'a.b.c.example.net', '93.184.216.34', 'xn--bcher-kva.example', 'AKIA.example.com',
    'asia-northeast1-docker.pkg.dev', `${awsKeyId(i).slice(0, 9)}-${awsKeyId(i).slice(9)}.example.com`, 'my_svc-2.example.net',
  ]
  let path = ''
  for (let k = Math.floor(r() * 4); k > 0; k--) {
    const x = r()
    path += '/' + (x < (blobs ? 0.48 : 0.5) ? WORDS[Math.floor(r() * 10)]! : x < 0.5 ? `v1.${Buffer.from(secretList(r)[Math.floor(r() * 8)]!).toString('base64url')}` : x < 0.7 ? encodings(r, alnum(5 + Math.floor(r() * 30), i + k)) : x < 0.8 ? pct(ODD[Math.floor(r() * ODD.length)]! + 'x') : alnum(12 + Math.floor(r() * 20), i))
  }
  const values: string[] = []
  const target = Math.floor(r() * 26)
  while (values.length < target) {
    const x = r()
    if (x < 0.4) values.push(`${WORDS[Math.floor(r() * 10)]}-${Math.floor(r() * 100000)}`)
    else if (x < 0.5) values.push(encodings(r, WORDS[Math.floor(r() * 10)]! + ' ' + alnum(6, i)))
    else if (x < 0.62) for (const p of splitSecret(r, secretList(r)[Math.floor(r() * 8)]!)) values.push(p)
    else if (x < 0.7) values.push(encodings(r, secretList(r)[Math.floor(r() * 8)]!))
    else if (x < 0.78) values.push(pct(ODD[Math.floor(r() * ODD.length)]! + alnum(4, i)))
    else if (x < 0.84) values.push(decoderInput(r).replace(/[^\x21-\x7e]/g, '').replace(/[&#=]/g, ''))
    else if (x < (blobs ? 0.89 : 0.9)) values.push('a+b+' + alnum(3, i))
    // A blob beside punctuation no decoder alphabet holds: `v1.<base64>`, `<hex>|x`.
    else if (x < 0.9) values.push(`${['v1.', '!', '$'][Math.floor(r() * 3)]}${Buffer.from(secretList(r)[Math.floor(r() * 8)]!).toString(r() < 0.5 ? 'base64' : 'hex')}${r() < 0.5 ? '|x' : ''}`)
    else if (x < 0.95) values.push('')
    else values.push(String(Math.floor(r() * 1e9)))
  }
  const parts = values.map((v, n) => (r() < 0.05 ? `flag${n}` : `${r() < 0.1 ? 'k' : 'p'}${n % 7}=${v}`))
  return `https://${hosts[Math.floor(r() * hosts.length)]}${path}${parts.length > 0 ? '?' + parts.join('&') : ''}`
}

function settings(): ReturnType<typeof defaultScannerSettings> {
  const s = defaultScannerSettings()
  s.maxRequestsPerMinute = 1_000_000
  s.dlp.patterns = [
    {name: 'Order Code', severity: 'medium', regex: '\\bORD-[0-9]{6}\\b', action: 'warn'},
    {name: 'Warned', severity: 'low', regex: 'warn-[a-z]{5}', action: 'warn'},
  ]
  return s
}

// ---- Tests ----------------------------------------------------------------------------

test('candidate decoders: the same decodings, variants and bytes as the replaced decoders (with and without a scratch)', () => {
  const r = prng(1515)
  const scratch = new DecodeScratch()
  let decoded = 0
  const inputs = ['', '====', 'AAAA', 'AA==', 'AAA=', 'A===', 'MZXW6===', 'MZXW6YQ=', '\r\nAAAA', 'AA\r\nAA', '0x41\\x42', 'aGVsbG8', 'aGVs+bG8-', 'ab', 'abc', 'hotel-9763']
  for (let i = 0; i < 20000; i++) inputs.push(decoderInput(r))
  for (const s of inputs) {
    const old = oldCandidateDecodings(s)
    assert.deepEqual(candidateDecodings(s, scratch), old, JSON.stringify(s))
    assert.deepEqual(candidateDecodings(s), old, JSON.stringify(s))
    assert.deepEqual(decodeBase64Variants(s), oldBase64Variants(s), JSON.stringify(s))
    assert.deepEqual(decodeBase32Std(s), oldBase32(s), JSON.stringify(s))
    assert.deepEqual(decodeHexAny(s), oldHexStrict(s) ?? oldHexNormalised(s), JSON.stringify(s))
    if (old.length > 0) decoded++
  }
  assert.ok(decoded > 4000, `many inputs decoded somehow (${decoded})`)
})

test('stripNoise: the same as the character-by-character original', () => {
  const r = prng(77)
  for (let i = 0; i < 5000; i++) {
    let s = ''
    for (let k = Math.floor(r() * 40); k > 0; k--) s += r() < 0.3 ? './ \t\n\r+,;|'[Math.floor(r() * 10)]! : r() < 0.1 ? ODD[Math.floor(r() * ODD.length)]! : 'ab9-_%'[Math.floor(r() * 6)]!
    assert.equal(stripNoise(s), oldStripNoise(s), JSON.stringify(s))
  }
  const clean = 'hotel-9763'
  assert.equal(stripNoise(clean), clean)
})

test('ByteLines: views are the UTF-8 of the joined texts; copies and growth keep the bytes', () => {
  const r = prng(4242)
  const lines = new ByteLines()
  for (let round = 0; round < 200; round++) {
    lines.clear()
    const texts: string[] = []
    for (let k = Math.floor(r() * 30); k > 0; k--) {
      let s = ''
      for (let n = Math.floor(r() * (round % 10 === 0 ? 3000 : 40)); n > 0; n--) s += r() < 0.1 ? ODD[Math.floor(r() * ODD.length)]! : alnum(1, Math.floor(r() * 1e6))
      texts.push(s)
      lines.write(s)
      lines.endLine(k)
    }
    assert.equal(lines.count, texts.length)
    assert.equal(lines.joinedLength, texts.join('\n').length)
    for (let t = 0; t < 10 && texts.length > 0; t++) {
      const lo = Math.floor(r() * texts.length)
      const hi = lo + 1 + Math.floor(r() * (texts.length - lo))
      assert.deepEqual(lines.view(lo, hi), Buffer.from(texts.slice(lo, hi).join('\n'), 'utf8'))
    }
    assert.equal(lines.view(0, 0).length, 0)
    // A line built from copies of earlier ASCII lines.
    const ascii = texts.map((s) => s.replace(/[^\x20-\x7e]/g, '')).filter((s) => s.length > 0)
    if (ascii.length < 2) continue
    lines.clear()
    for (const s of ascii) {
      lines.write(s)
      lines.endLine()
    }
    lines.copy(lines.lineStart(1), lines.lineEnd(1), ascii[1]!.length)
    lines.copy(lines.lineStart(0), lines.lineStart(0) + 1, 1)
    lines.endLine(-7)
    assert.deepEqual(lines.view(ascii.length, ascii.length + 1), Buffer.from(ascii[1]! + ascii[0]![0]!))
    assert.equal(lines.tagOf(ascii.length), -7)
  }
})

test('junction screen: hitting and subsequenceTexts equal the string-built originals', () => {
  const engine = createDlpEngine(settings())
  const screen = engine.junctionScreen!
  assert.ok(screen !== null)
  const norm = engine.normalizer.forDlp
  const r = prng(6060)
  let kept = 0
  for (let i = 0; i < 200; i++) {
    const u = new URL(randomUrl(r, i))
    const values = [...u.searchParams.values()].filter((v) => v !== '')
    if (i % 5 === 0) values.push(...splitSecret(r, secretList(r)[i % 8]!))
    if (i % 7 === 0) values.push(ODD[i % ODD.length]! + 'x', 'yy', 'zz')
    const fast = subsequenceTexts(values, screen, engine.lines, norm)
    assert.deepEqual(fast, oldSubsequenceTexts(values, screen, norm), JSON.stringify(values))
    kept += fast.length
    const texts = [...values, ...fast.slice(0, 50)]
    assert.deepEqual(hitting(texts, screen, engine.lines), oldHitting(texts, screen))
  }
  assert.ok(kept > 250, `secrets split across values kept concatenations (${kept})`)
  // Batches: texts longer in all than one batch, a secret among them.
  const big = Array.from({length: 3000}, (_, k) => (k === 2222 ? awsKeyId(3) : `${WORDS[k % 10]}-${k}é`))
  assert.deepEqual(hitting(big, screen, engine.lines), oldHitting(big, screen))
  assert.ok(hitting(big, screen, engine.lines).includes(2222))
  // Dense batches (both halves of a split hit: the lines are then passed one by one) and every
  // density between, over several batches: hex identifiers (whose card and IBAN screens match
  // often) among words, a key in some lines.
  // The joined-text screen's set: its IBAN entry (a core, not the §5.5 run rule) matches most hex ids.
  const joined = engine.joinedTextScreens()!
  const dense = {set: joined.set, window: joined.window}
  for (const density of [1, 0.9, 0.5, 0.2, 0.05]) {
    const texts = Array.from({length: 1500}, (_, k) => (r() < density ? (k % 11 === 0 ? awsKeyId(k) : hexLower(40, k)) : `${WORDS[k % 10]} ${k}`))
    const want = oldHitting(texts, dense)
    assert.deepEqual(hitting(texts, dense, engine.lines), want, `density ${density}`)
    if (density >= 0.5) assert.ok(want.length > 300, `density ${density}: ${want.length} lines hit`)
  }
})

test('no-match pass: the same as the joined-string original, the length limit included', () => {
  const engine = createDlpEngine(settings())
  const r = prng(99)
  for (let i = 0; i < 400; i++) {
    const texts = Array.from({length: Math.floor(r() * 40)}, (_, k) => (r() < 0.03 ? secretList(r)[k % 8]! : decoderInput(r)))
    assert.equal(noPatternMatchesAny(engine, texts), oldNoPatternMatchesAny(engine, texts), JSON.stringify(texts))
  }
  const long = Array.from({length: 70}, (_, k) => 'x'.repeat(1000) + k)
  assert.equal(noPatternMatchesAny(engine, long), false)
  assert.equal(noPatternMatchesAny(engine, long.slice(0, 60)), oldNoPatternMatchesAny(engine, long.slice(0, 60)))
  assert.equal(noPatternMatchesAny(engine, []), oldNoPatternMatchesAny(engine, []))
})

test('URL targets: the same normalised targets, subsequence values and seed targets as the original builders', () => {
  const engine = createDlpEngine(settings())
  const r = prng(2026)
  for (let i = 0; i < 3000; i++) {
    const raw = randomUrl(r, i)
    let u: GoUrl
    try {
      u = parseGoUrl(raw)
    } catch {
      continue
    }
    const host = u.host.toLowerCase()
    const [om, nm] = [new OldMemo(), new ScanMemo(i % 2 === 0 ? engine.decodeScratch : undefined)]
    assert.deepEqual(byText(engine, dlpTargets(u, host, nm)), byText(engine, oldDlpTargets(u, host, om)), raw)
    assert.deepEqual(subsequenceValues(u.rawQuery, nm), oldSubsequenceValues(u.rawQuery, om), raw)
    assert.deepEqual(seedTargets(u, host, nm), oldSeedTargets(u, host, om), raw)
  }
})

test('clean proof: proven only when no pattern matches any target; it proves clean URLs of every size', () => {
  const engine = createDlpEngine(settings())
  const all = {...engine, allSet: null, corePrefilter: null, allPrefilter: null}
  const r = prng(3030)
  let proven = 0
  for (let i = 0; i < 400; i++) {
    const u = parseGoUrl(randomUrl(r, i, false))
    const host = u.host.toLowerCase()
    const m = new ScanMemo(engine.decodeScratch)
    const sub = subsequenceTexts(subsequenceValues(u.rawQuery, m), engine.junctionScreen, engine.lines, engine.normalizer.forDlp)
    if (!targetsProvenClean(engine, u, host, m, sub)) continue
    proven++
    const out = new FindingSet()
    for (const [t] of byText(engine, oldDlpTargets(u, host, new OldMemo()))) runEngine(all, engine.all, t, 'x', out)
    for (const t of sub) runEngine(all, engine.all, t, 'x', out)
    assert.equal(out.enforcedCount + out.warnings.length, 0, 'a proven URL has no finding in any target')
  }
  assert.ok(proven > 50, `clean URLs were proven (${proven})`)
  for (const size of [256, 1024, 2048]) {
    let q = ''
    for (let i = 7; 34 + q.length < size; i++) q += `${q === '' ? '' : '&'}p${i % 97}=${WORDS[i % 10]}-${(i * 7919) % 100000}`
    const u = parseGoUrl(`https://api.example.com/v1/search?${q}`)
    const m = new ScanMemo(engine.decodeScratch)
    const sub = subsequenceTexts(subsequenceValues(u.rawQuery, m), engine.junctionScreen, engine.lines, engine.normalizer.forDlp)
    assert.equal(targetsProvenClean(engine, u, 'api.example.com', m, sub), true, `${size} B`)
  }
})

test('whole URL scans: the one-pass clean proof gives the results of the target-by-target path', async () => {
  const s = settings()
  const fast = createDlpEngine(s)
  // Without line batching neither the proof nor the joined pass runs: every target is screened alone.
  const slow = {...fast, lineBatchable: false}
  const [a, b] = [fast, slow].map((e) => createUrlScanner(s, e))
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
  const r = prng(8181)
  let blocked = 0
  for (let i = 0; i < 600; i++) {
    const url = randomUrl(r, i)
    const [x, y] = [await scanUrl(url, {...ctx, scanner: a!}), await scanUrl(url, {...ctx, scanner: b!})]
    assert.deepEqual(x, y, url)
    if (!x.allowed) blocked++
  }
  assert.ok(blocked > 75 && blocked < 525, `both allowed and blocked URLs (${blocked} blocked)`)
})

/** The `splitQuery` before it read the parts in place: `split('&')`, empty parts skipped. */
function oldSplitQuery(rawQuery: string): ReturnType<typeof splitQuery> {
  if (rawQuery === '') return []
  const out: Array<{rawKey: string; rawValue: string; key: string; value: string}> = []
  for (const part of rawQuery.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const rawKey = eq >= 0 ? part.slice(0, eq) : part
    const rawValue = eq >= 0 ? part.slice(eq + 1) : ''
    out.push({rawKey, rawValue, key: goUnescape(rawKey, true) ?? rawKey, value: goUnescape(rawValue, true) ?? rawValue})
  }
  return out
}

test('splitQuery reads the parts in place exactly as split-on-& did (empty parts, bare keys, =, %, +)', () => {
  const r = prng(4040)
  const alphabet = ['a', 'b', '=', '&', '%', '4', '1', '+', '%zz', 'é', '\ud800']
  const cases = ['', '&', '&&', '=', 'a', 'a=', '=b', 'a=b=c', 'a=1&b=%zz&;c=2&&d', '&a=1&', 'x=%41&y=+%2B']
  for (let i = 0; i < 5000; i++) {
    let q = ''
    for (let k = Math.floor(r() * 12); k > 0; k--) q += alphabet[Math.floor(r() * alphabet.length)]!
    cases.push(q)
  }
  for (const q of cases) assert.deepEqual(splitQuery(q), oldSplitQuery(q), JSON.stringify(q))
})

test('someSeedTarget visits what seedTargets lists, in order, and stops at the first target its visitor accepts', () => {
  const engine = createDlpEngine(settings())
  const r = prng(5050)
  let stops = 0
  for (let i = 0; i < 400; i++) {
    let u: GoUrl
    try {
      u = parseGoUrl(randomUrl(r, i))
    } catch {
      continue
    }
    const host = u.host.toLowerCase()
    const all = seedTargets(u, host, new ScanMemo(engine.decodeScratch))
    const seen: string[] = []
    assert.equal(someSeedTarget(u, host, new ScanMemo(), (t) => (seen.push(t), false)), false)
    assert.deepEqual(seen, all)
    const stopAt = Math.floor(r() * all.length)
    const upTo: string[] = []
    assert.equal(someSeedTarget(u, host, new ScanMemo(), (t) => (upTo.push(t), upTo.length === stopAt + 1)), true)
    assert.deepEqual(upTo, all.slice(0, stopAt + 1))
    stops++
  }
  assert.ok(stops > 300)
})
