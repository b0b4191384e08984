/**
 * Per-host leaf certificates (transports.md §2.5): a fresh ECDSA P-256 key per leaf, subject
 * `CN=<host>`, the CA's subject as issuer byte for byte, one subjectAltName (iPAddress for an IP
 * literal, else dNSName), digitalSignature, serverAuth, AKID = the CA's key id. The chain sent is
 * the leaf alone.
 */
import {createECDH} from 'node:crypto'
import {isIPv4, isIPv6} from 'node:net'
import {buildCertificate, buildCertificateAsync, extension, name, OID, paced, randomSerial, signCertificate, subjectAltName, tbsCertificate, toPem, type CertificateInput, type Pace} from './certificate.js'
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

/** The leaf's key: SPKI DER for the certificate, PKCS#8 PEM for the TLS server. */
interface LeafKey {
  readonly publicKey: Buffer
  readonly privateKey: string
}

/** SPKI DER of a P-256 key up to its point: SEQUENCE { AlgorithmIdentifier { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) }. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')
/**
 * PKCS#8 DER of a P-256 key up to its scalar: SEQUENCE { version 0, AlgorithmIdentifier, OCTET
 * STRING { ECPrivateKey { version 1, OCTET STRING (32 bytes) … } } }, then the public point as
 * `[1] BIT STRING` — the layout OpenSSL writes (test: byte-equal to node's own export).
 */
const P256_PKCS8_PREFIX = Buffer.from('308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420', 'hex')
const P256_PKCS8_POINT = Buffer.from('a144034200', 'hex')

/**
 * A fresh P-256 leaf key, generated with `createECDH` on the calling thread (≈ 60 µs) and encoded
 * from its raw scalar and point, the two DER layouts being fixed around them.
 *
 * Why not a `KeyObject` from `generateKeyPair`: node's own `spki`/`pkcs8` export runs OpenSSL's
 * encoder on the event loop (≈ 100 µs each, in the async keygen's completion callback too), and
 * the cheap JWK export of such a key can deadlock node 20's main thread for good — it holds the
 * key's mutex while allocating strings, and a GC in that allocation runs the finished
 * `KeyGenJob`'s destructor, which takes the same mutex (seen as a hung `certificates.test`; a
 * 20,000-key loop hangs within seconds). An ECDH object has no such mutex and no job.
 */
export function newLeafKey(): LeafKey {
  const ecdh = createECDH('prime256v1')
  const point = ecdh.generateKeys()
  return p256KeyEncodings(ecdh.getPrivateKey(), point)
}

/**
 * SPKI DER and PKCS#8 PEM of the P-256 key with scalar `d` and uncompressed `point`.
 * `ECDH.getPrivateKey()` drops leading zero bytes (≈ 1 scalar in 256), and DER carries all 32.
 */
export function p256KeyEncodings(d: Buffer, point: Buffer): LeafKey {
  if (point.length !== 65 || point[0] !== 0x04 || d.length === 0 || d.length > 32) throw new Error('unexpected P-256 key size')
  const scalar = d.length === 32 ? d : Buffer.concat([Buffer.alloc(32 - d.length), d])
  const pkcs8 = Buffer.concat([P256_PKCS8_PREFIX, scalar, P256_PKCS8_POINT, point])
  return {publicKey: Buffer.concat([P256_SPKI_PREFIX, point]), privateKey: toPem('PRIVATE KEY', pkcs8)}
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
  const key = newLeafKey()
  const c = leafCertificate(host, ip, ca, ttlMs, nowMs, key.publicKey)
  return leaf(buildCertificate(c), key, c)
}

/**
 * `mintLeaf` in steps, so many tunnels to new hosts opening at once do not stall the event loop
 * (bench: tls-tunnels; no stall over 10 ms with 256 concurrent tunnels). With `pace` (the proxy's set-up
 * queue) the key generation (`newLeafKey`, ≈ 60 µs) and the TBS run in one of the queue's steps,
 * the CA's signature and the DER assembly in the next. Without it (tools) the signature is made on
 * libuv's thread pool. Rejects for a non-ASCII name.
 */
export async function mintLeafAsync(host: string, ca: LoadedCa, ttlMs: number, nowMs: number, pace?: Pace): Promise<Leaf> {
  const ip = sanAddress(host)
  const {key, c, u} = await paced(pace, () => {
    const key = newLeafKey()
    const c = leafCertificate(host, ip, ca, ttlMs, nowMs, key.publicKey)
    return {key, c, u: tbsCertificate(c)}
  })
  // With a pace, the CA's signature is made in the second step, on the event loop (≈ 40 µs for
  // P-256). On the thread pool, every job signing with the CA's KeyObject takes that key's lock
  // (node's ManagedEVPPKey), and so does the event loop when it hands the next job over: with a
  // burst's signatures queued, it slept 13–45 ms at a time waiting for a pool thread that held the
  // lock and had been preempted (bench: tls-tunnels --turn-cpu, at load 7–17).
  const der = pace === undefined ? await buildCertificateAsync(u, c.signer) : await paced(pace, () => signCertificate(u, c.signer))
  return leaf(der, key, c)
}

/** The two extensions every leaf carries byte for byte: keyUsage digitalSignature (critical), extKeyUsage serverAuth. */
const LEAF_KEY_USAGE = extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7))
const LEAF_EXT_KEY_USAGE = extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth)))

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
      LEAF_KEY_USAGE,
      LEAF_EXT_KEY_USAGE,
      extension(OID.authorityKeyId, false, seq(implicit(0, ca.keyId))),
      extension(OID.subjectAltName, false, subjectAltName(ip, host)),
    ],
    signer: ca.key,
  }
}

function leaf(der: Buffer, key: LeafKey, c: CertificateInput): Leaf {
  return {certPem: toPem('CERTIFICATE', der), keyPem: key.privateKey, notAfterMs: c.notAfterMs, serial: c.serial}
}
