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
})
