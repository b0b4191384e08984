import {
  canonicalTimeString,
  decodeGoHex,
  goJson,
  goJsonIndent,
  INTEGER_LEXEME,
  JsonNumber,
  JsonSyntaxError,
  parseStrictJson,
  type JsonObject,
} from '../canonical/index.js'
import {formatSignature, sha256, signBytes, verifyBytes, type Ed25519KeyPair} from '../signing/index.js'

// Rotation endorsements (receipts.md §10): a retiring receipt key authorises its successor.

export const ENDORSEMENT_MAX_BYTES = 65536
const DOMAIN = Buffer.from('pipelock-rotation-endorsement-v1\u0000', 'ascii')
const FIELDS = ['version', 'session_id', 'prior_signer_key', 'prior_final_seq', 'prior_tail_hash', 'new_signer_key', 'rotated_at', 'endorsement'] as const
const HEX64 = /^[0-9a-f]{64}$/
const SIG = /^ed25519:[0-9a-f]{128}$/
const UINT64_MAX = 2n ** 64n - 1n

export interface RotationEndorsement {
  sessionId: string
  priorSignerKey: string
  priorFinalSeq: bigint
  priorTailHash: string
  newSignerKey: string
  rotatedAt: string
  endorsement: string
}

export class EndorsementError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EndorsementError'
  }
}

/** Parses, checks and verifies an endorsement file's bytes. Throws EndorsementError (pyverify texts). */
export function parseRotationEndorsement(bytes: Buffer): RotationEndorsement {
  if (bytes.length > ENDORSEMENT_MAX_BYTES) throw new EndorsementError(`rotation endorsement exceeds ${ENDORSEMENT_MAX_BYTES} bytes`)
  let tree
  try {
    tree = parseStrictJson(bytes.toString('utf8')).value
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new EndorsementError(`unmarshal rotation endorsement: ${e.message}`)
    throw e
  }
  if (!(tree instanceof Map)) throw new EndorsementError('unmarshal rotation endorsement: not a JSON object')
  for (const k of tree.keys()) {
    if (!(FIELDS as readonly string[]).includes(k)) throw new EndorsementError(`rotation endorsement contains unknown field ${k}`)
  }
  for (const f of FIELDS) {
    if (!tree.has(f)) throw new EndorsementError(`rotation endorsement is missing required field ${f}`)
  }
  const version = tree.get('version')
  if (!(version instanceof JsonNumber) || version.text !== '1') {
    throw new EndorsementError(`unsupported rotation endorsement version ${describe(version)}`)
  }
  const str = (name: string): string => {
    const v = tree.get(name)
    if (typeof v !== 'string') throw new EndorsementError(`rotation endorsement ${name} is invalid`)
    return v
  }
  const sessionId = str('session_id')
  if (sessionId.trim() === '') throw new EndorsementError('rotation endorsement session_id is empty')
  const priorSignerKey = str('prior_signer_key')
  if (!HEX64.test(priorSignerKey)) throw new EndorsementError('rotation endorsement prior_signer_key is invalid')
  const seq = tree.get('prior_final_seq')
  if (!(seq instanceof JsonNumber) || !INTEGER_LEXEME.test(seq.text) || seq.text.startsWith('-') || BigInt(seq.text) > UINT64_MAX) {
    throw new EndorsementError('rotation endorsement prior_final_seq is invalid')
  }
  const priorTailHash = str('prior_tail_hash')
  if (!HEX64.test(priorTailHash)) throw new EndorsementError('rotation endorsement prior_tail_hash is invalid')
  const newSignerKey = str('new_signer_key')
  if (!HEX64.test(newSignerKey)) throw new EndorsementError('rotation endorsement new_signer_key is invalid')
  if (newSignerKey === priorSignerKey) throw new EndorsementError('rotation endorsement successor key must differ from prior key')
  const rotatedAt = str('rotated_at')
  if (!isCanonicalUtc(rotatedAt)) throw new EndorsementError('rotation endorsement rotated_at must be canonical UTC RFC3339Nano')
  const endorsement = str('endorsement')
  if (!SIG.test(endorsement)) throw new EndorsementError('invalid endorsement signature')

  const e: RotationEndorsement = {
    sessionId,
    priorSignerKey,
    priorFinalSeq: BigInt(seq.text),
    priorTailHash,
    newSignerKey,
    rotatedAt,
    endorsement,
  }
  let pub: Buffer
  try {
    pub = decodeGoHex(priorSignerKey)
  } catch {
    throw new EndorsementError('rotation endorsement signer key is invalid')
  }
  if (!verifyBytes(pub, endorsementDigest(e), decodeGoHex(endorsement.slice(8)))) {
    throw new EndorsementError('rotation endorsement signature verification failed')
  }
  return e
}

