// The typed result of verifying a set of evidence files (one JSONL file, or a flight-recorder
// directory). `verify-receipt --json`, `transcript-root`, the audit packet and the report all
// consume this one shape.

/** A place in the input: the file as displayed and its 1-based line. */
export interface Position {
  file: string
  line: number
}

export interface Finding {
  message: string
  file?: string
  line?: number
}

export type EvidenceComponent = 'lines' | 'files' | 'entries' | 'action_receipts' | 'evidence_receipts' | 'keys'

export interface EvidenceFailure extends Finding {
  component: EvidenceComponent
  /** v1: the failing receipt's chain_seq, as the reference reports it. */
  brokenAtSeq?: string
  /** A line that cannot be read: not an entry or receipt (`entry`), or a receipt that does not parse (`receipt`). */
  extraction?: 'entry' | 'receipt'
  /** v1: the chain changes signer key here (key_transition) and no endorsement given authorises it. */
  unendorsedRotation?: true
  /**
   * v2: the signature does not verify under the key pinned for this `signer_key_id` (the
   * reference's text calls it an "invalid enum value"): a different key signed it, or the
   * receipt was altered after signing.
   */
  signatureMismatch?: {signerKeyId: string}
}

/**
 * A rotation endorsement the verification was given: named with --rotation-endorsement, or found
 * in the recorder directory (`rotation-<n>.json`). `used`: a key change of the evidence (or, after
 * a retention cut, the hand-over to the key in force there) rests on it.
 */
export interface EndorsementUse {
  file: string
  source: 'named' | 'found'
  used: boolean
}

/**
 * `valid`: every check passed and every signature was checked against a pinned key.
 * `self_consistent_only`: every check passed, but no key was pinned (v1 receipts were checked
 * against the key they carry themselves, v2 signatures were not checked): integrity, not origin.
 * `not_verifiable`: no check failed, but some v2 receipts list in `crit` an extension this version
 * does not implement (a newer release's): they were linked into their chain, not verified.
 * `invalid`: a check failed. `empty`: no receipt at all.
 */
export type EvidenceVerdict = 'valid' | 'self_consistent_only' | 'not_verifiable' | 'invalid' | 'empty'

export interface FileSummary {
  path: string
  lines: number
  entries: number
  firstEntrySeq?: string
  lastEntrySeq?: string
}

export interface EntryChainSummary {
  count: number
  valid: boolean
  sessionId?: string
  checkpoints: number
  signedCheckpoints: number
  /**
   * The entries at the end of the input that no verified checkpoint signature covers (all of them
   * when none verified); absent when the input ends with a verified signed checkpoint.
   */
  unsignedTail?: {entries: number; firstSeq: string; lastSeq: string}
  transcriptRoots: number
  headHash?: string
  /** The chains resume after a retention cut (policy-extra.md §3.3): what the anchor says was removed. */
  retentionCut?: {removedFiles: number; firstSeq: string; lastSeq: string; cutoff: string; retentionDays: number}
  /** Retention anchor entries seen (each a signed record of an expiry). */
  retentionAnchors?: number
}

export interface ActionChainSummary {
  count: number
  valid: boolean
  /** Session-control receipts (session_open, heartbeat, session_close) among them. */
  controlReceipts: number
  /** Process runs (session_open receipts) and those without a session_close. */
  runs: number
  unclosedRuns: number
  signerKey?: string
  finalSeq?: string
  rootHash?: string
  startTime?: string
  endTime?: string
}

export interface EvidenceChainSummary {
  count: number
  valid: boolean
  chains: number
  chained: number
  unchained: number
  /** False when no key was pinned and v2 signatures could not be checked. */
  signaturesChecked: boolean
  /**
   * Chains that a later genesis follows with no verified checkpoint signature covering that
   * genesis: nothing proves their last receipts were not removed. Absent when none.
   */
  unprovenChainEnds?: number
  finalSeq?: string
  rootHash?: string
  startTime?: string
  endTime?: string
}

/**
 * What the evidence holds, by the one definition in evidence-count.ts (docs/receipts.md, "What
 * is counted"); verify-receipt, the audit report and the audit packet all show these numbers.
 */
export interface EvidenceCounts {
  /** Every receipt (v1 + v2); the sum of byClass. */
  receipts: number
  /** Decisions: the sum of byVerdict. */
  decisions: number
  /** v1 decision receipts, or (in evidence without any) v2 proxy_decision receipts. */
  decisionSource: 'action_receipts' | 'proxy_decision_receipts' | 'none'
  /** Receipts by class: decision, contract_decision, airlock, session_control, config_change, lifecycle. */
  byClass: Record<'decision' | 'contract_decision' | 'airlock' | 'session_control' | 'config_change' | 'lifecycle', number>
  /** Decisions by verdict. */
  byVerdict: Record<string, number>
  /** Decisions by transport. */
  byTransport: Record<string, number>
  /** v2 receipts by payload kind. */
  byPayloadKind: Record<string, number>
}

export interface EvidenceSetReport {
  kind: 'evidence_set'
  label: string
  /**
   * True only when the evidence is proven as far as its receipts can be: verdict \`valid\`, or
   * \`self_consistent_only\` over v1 receipts alone (each checked against the key it carries, as
   * the reference does). False whenever a v2 signature went unchecked (no key given): a v2
   * receipt does not carry its key, so its contents and signer are not proven at all.
   */
  valid: boolean
  verdict: EvidenceVerdict
  signerPinned: boolean
  /** Total receipts (v1 + v2). */
  receiptCount: number
  files: FileSummary[]
  entries: EntryChainSummary
  actionReceipts: ActionChainSummary
  evidenceReceipts: EvidenceChainSummary
  counts: EvidenceCounts
  /** v2 receipts with an unknown critical extension: how many, which extensions, the first one. */
  notVerifiable: {count: number; extensions: string[]; first?: Finding}
  /** The rotation endorsements given or found (absent when none). */
  endorsements?: EndorsementUse[]
  warnings: Finding[]
  failure?: EvidenceFailure
  /**
   * Named keys (`--key ID=KEY`) that pinned no receipt, by id; absent when every key was used,
   * and when the verification stopped early (a later receipt might have used them).
   */
  unusedKeys?: string[]
  /**
   * A directory that held no recorder file of the session: the file names looked for, where,
   * and the other .jsonl files there (at most a few), so an empty verdict says why.
   */
  noRecorderFiles?: {pattern: string; dirs: string[]; otherJsonl: string[]}
}

/** One receipt as the walker saw it, for consumers that build summaries (packet, report). */
export interface ReceiptFact {
  version: 1 | 2
  /** v1 action_type, v2 payload_kind. */
  kind: string
  id: string
  timestamp: string
  chainSeq: string
  /** Session control receipt (v1). */
  control: boolean
  verdict?: string
  transport?: string
  target?: string
  layer?: string
  pattern?: string
  /** v2: the envelope's actor (config_change: the operator, or `pipelock`). */
  actor?: string
  policyHash?: string
  contractHash?: string
  contractGeneration?: string
  /** The v2 payload's own fields, compact (lifecycle events). */
  payload?: Record<string, unknown>
  /** Receipt hash (v1: over GoJSON; v2: over JCS). */
  receiptHash?: string
  position: Position
}
