import {
  compactRawJson,
  JsonNumber,
  JsonSyntaxError,
  parseGoTime,
  parseStrictJson,
  projectStruct,
  pythonList,
  RawJson,
  ShapeError,
  toEpochNanos,
  ZERO_TIME,
  type JsonObject,
  type JsonValue,
} from '../../canonical/index.js'
import {EVIDENCE_ENVELOPE, EVIDENCE_EXTENSION_MEMBERS, EVIDENCE_UNDERSTOOD_CRITICAL} from './envelope-schema.js'
import {EvidenceParseError} from './errors.js'

// Strict reading of an EvidenceReceipt v2 (receipts.md §9.1–9.2; Profile B strictness):
// duplicate keys, trailing tokens, unknown envelope or signature keys and wrong JSON types are
// refused here, before any validation. Missing fields take Go's zero values so that
// `Validate` reports them with the Go texts (§9.5).

export interface EvidenceSignatureProof {
  readonly signerKeyId: string
  readonly keyPurpose: string
  readonly algorithm: string
  readonly signature: string
}

export interface ParsedEvidenceReceipt {
  /** Brand: this object came out of the strict parser. */
  readonly format: 'evidence_receipt_v2'
  /**
   * The envelope as Go re-marshals it after decoding: struct order, zero-valued omitempty
   * fields dropped, timestamp re-rendered, payload raw (compacted) when parsed from text.
   */
  readonly envelope: JsonObject
  readonly recordType: string
  readonly receiptVersion: bigint
  readonly payloadKind: string
  readonly eventId: string
  /** RFC3339Nano as Go renders it (`0001-01-01T00:00:00Z` when absent). */
  readonly timestamp: string
  readonly timestampIsZero: boolean
  readonly principal: string
  readonly actor: string
  readonly delegationChain: readonly string[]
  readonly signature: EvidenceSignatureProof
  readonly chainSeq: bigint
  readonly chainPrevHash: string
  readonly activeManifestHash: string
  readonly contractHash: string
  readonly selectorId: string
  readonly contractGeneration: bigint
  /** The payload tree; undefined when the key is absent. */
  readonly payload: JsonValue | undefined
  /** `policy_hash` of a newer release's envelope, else `""`. */
  readonly policyHash: string
  /** The members `crit` lists (empty without `crit`). */
  readonly critical: readonly string[]
  /** The critical members this version does not understand: the receipt is not verifiable by it. */
  readonly unsupportedCritical: readonly string[]
}

export interface ParseEvidenceOptions {
  /** Named in error locations. */
  file?: string
  /** Line number of the text's first line inside `file` (JSONL callers); default 1. */
  line?: number
}

function lineAt(text: string, offset: number, first: number): number {
  let line = first
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 0x0a) line++
  return line
}

const unknownFields = (label: string, names: string[]): string =>
  label === 'signature' ? `unknown signature fields: ${pythonList(names)}` : `unknown envelope fields: ${pythonList(names)}`

const UINT64_FIELDS = ['chain_seq', 'contract_generation'] as const

interface TextContext {
  text: string
  spans: Map<string, [number, number]>
}