function describe(v: unknown): string {
  if (v instanceof JsonNumber) return v.text
  if (typeof v === 'string') return JSON.stringify(v)
  return String(v)
}

function isCanonicalUtc(s: string): boolean {
  try {
    return s.endsWith('Z') && canonicalTimeString(s) === s
  } catch {
    return false
  }
}

/** The seven signed fields, in their declared order (§10). */
function bodyTree(e: Omit<RotationEndorsement, 'endorsement'>): JsonObject {
  const body: JsonObject = new Map()
  body.set('version', new JsonNumber('1'))
  body.set('session_id', e.sessionId)
  body.set('prior_signer_key', e.priorSignerKey)
  body.set('prior_final_seq', new JsonNumber(e.priorFinalSeq.toString()))
  body.set('prior_tail_hash', e.priorTailHash)
  body.set('new_signer_key', e.newSignerKey)
  body.set('rotated_at', e.rotatedAt)
  return body
}

/** GoJSON of the seven signed fields, in their declared order. */
export function endorsementBody(e: Omit<RotationEndorsement, 'endorsement'>): string {
  return goJson(bodyTree(e))
}

/**
 * Signs an endorsement with the retiring key, whose public key must be `priorSignerKey`. The
 * caller supplies a canonical `rotatedAt`; the result parses back through parseRotationEndorsement.
 */
export function signRotationEndorsement(retiring: Ed25519KeyPair, body: Omit<RotationEndorsement, 'endorsement'>): RotationEndorsement {
  if (retiring.publicKey.toString('hex') !== body.priorSignerKey) throw new EndorsementError('rotation endorsement signer key is not prior_signer_key')
  return {...body, endorsement: formatSignature(signBytes(retiring, endorsementDigest(body)))}
}

/** The endorsement as one JSON object, all eight fields in order; compact, or indented as the reference's files are. */
export function encodeRotationEndorsement(e: RotationEndorsement, form: 'compact' | 'file' = 'compact'): string {
  const tree = bodyTree(e)
  tree.set('endorsement', e.endorsement)
  // The reference writes endorsement files indented by two spaces with a final newline.
  return form === 'compact' ? goJson(tree) : goJsonIndent(tree, '', '  ') + '\n'
}

/** One key-rotation boundary of a chain: the old segment's tail and the key of the next segment. */
export interface RotationBoundary {
  sessionId: string
  priorSignerKey: string
  priorFinalSeq: bigint
  priorTailHash: string
  newSignerKey: string
}

/** Whether `e` authorises exactly this boundary (§6.6: session, prior key, prior seq and hash, new key). */
export function endorsesBoundary(e: RotationEndorsement, b: RotationBoundary): boolean {
  return (
    e.sessionId === b.sessionId &&
    e.priorSignerKey === b.priorSignerKey &&
    e.priorFinalSeq === b.priorFinalSeq &&
    e.priorTailHash === b.priorTailHash &&
    e.newSignerKey === b.newSignerKey
  )
}

/**
 * The keys `roots` hand over to through endorsements, transitively (each endorsement verified
 * before it gets here: signed by the key it retires), with the indices into `endorsements` of the
 * hand-overs on the way; every root maps to []. `sessionId`: only that session's endorsements.
 */
export function handOverPaths(roots: Iterable<string>, endorsements: readonly RotationEndorsement[], sessionId?: string): Map<string, number[]> {
  const via = new Map<string, number[]>()
  for (const r of roots) via.set(r, [])
  for (let grew = true; grew; ) {
    grew = false
    endorsements.forEach((e, idx) => {
      const path = via.get(e.priorSignerKey)
      if (path === undefined || via.has(e.newSignerKey) || (sessionId !== undefined && e.sessionId !== sessionId)) return
      via.set(e.newSignerKey, [...path, idx])
      grew = true
    })
  }
  return via
}

/** The signed message: SHA-256(domain ‖ 0x00 ‖ body). */
export function endorsementDigest(e: Omit<RotationEndorsement, 'endorsement'>): Buffer {
  return sha256(Buffer.concat([DOMAIN, Buffer.from(endorsementBody(e), 'utf8')]))
}
