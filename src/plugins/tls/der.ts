/**
 * A minimal DER writer and reader for X.509 certificates (transports.md §2.15). Hand-built on
 * purpose: node:crypto signs and parses but has no certificate builder, and the libraries that
 * do (@peculiar/x509 ≈ 4 ms, selfsigned ≈ 8 ms per leaf, node-forge RSA only) cannot mint an
 * ECDSA P-256 leaf at the ≈ 0.3 ms per leaf this builder measures (bench/tls-mint.mjs).
 */

/** Bytes of a DER length field for a body of `n` bytes (short form below 128). */
function lengthSize(n: number): number {
  let size = 1
  if (n >= 0x80) for (let v = n; v > 0; v = Math.floor(v / 256)) size++
  return size
}

/**
 * One TLV, written into a single buffer: a leaf certificate is ≈ 40 of them, minted on the
 * proxy's event loop per new host, and a header buffer plus a concatenation per TLV made the DER
 * writer most of a mint's garbage (bench: tls-tunnels; test: byte-equal to the concatenating writer).
 */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  let n = 0
  for (const c of content) n += c.length
  const ls = lengthSize(n)
  const out = Buffer.allocUnsafe(1 + ls + n)
  out[0] = tag
  if (ls === 1) out[1] = n
  else {
    out[1] = 0x80 | (ls - 1)
    for (let i = ls, v = n; i >= 2; i--, v = Math.floor(v / 256)) out[i] = v & 0xff
  }
  let at = 1 + ls
  for (const c of content) at += c.copy(out, at)
  return out
}

export const seq = (...items: Buffer[]): Buffer => tlv(0x30, ...items)
export const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items)
export const octets = (b: Buffer): Buffer => tlv(0x04, b)
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]))
/** BIT STRING with `unused` trailing bits in the last byte. */
export const bits = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), b)
/** Context-specific constructed `[n]` (EXPLICIT). */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner)
/** Context-specific primitive `[n]` (IMPLICIT over a primitive type). */
export const implicit = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content)

/** A non-negative INTEGER, minimal two's complement (a 0x00 prefix when the high bit is set). */
export function uint(v: bigint | number): Buffer {
  let n = BigInt(v)
  if (n < 0n) throw new RangeError('negative INTEGER')
  const bytes: number[] = []
  do {
    bytes.unshift(Number(n & 0xffn))
    n >>= 8n
  } while (n > 0n)
  if (bytes[0]! & 0x80) bytes.unshift(0)
  return tlv(0x02, Buffer.from(bytes))
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => Number(p))
  const out: number[] = [40 * parts[0]! + parts[1]!]
  for (let k = 2; k < parts.length; k++) {
    const p = parts[k]!
    let shift = 0
    while (Math.floor(p / 128 ** (shift + 1)) > 0) shift++
    for (let j = shift; j > 0; j--) out.push(0x80 | (Math.floor(p / 128 ** j) & 0x7f))
    out.push(p & 0x7f)
  }
  return tlv(0x06, Buffer.from(out))
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/

/** PrintableString when every character allows it, else UTF8String (Go's choice, §2.4). */
export function directoryString(s: string): Buffer {
  return PRINTABLE.test(s) ? tlv(0x13, Buffer.from(s, 'ascii')) : tlv(0x0c, Buffer.from(s, 'utf8'))
}

/** UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole seconds. */
export function time(ms: number): Buffer {
  const d = new Date(Math.floor(ms / 1000) * 1000)
  const p = (n: number): string => String(n).padStart(2, '0')
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`
  const y = d.getUTCFullYear()
  if (y < 2050) return tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, 'ascii'))
  return tlv(0x18, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'ascii'))
}

/** One parsed TLV: its tag, where its content starts and ends, and where the whole element ends. */
export interface DerNode {
  readonly tag: number
  readonly start: number
  readonly contentStart: number
  readonly end: number
}

/** Reads the TLV at `at` (definite lengths only, as DER requires). */
export function readNode(buf: Buffer, at: number): DerNode {
  if (at + 2 > buf.length) throw new RangeError('truncated DER')
  const tag = buf[at]!
  let len = buf[at + 1]!
  let p = at + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || p + n > buf.length) throw new RangeError('bad DER length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!
    p += n
  }
  if (p + len > buf.length) throw new RangeError('truncated DER')
  return {tag, start: at, contentStart: p, end: p + len}
}

/** The children of a constructed node. */
export function children(buf: Buffer, node: DerNode): DerNode[] {
  const out: DerNode[] = []
  for (let p = node.contentStart; p < node.end; ) {
    const c = readNode(buf, p)
    out.push(c)
    p = c.end
  }
  return out
}

export const content = (buf: Buffer, n: DerNode): Buffer => buf.subarray(n.contentStart, n.end)
export const whole = (buf: Buffer, n: DerNode): Buffer => buf.subarray(n.start, n.end)

/** Dotted text of an OBJECT IDENTIFIER's content bytes. */
export function oidText(c: Buffer): string {
  const parts = [Math.floor(c[0]! / 40), c[0]! % 40]
  let v = 0
  for (const b of c.subarray(1)) {
    v = v * 128 + (b & 0x7f)
    if (!(b & 0x80)) {
      parts.push(v)
      v = 0
    }
  }
  return parts.join('.')
}
