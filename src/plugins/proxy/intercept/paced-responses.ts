/**
 * The upstream responses of intercepted requests, handed to the forward pipeline in the set-up
 * queue's turns (bench: tls-tunnels; no event-loop stall over 10 ms with 256 concurrent tunnels). A burst
 * of tunnels sends its first requests close together and the origin answers them close
 * together, so their response work — the body read, the response scan, the record step and the
 * write back through the client's TLS — would share one poll phase. Here the response waits, with
 * its connection paused (no more bytes are parsed for it), until a queue step delivers its start;
 * the rest then follows as the pipeline reads it, within that step's slice.
 *
 * Every event keeps its order: anything undici reports while the start waits (an error, an
 * abort) is delivered after it. The pipeline's own backpressure (its pause/resume) is kept apart
 * from the pause held here. Nothing about the response changes: same bytes, same verdicts.
 */
import type {Dispatcher} from 'undici'
import type {SetupQueue} from './setup-queue.js'

type Controller = Dispatcher.DispatchController
type Handler = Dispatcher.DispatchHandler

class PacedResponse implements Handler {
  /** Events that arrived while the start waits for its turn (null: not waiting). */
  private waiting: Array<{readonly error: boolean; readonly run: () => void}> | null = null
  private innerPaused = false
  private view: Controller | null = null

  constructor(
    private readonly inner: Handler,
    private readonly queue: SetupQueue,
  ) {}

  /** The controller the pipeline sees: its pause/resume, not the pause held while waiting. */
  private controller(c: Controller): Controller {
    if (this.view !== null) return this.view
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this
    this.view = {
      get aborted() {
        return c.aborted
      },
      get paused() {
        return self.innerPaused
      },
      get reason() {
        return c.reason
      },
      get rawHeaders() {
        return c.rawHeaders
      },
      get rawTrailers() {
        return c.rawTrailers
      },
      abort: (reason: Error) => c.abort(reason),
      pause: () => {
        self.innerPaused = true
        c.pause()
      },
      resume: () => {
        self.innerPaused = false
        if (self.waiting === null) c.resume()
      },
    }
    return this.view
  }

  private later(error: boolean, run: () => void): void {
    if (this.waiting !== null) this.waiting.push({error, run})
    else run()
  }

  onRequestStart(c: Controller, context: unknown): void {
    this.inner.onRequestStart?.(this.controller(c), context)
  }

  onRequestUpgrade(c: Controller, statusCode: number, headers: Parameters<NonNullable<Handler['onRequestUpgrade']>>[2], socket: Parameters<NonNullable<Handler['onRequestUpgrade']>>[3]): void {
    this.inner.onRequestUpgrade?.(this.controller(c), statusCode, headers, socket)
  }

  onResponseStart(c: Controller, statusCode: number, headers: Parameters<NonNullable<Handler['onResponseStart']>>[2], statusMessage?: string): void {
    // An informational answer (`103 Early Hints`) comes before the final one on the same request:
    // held back like a final start, the final start's events were queued behind it and delivered
    // to a handler that had no body yet. It carries nothing to pace: handed on at once, in order.
    if (statusCode < 200) {
      this.inner.onResponseStart?.(this.controller(c), statusCode, headers, statusMessage)
      return
    }
    c.pause()
    this.waiting = []
    this.queue.push(() => {
      const events = this.waiting ?? []
      this.waiting = null
      const v = this.controller(c)
      // Aborted meanwhile (the client went away, the kill switch): only the error is reported.
      const started = !c.aborted
      if (started) this.inner.onResponseStart?.(v, statusCode, headers, statusMessage)
      for (const e of events) if (started || e.error) e.run()
      if (started && !c.aborted && !this.innerPaused) c.resume()
    })
  }

  onResponseData(c: Controller, chunk: Buffer): void {
    this.later(false, () => this.inner.onResponseData?.(this.controller(c), chunk))
  }

  onResponseEnd(c: Controller, trailers: Parameters<NonNullable<Handler['onResponseEnd']>>[1]): void {
    this.later(false, () => this.inner.onResponseEnd?.(this.controller(c), trailers))
  }

  onResponseError(c: Controller, error: Error): void {
    this.later(true, () => this.inner.onResponseError?.(this.controller(c), error))
  }
}

/** An undici interceptor (`agent.compose(...)`) that delivers each response's start in a turn of `queue`. */
export function pacedResponses(queue: SetupQueue): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => dispatch(opts, new PacedResponse(handler, queue))
}
