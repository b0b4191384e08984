import {canonicalBytes, type JsonObject} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {publicKeyBytes, resolveKey, verifyBytes, parseSignatureField, type KeyInfo, type KeyRoster} from '../signing/index.js'

// Signature checks of the store (learn-lifecycle §5.4 step 7–8, §5.8, §6.4).
//
// Two policies (§10.16): `strict` is the reference's check – the key must resolve active and
// inside its validity window *now* and the manifest must carry the current minimum of distinct
// principals. `history` is for manifests the store already accepted (write-once, hash-named):
// a key revoked or expired since then, or a minimum raised since then, does not make the
// recorded past unreadable; the key must still be in the roster with the activation purpose
// and a principal, and its signature must verify. Anything that becomes runtime state again
// (rollback target, a new active.json) is checked with `strict`.

export type SignaturePolicy = 'strict' | 'history'
export const ACTIVATION_PURPOSE = 'contract-activation-signing'
export const COMPILE_PURPOSE = 'contract-compile-signing'

type Roster = {body: KeyRoster}

function sigError(message: string): PipelockError {
  return new PipelockError('STORE_SIGNATURE_INVALID', message)
}

function resolveFor(roster: Roster, keyId: string, nowNanos: bigint, policy: SignaturePolicy): KeyInfo {
  if (policy === 'strict') return resolveKey(roster, keyId, nowNanos)
  const k = roster.body.keys.find((x) => x.keyId === keyId)
  if (k === undefined) throw new Error(`key_id not in roster: ${JSON.stringify(keyId)}`)
  if (k.status === 'root') throw new Error('key is not active')
  return k
}

function verifyOver(k: KeyInfo, message: Buffer, signature: string): void {
  const sig = parseSignatureField(signature)
  const pub = publicKeyBytes(k)
  if (pub === undefined) throw new Error('roster public_key_hex is malformed')
  if (!verifyBytes(pub, message, sig)) throw new Error('signature does not verify')
}

/**
 * §5.4 step 7: every entry must be valid (fail closed, no skipping), then distinct key ids and
 * distinct principals are counted; fewer than `minimum` → dual-control error. Returns signer ids.
 */
export function verifyManifestSignatures(
  body: JsonObject,
  signatures: readonly JsonObject[],
  roster: Roster | undefined,
  nowNanos: bigint,
  minimum: number,
  policy: SignaturePolicy,
): string[] {
  if (roster === undefined) throw sigError('contract store: manifest signature invalid: roster is required')
  const message = canonicalBytes(body)
  const keyIds = new Set<string>()
  const principals = new Set<string>()
  const signers: string[] = []
  for (const s of signatures) {
    const keyId = s.get('key_id') as string
    try {
      if (s.get('key_purpose') !== ACTIVATION_PURPOSE) throw new Error(`key_purpose ${JSON.stringify(s.get('key_purpose'))} is not ${JSON.stringify(ACTIVATION_PURPOSE)}`)
      if (s.get('algorithm') !== 'ed25519') throw new Error(`algorithm ${JSON.stringify(s.get('algorithm'))} is not "ed25519"`)
      const k = resolveFor(roster, keyId, nowNanos, policy)
      if (k.keyPurpose !== ACTIVATION_PURPOSE) throw new Error(`roster key_purpose ${JSON.stringify(k.keyPurpose)} is not ${JSON.stringify(ACTIVATION_PURPOSE)}`)
      if (k.principal === '') throw new Error('missing activation principal')
      const claimed = s.get('principal') as string
      if (claimed !== '' && claimed !== k.principal) throw new Error(`principal mismatch: manifest ${JSON.stringify(claimed)} roster ${JSON.stringify(k.principal)}`)
      verifyOver(k, message, s.get('signature') as string)
      if (!keyIds.has(keyId) && !principals.has(k.principal)) signers.push(keyId)
      keyIds.add(keyId)
      principals.add(k.principal)
    } catch (e) {
      throw sigError(`contract store: manifest signature invalid: key_id=${JSON.stringify(keyId)}: ${(e as Error).message}`)
    }
  }
  const min = minimum <= 0 ? 1 : minimum
  const need = policy === 'history' ? 1 : min
  // Distinct = a new key id AND a new principal: two keys of one person count once.
  const count = signers.length
  if (count < need) {
    throw new PipelockError('STORE_DUAL_CONTROL', `contract store: dual control requirement not met: got ${count} valid distinct signatures, want ${need}`)
  }
  return signers
}

/** Contract (compile key) or tombstone (activation key) detached signature over canonical(body). */
export function verifyDetached(
  what: 'contract' | 'tombstone',
  body: JsonObject,
  signature: string,
  roster: Roster,
  nowNanos: bigint,
  purpose: string,
  policy: SignaturePolicy,
  /** canonical(body), when the caller has it already (validate.ts `DecodeCache`). */
  signed?: () => Buffer,
): void {
  const keyId = body.get('signer_key_id') as string
  try {
    if (body.get('key_purpose') !== purpose) throw new Error(`body key_purpose ${JSON.stringify(body.get('key_purpose'))} is not ${JSON.stringify(purpose)}`)
    const k = resolveFor(roster, keyId, nowNanos, policy)
    if (k.keyPurpose !== purpose) throw new Error(`roster key_purpose ${JSON.stringify(k.keyPurpose)} is not ${JSON.stringify(purpose)}`)
    verifyOver(k, signed === undefined ? canonicalBytes(body) : signed(), signature)
  } catch (e) {
    throw sigError(`contract store: ${what} signature invalid: key_id=${JSON.stringify(keyId)}: ${(e as Error).message}`)
  }
}
