/**
 * X.509 v3 certificates for the interception CA and its leaves (transports.md §2.4, §2.5),
 * assembled with the DER writer and signed with node:crypto. The signature hash follows the
 * CA curve (P-256 → SHA-256, P-384 → SHA-384, P-521 → SHA-512), as the reference does.
 */
import {createHash, randomBytes, sign, type KeyObject} from 'node:crypto'
import {bits, bool, children, content, directoryString, explicit, implicit, octets, oid, readNode, seq, set, time, uint} from './der.js'

const OID_EC_SIG: Readonly<Record<string, {oid: string; hash: string}>> = {
  prime256v1: {oid: '1.2.840.10045.4.3.2', hash: 'sha256'},
  secp384r1: {oid: '1.2.840.10045.4.3.3', hash: 'sha384'},
  secp521r1: {oid: '1.2.840.10045.4.3.4', hash: 'sha512'},
}

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const

/** Uniform in [1, 2^128]: 128 random bits, then + 1 (§2.4). */
export function randomSerial(): bigint {
  return BigInt('0x' + randomBytes(16).toString('hex')) + 1n
}

/** A Name of (type, value) attributes, one RDN each, in the given order. */
export function name(attrs: ReadonlyArray<readonly [string, string]>): Buffer {
  return seq(...attrs.map(([type, value]) => set(seq(oid(type), directoryString(value)))))
}

export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value))
}

/** SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 §4.2.1.2 method 1), from an SPKI DER. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  // SPKI = SEQUENCE { AlgorithmIdentifier, BIT STRING }; the key is the BIT STRING after its unused-bits byte.
  const bitString = children(spkiDer, readNode(spkiDer, 0))[1]!
  return createHash('sha1').update(content(spkiDer, bitString).subarray(1)).digest()
}

export interface CertificateInput {
  readonly serial: bigint
  /** Issuer Name DER (for a leaf: the CA's subject, byte for byte). */
  readonly issuer: Buffer
  readonly subject: Buffer
  readonly notBeforeMs: number
  readonly notAfterMs: number
  readonly spki: Buffer
  readonly extensions: readonly Buffer[]
  readonly signer: KeyObject
}

/** The unsigned TBSCertificate, its signature algorithm, and the hash the CA signs it with. */
export interface UnsignedCertificate {
  readonly tbs: Buffer
  readonly sigAlg: Buffer
  readonly hash: string
}

export function tbsCertificate(c: CertificateInput): UnsignedCertificate {
  const curve = c.signer.asymmetricKeyDetails?.namedCurve ?? ''
  const alg = OID_EC_SIG[curve]
  if (alg === undefined) throw new Error(`unsupported CA key curve ${curve || c.signer.asymmetricKeyType}`)
  const sigAlg = seq(oid(alg.oid))
  const tbs = seq(
    explicit(0, uint(2)),
    uint(c.serial),
    sigAlg,
    c.issuer,
    seq(time(c.notBeforeMs), time(c.notAfterMs)),
    c.subject,
    c.spki,
    explicit(3, seq(...c.extensions)),
  )
  return {tbs, sigAlg, hash: alg.hash}
}

/** The certificate DER from its TBS and the signature (node:crypto's DER ECDSA-Sig-Value for EC keys, what X.509 carries). */
export function signedCertificate(u: UnsignedCertificate, signature: Buffer): Buffer {
  return seq(u.tbs, u.sigAlg, bits(signature))
}

/** The signed certificate DER (signed on the calling thread). */
export function buildCertificate(c: CertificateInput): Buffer {
  return signCertificate(tbsCertificate(c), c.signer)
}

/** The certificate DER from its TBS, signed on the calling thread. */
export function signCertificate(u: UnsignedCertificate, signer: KeyObject): Buffer {
  return signedCertificate(u, sign(u.hash, u.tbs, signer))
}

/**
 * Runs a step of main-thread work when the caller's scheduler says (the proxy's set-up queue:
 * thread-pool completions land in batches, and their continuations would otherwise share one
 * turn); without one, at once.
 */
export type Pace = (step: () => void) => void

/** `f()` in a step given by `pace` (at once without one). */
export function paced<T>(pace: Pace | undefined, f: () => T): Promise<T> {
  if (pace === undefined) return Promise.resolve().then(f)
  return new Promise<T>((resolve, reject) =>
    pace(() => {
      try {
        resolve(f())
      } catch (e) {
        reject(e as Error)
      }
    }),
  )
}

/** The signed certificate DER, signed on libuv's thread pool (the event loop keeps serving meanwhile). */
export async function buildCertificateAsync(u: UnsignedCertificate, signer: KeyObject): Promise<Buffer> {
  const signature = await new Promise<Buffer>((resolve, reject) => sign(u.hash, u.tbs, signer, (err, sig) => (err ? reject(err) : resolve(sig))))
  return signedCertificate(u, signature)
}

/** The subjectAltName value: one iPAddress for an IP literal, else one dNSName (§2.5). */
export function subjectAltName(ip: Buffer | null, dns: string): Buffer {
  return ip !== null ? seq(implicit(7, ip)) : seq(implicit(2, Buffer.from(dns, 'ascii')))
}

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64')
  const lines: string[] = []
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64))
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** The first PEM block of any type in `text`, or null (the reference's pem.Decode). */
export function firstPemBlock(text: string): {type: string; der: Buffer} | null {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text)
  if (m === null) return null
  return {type: m[1]!, der: Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64')}
}
