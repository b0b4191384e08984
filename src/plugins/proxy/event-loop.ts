/**
 * Event-loop delay of the proxy process, on `/metrics` (named like prom-client's
 * `nodejs_eventloop_lag_*` gauges, and like them reset at every scrape): each scrape reports how
 * late the loop was since the previous scrape, then starts over. This is what says whether the loop stalled
 * (transports §7.4: no stall over 10 ms with 256 concurrent intercepted tunnels).
 */
import {monitorEventLoopDelay, type IntervalHistogram} from 'node:perf_hooks'

/** The sampling timer's period (ms): a stall delays the next sample by its full length, so the max is exact. */
const RESOLUTION_MS = 10

export class EventLoopLag {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({resolution: RESOLUTION_MS})

  constructor() {
    this.h.enable()
  }

  render(out: string[]): void {
    // Node records the whole interval between samples (≥ the period): report only the lateness
    // beyond it, in seconds — 0 when the loop was never late.
    const s = (ns: number): number => (Number.isFinite(ns) && ns > RESOLUTION_MS * 1e6 ? (ns - RESOLUTION_MS * 1e6) / 1e9 : 0)
    const rows: Array<[string, string, number]> = [
      ['nodejs_eventloop_lag_max_seconds', 'Maximum event-loop delay since the previous scrape.', s(this.h.max)],
      ['nodejs_eventloop_lag_p50_seconds', 'Median event-loop delay since the previous scrape.', s(this.h.percentile(50))],
      ['nodejs_eventloop_lag_p99_seconds', '99th percentile event-loop delay since the previous scrape.', s(this.h.percentile(99))],
    ]
    for (const [n, help, v] of rows) out.push(`# HELP ${n} ${help}`, `# TYPE ${n} gauge`, `${n} ${v}`)
    this.h.reset()
  }

  stop(): void {
    this.h.disable()
  }
}
