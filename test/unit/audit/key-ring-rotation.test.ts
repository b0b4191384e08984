import {test} from 'node:test'
import assert from 'node:assert/strict'
import {KeyRing} from '../../../src/plugins/audit/index.js'
import {ReceiptChainBuilder, type ParsedEvidenceReceipt} from '../../../src/plugins/receipts/index.js'
import {fingerprint, keyPairFromSeed} from '../../../src/plugins/signing/index.js'
import {action, keyA, keyB, K1} from '../../helpers/receipt-fixtures.js'

// After an endorsed rotation the recorder signs its v2 receipts with the new key, under that key's
// fingerprint: a ring pinned to the original key trusts the successor the endorsements name, and
// only keys reachable from a pinned key that way.

const v2 = (signerKeyId: string) => ({signature: {signerKeyId}}) as unknown as ParsedEvidenceReceipt

test('endorsed successors of a pinned key verify v2 receipts under their fingerprint, transitively', () => {
  const c = keyPairFromSeed(Buffer.alloc(32, 7))
  const b = new ReceiptChainBuilder(keyA())
  b.append(action('a', '2026-04-15T12:00:00Z', 'read'))
  const ab = b.rotateKey(keyB(), '2026-04-15T12:01:00Z', 'proxy')
  b.openRun({runNonce: 'r', openNonce: 'o', recorderSession: 'proxy', signerKeyEpoch: 'e', heartbeatSeconds: 30}, {actionId: 'x', timestamp: '2026-04-15T12:01:00Z'})
  const bc = b.rotateKey(c, '2026-04-15T12:02:00Z', 'proxy')
  const ring = KeyRing.load({keys: [K1]})
  const hexB = keyB().publicKey.toString('hex')
  const hexC = c.publicKey.toString('hex')
  // order of the endorsements does not matter
  const rotated = ring.withEndorsedSuccessors([bc, ab])
  assert.deepEqual(rotated.forEvidence(v2(fingerprint(keyB().publicKey))), {publicKey: hexB, signerKeyId: fingerprint(keyB().publicKey)})
  assert.deepEqual(rotated.forEvidence(v2(fingerprint(c.publicKey))), {publicKey: hexC, signerKeyId: fingerprint(c.publicKey)})
  // any other id still goes to the pinned key, as before
  assert.deepEqual(rotated.forEvidence(v2('receipts-1')), {publicKey: K1})
  // an endorsement whose prior key is not reachable from a pinned key adds nothing
  const unrooted = ring.withEndorsedSuccessors([bc])
  assert.deepEqual(unrooted.forEvidence(v2(fingerprint(c.publicKey))), {publicKey: K1})
})
