/**
 * The emitter (operations.md §3.3): the audit log's tap. `emit(type, fields)` builds the event
 * once and offers it to every sink — O(1), no I/O, never throws into request code. The sink set
 * is swapped whole on reload; the old set drains in the background.
 */
import {buildEvent} from './event.js'
import type {QueuedSink} from './queue.js'
import {isEmitted} from './severity.js'
import type {EmitStats} from './stats.js'

export interface EmitterOptions {
  /** `emit.instance_id`, else the hostname, else `pipelock` — fixed at start-up (§3.1). */
  readonly instance: string
  readonly nowNanos: () => bigint
  readonly stats: EmitStats
}

export class Emitter {
  private sinks: readonly QueuedSink[]

  constructor(sinks: readonly QueuedSink[], private readonly o: EmitterOptions) {
    this.sinks = sinks
  }

  get instance(): string {
    return this.o.instance
  }

  get stats(): EmitStats {
    return this.o.stats
  }

  /** Names of the sinks in use (`webhook`, `syslog`, `otlp`). */
  sinkNames(): string[] {
    return this.sinks.map((s) => s.name)
  }

  emit(type: string, fields: Readonly<Record<string, unknown>>): void {
    if (this.sinks.length === 0 || !isEmitted(type)) return
    try {
      const e = buildEvent(type, fields, this.o.nowNanos(), this.o.instance)
      for (const s of this.sinks) s.offer(e)
    } catch {
      // Emission never affects the request it describes.
    }
  }

  /** Installs a new sink set at once; the previous one drains (≤ 10 s) and closes. */
  replace(sinks: readonly QueuedSink[]): Promise<void> {
    const old = this.sinks
    this.sinks = sinks
    return Promise.all(old.map((s) => s.close())).then(() => undefined)
  }

  /** Shutdown: stop accepting, drain each sink for at most 10 s. */
  async close(): Promise<void> {
    await this.replace([])
  }

  /** Samples for `pipelock_emit_queue_depth{sink}`. */
  depthSamples(): Array<[{sink: string}, number]> {
    return this.sinks.map((s) => [{sink: s.name}, s.depth()])
  }
}
