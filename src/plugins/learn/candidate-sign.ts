import {emitSignedYaml, type JsonObject, type JsonValue} from '../canonical/index.js'
import {CONTRACT_KEY_PURPOSE, contractHash, contractProblem, signCanonical} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import type {Ed25519KeyPair} from '../signing/index.js'

/** A contract-compile-signing key and the id written into `signer_key_id`. */
export interface ContractSigner {
  keyPair: Ed25519KeyPair
  keyId: string
}

export interface SignedCandidate {
  body: JsonObject
  signature: string
  contractHash: string
  /** The envelope YAML (keys sorted, 4-space block style), as compile writes it. */
  yaml: string
}

/**
 * §4.0 `signContractEnvelope`: signer id and purpose, recompute `contract_hash`, run Validate(),
 * sign canonical(body). The input body is not modified.
 */
export function resignContract(bodyIn: JsonObject, signer: ContractSigner, command: string): SignedCandidate {
  const body = resignedBody(bodyIn, signer)
  const hash = contractHash(body)
  body.set('contract_hash', hash)
  const problem = contractProblem(body)
  if (problem !== undefined) throw new PipelockError('CONTRACT_INVALID', `${command}: ${problem}`)
  const signature = signCanonical(body, signer.keyPair)
  const yaml = emitSignedYaml(new Map<string, JsonValue>([['body', body], ['signature', signature]]))
  return {body, signature, contractHash: hash, yaml}
}

/** A copy of `bodyIn` naming `signer` and the contract-signing purpose (the first step of `resignContract`, for a signer that streams the rest). */
export function resignedBody(bodyIn: JsonObject, signer: ContractSigner): JsonObject {
  if (signer.keyId === '') throw new PipelockError('KEY_INVALID', 'learn lifecycle: signer key id is required')
  const body: JsonObject = new Map(bodyIn)
  body.set('signer_key_id', signer.keyId)
  body.set('key_purpose', CONTRACT_KEY_PURPOSE)
  return body
}

/**
 * §4.0 data-class re-mapping after rules were removed: `/rules/<old>` keys follow their rule to
 * its new index; keys of removed rules are dropped; other keys stay. `kept[i]` = old index of new rule i.
 */
export function remapRuleDataClasses(body: JsonObject, kept: readonly number[]): void {
  const fdc = body.get('field_data_classes')
  if (!(fdc instanceof Map) || fdc.size === 0) return
  const newIndex = new Map<number, number>()
  kept.forEach((old, i) => newIndex.set(old, i))
  const out: JsonObject = new Map()
  for (const [k, v] of fdc) {
    const m = /^\/rules\/(\d+)(.*)$/.exec(k)
    if (m === null) {
      out.set(k, v)
      continue
    }
    const ni = newIndex.get(Number(m[1]))
    if (ni !== undefined) out.set(`/rules/${ni}${m[2] ?? ''}`, v)
  }
  body.set('field_data_classes', out)
}
