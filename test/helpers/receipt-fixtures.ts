import {createHash} from 'node:crypto'
import {keyPairFromSeed, type Ed25519KeyPair} from '../../src/plugins/signing/index.js'
import type {RunIdentity} from '../../src/plugins/receipts/index.js'

/** Test key A (the conformance key K1): seed = SHA-256 of its phrase. Public test data. */
export function keyA(): Ed25519KeyPair {
  return keyPairFromSeed(createHash('sha256').update('pipelock-conformance-test-key-v1').digest())
}

/** Test key B (synthetic rotation key). */
export function keyB(): Ed25519KeyPair {
  return keyPairFromSeed(createHash('sha256').update('pipelock-synthetic-rotation-key-2').digest())
}

export const K1 = '4655a7e605c12ebb00a46037881c33c5bca5eb74b45a02e8e7261a7ff5a21678'

export function run(n: number, epoch: string): RunIdentity {
  return {runNonce: `run-nonce-synthetic-${n}`, openNonce: `open-nonce-synthetic-${n}`, recorderSession: 'proxy', signerKeyEpoch: epoch, heartbeatSeconds: 30}
}

export const SYNTHETIC_IDENTITY = {
  principal: 'org:synthetic',
  actor: 'agent:synthetic',
  policyHash: 'sha256:' + 'ab'.repeat(32),
}

/** An ordinary receipt's fields in the synthetic vectors' style. */
export function action(id: string, ts: string, type: 'read' | 'write', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action_id: id,
    action_type: type,
    timestamp: ts,
    principal: SYNTHETIC_IDENTITY.principal,
    actor: SYNTHETIC_IDENTITY.actor,
    target: 'https://api.example.com/items',
    side_effect_class: type === 'read' ? 'external_read' : 'external_write',
    reversibility: type === 'read' ? 'full' : 'compensatable',
    policy_hash: SYNTHETIC_IDENTITY.policyHash,
    verdict: 'allow',
    transport: 'fetch',
    method: type === 'read' ? 'GET' : 'POST',
    ...extra,
  }
}
