import {readFileSync} from 'node:fs'
import path from 'node:path'
import {
  canonicalBytes,
  decodeGoHex,
  defineStruct,
  JsonNumber,
  parseGoTime,
  parseJson,
  parseStrictYaml,
  projectStruct,
  ShapeError,
  StrictYamlError,
  toEpochNanos,
  type Clock,
  type JsonObject,
  type JsonValue,
} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {verifyBytes} from './ed25519.js'
import {parseFingerprint, verifyFingerprint} from './fingerprint.js'
import {goErrnoText, goQ, readFailureCode} from './go-fmt.js'
import {refuseSpecialFile} from './input-file.js'
import {isKeyPurpose, isPayloadKind, requiredPurpose, type KeyPurpose} from './purposes.js'
import {parseSignatureField, SignatureFormatError} from './signature-format.js'

// The deployment key roster (learn-lifecycle.md §2.5, §8.5): a list of keys signed by a
// `roster-root` key whose fingerprint the operator pins.

/** KeyInfo in Go field order. `valid_until` is a *string: null when absent, always emitted. */
export const KEY_INFO = defineStruct('KeyInfo', [
  {name: 'key_id', kind: 'string'},
  {name: 'key_purpose', kind: 'string'},
  {name: 'public_key_hex', kind: 'string'},
  {name: 'valid_from', kind: 'string'},
  {name: 'valid_until', kind: 'any'},
  {name: 'status', kind: 'string'},
  {name: 'principal', kind: 'string', oe: true},
])

export const ROSTER_BODY = defineStruct('KeyRoster', [
  {name: 'schema_version', kind: 'int'},
  {name: 'roster_signed_by', kind: 'string'},
  {name: 'keys', kind: 'structs', schema: KEY_INFO},
  {name: 'data_class_root', kind: 'string'},
])

export const ROSTER_ENVELOPE = defineStruct('RosterEnvelope', [
  {name: 'body', kind: 'struct', schema: ROSTER_BODY},
  {name: 'signature', kind: 'string'},
])

export const KEY_STATUSES = ['active', 'revoked', 'root'] as const
export type KeyStatus = (typeof KEY_STATUSES)[number]
export const DATA_CLASSES = ['public', 'internal', 'sensitive', 'regulated'] as const

export interface KeyInfo {
  keyId: string
  keyPurpose: string
  publicKeyHex: string
  validFrom: string
  validUntil: string | null
  status: string
  /** Empty when absent (omit-if-empty on the wire). */
  principal: string
}

export interface KeyRoster {
  schemaVersion: number
  rosterSignedBy: string
  keys: KeyInfo[]
  dataClassRoot: string
}

export interface LoadedRoster {
  body: KeyRoster
  signature: string
  pinnedFingerprint: string
  /** Epoch nanoseconds when loaded (from the injected clock; 0n without one). */
  loadedAtNanos: bigint
  sourcePath: string
  rootKeyId: string
  rootPublicKey: Buffer
}

/** The unknown-field text of the strict typed decode (§1.3). */
export const UNKNOWN_FIELD = 'unknown field in signed-artifact transport payload'
const unknownFields = (_label: string, names: string[], p: string): string =>
  `${UNKNOWN_FIELD}: ${p}.${names[0] ?? ''}`

function rosterError(message: string): PipelockError {
  return new PipelockError('ROSTER_INVALID', message)
}

/** Signed-artifact transport decode: JSON text or strict YAML by extension, then strict typed. */
export function decodeSignedArtifactTree(text: string, ext: string): JsonValue {
  if (ext === '.json') {
    if (/^[ \t\r\n]*$/.test(text)) throw new Error('empty or null payload')
    let v: JsonValue
    try {
      v = parseJson(text)
    } catch (e) {
      const msg = (e as Error).message
      throw new Error(msg.startsWith('trailing tokens') ? 'trailing tokens after JSON value' : msg)
    }
    if (v === null) throw new Error('empty or null payload')
    return v
  }
  const v = parseStrictYaml(text)
  if (v === null) throw new Error('empty or null payload')
  return v
}

