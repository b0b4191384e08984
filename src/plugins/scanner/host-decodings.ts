/**
 * Decodings of a host name's labels for URL DLP. The URL scan runs before DNS so that a secret
 * in a host name never reaches a resolver; a secret spelt in hex or base32 in the labels
 * (`414b…504c.exfil.example.net`, or split over two labels) is only seen decoded. This goes
 * beyond the reference, which reads the host only dot-collapsed (docs/compatibility.md).
 *
 * Base64 is not tried: DNS folds case, so a base64 label does not reach the zone's server intact.
 *
 * What is decoded is each maximal run of one encoding's characters in the host, dots and hyphens
 * left out: a secret split over labels comes back whole. The whole dot-collapsed host is not
 * decoded as one text: a name ends in the attacker's zone (`exfil.example.net`), which rarely fits
 * the alphabet or the block size. A run is decoded at every offset modulo the encoding's block
 * (2 hex digits, 8 base32 characters), so a secret after a filler character (`x414b…`) or an odd
 * number of digits is still aligned in one of the decodings; the incomplete block at the end is
 * left off.
 */
import {decodeBase32Std, decodeHexStrict, type CandidateDecoding} from './decoders.js'

/** The shortest encoded text decoded, as for a path segment (url-targets.ts). */
const MIN_ENCODED = 10

const NONE: readonly CandidateDecoding[] = Object.freeze([])

const isHexUnit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
// Base32's alphabet read case-insensitively: the host is lower-cased before it gets here.
const isBase32Unit = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x32 && c <= 0x37)

/**
 * The UTF-8 texts of the hex and base32 decodings of `host`'s runs (hex first), each
 * non-empty one once. `host` is the canonical (lower-case) host name; an IP address has none.
 */
export function hostLabelDecodings(host: string): readonly CandidateDecoding[] {
  // A short host has no run long enough: no list, no string.
  if (host.length < MIN_ENCODED) return NONE
  let out: CandidateDecoding[] | null = null
  const add = (encoding: string, bytes: Buffer | null): void => {
    if (bytes === null || bytes.length === 0) return
    const text = bytes.toString('utf8')
    out ??= []
    if (!out.some((d) => d.text === text)) out.push({encoding, text})
  }
  for (const [unit, block, encoding] of [[isHexUnit, 2, 'hex'], [isBase32Unit, 8, 'base32']] as const) {
    for (const run of alphabetRuns(host, unit)) {
      if (run.length < MIN_ENCODED) continue
      const text = encoding === 'base32' ? run.toUpperCase() : run
      for (let offset = 0; offset < block; offset++) {
        const n = Math.floor((text.length - offset) / block) * block
        if (n < MIN_ENCODED) break
        const piece = text.slice(offset, offset + n)
        add(encoding, encoding === 'hex' ? decodeHexStrict(piece) : decodeBase32Std(piece))
      }
    }
  }
  return out ?? NONE
}

/**
 * The maximal runs of `unit` characters in `host`, with the dots and hyphens inside a run left
 * out (a label boundary or a hyphen does not end a run: a secret split over labels, or spelt as
 * hyphen-separated hex, comes back whole); any other character ends it.
 */
function alphabetRuns(host: string, unit: (c: number) => boolean): string[] {
  const runs: string[] = []
  let run = ''
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i)
    if (c === 0x2e || c === 0x2d) continue
    if (unit(c)) run += host[i]
    else if (run !== '') {
      runs.push(run)
      run = ''
    }
  }
  if (run !== '') runs.push(run)
  return runs
}
