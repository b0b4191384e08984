/**
 * The strict decoders reject a candidate before copying or allocating it (a character no
 * variant accepts). The oracle is the decoders as they were (validation inside the decode loop,
 * CR/LF removal character by character): on random strings over the base64/base32 alphabets,
 * padding, CR/LF, spaces and non-ASCII, the same variants and bytes, the same base32 bytes.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {decodeBase32Std, decodeBase64Variants} from '../../../src/plugins/scanner/index.js'
import {prng} from './fixtures.js'

function table(alphabet: string): Int8Array {
  const t = new Int8Array(128).fill(-1)
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i
  return t
}
const STD = table('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
const URL = table('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')
const B32 = table('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')

function oldWithoutCrLf(input: string): string {
  let s = ''
  for (const c of input) if (c !== '\r' && c !== '\n') s += c
  return s
}

function oldBase64(input: string, tbl: Int8Array, padded: boolean): Buffer | null {
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
  const out: number[] = []
  let bits = 0
  let acc = 0
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i)
    const v = c < 128 ? tbl[c]! : -1
    if (v < 0) return null
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out.push((acc >> bits) & 0xff)
    }
  }
  return out.length === 0 ? null : Buffer.from(out)
}

function oldVariants(s: string): string[] {
  const hasStd = /[+/]/.test(s)
  const hasUrl = /[-_]/.test(s)
  if (hasStd && hasUrl) return []
  const tbl = hasUrl ? URL : STD
  const padded = oldBase64(s, tbl, true)
  const raw = oldBase64(s, tbl, false)
  const out: string[] = []
  if (padded !== null) {
    if (!hasUrl) out.push(`std=${padded.toString('hex')}`)
    if (!hasStd) out.push(`url=${padded.toString('hex')}`)
  }
  if (raw !== null) {
    if (!hasUrl) out.push(`std_raw=${raw.toString('hex')}`)
    if (!hasStd) out.push(`url_raw=${raw.toString('hex')}`)
  }
  return out
}

function oldBase32(input: string): string | null {
  const s = oldWithoutCrLf(input)
  if (s.length === 0 || s.length % 8 !== 0) return null
  let end = s.length
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--
  if (![0, 1, 3, 4, 6].includes(s.length - end)) return null
  const out: number[] = []
  let bits = 0
  let acc = 0
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i)
    const v = c < 128 ? B32[c]! : -1
    if (v < 0) return null
    acc = ((acc << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out.push((acc >> bits) & 0xff)
    }
  }
  return out.length === 0 ? null : Buffer.from(out).toString('hex')
}

test('decoders: the early rejection gives the old decoders\' variants and bytes (base64 ×4, base32)', () => {
  const r = prng(404)
  const alphabets = [
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n',
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=\r\n',
    'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=\r\n',
    'AZaz09+/-_= \r\n.%ü€',
  ]
  let decoded = 0
  let base32 = 0
  for (let i = 0; i < 20000; i++) {
    const a = alphabets[i % alphabets.length]!
    const n = Math.floor(r() * 40)
    let s = ''
    for (let k = 0; k < n; k++) s += a[Math.floor(r() * a.length)]!
    // Real encodings, some with line breaks, some with a stray character.
    if (i % 7 === 0) s = Buffer.from(s).toString(i % 2 ? 'base64' : 'base64url')
    if (i % 11 === 0) s = s.slice(0, Math.floor(s.length / 2)) + '\r\n' + s.slice(Math.floor(s.length / 2))
    const got = decodeBase64Variants(s).map((d) => `${d.variant}=${d.bytes.toString('hex')}`)
    assert.deepEqual(got, oldVariants(s), JSON.stringify(s))
    const b32 = decodeBase32Std(s)?.toString('hex') ?? null
    assert.equal(b32, oldBase32(s), JSON.stringify(s))
    if (got.length > 0) decoded++
    if (b32 !== null) base32++
  }
  assert.ok(decoded > 2000, `decoded ${decoded}`)
  assert.ok(base32 > 20, `base32 decoded ${base32}`)
})

test('decoders: a long candidate (its alphabet read by regular expressions) gives the old decoders\' variants and bytes', () => {
  const r = prng(405)
  const strays = ['+', '/', '-', '_', '=', '\r\n', ' ', '.', 'ü', '€', '\u0000']
  const kinds = new Set<string>()
  for (let i = 0; i < 600; i++) {
    const n = 192 + Math.floor(r() * 1800)
    const bytes = Buffer.from(Array.from({length: n}, () => Math.floor(r() * 256)))
    // Standard, URL-safe, and text whose encoding holds neither alphabet's own characters.
    let s = bytes.toString(i % 3 === 0 ? 'base64' : i % 3 === 1 ? 'base64url' : 'hex')
    if (i % 4 === 1) {
      const at = Math.floor(r() * s.length)
      s = s.slice(0, at) + strays[Math.floor(r() * strays.length)]! + s.slice(at)
    }
    if (i % 5 === 2) s = s.replace(/(.{76})/g, '$1\r\n')
    const got = decodeBase64Variants(s).map((d) => `${d.variant}=${d.bytes.toString('hex')}`)
    assert.deepEqual(got, oldVariants(s), `candidate ${i}`)
    kinds.add(got.map((g) => g.split('=')[0]).join(','))
  }
  // Every outcome was met: nothing, one alphabet's two variants, both alphabets' four.
  assert.ok(kinds.has(''), [...kinds].join(' | '))
  assert.ok(kinds.has('std,std_raw'), [...kinds].join(' | '))
  assert.ok(kinds.has('url,url_raw'), [...kinds].join(' | '))
  assert.ok(kinds.has('std,url,std_raw,url_raw'), [...kinds].join(' | '))
})
