// Key purposes and the authority matrix (learn-lifecycle.md §1.5, §8.1; receipts.md §9.3).

/** The six wire strings, in their stable order. */
export const KEY_PURPOSES = [
  'receipt-signing',
  'contract-compile-signing',
  'contract-activation-signing',
  'rules-official-signing',
  'roster-root',
  'recovery-root',
] as const

export type KeyPurpose = (typeof KEY_PURPOSES)[number]

export const ROOT_PURPOSES: ReadonlySet<KeyPurpose> = new Set(['roster-root', 'recovery-root'])

export function isKeyPurpose(s: string): s is KeyPurpose {
  return (KEY_PURPOSES as readonly string[]).includes(s)
}

/** EvidenceReceipt v2 payload kind → the only key purpose allowed to sign it. */
export const AUTHORITY_MATRIX = {
  proxy_decision: 'receipt-signing',
  contract_ratified: 'receipt-signing',
  contract_promote_intent: 'contract-activation-signing',
  contract_promote_committed: 'receipt-signing',
  contract_rollback_authorized: 'contract-activation-signing',
  contract_rollback_committed: 'receipt-signing',
  contract_demoted: 'receipt-signing',
  contract_expired: 'receipt-signing',
  contract_drift: 'receipt-signing',
  shadow_delta: 'receipt-signing',
  opportunity_missing: 'receipt-signing',
  key_rotation: 'contract-activation-signing',
  contract_redaction_request: 'contract-activation-signing',
  // [beyond] operations.md §8.2: a policy change of `pipelock run`. Reference verifiers reject the
  // kind (`unknown payload_kind for v2 receipt: "config_change"`); docs/receipts.md says so.
  config_change: 'receipt-signing',
} as const satisfies Record<string, KeyPurpose>

export type PayloadKind = keyof typeof AUTHORITY_MATRIX

export const PAYLOAD_KINDS = Object.keys(AUTHORITY_MATRIX) as PayloadKind[]

export function isPayloadKind(s: string): s is PayloadKind {
  return Object.hasOwn(AUTHORITY_MATRIX, s)
}

export function requiredPurpose(kind: PayloadKind): KeyPurpose {
  return AUTHORITY_MATRIX[kind]
}
