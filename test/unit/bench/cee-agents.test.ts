/**
 * The `cee` bench's measured requests come from uniformly random warm agents (issue 15, round 8).
 * The generator it replaced is kept here as the record of the artefact: its product passed 2^53,
 * so it cycled and reached only 692 of the 5,000 warm agents in 20,000 requests, whose windows
 * then grew to the 64 KiB cap and set the 2 KiB tail.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {measuredAgents, WARM_FROM} from '../../../bench/cee.js'
import {CEE_MAX_KEYS} from '../../../src/plugins/cee/index.js'

/** The bench's generator before round 8 (floating-point LCG). */
function oldAgents(iterations: number): number[] {
  const out: number[] = []
  let x = 12345
  for (let i = 0; i < iterations; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    out.push(WARM_FROM + (x % (CEE_MAX_KEYS - WARM_FROM)))
  }
  return out
}

function spread(agents: readonly number[]): {distinct: number; max: number} {
  const n = new Map<number, number>()
  for (const a of agents) n.set(a, (n.get(a) ?? 0) + 1)
  return {distinct: n.size, max: Math.max(...n.values())}
}

test('measured agents: warm agents only, deterministic, spread over (nearly) all of them', () => {
  const a = measuredAgents(20_000)
  assert.deepEqual(a, measuredAgents(20_000))
  assert.ok(a.every((k) => Number.isInteger(k) && k >= WARM_FROM && k < CEE_MAX_KEYS))
  const s = spread(a)
  // 20,000 uniform draws over 5,000 agents: ≈ 4,908 distinct expected, a most-drawn agent near 13.
  assert.ok(s.distinct > 4800, `distinct ${s.distinct}`)
  assert.ok(s.max <= 20, `max ${s.max}`)
  assert.ok(spread(measuredAgents(2000)).distinct > 1500)
})

test('the replaced generator was the artefact: it cycles and reaches few agents', () => {
  const s = spread(oldAgents(20_000))
  assert.equal(s.distinct, 692)
  assert.ok(s.max >= 50)
})
