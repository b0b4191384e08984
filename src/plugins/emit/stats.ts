/**
 * Emission counters (operations.md §9): `pipelock_emit_events_dropped_total{sink,reason}`,
 * `pipelock_emit_events_sent_total{sink}` and the queue depth gauge. One instance lives for the
 * whole run, so counts survive a reload's sink swap.
 */
export type SinkName = 'webhook' | 'syslog' | 'otlp'
export type DropReason = 'queue_full' | 'closed' | 'send_failed' | 'too_large'

export const DROP_REASONS: readonly DropReason[] = ['queue_full', 'closed', 'send_failed', 'too_large']

export class EmitStats {
  private readonly dropped = new Map<string, number>()
  private readonly sent = new Map<SinkName, number>()

  drop(sink: SinkName, reason: DropReason): void {
    const k = `${sink}\0${reason}`
    this.dropped.set(k, (this.dropped.get(k) ?? 0) + 1)
  }

  delivered(sink: SinkName): void {
    this.sent.set(sink, (this.sent.get(sink) ?? 0) + 1)
  }

  droppedCount(sink: string, reason: DropReason): number {
    return this.dropped.get(`${sink}\0${reason}`) ?? 0
  }

  sentCount(sink: string): number {
    return this.sent.get(sink as SinkName) ?? 0
  }

  /** Samples for `pipelock_emit_events_dropped_total`, sorted by sink then reason. */
  droppedSamples(): Array<[{sink: string; reason: string}, number]> {
    return [...this.dropped]
      .map(([k, n]) => {
        const [sink, reason] = k.split('\0') as [string, string]
        return [{sink, reason}, n] as [{sink: string; reason: string}, number]
      })
      .sort((a, b) => (a[0].sink + a[0].reason < b[0].sink + b[0].reason ? -1 : 1))
  }

  sentSamples(): Array<[{sink: string}, number]> {
    return [...this.sent].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([sink, n]) => [{sink}, n])
  }
}

/**
 * A stderr line per sink and kind at most once per `windowMs` (10 s, §3.3 [beyond]); lines
 * suppressed in between are counted and reported with the next one, so a sink that is down for
 * hours costs a counter, not a flood.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, {at: number; suppressed: number}>()

  constructor(private readonly write: (line: string) => void, private readonly nowMs: () => number, private readonly windowMs = 10_000) {}

  line(key: string, text: string): void {
    const s = this.last.get(key)
    const now = this.nowMs()
    if (s !== undefined && now - s.at < this.windowMs) {
      s.suppressed++
      return
    }
    const extra = s !== undefined && s.suppressed > 0 ? ` (${s.suppressed} similar line(s) suppressed in the last ${Math.round((now - s.at) / 1000)}s)` : ''
    this.last.set(key, {at: now, suppressed: 0})
    try {
      this.write(text + extra)
    } catch {
      // diagnostics never affect emission
    }
  }
}
