import {createHash} from 'node:crypto'
import type {Ed25519KeyPair} from './ed25519.js'

// Ed25519 (RFC 8032 PureEdDSA) over a message produced twice, piece by piece, instead of one
// buffer: the signature reads the message twice (r = H(prefix ‖ M), k = H(R ‖ A ‖ M)), so a
// producer that can replay M deterministically signs a message of any size in constant memory.
// The result is the signature `crypto.sign(null, M, key)` returns, byte for byte (Ed25519 is
// deterministic; the tests compare the two). Only the one fixed-base multiplication r·B runs
// here, in BigInt; the hashing is Node's SHA-512.

const P = 2n ** 255n - 19n
const L = 2n ** 252n + 27742317777372353535851937790883648493n
const D = (-121665n * modInverse(121666n)) % P + P
const D2 = (2n * D) % P
const BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202n
const BY = 46316835694926478169428394003475163141307993866256225615783033603165251855960n

function mod(a: bigint, m = P): bigint {
  const r = a % m
  return r < 0n ? r + m : r
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n
  b = mod(b, m)
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m
    b = (b * b) % m
    e >>= 1n
  }
  return r
}

function modInverse(a: bigint): bigint {
  return modPow(a, P - 2n, P)
}

/** Extended twisted Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z. */
type Point = [bigint, bigint, bigint, bigint]

function add(p: Point, q: Point): Point {
  const [x1, y1, z1, t1] = p
  const [x2, y2, z2, t2] = q
  const a = mod((y1 - x1) * (y2 - x2))
  const b = mod((y1 + x1) * (y2 + x2))
  const c = mod(t1 * D2 * t2)
  const d = mod(z1 * 2n * z2)
  const e = b - a
  const f = d - c
  const g = d + c
  const h = b + a
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)]
}

function multiplyBase(s: bigint): Point {
  let result: Point = [0n, 1n, 1n, 0n]
  let addend: Point = [BX, BY, 1n, mod(BX * BY)]
  while (s > 0n) {
    if (s & 1n) result = add(result, addend)
    addend = add(addend, addend)
    s >>= 1n
  }
  return result
}

function encodePoint(p: Point): Buffer {
  const zi = modInverse(p[2])
  const x = mod(p[0] * zi)
  const y = mod(p[1] * zi)
  const out = littleEndian(y, 32)
  if (x & 1n) out[31] = (out[31] as number) | 0x80
  return out
}

function littleEndian(n: bigint, size: number): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

function fromLittleEndian(b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number)
  return n
}

/** Writes the message, in order, through `write`; called twice, it must write the same bytes. */
export type MessageProducer = (write: (piece: string | Uint8Array) => void) => void

/** The 64-byte Ed25519 signature of the message `produce` writes (it is called twice). */
export function signStreamed(kp: Ed25519KeyPair, produce: MessageProducer): Buffer {
  const h = createHash('sha512').update(kp.seed).digest()
  const a = h.subarray(0, 32)
  a[0] = (a[0] as number) & 248
  a[31] = ((a[31] as number) & 127) | 64
  const scalar = fromLittleEndian(a)
  const hr = createHash('sha512').update(h.subarray(32, 64))
  produce((piece) => hr.update(piece))
  const r = mod(fromLittleEndian(hr.digest()), L)
  const R = encodePoint(multiplyBase(r))
  const hk = createHash('sha512').update(R).update(kp.publicKey)
  produce((piece) => hk.update(piece))
  const k = mod(fromLittleEndian(hk.digest()), L)
  const s = mod(r + k * scalar, L)
  return Buffer.concat([R, littleEndian(s, 32)])
}
