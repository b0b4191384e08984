import {TOMBSTONE_KEY_PURPOSE} from '../contracts/index.js'
import {PipelockError, prefixedError} from '../errors/index.js'
import {authorizeSignerForPayload, type Ed25519KeyPair, type LoadedRoster, loadRoster, loadSignerKeyRef} from '../signing/index.js'
import type {LifecycleEnv} from './candidate-env.js'

/** The roster a contract store is promoted under (`--roster`, `--roster-root-fingerprint` of promote). */
export interface StoreRosterRef {
  path: string
  rootFingerprint: string
}

/**
 * The activation signer of `learn forget`, in the forms `learn promote --activation-key` accepts
 * (keystore key id, key file path, or a key file's key_id in the keystore). When the tombstone is
 * filed into a store, the signer is checked against the store's roster first: a tombstone the
 * roster does not authorise is unenforceable, and every later promote or rollback of the contract
 * would fail on it.
 */
export function loadForgetSigner(
  keystore: string,
  ref: string | {keyPair: Ed25519KeyPair; keyId: string},
  storeRoster: StoreRosterRef | undefined,
  env: LifecycleEnv,
): {keyPair: Ed25519KeyPair; keyId: string; roster?: LoadedRoster} {
  const key = typeof ref === 'string' ? resolveKey(keystore, ref) : ref
  if (storeRoster === undefined) return {keyPair: key.keyPair, keyId: key.keyId}
  let roster: LoadedRoster
  try {
    roster = loadRoster(storeRoster.path, storeRoster.rootFingerprint, {clock: env.clock, keyFlag: '--activation-key'})
  } catch (e) {
    throw prefixedError(e, 'learn forget: load roster: ', 'ROSTER_INVALID')
  }
  try {
    const entry = authorizeSignerForPayload(roster, 'contract_redaction_request', key.keyId, env.clock.nowNanos())
    const hex = key.keyPair.publicKey.toString('hex')
    if (entry.publicKeyHex.toLowerCase() !== hex) throw new Error(`key ${hex} does not match roster public_key_hex ${entry.publicKeyHex}`)
  } catch (e) {
    throw new PipelockError(
      'KEY_NOT_AUTHORIZED',
      `learn forget: activation key ${JSON.stringify(key.keyId)} cannot sign a tombstone for this store: ${(e as Error).message}`,
      {hint: 'use an activation key of the roster given with --roster (purpose contract-activation-signing); promote and rollback would refuse a tombstone signed by any other key'},
    )
  }
  return {keyPair: key.keyPair, keyId: key.keyId, roster}
}

function resolveKey(keystore: string, ref: string): {keyPair: Ed25519KeyPair; keyId: string} {
  try {
    return loadSignerKeyRef(keystore, ref, TOMBSTONE_KEY_PURPOSE)
  } catch (e) {
    if (!(e instanceof PipelockError)) throw e
    throw new PipelockError(e.code, `learn forget: activation key ${JSON.stringify(ref)}: ${e.message}`, {
      hint: 'pass a keystore key id (agents/<id>/id_ed25519), or a key file from signing key generate by its path or its key_id',
    })
  }
}