function toKeyInfo(m: JsonObject, i: number): KeyInfo {
  const vu = m.get('valid_until') ?? null
  if (vu !== null && typeof vu !== 'string') {
    throw new ShapeError(`KeyRoster.keys[${i}].valid_until: expected string or null`, `keys[${i}].valid_until`)
  }
  return {
    keyId: m.get('key_id') as string,
    keyPurpose: m.get('key_purpose') as string,
    publicKeyHex: m.get('public_key_hex') as string,
    validFrom: m.get('valid_from') as string,
    validUntil: vu,
    status: m.get('status') as string,
    principal: (m.get('principal') as string | undefined) ?? '',
  }
}

/** Decodes a roster envelope tree (strict: unknown fields and wrong types refused). */
export function decodeRosterEnvelope(tree: JsonValue): {body: KeyRoster; signature: string} {
  const env = projectStruct(ROSTER_ENVELOPE, tree, 'roster', {unknownFields})
  const b = env.get('body') as JsonObject
  const keys = (b.get('keys') as JsonObject[] | null) ?? []
  const sv = b.get('schema_version') as JsonNumber
  return {
    body: {
      schemaVersion: Number(sv.text),
      rosterSignedBy: b.get('roster_signed_by') as string,
      keys: keys.map(toKeyInfo),
      dataClassRoot: b.get('data_class_root') as string,
    },
    signature: env.get('signature') as string,
  }
}

/** The body as the typed projection Go marshals: what is signed and what `roster show` prints. */
export function rosterBodyTree(body: KeyRoster): JsonObject {
  const keys: JsonObject[] = body.keys.map((k) => {
    const m: JsonObject = new Map<string, JsonValue>([
      ['key_id', k.keyId],
      ['key_purpose', k.keyPurpose],
      ['public_key_hex', k.publicKeyHex],
      ['valid_from', k.validFrom],
      ['valid_until', k.validUntil],
      ['status', k.status],
    ])
    if (k.principal !== '') m.set('principal', k.principal)
    return m
  })
  return new Map<string, JsonValue>([
    ['schema_version', new JsonNumber(String(body.schemaVersion))],
    ['roster_signed_by', body.rosterSignedBy],
    ['keys', keys],
    ['data_class_root', body.dataClassRoot],
  ])
}

/** canonical(body): the exact bytes the roster-root key signs. */
export function rosterSigningBytes(body: KeyRoster): Buffer {
  return canonicalBytes(rosterBodyTree(body))
}

/** Checks a data class for a signed artifact root; empty is allowed. Returns the error text or undefined. */
export function dataClassRootProblem(dc: string): string | undefined {
  if (dc === '') return undefined
  if (!(DATA_CLASSES as readonly string[]).includes(dc)) return `invalid data_class: ${goQ(dc)}`
  if (dc === 'regulated') return 'data_class_root regulated is forbidden in signed artifacts'
  return undefined
}

/** §8.5 step 3 (body structure) and step 4 (per-key trust checks); returns the bare reason. */
export function rosterBodyProblem(body: KeyRoster): string | undefined {
  if (body.schemaVersion !== 1) return `unsupported key_roster schema_version; expected 1: got ${body.schemaVersion}`
  const seen = new Set<string>()
  for (const k of body.keys) {
    if (seen.has(k.keyId)) return `duplicate key_id in key_roster: ${goQ(k.keyId)}`
    seen.add(k.keyId)
  }
  if (!body.keys.some((k) => k.keyId === body.rosterSignedBy && k.status === 'root')) {
    return `roster_signed_by must reference a key with status=root: key_id ${goQ(body.rosterSignedBy)} not found with status "root"`
  }
  const dc = dataClassRootProblem(body.dataClassRoot)
  if (dc !== undefined) return dc
  for (const k of body.keys) {
    if (!(KEY_STATUSES as readonly string[]).includes(k.status)) {
      return `key has unknown status: key_id ${goQ(k.keyId)} status ${goQ(k.status)}`
    }
    if (!isKeyPurpose(k.keyPurpose)) return `key has unknown key_purpose: key_id ${goQ(k.keyId)} key_purpose ${goQ(k.keyPurpose)}`
    if (publicKeyBytes(k) === undefined) return `key has missing or malformed public_key_hex: key_id ${goQ(k.keyId)}`
  }
  return undefined
}

