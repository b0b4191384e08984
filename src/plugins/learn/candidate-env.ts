import {randomBytes} from 'node:crypto'
import {fixedClock, systemClock, uuidv7, type Clock} from '../canonical/index.js'
import {keyPairFromSeed, sha256, type Ed25519KeyPair} from '../signing/index.js'

// The environment of the lifecycle commands (§4.0): clock, event ids and the public
// deterministic keys. Commands inject these; the services stay pure.

export const LIFECYCLE_DETERMINISTIC_CLOCK = '2026-04-30T12:00:00Z'

/** Phrases whose SHA-256 seeds the `--deterministic` keys (§4.0 table). */
export const DETERMINISTIC_KEYS = {
  ratifyCompile: {phrase: 'pipelock deterministic ratify compile signer', keyId: 'deterministic-contract-compile'},
  ratifyReceipt: {phrase: 'pipelock deterministic ratify receipt signer', keyId: 'deterministic-receipt-signing'},
  forgetCompile: {phrase: 'pipelock deterministic forget compile signer', keyId: 'deterministic-contract-compile'},
  forgetActivation: {phrase: 'pipelock deterministic forget activation signer', keyId: 'deterministic-contract-activation'},
  shadowReceipt: {phrase: 'pipelock deterministic shadow receipt signer', keyId: 'deterministic-receipt-signing'},
  compile: {phrase: 'pipelock deterministic compile signer', keyId: 'deterministic-contract-compile'},
} as const

export function deterministicKey(which: keyof typeof DETERMINISTIC_KEYS): {keyPair: Ed25519KeyPair; keyId: string} {
  const k = DETERMINISTIC_KEYS[which]
  return {keyPair: keyPairFromSeed(sha256(k.phrase)), keyId: k.keyId}
}

/** Clock and id source of one run. */
export interface LifecycleEnv {
  clock: Clock
  /** `label` is used in deterministic mode (`<label>-deterministic`). */
  newId: (label: string) => string
  deterministic: boolean
}

export function lifecycleEnv(deterministic: boolean): LifecycleEnv {
  if (deterministic) return {clock: fixedClock(LIFECYCLE_DETERMINISTIC_CLOCK), newId: (label) => `${label}-deterministic`, deterministic}
  return {clock: systemClock, newId: () => uuidv7(systemClock.nowNanos(), (n) => randomBytes(n)), deterministic}
}

// §9.3: one compact JSON object on stderr, keys in this order, empty/zero omitted, noop always.
const AUDIT_ORDER = [
  'event', 'candidate', 'dest', 'rule', 'segment', 'index', 'segments_changed', 'agent', 'signer_key_id', 'since', 'inputs',
  'output', 'review', 'manifest', 'sessions', 'recorder_dir', 'events_ingested', 'events_dropped', 'rules_emitted',
  'quarantines', 'receipts_emitted', 'rules_ratified', 'rules_rejected', 'tombstone', 'cross_agent_signing',
] as const
export type AuditKey = (typeof AUDIT_ORDER)[number]

export function auditLine(fields: Partial<Record<AuditKey, string | number | boolean | readonly string[] | undefined>>, noop: boolean): string {
  const o: Record<string, unknown> = {}
  for (const k of AUDIT_ORDER) {
    const v = fields[k]
    if (v === undefined || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0)) continue
    o[k] = v
  }
  o.noop = noop
  return JSON.stringify(o)
}
