/**
 * SNI verification for CONNECT tunnels (§4.3 step 6): parse the client's first TLS record,
 * extract the ClientHello server_name and compare it with the CONNECT host (case-insensitive,
 * one trailing dot ignored). Bounds-checked at every step: hostile bytes give `malformed_tls`.
 */
export type SniCategory = 'match' | 'mismatch' | 'not_tls' | 'no_extension' | 'malformed_tls' | 'timeout'

/** Bytes needed before a verdict: the full first record (≤ 16 KiB + 5), or null if not yet known. */
export function recordLength(buf: Buffer): number | null {
  if (buf.length < 5) return null
  return 5 + buf.readUInt16BE(3)
}

/** Returns the SNI host name, or a category when there is none to compare. */
export function parseClientHelloSni(buf: Buffer): {sni: string} | {category: 'not_tls' | 'no_extension' | 'malformed_tls'} {
  if (buf.length < 1 || buf[0] !== 0x16) return {category: 'not_tls'}
  if (buf.length < 5) return {category: 'malformed_tls'}
  const recLen = buf.readUInt16BE(3)
  if (recLen > 16384 || buf.length < 5 + recLen) return {category: 'malformed_tls'}
  const rec = buf.subarray(5, 5 + recLen)
  let p = 0
  const need = (n: number): boolean => p + n <= rec.length
  if (!need(4) || rec[0] !== 0x01) return {category: 'malformed_tls'}
  const hsLen = (rec[1]! << 16) | (rec[2]! << 8) | rec[3]!
  p = 4
  if (hsLen > rec.length - 4) return {category: 'malformed_tls'}
  p += 2 + 32 // version + random
  if (!need(1)) return {category: 'malformed_tls'}
  p += 1 + rec[p]! // session id
  if (!need(2)) return {category: 'malformed_tls'}
  p += 2 + rec.readUInt16BE(p) // cipher suites
  if (!need(1)) return {category: 'malformed_tls'}
  p += 1 + rec[p]! // compression methods
  if (p === rec.length) return {category: 'no_extension'}
  if (!need(2)) return {category: 'malformed_tls'}
  const extEnd = p + 2 + rec.readUInt16BE(p)
  p += 2
  if (extEnd > rec.length) return {category: 'malformed_tls'}
  while (p + 4 <= extEnd) {
    const type = rec.readUInt16BE(p)
    const len = rec.readUInt16BE(p + 2)
    p += 4
    if (p + len > extEnd) return {category: 'malformed_tls'}
    if (type === 0) {
      const ext = rec.subarray(p, p + len)
      if (ext.length < 2) return {category: 'malformed_tls'}
      const listEnd = 2 + ext.readUInt16BE(0)
      if (listEnd > ext.length) return {category: 'malformed_tls'}
      let q = 2
      while (q + 3 <= listEnd) {
        const nameType = ext[q]!
        const nameLen = ext.readUInt16BE(q + 1)
        q += 3
        if (q + nameLen > listEnd) return {category: 'malformed_tls'}
        if (nameType === 0) return {sni: ext.subarray(q, q + nameLen).toString('latin1')}
        q += nameLen
      }
      return {category: 'malformed_tls'}
    }
    p += len
  }
  return {category: 'no_extension'}
}

function norm(h: string): string {
  const l = h.toLowerCase()
  return l.endsWith('.') ? l.slice(0, -1) : l
}

export function classifySni(first: Buffer, connectHost: string): SniCategory {
  const r = parseClientHelloSni(first)
  if ('category' in r) return r.category
  return norm(r.sni) === norm(connectHost) ? 'match' : 'mismatch'
}
