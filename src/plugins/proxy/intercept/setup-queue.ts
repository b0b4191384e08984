/**
 * Paces the set-up work of intercepted tunnels across event-loop turns (bench: tls-tunnels; no event-loop
 * stall over 10 ms with 256 concurrent tunnels). A burst of tunnels arrives in one poll phase;
 * run inline, their TLS work — the per-leaf secure context, the server-side TLS socket and its
 * handshake, the first request's pipeline, the upstream TLS connect and its verification — is one
 * long synchronous stretch, and handshakes started together also *complete* together (the peer
 * answers a batch in one go), so pacing only the starts is not enough. Two rules:
 *
 *  - per turn, tasks run for at most `sliceMs` (always at least one, so the queue drains), then
 *    the loop serves I/O — `/health`, established tunnels, the kill switch — before the next slice.
 *    A task's synchronous continuation (promise callbacks, nextTicks) counts toward the slice:
 *    each task runs in its own immediate (see `schedule`);
 *  - at most `maxHandshakes` handshakes (client TLS, upstream dial and TLS) are in flight, so at
 *    most that many completions can land in one poll phase. A slot is given back when its
 *    handshake settles, or after its hold limit whatever happens.
 *
 * Tasks run in order within their kind, never in the turn they were queued in. A queued tunnel is
 * not relayed: its bytes wait in its paused socket, and its timers (idle, lifetime) and the kill
 * switch (which destroys the socket; the task then does nothing) keep applying — that is each
 * task's own check.
 */
import {performance} from 'node:perf_hooks'

/**
 * The per-turn budget of set-up work: well under the 10 ms stall budget, leaving room for the I/O
 * the turn also serves and for a scavenge landing in it. 1 rather than 2: in three alternated
 * tls-tunnels rounds against 2 ms, the build otherwise the same, the longest own stall per arm was
 * 4.8–8.5 ms against 4.9–10.1, burst wall time within noise (bench: tls-tunnels).
 */
export const SETUP_SLICE_MS = 1
/** TLS handshakes in flight (both sides together): bounds the completions one poll phase can receive (≈ 0.2–0.5 ms each). 4 rather than 8: in four quiet tls-tunnels runs against 8, main-thread CPU stretches over 10 ms fell from 4–37 to 0–12 per 256-host burst, at the same burst wall time. */
export const MAX_HANDSHAKES_IN_FLIGHT = 4
/**
 * A slot is given back after this long even if its handshake has not settled: a client that
 * stalls cannot hold the others up (its own handshake timeout still applies).
 */
export const HANDSHAKE_SLOT_HOLD_MS = 250
/**
 * Upstream legs (the pre-dial, the upstream TLS connect) hold their slot at most this long: one
 * that takes longer is bound by network round trips, whose completions arrive spread out anyway,
 * and a remote upstream must not cap new tunnels at `maxHandshakes` per round trip.
 */
export const UPSTREAM_SLOT_HOLD_MS = 50

/** Steps queued per turn at most: more tasks than this never fit in one slice (each costs ≥ 0.05 ms). */
export const MAX_STEPS_PER_TURN = 64
/**
 * Steps queued for a turn at least (when that many tasks are ready). Beyond it, a turn gets twice
 * what the previous turn ran: a step left over once the slice is spent does nothing but it is
 * still an Immediate, and 64 per turn when 4–6 fit was ≈ 5–8 KiB of garbage per tunnel in a
 * burst (bench: tls-tunnels, measured with V8's sampling heap profiler).
 */
export const MIN_STEPS_PER_TURN = 8

export interface SetupQueueOptions {
  readonly sliceMs?: number
  readonly maxHandshakes?: number
  readonly holdMs?: number
  readonly now?: () => number
}

/** A FIFO with O(1) shift that drops its consumed prefix now and then. */
class Fifo<T> {
  private items: Array<T | undefined> = []
  private head = 0

  get size(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  shift(): T {
    const item = this.items[this.head] as T
    this.items[this.head++] = undefined
    if (this.head === this.items.length) (this.items = []), (this.head = 0)
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) (this.items = this.items.slice(this.head)), (this.head = 0)
    return item
  }
}

export class SetupQueue {
  private readonly plain = new Fifo<() => void>()
  private readonly handshakes = new Fifo<{task: (settled: () => void) => void; holdMs: number}>()
  private inflight = 0
  /** Steps (immediates) queued for the coming check phase, and when its first one ran (-1: not yet). */
  private stepsQueued = 0
  private sliceStart = -1
  /** Tasks run in the current turn, and in the last finished one (sizes the next turn's steps). */
  private ranThisTurn = 0
  private ranLastTurn = MIN_STEPS_PER_TURN
  private handshakeNext = true
  private readonly sliceMs: number
  private readonly maxHandshakes: number
  private readonly holdMs: number
  private readonly now: () => number

