/**
 * Test-secret builders. Credential-shaped strings are assembled at run time from fragments so
 * no literal in the repository looks like a real key. All values are synthetic.
 */
import {createHash} from 'node:crypto'
import RE2 from 're2'
import {bip39ChecksumValid, VARIED_REPEATS} from '../../../src/plugins/scanner/seed-phrase.js'

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** Deterministic PRNG (mulberry32), shared with the rest of the suite. */
import {prng} from '../../helpers/prng.js'

export {prng}

export function fromAlphabet(alphabet: string, n: number, seed = 7): string {
  const r = prng(seed)
  let s = ''
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)]
  return s
}

export const alnum = (n: number, seed = 7): string => fromAlphabet(ALNUM, n, seed)
export const upperAlnum = (n: number, seed = 7): string => fromAlphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', n, seed)
export const lowerAlnum = (n: number, seed = 7): string => fromAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', n, seed)
export const hexLower = (n: number, seed = 7): string => fromAlphabet('0123456789abcdef', n, seed)
export const base58chars = (n: number, seed = 7): string =>
  fromAlphabet('123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz', n, seed)

/** Joins fragments: keeps key prefixes out of source literals. */
export const j = (...parts: string[]): string => parts.join('')

// An AWS access key id as issued: sixteen base32 characters (A–Z, 2–7) after the prefix.
export const awsKeyId = (seed = 7): string => j('AK', 'IA', fromAlphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, seed))
export const githubToken = (seed = 7): string => j('gh', 'p_', alnum(36, seed))
export const anthropicKey = (seed = 7): string => j('sk', '-ant-', alnum(24, seed))

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

export function base58CheckEncode(payload: Buffer): string {
  const sum = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest().subarray(0, 4)
  const full = Buffer.concat([payload, sum])
  let n = BigInt('0x' + (full.toString('hex') || '0'))
  let out = ''
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out
    n /= 58n
  }
  for (const b of full) {
    if (b !== 0) break
    out = '1' + out
  }
  return out
}

/** A WIF-shaped string built from a throwaway 32-byte value (not a real wallet). */
export function wif(compressed: boolean, seed = 'pipelock-test'): string {
  const key = createHash('sha256').update(seed).digest()
  const payload = compressed ? Buffer.concat([Buffer.from([0x80]), key, Buffer.from([0x01])]) : Buffer.concat([Buffer.from([0x80]), key])
  return base58CheckEncode(payload)
}

/**
 * A synthetic 2048-entry word list for BIP-39 checksum tests: the checksum depends only on word
 * indices, so any distinct lower-case words work. These are NOT the BIP-39 words.
 */
export function syntheticWordList(): string[] {
  const out: string[] = []
  const c = 'bcdfghjklmnprstvwz'
  const v = 'aeiou'
  for (let i = 0; out.length < 2048; i++) {
    const a = c[i % c.length]! + v[Math.floor(i / c.length) % v.length]! + c[Math.floor(i / (c.length * v.length)) % c.length]!
    const b = v[Math.floor(i / (c.length * v.length * c.length)) % v.length]!
    out.push(a + b + 'q')
  }
  return out
}

/** Builds a checksum-valid phrase of `words` words from the list, from entropy bytes. */
export function phraseFromEntropy(list: readonly string[], entropy: Buffer): string {
  const hash = createHash('sha256').update(entropy).digest()
  let bits = ''
  for (const b of entropy) bits += b.toString(2).padStart(8, '0')
  const cs = (entropy.length * 8) / 32
  let hb = ''
  for (const b of hash) hb += b.toString(2).padStart(8, '0')
  bits += hb.slice(0, cs)
  const words: string[] = []
  for (let i = 0; i < bits.length; i += 11) words.push(list[parseInt(bits.slice(i, i + 11), 2)]!)
  return words.join(' ')
}

/**
 * The original detector (RE2 split of the lower-cased text), as the reference. `varied`: a window
 * of fewer than size − VARIED_REPEATS distinct words is no phrase (the detector's `varied` reading).
 */
export function referenceDetect(list: readonly string[], minWords: number, text: string, varied = false): boolean {
  const index = new Map<string, number>()
  list.forEach((w, i) => index.set(w, i))
  if (text.length === 0) return false
  const tokens = text.toLowerCase().split(new RE2('[-\\s,|;:]+', 'u')).filter((t) => t !== '')
  if (tokens.length < minWords) return false
  const idx = tokens.map((t) => index.get(t) ?? -1)
  for (const size of [12, 15, 18, 21, 24].filter((w) => w >= minWords)) {
    let run = 0
    for (let end = 0; end < idx.length; end++) {
      run = idx[end]! >= 0 ? run + 1 : 0
      if (run < size) continue
      const window = idx.slice(end - size + 1, end + 1)
      if (varied && new Set(window).size < size - VARIED_REPEATS) continue
      if (bip39ChecksumValid(window)) return true
    }
  }
  return false
}

/** Up to `maxParts` parts, each `pick(r())`, joined by a space (probability `spaced`) or nothing: the seed detectors' random corpora. */
export function randomJoin(r: () => number, maxParts: number, pick: (x: number) => string, spaced: number): string {
  const parts: string[] = []
  const n = Math.floor(r() * maxParts)
  for (let k = 0; k < n; k++) parts.push(pick(r()))
  return parts.join(r() < spaced ? ' ' : '')
}

/** Splits a secret into 2–4 pieces at random points (`r`: a `prng`). */
export function splitSecret(r: () => number, s: string): string[] {
  const k = 2 + Math.floor(r() * 3)
  const cuts = [...new Set(Array.from({length: k - 1}, () => 1 + Math.floor(r() * (s.length - 1))))].sort((a, b) => a - b)
  const out: string[] = []
  let from = 0
  for (const c of cuts) {
    out.push(s.slice(from, c))
    from = c
  }
  out.push(s.slice(from))
  return out
}