/** The 32 key bytes of an entry, or undefined when `public_key_hex` is not 64 hex chars. */
export function publicKeyBytes(k: KeyInfo): Buffer | undefined {
  try {
    const b = decodeGoHex(k.publicKeyHex)
    return b.length === 32 ? b : undefined
  } catch {
    return undefined
  }
}

export interface LoadRosterOptions {
  clock?: Clock
  /** The flag that named the roster file, for the hint when it is another kind of file (default --roster). */
  flag?: string
  /** The calling command's flag that takes a key file, if it has one: where the hint sends a key file given as the roster. */
  keyFlag?: string
}

/** Verifies an already-decoded roster against a pinned root fingerprint (§8.5 steps 3–9). */
export function verifyRoster(
  decoded: {body: KeyRoster; signature: string},
  pinnedRootFingerprint: string,
  sourcePath: string,
  options: LoadRosterOptions = {},
): LoadedRoster {
  const {body, signature} = decoded
  // 3 + 4
  const problem = rosterBodyProblem(body)
  if (problem !== undefined) throw rosterError(`roster body validation failed: ${problem}`)
  // 5
  let sig: Buffer
  try {
    sig = parseSignatureField(signature)
  } catch (e) {
    if (e instanceof SignatureFormatError) throw rosterError(`roster signature format invalid: ${e.reason}`)
    throw e
  }
  // 6 (only the roster_signed_by entry is the root, even if several keys carry status root)
  const root = body.keys.find((k) => k.keyId === body.rosterSignedBy)
  if (root === undefined || root.status !== 'root') {
    throw rosterError(`roster root key missing or wrong status: key_id ${goQ(body.rosterSignedBy)}`)
  }
  // 7
  if (root.keyPurpose !== 'roster-root') {
    throw rosterError(`roster root key has wrong key_purpose: got ${goQ(root.keyPurpose)}, want "roster-root"`)
  }
  const rootPub = publicKeyBytes(root) as Buffer
  // 8: a malformed pin is the same sentinel as a mismatch; a pin that is not a fingerprint at all
  // is a typing slip, not a wrong root, so its refusal says what form the pin takes.
  const mismatch = (e: unknown, hint?: string): PipelockError =>
    new PipelockError('FINGERPRINT_INVALID', `roster root key fingerprint does not match pinned: ${(e as Error).message}`, hint === undefined ? {} : {hint})
  try {
    parseFingerprint(pinnedRootFingerprint)
  } catch (e) {
    throw mismatch(e, 'give the roster root fingerprint as sha256:<64 hex>, as signing key generate and signing roster build print it')
  }
  try {
    verifyFingerprint(rootPub, pinnedRootFingerprint)
  } catch (e) {
    throw mismatch(e)
  }
  // 9
  if (!verifyBytes(rootPub, rosterSigningBytes(body), sig)) throw rosterError('roster signature does not verify')
  return {
    body,
    signature,
    pinnedFingerprint: pinnedRootFingerprint,
    loadedAtNanos: options.clock?.nowNanos() ?? 0n,
    sourcePath,
    rootKeyId: root.keyId,
    rootPublicKey: rootPub,
  }
}

/** `LoadRoster(path, pinnedRootFingerprint)`: §8.5 steps 1–9, each error under its sentinel. */
export function loadRoster(file: string, pinnedRootFingerprint: string, options: LoadRosterOptions = {}): LoadedRoster {
  // 1
  refuseSpecialFile(file, 'roster')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new PipelockError(readFailureCode(e), `roster read failed: open ${file}: ${goErrnoText(e)}`)
  }
  // 2
  const ext = path.extname(file).toLowerCase()
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') {
    throw rosterError(`unsupported roster file extension: ${goQ(path.extname(file))}`)
  }
  let decoded: {body: KeyRoster; signature: string}
  try {
    decoded = decodeRosterEnvelope(decodeSignedArtifactTree(text, ext))
  } catch (e) {
    const line = e instanceof StrictYamlError ? e.line : undefined
    const other = ext === '.json' ? notARoster(text) : undefined
    throw new PipelockError('ROSTER_INVALID', `roster decode failed: ${(e as Error).message}`, {
      ...(line === undefined ? {} : {location: {file, line}}),
      // A key file or a receipt given as --roster fails on its first unknown field: say what it is.
      ...(other === undefined ? {} : {hint: notARosterHint(file, other, options)}),
    })
  }
  return verifyRoster(decoded, pinnedRootFingerprint, file, options)
}

