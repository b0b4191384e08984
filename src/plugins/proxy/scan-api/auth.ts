/**
 * Scan API bearer tokens (scanners-extra §1.4 "Auth"): `Authorization: Bearer <token>` (scheme
 * case-insensitive, the rest verbatim: killswitch's `bearerToken`) compared with every configured
 * token, without an early exit. Both sides are hashed to SHA-256 first so `timingSafeEqual` compares equal lengths and the
 * comparison leaks neither the token nor its length.
 */
import {timingSafeEqual} from 'node:crypto'
import {sha256} from '../../signing/index.js'

// The header is read by the one parser every API uses.
export {bearerToken} from '../../killswitch/index.js'

// One-shot hashing (no Hash object per request: bench scan-api).
function digest(s: string): Buffer {
  return sha256(s)
}

/** The configured tokens' digests (the listener computes them once per config snapshot). */
export function tokenDigests(tokens: readonly string[]): readonly Buffer[] {
  return tokens.map(digest)
}

/** True when `presented` matches one of the digests; every digest is compared whatever the outcome. */
export function matchesDigests(presented: string, digests: readonly Buffer[]): boolean {
  const p = digest(presented)
  let ok = false
  for (const d of digests) ok = timingSafeEqual(p, d) || ok
  return ok
}

/** True when `presented` equals one of `tokens`. */
export function tokenMatches(presented: string, tokens: readonly string[]): boolean {
  return matchesDigests(presented, tokenDigests(tokens))
}
