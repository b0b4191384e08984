import {test} from 'node:test'
import assert from 'node:assert/strict'
import {compareUtf8} from '../../../src/plugins/canonical/index.js'
import {aggregateDeltas, type ShadowBatch, type ShadowDelta} from '../../../src/plugins/learn/index.js'

// Shadow replay folds deltas into buckets as they stream (issue 18: keeping every record held
// 609 MB at 300k events). The buckets must equal §3.3's "sort every delta, then bucket" — the
// reference algorithm, written out here as the oracle — for deltas arriving in any order.

function sortThenBucket(deltas: readonly ShadowDelta[], windowNs: bigint, samples: number): ShadowBatch[] {
  const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0)
  const sorted = [...deltas].sort((a, b) => cmp(a.observedAtNs, b.observedAtNs) || compareUtf8(a.contractHash, b.contractHash) || compareUtf8(a.ruleId, b.ruleId) || compareUtf8(a.exemplarId, b.exemplarId))
  const buckets = new Map<string, ShadowBatch>()
  for (const d of sorted) {
    const start = d.observedAtNs - (((d.observedAtNs % windowNs) + windowNs) % windowNs)
    const key = [d.contractHash, d.ruleId, d.originalVerdict, d.candidateVerdict, start].join('\0')
    let b = buckets.get(key)
    if (b === undefined) buckets.set(key, (b = {contractHash: d.contractHash, ruleId: d.ruleId, originalVerdict: d.originalVerdict, candidateVerdict: d.candidateVerdict, windowStartNs: start, windowEndNs: start + windowNs, losslessCount: 0, exemplarIds: []}))
    b.losslessCount++
    if (d.exemplarId !== '' && b.exemplarIds.length < samples) b.exemplarIds.push(d.exemplarId)
  }
  return [...buckets.values()].sort((a, b) => cmp(a.windowStartNs, b.windowStartNs) || compareUtf8(a.contractHash, b.contractHash) || compareUtf8(a.ruleId, b.ruleId) || compareUtf8(a.originalVerdict, b.originalVerdict) || compareUtf8(a.candidateVerdict, b.candidateVerdict))
}

test('streamed delta buckets equal sort-then-bucket for shuffled input (counts, windows, first exemplars)', () => {
  let seed = 99
  const r = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  for (let round = 0; round < 20; round++) {
    const deltas: ShadowDelta[] = Array.from({length: 400}, () => ({
      contractHash: pick(['sha256:a', 'sha256:b']),
      ruleId: pick(['r1', 'r2', 'r3']),
      originalVerdict: pick(['allow', 'warn']),
      candidateVerdict: pick(['block', 'allow']),
      exemplarId: pick(['', 'sha256:01', 'sha256:02', 'sha256:ff', 'sha256:10', 'sha256:0a']),
      observedAtNs: BigInt(Math.floor(r() * 5)) * 20_000_000_000n - 30_000_000_000n,
    }))
    for (const samples of [0, 1, 3]) {
      const want = sortThenBucket(deltas, 60_000_000_000n, samples)
      assert.deepEqual(aggregateDeltas(deltas, 60_000_000_000n, samples), want)
      assert.ok(want.some((b) => b.exemplarIds.length === samples))
    }
  }
})
