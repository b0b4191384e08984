/**
 * The proxy's millisecond clock (start times and durations of requests, session and taint event
 * times): wall-clock milliseconds with microsecond digits that never go back within a process,
 * so a duration is never negative. The digits below the millisecond come from the monotonic
 * clock anchored to the wall clock, as `WallClock` in canonical/go-time.ts does for nanoseconds:
 * Date.now()'s millisecond plus the monotonic clock's reading modulo 1 ms would mix two
 * unrelated sources, and two readings in a row could go back by up to 1 ms. Plain numbers, no
 * BigInt: several readings per request.
 */

/** How far the anchored time may drift from the wall clock before it is anchored again (Date has 1 ms steps). */
const REANCHOR_MS = 2
/** A wall-clock step back larger than this is taken as it is (the clock was set); a smaller one is held. */
const STEP_BACK_MS = 1000

export class WallMillis {
  private anchor: number
  private last = 0
  /** `wall`: epoch milliseconds (Date.now); `mono`: a monotonic reading in milliseconds (performance.now). */
  constructor(private readonly wall: () => number = Date.now, private readonly mono: () => number = () => performance.now()) {
    this.anchor = wall() - mono()
  }

  nowMs(): number {
    const m = this.mono()
    const w = this.wall()
    let t = this.anchor + m
    if (t - w > REANCHOR_MS || w - t > REANCHOR_MS) {
      this.anchor = w - m
      t = w
    }
    // Microsecond digits, as the Decision's durations have always carried.
    t = Math.floor(t * 1000) / 1000
    if (t < this.last && this.last - t < STEP_BACK_MS) t = this.last
    this.last = t
    return t
  }
}
