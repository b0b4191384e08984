/**
 * Unique-hostname burst tracking (runtime spec §14.1): the hostnames seen in the last
 * `window_minutes`; reaching `domain_burst` of them raises one anomaly per window. Used per
 * session and per client IP (across agent identities).
 */

/** Bounds memory for a client that cycles through endless hostnames inside one window. */
const MAX_TRACKED = 4096

export class DomainWindow {
  /** host → time (ms) it was first seen in the current window; insertion order = age order. */
  private readonly seen = new Map<string, number>()
  private anomalyAt = -Infinity

  /**
   * Records `host` at `nowMs`. True when this observation brings the window to `burst` distinct
   * hosts and no anomaly was raised in the last `windowMs` (one anomaly per window).
   * A host already in the window costs one Map lookup and nothing else.
   */
  observe(host: string, nowMs: number, windowMs: number, burst: number): boolean {
    const first = this.seen.get(host)
    if (first !== undefined && nowMs - first < windowMs) return false
    if (first !== undefined) this.seen.delete(host)
    this.prune(nowMs, windowMs)
    if (this.seen.size >= MAX_TRACKED) this.seen.delete(this.seen.keys().next().value as string)
    this.seen.set(host, nowMs)
    if (this.seen.size >= burst && nowMs - this.anomalyAt >= windowMs) {
      this.anomalyAt = nowMs
      return true
    }
    return false
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
