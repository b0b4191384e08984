/**
 * Per-token rate limit of the scan API (scanners-extra §1.4 "Rate limit"): a token bucket per
 * token, refilled at one token per `60 s / requests_per_minute`, holding at most `burst`, starting
 * full. Rebuilt (full) when the rate or burst changes by reload.
 */
interface Bucket {
  tokens: number
  atMs: number
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()
  private rpm = 0
  private burst = 0

  constructor(private readonly nowMs: () => number) {}

  /** Takes one token for `key`; false when the bucket is empty (answer 429). */
  take(key: string, requestsPerMinute: number, burst: number): boolean {
    if (requestsPerMinute !== this.rpm || burst !== this.burst) {
      this.buckets.clear()
      this.rpm = requestsPerMinute
      this.burst = burst
    }
    const now = this.nowMs()
    let b = this.buckets.get(key)
    if (b === undefined) this.buckets.set(key, (b = {tokens: burst, atMs: now}))
    const refill = ((now - b.atMs) * requestsPerMinute) / 60_000
    b.tokens = Math.min(burst, b.tokens + refill)
    b.atMs = now
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }
}
