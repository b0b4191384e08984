/**
 * Event emission for `pipelock mcp proxy` (operations.md §3; mcp.md §15.7): the webhook, syslog and
 * OTLP sinks of `pipelock run`, fed by the same audit sink (`AuditLog`) from the same Decisions —
 * here tool-call Decisions. The wrap keeps the reference's no-op local logger (Q25): the audit
 * log has no writer, only the emitter's tap, so an event is emitted exactly as the run emits it
 * (`blocked` always, `allowed` only with `logging.include_allowed`, severities per type) and never
 * written to a local log. Loaded only when the config names a sink (start-up stays small).
 */
import type {PipelockConfig} from '../config/index.js'
import type {DecisionSink} from '../decision/index.js'
import {AuditLog, startEmission} from '../proxy/index.js'

export interface McpEmission {
  /** The audit sink the tool-call Decisions go to; its tap is the emitter. */
  readonly sink: DecisionSink
  /** Drains every sink (≤ 10 s each, in parallel). */
  close(): Promise<void>
}

export async function openMcpEmission(config: PipelockConfig, o: {version: string; stderr: (line: string) => void; addMetrics: (render: (out: string[]) => void) => void}): Promise<McpEmission> {
  const audit = new AuditLog([], {includeAllowed: config.logging.include_allowed, includeBlocked: config.logging.include_blocked, now: () => new Date()})
  const emission = await startEmission({audit, metrics: {addRenderer: o.addMetrics}}, config, {version: o.version, stderr: o.stderr})
  return {sink: audit, close: () => emission.close()}
}
