/**
 * Unique-hostname burst tracking (runtime spec §14.1): the hostnames seen in the last
 * `window_minutes`; reaching `domain_burst` of them raises one scored anomaly per window. Each
 * further new hostname while the window is still at the burst is a repeat: the configured
 * `anomaly_action` applies to it again (the configuration reference: "subsequent requests in the
 * same window still trigger the configured anomaly_action … but do not add further adaptive
 * score"), so a block stops the fan-out, not just the request that crossed the line. Hosts
 * already in the window stay reachable. Used per session and per client IP (across agent
 * identities).
 */

/** What one observation did: raised the window's scored anomaly, repeated it, or neither. */
export type BurstObservation = 'raised' | 'repeat' | null

/** Bounds memory for a client that cycles through endless hostnames inside one window. */
const MAX_TRACKED = 4096

export class DomainWindow {
  /** host → time (ms) it was first seen in the current window; insertion order = age order. */
  private readonly seen = new Map<string, number>()
  private anomalyAt = -Infinity

  /**
   * Records `host` at `nowMs`. `'raised'` when this observation brings the window to `burst`
   * distinct hosts and no anomaly was raised in the last `windowMs` (one scored anomaly per
   * window); `'repeat'` for a new host while the window holds `burst` or more after one was
   * raised. A host already in the window costs one Map lookup and nothing else.
   */
  observe(host: string, nowMs: number, windowMs: number, burst: number): BurstObservation {
    const first = this.seen.get(host)
    if (first !== undefined && nowMs - first < windowMs) return null
    if (first !== undefined) this.seen.delete(host)
    this.prune(nowMs, windowMs)
    if (this.seen.size >= MAX_TRACKED) this.seen.delete(this.seen.keys().next().value as string)
    this.seen.set(host, nowMs)
    if (this.seen.size < burst) return null
    if (nowMs - this.anomalyAt >= windowMs) {
      this.anomalyAt = nowMs
      return 'raised'
    }
    return 'repeat'
  }

  /** Distinct hosts currently inside the window. */
  size(nowMs: number, windowMs: number): number {
    this.prune(nowMs, windowMs)
    return this.seen.size
  }

  /** True when nothing recent is held (the owner may drop this window). */
  idle(nowMs: number, windowMs: number): boolean {
    return this.size(nowMs, windowMs) === 0 && nowMs - this.anomalyAt >= windowMs
  }

  clear(): void {
    this.seen.clear()
    this.anomalyAt = -Infinity
  }

  private prune(nowMs: number, windowMs: number): void {
    for (const [h, t] of this.seen) {
      if (nowMs - t < windowMs) break // insertion order is age order: the rest are younger
      this.seen.delete(h)
    }
  }
}

/** `(?i)^(?:yt-dlp|python-requests|pip|npm|pnpm|apt|dnf|curl|git)/` — well-known tools that legitimately fan out (§14.1). */
const COOPERATIVE_UA = /^(?:yt-dlp|python-requests|pip|npm|pnpm|apt|dnf|curl|git)\//i

export function isCooperativeUserAgent(ua: string | undefined): boolean {
  return ua !== undefined && COOPERATIVE_UA.test(ua)
}
