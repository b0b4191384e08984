/** `/.well-known/http-message-signatures-directory` body (receipts.md §12, spec §8). */
import {SIGNATURE_ALG, SIGNATURE_TAG} from './constants.js'

export function directoryBody(keyId: string, publicKeyHex: string): string {
  return JSON.stringify({keys: [{keyid: keyId, alg: SIGNATURE_ALG, public_key: publicKeyHex, use: SIGNATURE_TAG}]}) + '\n'
}

/** The first pipelock Ed25519 mediation key of a directory document, or an error message. */
export function directoryKey(doc: unknown): {keyId: string; publicKeyHex: string} | string {
  const keys = (doc as {keys?: unknown} | null)?.keys
  if (typeof doc !== 'object' || doc === null || !Array.isArray(keys)) return 'directory is not an object with a keys array'
  for (const k of keys as Array<Record<string, unknown>>) {
    if (k === null || typeof k !== 'object') continue
    if (k.alg !== SIGNATURE_ALG || k.use !== SIGNATURE_TAG) continue
    if (typeof k.keyid !== 'string' || k.keyid === '' || typeof k.public_key !== 'string' || !/^[0-9a-fA-F]{64}$/.test(k.public_key)) continue
    return {keyId: k.keyid, publicKeyHex: k.public_key.toLowerCase()}
  }
  return 'directory contains no pipelock Ed25519 mediation key'
}