  constructor(o: SetupQueueOptions = {}) {
    this.sliceMs = o.sliceMs ?? SETUP_SLICE_MS
    this.maxHandshakes = o.maxHandshakes ?? MAX_HANDSHAKES_IN_FLIGHT
    this.holdMs = o.holdMs ?? HANDSHAKE_SLOT_HOLD_MS
    this.now = o.now ?? (() => performance.now())
  }

  /** Tasks waiting for a turn (or, for handshakes, a slot). */
  get pending(): number {
    return this.plain.size + this.handshakes.size
  }

  /** TLS handshakes holding a slot. */
  get handshakesInFlight(): number {
    return this.inflight
  }

  /** Runs `task` in a later turn, after every plain task queued before it. */
  push(task: () => void): void {
    this.plain.push(task)
    this.schedule()
  }

  /**
   * Starts a handshake in a later turn once a slot is free; `task` calls `settled` when the
   * handshake succeeded or failed (more than once is harmless). The slot is given back after
   * `holdMs` (default: the queue's) in any case.
   */
  pushHandshake(task: (settled: () => void) => void, holdMs = this.holdMs): void {
    this.handshakes.push({task, holdMs})
    this.schedule()
  }

  private ready(): {plain: boolean; handshake: boolean} {
    return {plain: this.plain.size > 0, handshake: this.handshakes.size > 0 && this.inflight < this.maxHandshakes}
  }

  /** Tasks that could start now: every plain task, and waiting handshakes up to the free slots. */
  private readyCount(): number {
    return this.plain.size + Math.min(this.handshakes.size, Math.max(0, this.maxHandshakes - this.inflight))
  }

  /**
   * Queues the next turn's steps: one `setImmediate` per task that could start. Node runs the
   * pending nextTicks and microtasks between two immediates of one check phase, so when a step
   * reads the clock, the previous task's synchronous continuation (its awaits on settled
   * promises, its stream events) has already run and counts toward the slice. (One loop running
   * several tasks inside one callback would leave all their continuations for after the slice.)
   */
  private schedule(): void {
    // Inside a running turn, its last step queues the next turn's steps.
    if (this.stepsQueued > 0 && this.sliceStart >= 0) return
    if (this.stepsQueued === 0) this.sliceStart = -1
    // Before the turn starts, top its steps up to what could start now (and could fit: twice
    // what the last turn ran, MIN_STEPS_PER_TURN at least).
    const n = Math.min(MAX_STEPS_PER_TURN, Math.max(MIN_STEPS_PER_TURN, 2 * this.ranLastTurn), this.readyCount()) - this.stepsQueued
    for (let i = 0; i < n; i++) (this.stepsQueued++, setImmediate(this.step))
  }

  private readonly step = (): void => {
    this.stepsQueued--
    try {
      const now = this.now()
      // The first step of a turn always runs a task (so the queue drains); later ones only
      // while the slice lasts. Steps left over once it is spent do nothing.
      if (this.sliceStart < 0) this.sliceStart = now
      else if (now - this.sliceStart >= this.sliceMs) return
      const r = this.ready()
      // Both kinds ready: alternate, so neither waits behind a long run of the other.
      if (r.handshake && (!r.plain || this.handshakeNext)) {
        this.handshakeNext = false
        this.ranThisTurn++
        this.startHandshake(this.handshakes.shift())
      } else if (r.plain) {
        this.handshakeNext = true
        this.ranThisTurn++
        this.plain.shift()()
      }
    } finally {
      // The turn's last step queues the next turn's. A throwing task (a bug: tasks handle their
      // own failures) must not strand the ones behind it.
      if (this.stepsQueued === 0) {
        this.ranLastTurn = this.ranThisTurn
        this.ranThisTurn = 0
        this.schedule()
      }
    }
  }

  private startHandshake({task, holdMs}: {task: (settled: () => void) => void; holdMs: number}): void {
    this.inflight++
    let done = false
    const settled = (): void => {
      if (done) return
      done = true
      clearTimeout(hold)
      this.inflight--
      this.schedule()
    }
    const hold = setTimeout(settled, holdMs)
    hold.unref()
    task(settled)
  }
}
