/**
 * Confused-deputy tracking (spec mcp.md §5.3, §5.1 step 6): ids of forwarded requests, compared
 * as raw JSON text; one response per request. From the first message on: the reference checks
 * only after the first tracked id, so a server's answer to a request the client never sent
 * passed while the client had sent none yet (or notifications only); here it never does
 * (docs/compatibility.md).
 */
export const MAX_PENDING_IDS = 10_000

export class RequestTracker {
  /** Pending id → whether it was a request (stdio also tracks the client's responses, Q45). */
  private readonly pending = new Map<string, boolean>()

  track(id: string, isRequest = true): void {
    this.pending.delete(id)
    this.pending.set(id, isRequest)
    if (this.pending.size > MAX_PENDING_IDS) {
      const oldest = this.pending.keys().next().value as string
      this.pending.delete(oldest)
    }
  }

  /** Ids of the requests still waiting for an answer, oldest first (answered when a session ends early). */
  pendingRequests(): string[] {
    return [...this.pending].filter(([, isRequest]) => isRequest).map(([id]) => id)
  }

  /** True while `id` waits for its answer (nothing consumed). */
  has(id: string): boolean {
    return this.pending.has(id)
  }

  /** True when a response with this id may pass (and consumes the id): only an answer to a pending request. */
  consume(id: string | null): boolean {
    if (id === null || !this.pending.has(id)) return false
    this.pending.delete(id)
    return true
  }
}
