/**
 * Per-host leaf certificates (transports.md §2.5): a fresh ECDSA P-256 key per leaf, subject
 * `CN=<host>`, the CA's subject as issuer byte for byte, one subjectAltName (iPAddress for an IP
 * literal, else dNSName), digitalSignature, serverAuth, AKID = the CA's key id. The chain sent is
 * the leaf alone.
 */
import {generateKeyPair, generateKeyPairSync} from 'node:crypto'
import {isIPv4, isIPv6} from 'node:net'
import {buildCertificate, buildCertificateAsync, extension, name, OID, randomSerial, subjectAltName, toPem, type CertificateInput} from './certificate.js'
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

/** The leaf's key, exported where it is generated: SPKI DER for the certificate, PKCS#8 PEM for the TLS server. */
interface LeafKey {
  readonly publicKey: Buffer
  readonly privateKey: string
}

const KEY_SPEC = {namedCurve: 'prime256v1', publicKeyEncoding: {type: 'spki', format: 'der'}, privateKeyEncoding: {type: 'pkcs8', format: 'pem'}} as const

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
  const key: LeafKey = generateKeyPairSync('ec', KEY_SPEC)
  const c = leafCertificate(host, ip, ca, ttlMs, nowMs, key.publicKey)
  return leaf(buildCertificate(c), key, c)
}

/**
 * `mintLeaf` with the key generation, its export and the CA's signature on libuv's thread pool:
 * what is left on the event loop is the DER assembly (tens of µs), so many tunnels to new hosts
 * opening at once do not stall it (issue 16: no stall over 10 ms with 256 concurrent tunnels).
 * Rejects for a non-ASCII name.
 */
export async function mintLeafAsync(host: string, ca: LoadedCa, ttlMs: number, nowMs: number): Promise<Leaf> {
  const ip = sanAddress(host)
  const key = await new Promise<LeafKey>((resolve, reject) =>
    generateKeyPair('ec', KEY_SPEC, (err, publicKey, privateKey) => (err ? reject(err) : resolve({publicKey, privateKey}))),
  )
  const c = leafCertificate(host, ip, ca, ttlMs, nowMs, key.publicKey)
  return leaf(await buildCertificateAsync(c), key, c)
}

function leafCertificate(host: string, ip: Buffer | null, ca: LoadedCa, ttlMs: number, nowMs: number, spki: Buffer): CertificateInput {
  return {
    serial: randomSerial(),
    issuer: ca.subject,
    subject: name([[OID.commonName, host]]),
    notBeforeMs: nowMs - 3_600_000,
    notAfterMs: nowMs + ttlMs,
    spki,
    // Go's order for a leaf: keyUsage, extKeyUsage, authorityKeyId, subjectAltName.
    extensions: [
      extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)), // digitalSignature
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(OID.authorityKeyId, false, seq(implicit(0, ca.keyId))),
      extension(OID.subjectAltName, false, subjectAltName(ip, host)),
    ],
    signer: ca.key,
  }
}

function leaf(der: Buffer, key: LeafKey, c: CertificateInput): Leaf {
  return {certPem: toPem('CERTIFICATE', der), keyPem: key.privateKey, notAfterMs: c.notAfterMs, serial: c.serial}
}
