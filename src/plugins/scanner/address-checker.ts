/**
 * Address-poisoning protection (scanners-extra §4.4): every valid address found in outbound text
 * is compared with the operator's allowlist; one that shares the first and last characters of an
 * allowlisted address but differs in the middle is a lookalike. Destination verification, not DLP.
 */
import {decodeBase64Variants, decodeHexStrict} from './decoders.js'
import {stripZeroWidth} from './normalize.js'
import {detectAddresses, parseAllowedAddress, type AddressHit, type Chain} from './address-formats.js'

export interface AddressProtectionSettings {
  readonly enabled: boolean
  readonly action: 'block' | 'warn'
  readonly unknownAction: 'allow' | 'warn' | 'block'
  readonly allowedAddresses: readonly string[]
  readonly chains: ReadonlySet<Chain>
  readonly prefixLength: number
  readonly suffixLength: number
}

export type AddressVerdict = 'lookalike' | 'unknown' | 'checksum'

export interface AddressFinding {
  readonly chain: Chain
  readonly verdict: AddressVerdict
  readonly action: 'block' | 'warn'
  /** Truncated address (prefix + first 6 … last 6), safe to log. */
  readonly address: string
  readonly explanation: string
}

export interface AddressCheck {
  readonly hits: readonly AddressHit[]
  readonly findings: readonly AddressFinding[]
  /** `block` if any finding blocks, else `warn` if any, else null. */
  readonly action: 'block' | 'warn' | null
}

const CHAIN_PREFIX: Readonly<Record<Chain, string>> = {eth: '0x', btc: '', sol: '', bnb: 'bnb1'}
const CHAIN_NAME: Readonly<Record<Chain, string>> = {eth: 'ETH', btc: 'BTC', sol: 'SOL', bnb: 'BNB'}
const NO_CHECK: AddressCheck = Object.freeze({hits: [], findings: [], action: null})

/** Display form: chain prefix + first 6 + `...` + last 6 of the compare key (whole when shorter than 16). */
function truncate(h: AddressHit): string {
  const prefix = h.chain === 'btc' && h.key !== h.address ? 'bc1' : CHAIN_PREFIX[h.chain]
  return h.key.length < 16 ? prefix + h.key : `${prefix}${h.key.slice(0, 6)}...${h.key.slice(-6)}`
}

/** URL query-unescape (`+` → space) until unchanged, at most 10 rounds; stops at the first error. */
function urlDecodeRepeatedly(s: string): string {
  let cur = s
  for (let i = 0; i < 10; i++) {
    let next: string
    try {
      next = decodeURIComponent(cur.replace(/\+/g, ' '))
    } catch {
      break
    }
    if (next === cur) break
    cur = next
  }
  return cur
}

function utf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    return null
  }
}

export class AddressChecker {
  /** Per chain: the allowlisted compare keys. */
  private readonly allowed = new Map<Chain, Set<string>>()
  private readonly allowedCount: number
  /** Allowlist entries as written: an address spelled exactly so is the operator's own, checksum or not. */
  private readonly allowedSpellings = new Set<string>()

  constructor(readonly settings: AddressProtectionSettings) {
    let n = 0
    for (const a of settings.allowedAddresses) {
      const h = parseAllowedAddress(a, settings.chains)
      if (h === null) continue
      let set = this.allowed.get(h.chain)
      if (set === undefined) this.allowed.set(h.chain, (set = new Set()))
      set.add(h.key)
      this.allowedSpellings.add(h.address)
      n++
    }
    this.allowedCount = n
  }

  /** §4.4 steps 1–4: every valid address in the cleaned text and its whole-string decodings. */
  detect(text: string): AddressHit[] {
    const cleaned = urlDecodeRepeatedly(stripZeroWidth(text))
    const hits = detectAddresses(cleaned, this.settings.chains)
    const trimmed = cleaned.trim()
    if (trimmed.length >= 8) {
      const b64 = decodeBase64Variants(trimmed)[0]
      const t = b64 !== undefined && b64.bytes.length > 0 ? utf8(b64.bytes) : null
      if (t !== null) hits.push(...detectAddresses(t, this.settings.chains))
      const hex = decodeHexStrict(trimmed)
      const th = hex !== null && hex.length > 0 ? utf8(hex) : null
      if (th !== null) hits.push(...detectAddresses(th, this.settings.chains))
    }
    return hits
  }

  /** §4.4: findings for `text` (agent additions are merged into the settings by the caller). */
  check(text: string): AddressCheck {
    if (!this.settings.enabled || this.allowedCount === 0 || text.length < 25) return NO_CHECK
    const hits = this.detect(text)
    if (hits.length === 0) return NO_CHECK
    const findings: AddressFinding[] = []
    const seen = new Set<string>()
    const {prefixLength: p, suffixLength: s} = this.settings
    for (const h of hits) {
      const list = this.allowed.get(h.chain)
      if (list === undefined || list.size === 0) continue
      const id = `${h.chain}\u0000${h.address}`
      if (seen.has(id)) continue
      seen.add(id)
      const name = CHAIN_NAME[h.chain]
      const shown = truncate(h)
      if (!h.checksumValid && !this.allowedSpellings.has(h.address)) {
        // [beyond] EIP-55: a mixed-case address whose checksum fails was altered or mistyped (docs/compatibility.md).
        findings.push({chain: h.chain, verdict: 'checksum', action: this.settings.action, address: shown, explanation: `${name} address ${shown} fails its EIP-55 checksum (altered or mistyped address)`})
        continue
      }
      if (list.has(h.key)) continue
      const like = [...list].find((k) => k.length === h.key.length && p + s < k.length && k.slice(0, p) === h.key.slice(0, p) && k.slice(-s) === h.key.slice(-s))
      if (like !== undefined) {
        const allowedShown = truncate({...h, key: like})
        findings.push({
          chain: h.chain, verdict: 'lookalike', action: this.settings.action, address: shown,
          explanation: `${name} address ${shown} resembles allowlisted ${allowedShown}: first ${p} and last ${s} payload characters match, middle differs (possible address poisoning)`,
        })
        continue
      }
      if (this.settings.unknownAction === 'allow') continue
      findings.push({chain: h.chain, verdict: 'unknown', action: this.settings.unknownAction, address: shown, explanation: `${name} address ${shown} is not in the allowlist`})
    }
    const action = findings.some((f) => f.action === 'block') ? 'block' : findings.length > 0 ? 'warn' : null
    return {hits, findings, action}
  }
}
