import {PipelockError} from '../errors/index.js'
import {decodeGoHex} from '../canonical/index.js'
import {constantTimeEqual, sha256} from './ed25519.js'
import {goQ} from './go-fmt.js'

// Key fingerprints (learn-lifecycle.md §8.2): `sha256:` + hex SHA-256 of the RAW 32-byte public
// key — never of its hex or base64 text.

export function fingerprint(pub: Uint8Array): string {
  if (pub.length !== 32) {
    throw new PipelockError('FINGERPRINT_INVALID', `invalid public key length for fingerprint: got ${pub.length} bytes, want 32`)
  }
  return 'sha256:' + sha256(pub).toString('hex')
}

function malformed(reason: string): PipelockError {
  return new PipelockError('FINGERPRINT_INVALID', `malformed fingerprint: ${reason}`)
}

/** Parses `sha256:<64 hex>` (either case); returns the digest as lowercase hex. */
export function parseFingerprint(s: string): string {
  const i = s.indexOf(':')
  if (i < 0) throw malformed('missing algorithm prefix')
  const algo = s.slice(0, i)
  const digest = s.slice(i + 1)
  if (algo === '') throw malformed('empty algorithm')
  if (digest === '') throw malformed('empty digest')
  if (algo !== 'sha256') throw malformed(`unsupported algorithm ${goQ(algo)}`)
  try {
    decodeGoHex(digest)
  } catch (e) {
    throw malformed(`invalid hex in digest: ${(e as Error).message}`)
  }
  if (digest.length !== 64) throw malformed(`digest length ${digest.length} hex chars, want 64`)
  return digest.toLowerCase()
}

/** Throws unless `pub` has fingerprint `expected`; the digests are compared in constant time. */
export function verifyFingerprint(pub: Uint8Array, expected: string): void {
  const want = Buffer.from(parseFingerprint(expected), 'hex')
  const computed = fingerprint(pub)
  const got = Buffer.from(computed.slice('sha256:'.length), 'hex')
  if (!constantTimeEqual(got, want)) {
    throw new PipelockError('FINGERPRINT_INVALID', `fingerprint mismatch: got ${computed}, want ${expected}`)
  }
}
