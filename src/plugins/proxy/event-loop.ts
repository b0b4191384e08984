/**
 * Event-loop delay of the proxy process, on `/metrics` (named like prom-client's
 * `nodejs_eventloop_lag_*` gauges, and like them reset at every scrape): each scrape reports how
 * late the loop was since the previous scrape, then starts over. This is what says whether the loop stalled
 * (transports §7.4: no stall over 10 ms with 256 concurrent intercepted tunnels).
 *
 * The sampler is armed by the first scrape, not at start-up (bench: startup): its timer wakes the loop
 * every 10 ms, which is most of what an idle proxy costs (6–8 ms of CPU per second under load) and
 * a few wake-ups inside every download. Before the first scrape there is no previous scrape to
 * report from, so that scrape reports 0 and starts the measurement; from then on every scrape
 * covers the time since the one before, as before.
 */
import {monitorEventLoopDelay, type IntervalHistogram} from 'node:perf_hooks'

/** The sampling timer's period (ms): a stall delays the next sample by its full length, so the max is exact. */
const RESOLUTION_MS = 10

export class EventLoopLag {
  /** Created (and its timer started) at the first scrape. */
  private h: IntervalHistogram | null = null
  private stopped = false

  /** Whether the sampler runs (its timer wakes the loop every 10 ms): from the first scrape until `stop`. */
  get armed(): boolean {
    return this.h !== null
  }

  render(out: string[]): void {
    const h = this.h
    if (h === null && !this.stopped) {
      this.h = monitorEventLoopDelay({resolution: RESOLUTION_MS})
      this.h.enable()
    }
    // Node records the whole interval between samples (≥ the period): report only the lateness
    // beyond it, in seconds — 0 when the loop was never late (or nothing was measured yet).
    const s = (ns: number | undefined): number => (ns !== undefined && Number.isFinite(ns) && ns > RESOLUTION_MS * 1e6 ? (ns - RESOLUTION_MS * 1e6) / 1e9 : 0)
    const rows: Array<[string, string, number]> = [
      ['nodejs_eventloop_lag_max_seconds', 'Maximum event-loop delay since the previous scrape.', s(h?.max)],
      ['nodejs_eventloop_lag_p50_seconds', 'Median event-loop delay since the previous scrape.', s(h?.percentile(50))],
      ['nodejs_eventloop_lag_p99_seconds', '99th percentile event-loop delay since the previous scrape.', s(h?.percentile(99))],
    ]
    for (const [n, help, v] of rows) out.push(`# HELP ${n} ${help}`, `# TYPE ${n} gauge`, `${n} ${v}`)
    h?.reset()
  }

  stop(): void {
    this.stopped = true
    this.h?.disable()
    this.h = null
  }
}
