/**
 * Confused-deputy tracking (spec mcp.md §5.3, §5.1 step 6): ids of forwarded requests, compared
 * as raw JSON text; one response per request. From the first message on: the reference checks
 * only after the first tracked id, so a server's answer to a request the client never sent
 * passed while the client had sent none yet (or notifications only); here it never does
 * (docs/compatibility.md).
 */
export const MAX_PENDING_IDS = 10_000

export class RequestTracker {
  private readonly pending = new Set<string>()

  track(id: string): void {
    this.pending.delete(id)
    this.pending.add(id)
    if (this.pending.size > MAX_PENDING_IDS) {
      const oldest = this.pending.values().next().value as string
      this.pending.delete(oldest)
    }
  }

  /** True when a response with this id may pass (and consumes the id): only an answer to a pending request. */
  consume(id: string | null): boolean {
    if (id === null || !this.pending.has(id)) return false
    this.pending.delete(id)
    return true
  }
}
