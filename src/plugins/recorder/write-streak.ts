/**
 * A writer's run of failed writes, for telling its owner when writing stops and when it works
 * again (the flight recorder; the audit log's file). Only the first failure of a streak and the
 * first success after it are reported, with what the streak lost.
 */

export interface WriteHealthChange {
  /** True when writing has just started failing; false when it works again. */
  readonly failing: boolean
  /** The failure (failing), or the last failure of the streak that just ended. */
  readonly error: string
  /** What was not written: at the start, the failed write's; at the end, the whole streak's. */
  readonly lost: number
}

export class WriteStreak {
  private streak = 0
  private total = 0
  private lastError = ''

  constructor(private readonly onChange?: (change: WriteHealthChange) => void) {}

  /** What could not be written since the writer opened. */
  get writeFailures(): number {
    return this.total
  }

  /** Whether the last write failed (and none has worked since). */
  get failing(): boolean {
    return this.streak > 0
  }

  /** A write of `lost` entries or lines failed with `e`. */
  failed(e: unknown, lost = 1): void {
    this.total += lost
    this.lastError = e instanceof Error ? e.message : String(e)
    const first = this.streak === 0
    this.streak += lost
    if (first) this.onChange?.({failing: true, error: this.lastError, lost})
  }

  /** A write worked: ends a streak, if any. */
  worked(): void {
    if (this.streak === 0) return
    const lost = this.streak
    this.streak = 0
    this.onChange?.({failing: false, error: this.lastError, lost})
  }
}
