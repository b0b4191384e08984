import {CONTRACT_KEY_PURPOSE, contractHash, verifyCanonicalSignature, type EnvelopeTail, type SignedEnvelope} from '../contracts/index.js'
import type {JsonObject} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {fingerprint, keyPairFromSeed, loadAgentPublicKey, loadPublicKey, sha256} from '../signing/index.js'

// §10.8 decision: ratify, forget, split and pin verify the candidate's existing signature before
// they sign anything new, so a candidate edited by hand (or by an attacker) is never laundered
// into a validly signed contract with the operator's key.

/** The compile-signing phrases of every deterministic signer that writes `deterministic-contract-compile`. */
export const DETERMINISTIC_COMPILE_PHRASES = [
  'pipelock deterministic compile signer',
  'pipelock deterministic ratify compile signer',
  'pipelock deterministic forget compile signer',
] as const
export const DETERMINISTIC_COMPILE_KEY_ID = 'deterministic-contract-compile'

export interface CandidateTrust {
  /** `--contract-key`: a public key file or inline value (versioned text or 64 hex). */
  contractKey?: string
  /** Keystore holding `<signer_key_id>/<id>.pub` (used when no --contract-key is given). */
  keystore: string
  /** Tests only: also trust the public deterministic compile keys. */
  deterministic: boolean
}

/** The trust of a lifecycle command's request: its --contract-key, keystore, and deterministic mode. */
export function candidateTrust(req: {readonly keystore: string; readonly contractKey?: string | undefined; readonly env: {readonly deterministic: boolean}}): CandidateTrust {
  return {keystore: req.keystore, deterministic: req.env.deterministic, ...(req.contractKey === undefined ? {} : {contractKey: req.contractKey})}
}

function refuse(command: string, detail: string, hint?: string): PipelockError {
  return new PipelockError('CONTRACT_SIGNATURE_INVALID', `${command}: verify candidate: ${detail}`, hint === undefined ? {} : {hint})
}

/**
 * The keystore public key named by the contract body's `signer_key_id` (the key a contract is
 * checked with when no --contract-key is given), or why there is none: `signer` '' when the body
 * names no signer, else `error`, the keystore's reason.
 */
export function signerPublicKey(keystore: string, body: JsonObject): {signer: string; key: Uint8Array} | {signer: string; error?: string} {
  const signer = typeof body.get('signer_key_id') === 'string' ? (body.get('signer_key_id') as string) : ''
  if (signer === '') return {signer}
  try {
    return {signer, key: loadAgentPublicKey(keystore, signer)}
  } catch (e) {
    return {signer, error: (e as Error).message}
  }
}

/**
 * Checks purpose, the recomputed contract hash and the Ed25519 signature over canonical(body).
 * Key: --contract-key, else (deterministic mode and the deterministic key id) the public
 * deterministic keys, else the keystore public key named by `signer_key_id`.
 */
export function verifyCandidate(env: SignedEnvelope, trust: CandidateTrust, command: string): void {
  const purpose = env.body.get('key_purpose')
  if (purpose !== CONTRACT_KEY_PURPOSE) {
    throw refuse(command, `key_purpose ${JSON.stringify(purpose)} is not ${JSON.stringify(CONTRACT_KEY_PURPOSE)}`)
  }
  const recorded = env.body.get('contract_hash')
  const computed = contractHash(env.body)
  if (recorded !== computed) {
    throw refuse(command, `contract_hash ${JSON.stringify(recorded)} does not match the body (computed ${computed})`, 'the candidate was modified after signing; recompile it')
  }
  const signerId = typeof env.body.get('signer_key_id') === 'string' ? (env.body.get('signer_key_id') as string) : ''
  const keys = candidateKeys(trust, signerId, command)
  if (!keys.some((k) => verifyCanonicalSignature(env.body, env.signature, k))) {
    // The body still hashes to its contract_hash: a key other than the signer's is the likelier cause.
    throw refuse(command, `signature does not verify for signer_key_id ${JSON.stringify(signerId)}`, wrongKeyHint(trust, signerId, keys))
  }
}

/** The hint of a contract signature that --contract-key (`given`, whose bytes are `key`) does not verify. */
export function givenKeyHint(given: string, key: Uint8Array, signerId: string): string {
  const named = /^[0-9a-fA-F]{64}$/.test(given) ? 'given as hex' : given
  return `checked with --contract-key ${named} (${fingerprint(key)}): it is not the key that signed this contract (signer_key_id ${JSON.stringify(signerId)}; pass that key's public key), or the contract was altered and re-hashed after signing (recompile it)`
}

/** What a signature that does not verify most likely means, naming the key it was checked with. */
function wrongKeyHint(trust: CandidateTrust, signerId: string, keys: readonly Uint8Array[]): string {
  const id = JSON.stringify(signerId)
  if (trust.contractKey !== undefined && trust.contractKey !== '') return givenKeyHint(trust.contractKey, keys[0]!, signerId)
  if (keys.length === 1) {
    return `checked with the keystore public key of signer_key_id ${id} (${fingerprint(keys[0]!)}): another key of that name signed it (pass its public key with --contract-key), or the contract was altered and re-hashed after signing (recompile it)`
  }
  return 'the contract was altered and re-hashed after signing; recompile it'
}

/** The keys `verifyCandidate` checks a candidate whose body names `signerId` with (one must verify); its refusal when there are none. */
function candidateKeys(trust: CandidateTrust, signerId: string, command: string): Uint8Array[] {
  if (trust.contractKey !== undefined && trust.contractKey !== '') return [loadPublicKey(trust.contractKey).bytes]
  if (trust.deterministic && signerId === DETERMINISTIC_COMPILE_KEY_ID) return DETERMINISTIC_COMPILE_PHRASES.map((p) => keyPairFromSeed(sha256(p)).publicKey)
  const found = signerPublicKey(trust.keystore, new Map([['signer_key_id', signerId]]))
  if (!('key' in found)) {
    throw found.signer === ''
      ? refuse(command, 'candidate has no signer_key_id', 'pass the compile public key with --contract-key')
      : refuse(command, `no public key for signer_key_id ${JSON.stringify(signerId)}: ${found.error}`, 'pass the compile public key with --contract-key')
  }
  return [found.key]
}

/**
 * The keys `verifyCandidate` would take, found before a streamed read parses the file (contracts
 * `streamContractEnvelopeVerifyingFd`), with the signature from the file's tail (contracts
 * `readEnvelopeTail`); `signer`: the tail's signer_key_id the keys depend on (the caller confirms
 * the parsed body names it). Undefined when they are not known then, or there are none: the
 * ordinary load then decides, and words the refusal.
 */
export function keysBeforeParse(trust: CandidateTrust, tail: EnvelopeTail): {keys: Uint8Array[]; signature: string; signer?: string} | undefined {
  if (tail.signature === undefined) return undefined
  const pinned = trust.contractKey !== undefined && trust.contractKey !== ''
  if (!pinned && tail.signerKeyId === undefined) return undefined
  try {
    return {keys: candidateKeys(trust, tail.signerKeyId ?? '', ''), signature: tail.signature, ...(pinned ? {} : {signer: tail.signerKeyId})}
  } catch {
    return undefined
  }
}
