import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {
  AdaptiveSignatureChecks,
  InlineSignatureChecks,
  ParallelSignatureChecks,
  ReceiptChainBuilder,
  signActionReceipt,
  verifyChain,
  type ActionReceipt,
  type ChainItem,
} from '../../../src/plugins/receipts/index.js'
import {fromPlain, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {action, keyA} from '../../helpers/receipt-fixtures.js'

function chain(n: number): ActionReceipt[] {
  const b = new ReceiptChainBuilder(keyA())
  return Array.from({length: n}, (_, i) => b.append(action(`p-${i}`, '2026-04-15T12:00:00Z', 'read')))
}

async function* items(rs: ActionReceipt[]): AsyncGenerator<ChainItem> {
  for (const receipt of rs) yield {kind: 'receipt', receipt, hasRecordObject: true}
}

/** Items carrying a place (1000 + their index), as the evidence verifier gives them its file and line. */
async function* placed(rs: ActionReceipt[], missingRecordAt = -1): AsyncGenerator<ChainItem> {
  for (let i = 0; i < rs.length; i++) yield {kind: 'receipt', receipt: rs[i]!, hasRecordObject: i !== missingRecordAt, place: 1000 + i}
}

/** Flips one signature bit: the format checks pass, only the Ed25519 operation fails. */
function badSignature(r: ActionReceipt): ActionReceipt {
  const hex = r.signature.slice(8)
  const flipped = (Number.parseInt(hex[0] as string, 16) ^ 1).toString(16) + hex.slice(1)
  return {...r, signature: 'ed25519:' + flipped}
}

function resign(r: ActionReceipt, changes: Record<string, unknown>): ActionReceipt {
  const rec = new Map(r.record) as JsonObject
  for (const [k, v] of Object.entries(changes)) rec.set(k, fromPlain(v) as JsonValue)
  return signActionReceipt(rec, keyA())
}

// Threshold 0 sends every signature to the worker thread; the inline checker is the reference.
const modes = [
  ['worker', () => new AdaptiveSignatureChecks(0)],
  ['inline', () => new InlineSignatureChecks()],
  ['mixed', () => new AdaptiveSignatureChecks(10)],
  // two workers, one batch of 4 in flight each: the producer waits for a free worker (backpressure)
  ['two workers, backpressure', () => new ParallelSignatureChecks({workers: 2, batchSize: 4, maxInFlight: 1})],
  ['three workers, batches of 7', () => new ParallelSignatureChecks({workers: 3, batchSize: 7, maxInFlight: 2})],
] as const

describe('signature checks on a worker thread agree with inline verification', () => {
  for (const [name, make] of modes) {
    test(`${name}: a valid chain of 1,300 receipts (several batches)`, async () => {
      const r = await verifyChain(items(chain(1300)), {}, make())
      assert.equal(r.valid, true)
      assert.equal(r.receiptCount, 1300)
    })

    test(`${name}: the earliest failure wins — a bad signature before a later seq gap`, async () => {
      const rs = chain(60)
      rs[30] = badSignature(rs[30]!)
      rs.splice(45, 1)
      const r = await verifyChain(items(rs), {}, make())
      assert.equal(r.error, 'seq 30: signature: signature verification failed')
      assert.equal(r.brokenAtSeq, '30')
    })

    test(`${name}: at the same receipt, a position rule (step 2) precedes the signature`, async () => {
      const rs = chain(40)
      rs[30] = badSignature(resign(rs[30]!, {chain_seq: 0}))
      const r = await verifyChain(items(rs), {}, make())
      assert.equal(r.error, 'seq 0: unexpected seq 0 without a key_transition boundary')
    })

    test(`${name}: at the same receipt, the signature precedes the hash link (step 5)`, async () => {
      const rs = chain(40)
      rs[30] = badSignature(resign(rs[30]!, {chain_prev_hash: '0'.repeat(64)}))
      const r = await verifyChain(items(rs), {}, make())
      assert.equal(r.error, 'seq 30: signature: signature verification failed')
    })
  }

  for (const [name, make] of modes) {
    // The failing item's place comes back from wherever the failure was found (the signature
    // pool, the §6.4 loop, the pre-check), so no index of every receipt's position is needed.
    test(`${name}: a failure returns the failing item's place (signature, loop, pre-check)`, async () => {
      const sig = chain(1300)
      sig[1210] = badSignature(sig[1210]!)
      sig[1250] = badSignature(sig[1250]!)
      const a = await verifyChain(placed(sig), {}, make())
      assert.equal(a.error, 'seq 1210: signature: signature verification failed')
      assert.equal(a.brokenAtPlace, 2210)
      const gap = chain(900)
      gap.splice(700, 1)
      const b = await verifyChain(placed(gap), {}, make())
      assert.equal(b.error, 'seq gap: expected 700, got 701')
      assert.equal(b.brokenAtPlace, 1700)
      const c = await verifyChain(placed(chain(50), 33), {}, make())
      assert.equal(c.error, 'seq 33: missing or invalid action_record')
      assert.equal(c.brokenAtPlace, 1033)
      const ok = await verifyChain(placed(chain(20)), {}, make())
      assert.equal(ok.valid, true)
      assert.equal('brokenAtPlace' in ok, false)
    })
  }
})
