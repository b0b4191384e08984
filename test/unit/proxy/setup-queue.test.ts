import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {MIN_STEPS_PER_TURN, SetupQueue} from '../../../src/plugins/proxy/intercept/setup-queue.js'

/** Resolves after `n` event-loop turns (each setImmediate hop is one check phase). */
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

/** `read()` after each of `n` turns. */
const perTurn = async (n: number, read: () => number): Promise<number[]> => {
  const seen: number[] = []
  for (let i = 0; i < n; i++) (await turns(1), seen.push(read()))
  return seen
}

describe('intercept set-up queue (issue 16: no stall over 10 ms with 256 concurrent tunnels)', () => {
  it('never runs a task in the turn it was queued in; runs tasks in order', async () => {
    const q = new SetupQueue()
    const ran: number[] = []
    for (let i = 0; i < 5; i++) q.push(() => ran.push(i))
    assert.deepEqual(ran, [])
    assert.equal(q.pending, 5)
    await turns(2)
    assert.deepEqual(ran, [0, 1, 2, 3, 4])
    assert.equal(q.pending, 0)
  })

  it('a turn stops once its slice is spent (at least one task per turn), and the rest run in later turns', async () => {
    // A clock that each task advances by 1 ms: a 2 ms slice admits two tasks per turn. The
    // queue's immediate was queued before each of ours, so every hop below sees exactly one slice.
    let clock = 0
    const q = new SetupQueue({sliceMs: 2, now: () => clock})
    let ran = 0
    for (let i = 0; i < 4; i++) q.push(() => ((clock += 1), ran++))
    // A task longer than the whole slice still runs (first in its turn) and ends that turn.
    q.push(() => ((clock += 50), ran++))
    q.push(() => ((clock += 1), ran++))
    const seen = await perTurn(5, () => ran)
    assert.deepEqual(seen, [2, 4, 5, 6, 6])
  })

  it("queues about as many steps for a turn as fit in its slice (twice the last turn's, at least MIN_STEPS_PER_TURN), not MAX_STEPS_PER_TURN every turn", async () => {
    // Two 1 ms tasks fit in a 2 ms slice. Every queued step is an Immediate, and a step left over
    // once the slice is spent does nothing: with 64 queued per turn, 100 tasks cost ≈ 1,650 of them.
    let clock = 0
    const q = new SetupQueue({sliceMs: 2, now: () => clock})
    let ran = 0
    let steps = 0
    const real = globalThis.setImmediate
    globalThis.setImmediate = ((f: (...a: unknown[]) => void, ...a: unknown[]) => {
      if (f.name === 'step') steps++
      return real(f, ...a)
    }) as typeof setImmediate
    try {
      for (let i = 0; i < 100; i++) q.push(() => ((clock += 1), ran++))
      const seen = await perTurn(52, () => ran)
      assert.deepEqual(seen.slice(0, 3), [2, 4, 6], 'still two tasks per turn')
      assert.equal(ran, 100)
    } finally {
      globalThis.setImmediate = real
    }
    assert.ok(steps <= 50 * MIN_STEPS_PER_TURN, `${steps} steps queued for 50 turns`)
  })

  it("a task's synchronous continuation (promise callbacks, nextTicks) counts toward its turn's slice", async () => {
    // Each task's own body is free; the work comes after it, in a resolved-promise continuation
    // and a nextTick — where an async pipeline's work runs (handleForward after a settled await).
    // Run in one callback, all four would share the first turn whatever the continuations cost.
    let clock = 0
    const q = new SetupQueue({sliceMs: 2, now: () => clock})
    let ran = 0
    for (let i = 0; i < 4; i++)
      q.push(() => {
        void Promise.resolve().then(() => {
          clock += 1
          process.nextTick(() => ((clock += 1), ran++))
        })
      })
    const seen = await perTurn(5, () => ran)
    assert.deepEqual(seen, [1, 2, 3, 4, 4])
  })

  it('keeps at most maxHandshakes handshakes in flight; a settled one frees its slot for the next', async () => {
    const q = new SetupQueue({maxHandshakes: 3, holdMs: 60_000})
    const settle: Array<() => void> = []
    const started: number[] = []
    for (let i = 0; i < 7; i++)
      q.pushHandshake((settled) => {
        started.push(i)
        settle.push(settled)
      })
    await turns(3)
    assert.deepEqual(started, [0, 1, 2])
    assert.equal(q.handshakesInFlight, 3)
    settle[0]!()
    settle[0]!() // twice is harmless: one slot, once
    await turns(3)
    assert.deepEqual(started, [0, 1, 2, 3])
    settle[1]!()
    settle[2]!()
    await turns(3)
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5])
    for (const s of settle) s()
    await turns(3)
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6])
    settle[6]!()
    assert.equal(q.handshakesInFlight, 0)
  })

  it('a handshake that never settles gives its slot back after holdMs', async () => {
    const q = new SetupQueue({maxHandshakes: 1, holdMs: 20})
    const started: string[] = []
    q.pushHandshake(() => started.push('stalled'))
    q.pushHandshake((settled) => (started.push('next'), settled()))
    await turns(3)
    assert.deepEqual(started, ['stalled'])
    await new Promise((r) => setTimeout(r, 60))
    await turns(3)
    assert.deepEqual(started, ['stalled', 'next'])
    assert.equal(q.handshakesInFlight, 0)
  })

  it('plain tasks are not held up by handshakes waiting for a slot', async () => {
    const q = new SetupQueue({maxHandshakes: 1, holdMs: 60_000})
    const ran: string[] = []
    let first: (() => void) | undefined
    q.pushHandshake((settled) => ((first = settled), ran.push('h1')))
    q.pushHandshake(() => ran.push('h2'))
    q.push(() => ran.push('p1'))
    q.push(() => ran.push('p2'))
    await turns(3)
    assert.deepEqual(ran, ['h1', 'p1', 'p2'])
    first!()
    await turns(2)
    assert.deepEqual(ran, ['h1', 'p1', 'p2', 'h2'])
  })
})
