import {decodeGoHex} from '../canonical/index.js'

/** A signature field that is not `ed25519:` + 128 hex. `reason` is the bare §8.5 step-5 text. */
export class SignatureFormatError extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'SignatureFormatError'
  }
}

/** Decodes `ed25519:<128 hex>` into 64 bytes (learn-lifecycle.md §1.1, §8.5 step 5). */
export function parseSignatureField(sig: string): Buffer {
  if (sig === '') throw new SignatureFormatError('empty signature')
  if (!sig.startsWith('ed25519:')) throw new SignatureFormatError('missing "ed25519:" prefix')
  const hex = sig.slice('ed25519:'.length)
  if (hex.length !== 128) throw new SignatureFormatError(`hex length ${hex.length}, want 128`)
  try {
    return decodeGoHex(hex)
  } catch (e) {
    throw new SignatureFormatError(`invalid hex: ${(e as Error).message}`)
  }
}