function build(input: JsonValue, options: ParseEvidenceOptions, ctx?: TextContext): ParsedEvidenceReceipt {
  const where = (key?: string): {location?: {file?: string; line?: number}} => {
    const span = key === undefined ? undefined : ctx?.spans.get(key)
    const line = span === undefined || ctx === undefined ? undefined : lineAt(ctx.text, span[0], options.line ?? 1)
    if (options.file === undefined && line === undefined) return {}
    return {location: {file: options.file, line}}
  }
  if (!(input instanceof Map)) {
    throw new EvidenceParseError(`invalid evidence receipt: expected a JSON object, got ${jsonKind(input)}`, where())
  }
  let value: JsonObject = input
  const critical = criticalMembers(value, where)
  const extension = (k: string): boolean => EVIDENCE_EXTENSION_MEMBERS.has(k) || critical.includes(k)
  const unknown = [...value.keys()].filter((k) => !EVIDENCE_ENVELOPE.names.has(k) && !extension(k))
  if (unknown.length > 0) {
    throw new EvidenceParseError(unknownFields('evidence_receipt', [...unknown].sort()), where(unknown[0]))
  }
  for (const k of ['canonicalization', 'policy_hash']) {
    if (value.has(k) && typeof value.get(k) !== 'string') throw new EvidenceParseError(`invalid evidence receipt: ${k}: expected a string, got ${jsonKind(value.get(k) as JsonValue)}`, where(k))
  }
  // The extension members, in input order, join the projected envelope after the §9.1 fields:
  // they are signed and hashed as they appear (JCS sorts keys, so their place only shows in JSONL).
  const extensions: [string, JsonValue][] = [...value].filter(([k]) => extension(k))
  if (extensions.length > 0) value = new Map([...value].filter(([k]) => !extension(k)))
  for (const k of UINT64_FIELDS) {
    const v = value.get(k)
    // strconv.ParseUint refuses a sign, so `-0` is a type error in Go, not zero.
    if (v instanceof JsonNumber && v.text.startsWith('-')) {
      throw new EvidenceParseError(`invalid evidence receipt: ${k}: ${v.text} out of range for uint64`, where(k))
    }
  }
  let envelope: JsonObject
  try {
    envelope = projectStruct(EVIDENCE_ENVELOPE, value, 'evidence_receipt', {unknownFields})
  } catch (e) {
    if (e instanceof ShapeError) {
      // (extension members were taken out above; the §9.1 fields alone are projected)
      const top = e.path.split('.')[1]
      const msg = e.message.startsWith('unknown ') ? e.message : `invalid evidence receipt: ${e.message.replace(/^evidence_receipt\./, '')}`
      throw new EvidenceParseError(msg, where(top))
    }
    throw e
  }
  const payload = value.get('payload')
  const span = ctx?.spans.get('payload')
  if (ctx !== undefined && span !== undefined) {
    // json.RawMessage: Go re-marshals the bytes compacted (HTML-unsafe runes escaped), not re-ordered.
    envelope.set('payload', new RawJson(compactRawJson(ctx.text.slice(span[0], span[1]))))
  }
  for (const [k, v] of extensions) envelope.set(k, v)
  const str = (k: string): string => (envelope.get(k) as string | undefined) ?? ''
  const num = (k: string): bigint => {
    const v = envelope.get(k)
    return v instanceof JsonNumber ? BigInt(v.text) : 0n
  }
  const proof = envelope.get('signature') as JsonObject
  const timestamp = str('timestamp')
  return {
    format: 'evidence_receipt_v2',
    envelope,
    recordType: str('record_type'),
    receiptVersion: num('receipt_version'),
    payloadKind: str('payload_kind'),
    eventId: str('event_id'),
    timestamp,
    timestampIsZero: toEpochNanos(parseGoTime(timestamp)) === toEpochNanos(parseGoTime(ZERO_TIME)),
    principal: str('principal'),
    actor: str('actor'),
    delegationChain: (envelope.get('delegation_chain') as string[] | undefined) ?? [],
    signature: {
      signerKeyId: proof.get('signer_key_id') as string,
      keyPurpose: proof.get('key_purpose') as string,
      algorithm: proof.get('algorithm') as string,
      signature: proof.get('signature') as string,
    },
    chainSeq: num('chain_seq'),
    chainPrevHash: str('chain_prev_hash'),
    activeManifestHash: str('active_manifest_hash'),
    contractHash: str('contract_hash'),
    selectorId: str('selector_id'),
    contractGeneration: num('contract_generation'),
    payload,
    policyHash: str('policy_hash'),
    critical,
    unsupportedCritical: critical.filter((k) => !EVIDENCE_UNDERSTOOD_CRITICAL.has(k)),
  }
}

/**
 * `crit`: a non-empty list of distinct member names, each a member the receipt carries and none
 * a §9.1 field (those are always understood) — the JWS rule (RFC 7515 §4.1.11) for the same word.
 */
function criticalMembers(value: JsonObject, where: (key?: string) => {location?: {file?: string; line?: number}}): string[] {
  const crit = value.get('crit')
  if (crit === undefined) return []
  const bad = (why: string): EvidenceParseError => new EvidenceParseError(`invalid evidence receipt: crit: ${why}`, where('crit'))
  if (!Array.isArray(crit) || crit.length === 0) throw bad('expected a non-empty list of member names')
  const names: string[] = []
  for (const n of crit) {
    if (typeof n !== 'string' || n === '') throw bad('expected a non-empty list of member names')
    if (names.includes(n)) throw bad(`${JSON.stringify(n)} listed twice`)
    if (n === 'crit' || EVIDENCE_ENVELOPE.names.has(n)) throw bad(`${JSON.stringify(n)} is an envelope field, not an extension`)
    if (!value.has(n)) throw bad(`lists ${JSON.stringify(n)}, which the receipt does not carry`)
    names.push(n)
  }
  return names
}

function jsonKind(v: JsonValue): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (v instanceof JsonNumber) return 'number'
  return typeof v
}

/** Parses one EvidenceReceipt v2 from JSON text; throws EvidenceParseError (one line, with location). */
export function parseEvidenceReceipt(text: string, options: ParseEvidenceOptions = {}): ParsedEvidenceReceipt {
  let parsed: {value: JsonValue; spans?: Map<string, [number, number]>}
  try {
    parsed = parseStrictJson(text, {topLevelSpans: true})
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      const location = {file: options.file, line: (options.line ?? 1) + e.line - 1}
      throw new EvidenceParseError(`invalid evidence receipt JSON: ${e.message}`, {location})
    }
    throw e
  }
  return build(parsed.value, options, parsed.spans === undefined ? undefined : {text, spans: parsed.spans})
}

/** Parses an already-decoded tree (e.g. a recorder entry's `detail`, or our own signed output). */
export function parseEvidenceReceiptValue(value: JsonValue, options: ParseEvidenceOptions = {}): ParsedEvidenceReceipt {
  return build(value, options)
}

export function isParsedEvidenceReceipt(v: unknown): v is ParsedEvidenceReceipt {
  return typeof v === 'object' && v !== null && (v as {format?: unknown}).format === 'evidence_receipt_v2' && 'envelope' in v
}
