/**
 * Blockchain address formats for address-poisoning protection (scanners-extra §4.3): detection
 * regexes, validity checks and compare keys for ETH (0x, EIP-55), BTC (P2PKH/P2SH Base58Check,
 * Bech32/Bech32m), SOL (base58, 32-byte key) and BNB (`bnb1…` Bech32).
 */
// node:crypto has no Keccak-256 (its "sha3-256" is the final FIPS 202 padding, a different
// hash); EIP-55 needs the original Keccak. @noble/hashes is the audited, dependency-free
// implementation the wider JS ecosystem (ethers, viem, scure) uses, and already ships with
// @scure/bip39 (seed-phrase detection).
import {keccak_256} from '@noble/hashes/sha3.js'
import {base58CheckDecode, base58Decode} from './validators.js'

export type Chain = 'eth' | 'btc' | 'sol' | 'bnb'

export interface AddressHit {
  readonly chain: Chain
  /** As found in the text. */
  readonly address: string
  /** The compared form (§4.3 "Compare key"): lower-cased for 0x/bech32, without the fixed prefix. */
  readonly key: string
  /** ETH only: false when a mixed-case address fails its EIP-55 checksum. */
  readonly checksumValid: boolean
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const BECH32_CONST = 1
const BECH32M_CONST = 0x2bc830a3

function polymod(values: readonly number[]): number {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
  let chk = 1
  for (const v of values) {
    const top = chk >>> 25
    chk = ((chk & 0x1ffffff) << 5) ^ v
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!
  }
  return chk >>> 0
}

/** BIP-173/350 decode: the HRP and data (checksum stripped) plus which constant verified, or null. */
export function bech32Decode(s: string): {hrp: string; data: number[]; variant: 'bech32' | 'bech32m'} | null {
  if (s.length < 8 || s.length > 90) return null
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return null
  const str = s.toLowerCase()
  const sep = str.lastIndexOf('1')
  if (sep < 1 || str.length - sep - 1 < 6) return null
  const hrp = str.slice(0, sep)
  for (const ch of hrp) {
    const c = ch.charCodeAt(0)
    if (c < 33 || c > 126) return null
  }
  const data: number[] = []
  for (const ch of str.slice(sep + 1)) {
    const d = BECH32_CHARSET.indexOf(ch)
    if (d < 0) return null
    data.push(d)
  }
  const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)]
  const pm = polymod([...expanded, ...data])
  const variant = pm === BECH32_CONST ? 'bech32' : pm === BECH32M_CONST ? 'bech32m' : null
  if (variant === null) return null
  return {hrp, data: data.slice(0, -6), variant}
}

/** EIP-55: mixed-case hex encodes the Keccak-256 of the lower-case hex. All-lower/all-upper carry no checksum. */
export function eip55Valid(addr: string): boolean {
  const hex = addr.slice(2)
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase()) return true
  return addr === toEip55(hex)
}

/** The EIP-55 checksummed spelling of 40 hex digits. */
export function toEip55(hex: string): string {
  const lower = hex.toLowerCase()
  const hash = keccak_256(new TextEncoder().encode(lower))
  let out = '0x'
  for (let i = 0; i < 40; i++) {
    const c = lower[i]!
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf
    out += c >= 'a' && nibble >= 8 ? c.toUpperCase() : c
  }
  return out
}

/** ASCII-only lower-casing (length-preserving, so offsets found in it index the original, §4.3 fix). */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}

const ETH_RE = /\b0x[0-9a-fA-F]{40}\b/g
const BTC_BECH32_RE = /\bbc1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{39,59}\b/g
const BTC_LEGACY_RE = /\b[13][1-9A-HJ-NP-Za-km-z]{24,33}\b/g
const SOL_RE = /\b[1-9A-HJ-NP-Za-km-z]{32,44}\b/g
const BNB_RE = /\bbnb1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}\b/g

function* matches(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0
  for (let m = re.exec(text); m !== null; m = re.exec(text)) yield m
}

/** Validates one candidate of `chain`; returns the hit or null. */
export function validateAddress(chain: Chain, candidate: string): AddressHit | null {
  switch (chain) {
    case 'eth': {
      if (candidate.length !== 42 || !/^0x[0-9a-fA-F]{40}$/.test(candidate)) return null
      return {chain, address: candidate, key: candidate.slice(2).toLowerCase(), checksumValid: eip55Valid(candidate)}
    }
    case 'btc': {
      if (/^bc1/i.test(candidate)) {
        const d = bech32Decode(candidate.toLowerCase())
        if (d === null || d.hrp !== 'bc' || d.data.length === 0) return null
        // Witness version 0 (q) requires bech32, version 1 (p) bech32m (BIP-350).
        if (d.data[0] === 0 && d.variant !== 'bech32') return null
        if (d.data[0] === 1 && d.variant !== 'bech32m') return null
        return {chain, address: candidate, key: candidate.toLowerCase().slice(3), checksumValid: true}
      }
      const body = base58CheckDecode(candidate)
      if (body === null || (body[0] !== 0x00 && body[0] !== 0x05)) return null
      return {chain, address: candidate, key: candidate, checksumValid: true}
    }
    case 'sol': {
      const raw = base58Decode(candidate)
      if (raw === null || raw.length !== 32) return null
      return {chain, address: candidate, key: candidate, checksumValid: true}
    }
    case 'bnb': {
      const d = bech32Decode(candidate.toLowerCase())
      if (d === null || d.hrp !== 'bnb') return null
      return {chain, address: candidate, key: candidate.toLowerCase().slice(4), checksumValid: true}
    }
  }
}

/** Every valid address of the enabled chains in `text` (§4.3), in chain order then text order. */
export function detectAddresses(text: string, chains: ReadonlySet<Chain>): AddressHit[] {
  const out: AddressHit[] = []
  const push = (chain: Chain, cand: string): void => {
    const h = validateAddress(chain, cand)
    if (h !== null) out.push(h)
  }
  if (chains.has('eth')) for (const m of matches(ETH_RE, text)) push('eth', m[0])
  if (chains.has('btc')) {
    const lower = asciiLower(text)
    for (const m of matches(BTC_BECH32_RE, lower)) push('btc', text.slice(m.index, m.index + m[0].length))
    for (const m of matches(BTC_LEGACY_RE, text)) push('btc', m[0])
  }
  if (chains.has('sol')) for (const m of matches(SOL_RE, text)) push('sol', m[0])
  if (chains.has('bnb')) {
    const lower = asciiLower(text)
    for (const m of matches(BNB_RE, lower)) push('bnb', text.slice(m.index, m.index + m[0].length))
  }
  return out
}

/** The first enabled chain that accepts `address` as a whole (allowlist entries). */
export function parseAllowedAddress(address: string, chains: ReadonlySet<Chain>): AddressHit | null {
  const a = address.trim()
  for (const chain of ['eth', 'btc', 'sol', 'bnb'] as const) {
    if (!chains.has(chain)) continue
    const h = validateAddress(chain, a)
    if (h !== null) return h
  }
  return null
}
