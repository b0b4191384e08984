import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  evidenceReceiptHash,
  EvidenceChainVerifier,
  parseEvidenceReceiptValue,
  signEvidence,
  type ParsedEvidenceReceipt,
} from '../../../src/plugins/receipts/index.js'
import {KEY, KEY_HEX, OTHER_KEY, VALID_PAYLOADS} from './evidence-fixtures.js'

// The v2 chain rules (evidence/chain.ts, docs/receipts.md "EvidenceReceipt v2 chains"), one per
// case, on receipts signed here.

function receipt(seq: number, prev: string, id = `ev-${seq}`): ParsedEvidenceReceipt {
  const tree = signEvidence(
    {payloadKind: 'proxy_decision', eventId: id, timestamp: `2026-05-01T00:00:0${seq % 10}Z`, chainSeq: seq, chainPrevHash: prev, payload: VALID_PAYLOADS.proxy_decision},
    {keyPair: KEY, keyId: 'k', purpose: 'receipt-signing'},
  )
  return parseEvidenceReceiptValue(tree)
}

function chain(n: number): ParsedEvidenceReceipt[] {
  const out: ParsedEvidenceReceipt[] = []
  let prev = 'genesis'
  for (let i = 0; i < n; i++) {
    const r = receipt(i, prev)
    out.push(r)
    prev = evidenceReceiptHash(r)
  }
  return out
}

const key = {publicKey: KEY_HEX, signerKeyId: 'k'}

function run(rs: ParsedEvidenceReceipt[]): {errors: (string | undefined)[]; v: EvidenceChainVerifier} {
  const v = new EvidenceChainVerifier()
  return {errors: rs.map((r) => v.push(r, key)), v}
}

test('a chain from genesis verifies; root is the last receipt hash', () => {
  const rs = chain(4)
  const {errors, v} = run(rs)
  assert.deepEqual(errors, [undefined, undefined, undefined, undefined])
  assert.deepEqual(v.result(), {
    receiptCount: 4, chainedCount: 4, unchainedCount: 0, chains: 1, finalSeq: '3', rootHash: evidenceReceiptHash(rs[3] as ParsedEvidenceReceipt),
    startTime: '2026-05-01T00:00:00Z', endTime: '2026-05-01T00:00:03Z',
  })
})

test('reordered, dropped, mid-start and wrong-prev inputs each fail with their own text', () => {
  const rs = chain(4)
  assert.equal(run([rs[0], rs[2], rs[1]] as ParsedEvidenceReceipt[]).errors[1], 'seq gap: expected 1, got 2')
  assert.equal(run([rs[0], rs[1], rs[3]] as ParsedEvidenceReceipt[]).errors[2], 'seq gap: expected 2, got 3')
  assert.equal(run([rs[1]] as ParsedEvidenceReceipt[]).errors[0], 'chain_seq 1: chain does not start at genesis: the receipts before chain_seq 1 are missing')
  const forged = receipt(1, 'f'.repeat(64))
  assert.equal(run([rs[0] as ParsedEvidenceReceipt, forged]).errors[1], 'chain_seq 1: chain_prev_hash mismatch')
  assert.equal(run([receipt(2, 'genesis')]).errors[0], 'chain_seq 2: chain_prev_hash "genesis" requires chain_seq 0')
  assert.equal(run([receipt(3, '')]).errors[0], 'chain_seq 3: empty chain_prev_hash on a chained receipt (only an unchained receipt, chain_seq 0, has none)')
})

test('a second genesis starts a second chain; unchained receipts are counted apart', () => {
  const a = chain(2)
  const b = chain(2)
  const {errors, v} = run([...a, receipt(0, '', 'standalone'), ...b])
  assert.deepEqual(errors, [undefined, undefined, undefined, undefined, undefined])
  const s = v.result()
  assert.equal(s.chains, 2)
  assert.equal(s.unchainedCount, 1)
  assert.equal(s.chainedCount, 4)
})

test('the signature is checked with the key the caller resolved, and a key error names the receipt', () => {
  const rs = chain(1)
  const v = new EvidenceChainVerifier()
  assert.equal(v.push(rs[0] as ParsedEvidenceReceipt, {publicKey: OTHER_KEY.publicKey.toString('hex')}), 'chain_seq 0: payload field has invalid enum value: signature verification failed')
  assert.equal(new EvidenceChainVerifier().push(rs[0] as ParsedEvidenceReceipt, {error: 'roster: key is revoked'}), 'chain_seq 0: roster: key is revoked')
  assert.equal(new EvidenceChainVerifier().push(rs[0] as ParsedEvidenceReceipt, {publicKey: KEY_HEX, signerKeyId: 'other'}), 'chain_seq 0: payload field has invalid enum value: signer_key_id')
})
