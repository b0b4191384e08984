/**
 * Per-host leaf certificates (transports.md §2.5): a fresh ECDSA P-256 key per leaf, subject
 * `CN=<host>`, the CA's subject as issuer byte for byte, one subjectAltName (iPAddress for an IP
 * literal, else dNSName), digitalSignature, serverAuth, AKID = the CA's key id. The chain sent is
 * the leaf alone.
 */
import {generateKeyPair, generateKeyPairSync, type KeyObject} from 'node:crypto'
import {isIPv4, isIPv6} from 'node:net'
import {buildCertificate, extension, name, OID, randomSerial, subjectAltName, toPem} from './certificate.js'
import {bits, implicit, oid, seq} from './der.js'
import type {LoadedCa} from './ca.js'

export interface Leaf {
  readonly certPem: string
  readonly keyPem: string
  readonly notAfterMs: number
  readonly serial: bigint
}

/** The 4- or 16-byte address of an IP literal (IPv4-mapped IPv6 as 4 bytes), or null. */
export function ipBytes(host: string): Buffer | null {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (isIPv4(h)) return Buffer.from(h.split('.').map(Number))
  if (!isIPv6(h)) return null
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h)
  if (mapped !== null) return Buffer.from(mapped[1]!.split('.').map(Number))
  // Expand `::` and any embedded dotted quad into 8 groups.
  let text = h
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (quad !== null) {
    const b = quad[1]!.split('.').map(Number)
    text = text.slice(0, quad.index) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const hs = head === '' ? [] : head!.split(':')
  const ts = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

interface KeyPair {
  readonly publicKey: KeyObject
  readonly privateKey: KeyObject
}

/** The SAN address of `host`, or null for a name; throws for a name no certificate can carry. */
function sanAddress(host: string): Buffer | null {
  const ip = ipBytes(host)
  // dNSName is an IA5String: a name outside ASCII cannot be carried (the handshake then fails).
  // eslint-disable-next-line no-control-regex
  if (ip === null && !/^[\x21-\x7e]+$/.test(host)) throw new Error(`cannot mint a certificate for host ${JSON.stringify(host)}: not an ASCII name`)
  return ip
}

/** Mints a leaf for `host` (the CONNECT target host, never the SNI). Throws for a non-ASCII name. */
export function mintLeaf(host: string, ca: LoadedCa, ttlMs: number, nowMs: number): Leaf {
  const ip = sanAddress(host)
  return buildLeaf(host, ip, ca, ttlMs, nowMs, generateKeyPairSync('ec', {namedCurve: 'prime256v1'}))
}

/**
 * `mintLeaf` with the key generated on libuv's thread pool, so the proxy's event loop keeps
 * serving while many tunnels to new hosts open at once (issue 16: no stall over 10 ms with 256
 * concurrent tunnels). Rejects for a non-ASCII name.
 */
export async function mintLeafAsync(host: string, ca: LoadedCa, ttlMs: number, nowMs: number): Promise<Leaf> {
  const ip = sanAddress(host)
  const keys = await new Promise<KeyPair>((resolve, reject) =>
    generateKeyPair('ec', {namedCurve: 'prime256v1'}, (err, publicKey, privateKey) => (err ? reject(err) : resolve({publicKey, privateKey}))),
  )
  return buildLeaf(host, ip, ca, ttlMs, nowMs, keys)
}

function buildLeaf(host: string, ip: Buffer | null, ca: LoadedCa, ttlMs: number, nowMs: number, {publicKey, privateKey}: KeyPair): Leaf {
  const serial = randomSerial()
  const notAfterMs = nowMs + ttlMs
  const der = buildCertificate({
    serial,
    issuer: ca.subject,
    subject: name([[OID.commonName, host]]),
    notBeforeMs: nowMs - 3_600_000,
    notAfterMs,
    spki: publicKey.export({type: 'spki', format: 'der'}),
    // Go's order for a leaf: keyUsage, extKeyUsage, authorityKeyId, subjectAltName.
    extensions: [
      extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)), // digitalSignature
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(OID.authorityKeyId, false, seq(implicit(0, ca.keyId))),
      extension(OID.subjectAltName, false, subjectAltName(ip, host)),
    ],
    signer: ca.key,
  })
  return {certPem: toPem('CERTIFICATE', der), keyPem: String(privateKey.export({type: 'pkcs8', format: 'pem'})), notAfterMs, serial}
}
