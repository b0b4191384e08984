/**
 * Confused-deputy tracking (spec mcp.md §5.3, §5.1 step 6): ids of forwarded requests, compared
 * as raw JSON text; one response per request; validation starts after the first tracked id.
 */
export const MAX_PENDING_IDS = 10_000

export class RequestTracker {
  private readonly pending = new Set<string>()
  private seeded = false

  track(id: string): void {
    this.seeded = true
    this.pending.delete(id)
    this.pending.add(id)
    if (this.pending.size > MAX_PENDING_IDS) {
      const oldest = this.pending.values().next().value as string
      this.pending.delete(oldest)
    }
  }

  /**
   * True when a response with this id may pass (and consumes the id). `strict`: a response is
   * expected only to a pending id even before the first request (a stream that carries no answers).
   */
  consume(id: string | null, strict = false): boolean {
    if (!this.seeded && !strict) return true
    if (id === null || !this.pending.has(id)) return false
    this.pending.delete(id)
    return true
  }
}
