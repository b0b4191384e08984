/**
 * A sink's bounded FIFO and its one sequential sender (operations.md §3.3, §3.8). `offer` is
 * O(1) and never waits: when the queue is full the new event is dropped and counted. Exactly one
 * send is in flight per sink, so order is kept. `close` stops accepting, then drains what is
 * queued until empty or the deadline (10 s), and counts what is left as `closed`.
 */
import type {EmitEvent} from './event.js'
import {severityRank, type Severity} from './severity.js'
import type {EmitStats, RateLimitedLog, SinkName} from './stats.js'

/** What a transport reports for one event. */
export type SendOutcome = 'sent' | 'send_failed' | 'too_large'

export interface SinkTransport {
  /** Delivers one event (its own timeout; never throws). `signal` is aborted when the sink starts closing: no retries after that. */
  send(event: EmitEvent, signal: AbortSignal): Promise<SendOutcome>
  /** Releases sockets; called once after the drain. */
  dispose(): Promise<void>
}

export interface QueuedSinkOptions {
  readonly name: SinkName
  readonly minSeverity: Severity
  readonly capacity: number
  readonly transport: SinkTransport
  readonly stats: EmitStats
  readonly log: RateLimitedLog
}

export const DRAIN_TIMEOUT_MS = 10_000

export class QueuedSink {
  readonly name: SinkName
  private readonly min: number
  private readonly q: EmitEvent[] = []
  private head = 0
  private running = false
  private closed = false
  private readonly abort = new AbortController()
  private idle: (() => void) | undefined

  constructor(private readonly o: QueuedSinkOptions) {
    this.name = o.name
    this.min = severityRank(o.minSeverity)
  }

  /** Events waiting (not counting the one in flight). */
  depth(): number {
    return this.q.length - this.head
  }

  offer(e: EmitEvent): void {
    if (severityRank(e.severity) < this.min) return
    if (this.closed) {
      this.o.stats.drop(this.name, 'closed')
      return
    }
    if (this.depth() >= this.o.capacity) {
      this.o.stats.drop(this.name, 'queue_full')
      this.o.log.line(`${this.name}:queue_full`, `emit: sink error (event=${e.type}): emit: ${this.name} queue full, event dropped`)
      return
    }
    this.q.push(e)
    if (!this.running) void this.run()
  }

  private async run(): Promise<void> {
    this.running = true
    try {
      while (this.depth() > 0) {
        const e = this.q[this.head]!
        this.q[this.head] = undefined as unknown as EmitEvent
        this.head++
        if (this.head > 1024 && this.head * 2 > this.q.length) {
          this.q.splice(0, this.head)
          this.head = 0
        }
        let outcome: SendOutcome
        try {
          outcome = await this.o.transport.send(e, this.abort.signal)
        } catch {
          outcome = 'send_failed'
        }
        if (outcome === 'sent') this.o.stats.delivered(this.name)
        else this.o.stats.drop(this.name, outcome)
      }
    } finally {
      this.running = false
      this.q.length = 0
      this.head = 0
      this.idle?.()
    }
  }

  /** Stops accepting, drains for at most `timeoutMs`, then drops (counted) what is left. */
  async close(timeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Closing ends retry sleeps and further attempts (OTLP, §3.6); the send in flight keeps its timeout.
    this.abort.abort()
    if (this.running) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>((r) => (this.idle = r)),
        new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
      ])
      clearTimeout(timer)
    }
    for (let i = this.head; i < this.q.length; i++) this.o.stats.drop(this.name, 'closed')
    this.q.length = 0
    this.head = 0
    await this.o.transport.dispose()
  }
}
