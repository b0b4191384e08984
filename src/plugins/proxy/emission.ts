/**
 * Event emission (operations.md §3) in `pipelock run` and `pipelock mcp proxy`: the emitter hangs
 * off the audit log as its tap, so it reads the same events the log writes from the one Decision
 * — URL requests and tool calls alike — and never re-derives a verdict. Sinks are built at start-up (an error is fatal), rebuilt on every applied reload (an
 * error keeps the old sinks and is audited), and drained on shutdown. Counters are exported on
 * /metrics.
 */
import {systemClock} from '../canonical/index.js'
import type {PipelockConfig} from '../config/index.js'
import {DROP_REASONS, emitInstance, Emitter, EmitStats, openEmitSinks, RateLimitedLog} from '../emit/index.js'
import type {AuditLog} from './audit-log.js'
import {renderFamily} from './metrics.js'

/** What emission hangs off: the audit log it taps and a metrics registry that renders its counters. */
export interface EmissionHost {
  readonly audit: AuditLog
  readonly metrics: {addRenderer(render: (out: string[]) => void): void}
}

export interface Emission {
  /** Rebuilds the sinks for an applied config (asynchronously; failures are audited). */
  reload(config: PipelockConfig): void
  /** Stops accepting and drains every sink (≤ 10 s each, in parallel). */
  close(): Promise<void>
}

export async function startEmission(server: EmissionHost, config: PipelockConfig, o: {version: string; stderr: (line: string) => void}): Promise<Emission> {
  const stats = new EmitStats()
  const log = new RateLimitedLog(o.stderr, () => Date.now())
  const open = (c: PipelockConfig): ReturnType<typeof openEmitSinks> => openEmitSinks(c.emit, {version: o.version, stats, log})
  const emitter = new Emitter(await open(config), {instance: emitInstance(config.emit), nowNanos: () => systemClock.nowNanos(), stats})
  const startInstance = config.emit.instance_id
  server.audit.setTap(emitter)
  if (emitter.sinkNames().length > 0) o.stderr(`pipelock: emit: ${emitter.sinkNames().join(', ')} (instance ${emitter.instance})`)
  server.metrics.addRenderer((out) => {
    const sinks = [...new Set([...emitter.sinkNames(), ...stats.sentSamples().map(([l]) => l.sink), ...stats.droppedSamples().map(([l]) => l.sink)])].sort()
    const dropped = sinks.flatMap((sink) => DROP_REASONS.map((reason) => [{sink, reason}, stats.droppedCount(sink, reason)] as const))
    renderFamily(out, 'pipelock_emit_events_dropped_total', 'Emitted events dropped, by sink and reason.', 'counter', dropped)
    renderFamily(out, 'pipelock_emit_events_sent_total', 'Emitted events delivered, by sink.', 'counter', sinks.map((sink) => [{sink}, stats.sentCount(sink)] as const))
    renderFamily(out, 'pipelock_emit_queue_depth', 'Events waiting in each sink queue.', 'gauge', emitter.depthSamples())
  })
  let pending: Promise<void> = Promise.resolve()
  return {
    reload(c) {
      if (c.emit.instance_id !== startInstance) o.stderr('WARNING: config reload: emit.instance_id changes take effect after a restart')
      pending = pending.then(async () => {
        try {
          const sinks = await open(c)
          void emitter.replace(sinks)
        } catch (err) {
          const msg = (err as Error).message
          o.stderr(`pipelock: emit sink rebuild failed: ${msg}`)
          server.audit.event('error', 'error', `emit sink rebuild failed: ${msg}`, {})
        }
      })
    },
    async close() {
      await pending
      server.audit.setTap(null)
      await emitter.close()
    },
  }
}
