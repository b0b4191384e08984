/**
 * The forward proxy's abort handle for its upstream request (the client went away before the
 * upstream answered). undici takes an EventEmitter as a signal and uses only this much of it:
 * `aborted` and `reason` when the request starts, one `abort` listener added with `once`, and
 * `removeListener` when the request settles. A node EventEmitter per request — plus node's
 * `once` wrappers on it and on the response — was a share of each request's object graph that a
 * bare relay does not build (bench: proxy); this holds the listeners and nothing else.
 */
export class UpstreamAbort {
  aborted = false
  /** Never set: undici then aborts with its own RequestAbortedError, as for an EventEmitter. */
  readonly reason: undefined = undefined
  private first: (() => void) | null = null
  /** Listeners beyond the first (a redirect hop can start before the last hop's body closed). */
  private more: Array<() => void> | null = null

  on(event: string, f: () => void): this {
    return this.once(event, f)
  }

  /** The one event is `abort`, emitted at most once: `on` and `once` are the same. */
  once(event: string, f: () => void): this {
    if (event !== 'abort') return this
    if (this.first === null) this.first = f
    else (this.more ??= []).push(f)
    return this
  }

  removeListener(event: string, f: () => void): this {
    if (event !== 'abort') return this
    if (this.first === f) this.first = null
    else if (this.more !== null) {
      const i = this.more.indexOf(f)
      if (i >= 0) this.more.splice(i, 1)
    }
    return this
  }

  /** Aborts every request listening (once; later calls do nothing). */
  abort(): void {
    if (this.aborted) return
    this.aborted = true
    const first = this.first
    const more = this.more
    this.first = null
    this.more = null
    first?.()
    if (more !== null) for (const f of more) f()
  }
}
