import {createHash, type Hash} from 'node:crypto'

// Ed25519 verification over a message read in pieces (RFC 8032 §5.1.7). node:crypto's verify
// takes the message whole, and a 200,000-rule contract's signed bytes are 197 MB, held only to be
// verified once (bench: shadow). The message's part of the check is one SHA-512 pass over
// R ‖ A ‖ M, which node:crypto streams; the curve arithmetic left over (two scalar
// multiplications) is not in node:crypto, and comes from @noble/curves (audited, the family of
// the @noble packages this project already uses) rather than being written here.
//
// An accelerator that may only say yes: `verify()` is true only where node:crypto's (OpenSSL's)
// and Go's verifiers are true too: S below the group order, the key decoded strictly (RFC 8032:
// a canonical encoding; Go also accepts non-canonical encodings of valid points, OpenSSL
// differs), and the encoding of [S]B − [k]A equal to R byte for byte (cofactorless, as both).
// A false is not a verdict: the caller checks the whole message the ordinary way to decide it
// and word the error.
//
// The arithmetic is loaded on demand (`loadEd25519Arithmetic`, a dynamic import): `pipelock run`
// loads this module with the signing plugin, and must not pay for a curve library at start-up
// (test/e2e/startup-laziness.test.ts). Until it is loaded, `verify()` is false (not a verdict).

type Edwards = (typeof import('@noble/curves/ed25519.js'))['ed25519']
let edwards: Edwards | undefined

/** Loads the curve arithmetic `Ed25519StreamVerifier.verify` needs (once). */
export async function loadEd25519Arithmetic(): Promise<void> {
  edwards ??= (await import('@noble/curves/ed25519.js')).ed25519
}

/** Whether `loadEd25519Arithmetic` has run: without it every streamed check answers false. */
export function ed25519ArithmeticLoaded(): boolean {
  return edwards !== undefined
}

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number)
  return n
}

/** Verifies one signature by one key over the pieces given to `update`, in order. */
export class Ed25519StreamVerifier {
  private readonly hash: Hash = createHash('sha512')
  private readonly r: Uint8Array
  private readonly s: Uint8Array

  constructor(
    private readonly publicKey: Uint8Array,
    signature: Uint8Array,
  ) {
    if (publicKey.length !== 32 || signature.length !== 64) throw new Error('ed25519: a 32-byte key and a 64-byte signature are required')
    this.r = signature.subarray(0, 32)
    this.s = signature.subarray(32, 64)
    this.hash.update(this.r).update(publicKey)
  }

  /** The next piece of the message (a string as UTF-8). */
  update(piece: Uint8Array | string): this {
    this.hash.update(piece)
    return this
  }

  /** True when the signature verifies over everything given (see the file comment: never a false yes, possibly a false no). Ends the verifier. */
  verify(): boolean {
    const curve = edwards
    if (curve === undefined) return false
    const order = curve.Point.Fn.ORDER
    const k = littleEndian(this.hash.digest()) % order
    const s = littleEndian(this.s)
    if (s >= order) return false
    let a
    try {
      a = curve.Point.fromBytes(this.publicKey, false)
    } catch {
      return false
    }
    const r = curve.Point.BASE.multiplyUnsafe(s).subtract(a.multiplyUnsafe(k)).toBytes()
    if (r.length !== 32) return false
    for (let i = 0; i < 32; i++) if (r[i] !== this.r[i]) return false
    return true
  }
}
