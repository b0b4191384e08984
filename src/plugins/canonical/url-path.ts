import {pathUnescape} from './go-url.js'

export const MAX_PATH_BYTES = 2048

/** Why a path has no canonical form (the event is then counted as malformed). */
export class PathCanonicalError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'PathCanonicalError'
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/

/**
 * learn-compile §15.1 `Canonicalize` on an escaped path (ASCII), returning a byte string.
 *
 * Byte-exact with the reference except for one decision of the compile issue: a trailing `/`
 * on a non-root path is removed instead of rejecting the event (§20 Q5 is not reproduced), so
 * `/v1/users/` and `/v1/users` are the same path. Reproduced on purpose: lower-casing happens
 * before percent-decoding (Q3: `%41` stays `A`), and `%2e%2e` is accepted as a literal `..`
 * segment (Q4).
 */
export function canonicalizePath(escapedPath: string): string {
  if (escapedPath === '') throw new PathCanonicalError('empty path')
  if (escapedPath.length > MAX_PATH_BYTES) throw new PathCanonicalError(`path longer than ${MAX_PATH_BYTES} bytes`)
  // NFC is a no-op on the ASCII escaped path; Go ToLower of ASCII is ASCII lower-casing.
  let p = escapedPath.toLowerCase()
  if (CONTROL.test(p)) throw new PathCanonicalError('control byte in path')
  if (!p.startsWith('/')) throw new PathCanonicalError('path does not start with /')
  if (p === '/') return '/'
  if (p.endsWith('/')) p = p.slice(0, -1)
  const segments = p.slice(1).split('/')
  const out: string[] = []
  for (const seg of segments) {
    if (seg === '') throw new PathCanonicalError('empty segment (double slash)')
    if (seg === '.' || seg === '..') throw new PathCanonicalError('dot segment')
    const decoded = pathUnescape(seg)
    if (decoded === undefined) throw new PathCanonicalError('invalid percent-encoding')
    if (decoded.includes('/')) throw new PathCanonicalError('encoded slash in segment')
    if (CONTROL.test(decoded)) throw new PathCanonicalError('control byte in decoded segment')
    out.push(decoded)
  }
  return '/' + out.join('/')
}