/** Says what `file` is and what the flag that named it expects, with only the flags the command has. */
function notARosterHint(file: string, other: string, options: LoadRosterOptions): string {
  const where = options.keyFlag === undefined ? 'a key file is listed in a roster with signing roster build --include id=…,key=FILE,purpose=…' : `a key file goes to ${options.keyFlag}`
  return `${file} looks like ${other}, not a key roster: ${options.flag ?? '--roster'} expects the signed roster that pipelock signing roster build writes ({"body":{…,"keys":[…]},"signature":…}); ${where}`
}

/** What a JSON file that did not decode as a roster looks like, when it is a known other kind. */
function notARoster(text: string): string | undefined {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined // not JSON: the decoder's message says where
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
  const o = v as Record<string, unknown>
  if ('key_id' in o && ('public' in o || 'private' in o)) return `a key file (${'private' in o ? 'with a private key' : 'public'}, key_id ${JSON.stringify(o.key_id)})`
  if ('record_type' in o || 'payload_kind' in o) return 'an EvidenceReceipt v2'
  if ('action_record' in o && 'signature' in o) return 'an ActionReceipt v1'
  if ('recovery' in o || 'transition' in o) return 'a recovery or transition document'
  return undefined
}

function notAuthorized(message: string): PipelockError {
  return new PipelockError('KEY_NOT_AUTHORIZED', message)
}

function parseRfc3339Nanos(s: string): bigint {
  return toEpochNanos(parseGoTime(s))
}

/** `ResolveKey(keyID, now)`: only an active key inside its validity window resolves. */
export function resolveKey(roster: {body: KeyRoster} | KeyRoster, keyId: string, nowNanos: bigint): KeyInfo {
  const body = 'body' in roster ? roster.body : roster
  const k = body.keys.find((x) => x.keyId === keyId)
  if (k === undefined) throw notAuthorized(`key_id not in roster: ${goQ(keyId)}`)
  if (k.status === 'revoked') throw notAuthorized('key is revoked')
  if (k.status === 'root') throw notAuthorized('key is not active') // root keys never sign runtime payloads
  if (k.status !== 'active') throw notAuthorized('key has unknown status')
  let from: bigint
  try {
    from = parseRfc3339Nanos(k.validFrom)
  } catch (e) {
    throw notAuthorized(`key is not yet valid: invalid valid_from: ${(e as Error).message}`)
  }
  if (nowNanos < from) throw notAuthorized('key is not yet valid')
  if (k.validUntil !== null) {
    let until: bigint
    try {
      until = parseRfc3339Nanos(k.validUntil)
    } catch (e) {
      throw notAuthorized(`key is expired: invalid valid_until: ${(e as Error).message}`)
    }
    if (nowNanos > until) throw notAuthorized('key is expired')
  }
  return k
}

/** `AuthorizeSignerForPayload(kind, keyID, now)`: a permission check; callers still verify. */
export function authorizeSignerForPayload(
  roster: {body: KeyRoster} | KeyRoster,
  payloadKind: string,
  keyId: string,
  nowNanos: bigint,
): KeyInfo {
  const k = resolveKey(roster, keyId, nowNanos)
  if (!isKeyPurpose(k.keyPurpose)) throw notAuthorized(`unknown key_purpose: ${goQ(k.keyPurpose)}`)
  if (!isPayloadKind(payloadKind)) throw notAuthorized('unknown payload_kind')
  const required: KeyPurpose = requiredPurpose(payloadKind)
  if (required !== k.keyPurpose) {
    throw notAuthorized(
      `signature key_purpose does not match authority matrix: payload_kind=${goQ(payloadKind)} required=${goQ(required)} got=${goQ(k.keyPurpose)}`,
    )
  }
  return k
}
