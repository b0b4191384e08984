import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {
  encodeRotationEndorsement,
  endorsementBody,
  endorsesBoundary,
  parseRotationEndorsement,
  ReceiptChainBuilder,
  signRotationEndorsement,
  ENDORSEMENT_MAX_BYTES,
} from '../../../src/plugins/receipts/index.js'
import {sha256, verifyBytes} from '../../../src/plugins/signing/index.js'
import {readVector} from '../../helpers/vectors.js'
import {action, keyA, keyB, K1} from '../../helpers/receipt-fixtures.js'

function endorsementJson(): Record<string, unknown> {
  const b = new ReceiptChainBuilder(keyA())
  b.append(action('a', '2026-04-15T12:00:00Z', 'read'))
  return JSON.parse(b.rotateKey(keyB(), '2026-04-15T12:01:00.5Z', 'proxy').json)
}

const parse = (o: unknown) => parseRotationEndorsement(Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)))

describe('rotation endorsements (receipts.md §10)', () => {
  test('a produced endorsement verifies under its prior key', () => {
    const e = parse(endorsementJson())
    assert.equal(e.priorFinalSeq, 0n)
    assert.equal(e.rotatedAt, '2026-04-15T12:01:00.5Z')
  })

  const cases: [string, (o: any) => unknown, string][] = [
    ['unknown field', (o) => ({...o, extra: 1}), 'rotation endorsement contains unknown field extra'],
    ['missing field', (o) => ({...o, rotated_at: undefined}), 'rotation endorsement is missing required field rotated_at'],
    ['version 2', (o) => ({...o, version: 2}), 'unsupported rotation endorsement version 2'],
    ['version "1"', (o) => ({...o, version: '1'}), 'unsupported rotation endorsement version "1"'],
    ['version 1.0', (o) => JSON.stringify(o).replace('"version":1', '"version":1.0'), 'unsupported rotation endorsement version 1.0'],
    ['blank session', (o) => ({...o, session_id: '  '}), 'rotation endorsement session_id is empty'],
    ['uppercase prior key', (o) => ({...o, prior_signer_key: o.prior_signer_key.toUpperCase()}), 'rotation endorsement prior_signer_key is invalid'],
    ['negative seq', (o) => ({...o, prior_final_seq: -1}), 'rotation endorsement prior_final_seq is invalid'],
    ['short tail hash', (o) => ({...o, prior_tail_hash: 'ab'}), 'rotation endorsement prior_tail_hash is invalid'],
    ['same key', (o) => ({...o, new_signer_key: o.prior_signer_key}), 'rotation endorsement successor key must differ from prior key'],
    ['non-canonical time', (o) => ({...o, rotated_at: '2026-04-15T12:01:00.50Z'}), 'rotation endorsement rotated_at must be canonical UTC RFC3339Nano'],
    ['offset time', (o) => ({...o, rotated_at: '2026-04-15T13:01:00.5+01:00'}), 'rotation endorsement rotated_at must be canonical UTC RFC3339Nano'],
    ['bad signature format', (o) => ({...o, endorsement: 'ed25519:abc'}), 'invalid endorsement signature'],
    ['tampered body', (o) => ({...o, prior_final_seq: 1}), 'rotation endorsement signature verification failed'],
    ['duplicate key', (o) => JSON.stringify(o).replace('{', '{"version":1,'), 'unmarshal rotation endorsement: duplicate key "version" at line 1, column 14'],
  ]
  for (const [name, mutate, want] of cases) {
    test(name, () => assert.throws(() => parse(mutate(endorsementJson())), {message: want}))
  }

  test('size limit', () => {
    assert.throws(() => parseRotationEndorsement(Buffer.alloc(ENDORSEMENT_MAX_BYTES + 1, 0x20)), {message: 'rotation endorsement exceeds 65536 bytes'})
  })
})

describe('writing rotation endorsements (receipts.md §10)', () => {
  const vectorText = () => readVector('receipts', 'synthetic', 'synthetic-v1-session-rotation.endorsement.json')
  const vectorFields = () => {
    const v = JSON.parse(vectorText())
    return {
      sessionId: v.session_id as string,
      priorSignerKey: v.prior_signer_key as string,
      priorFinalSeq: BigInt(v.prior_final_seq),
      priorTailHash: v.prior_tail_hash as string,
      newSignerKey: v.new_signer_key as string,
      rotatedAt: v.rotated_at as string,
    }
  }

  test('the signed body is the spec\'s GoJSON of the seven fields, in order', () => {
    const f = vectorFields()
    assert.equal(f.priorSignerKey, K1)
    assert.equal(
      endorsementBody(f),
      `{"version":1,"session_id":"proxy","prior_signer_key":"${K1}","prior_final_seq":2,"prior_tail_hash":"${f.priorTailHash}","new_signer_key":"${f.newSignerKey}","rotated_at":"2026-04-15T12:01:00Z"}`,
    )
  })

  test('rebuilding the vector from its fields with its key gives the vector file, byte for byte', () => {
    const f = vectorFields()
    const e = signRotationEndorsement(keyA(), f)
    assert.equal(encodeRotationEndorsement(e, 'file'), vectorText())
    // and the signature is Ed25519 over SHA-256(domain ‖ 0x00 ‖ body) (Ed25519 is deterministic)
    const digest = sha256(Buffer.concat([Buffer.from('pipelock-rotation-endorsement-v1\u0000', 'ascii'), Buffer.from(endorsementBody(f), 'utf8')]))
    assert.ok(verifyBytes(keyA().publicKey, digest, Buffer.from(e.endorsement.slice('ed25519:'.length), 'hex')))
  })

  test('a written endorsement parses back, verifies, and authorises exactly its boundary', () => {
    const f = vectorFields()
    const text = encodeRotationEndorsement(signRotationEndorsement(keyA(), {...f, rotatedAt: '2026-04-15T12:01:00.25Z'}), 'file')
    const e = parseRotationEndorsement(Buffer.from(text))
    assert.equal(e.rotatedAt, '2026-04-15T12:01:00.25Z')
    const boundary = {sessionId: 'proxy', priorSignerKey: K1, priorFinalSeq: 2n, priorTailHash: f.priorTailHash, newSignerKey: f.newSignerKey}
    assert.equal(endorsesBoundary(e, boundary), true)
    assert.equal(endorsesBoundary(e, {...boundary, sessionId: 'other'}), false)
    assert.equal(endorsesBoundary(e, {...boundary, priorFinalSeq: 3n}), false)
    assert.equal(endorsesBoundary(e, {...boundary, priorTailHash: '0'.repeat(64)}), false)
    assert.equal(endorsesBoundary(e, {...boundary, newSignerKey: K1}), false)
  })

  test('only the prior key can sign', () => {
    assert.throws(() => signRotationEndorsement(keyB(), vectorFields()), {message: 'rotation endorsement signer key is not prior_signer_key'})
  })
})
