/**
 * Finding suppression at runtime (operations.md §4.3, §4.4): one per request, handed to the
 * response, SSE and request-body scans with the target string of each surface. Every suppressed
 * finding is audited (`finding_suppressed`, once per request and rule) and counted
 * (`pipelock_findings_suppressed_total{surface,rule}`, and the reference's
 * `pipelock_response_scan_exempt_total{reason="suppress"}` for response findings) — the reference
 * counts response suppressions only and audits none (quirk fixed).
 */
import {suppressedBy, type Suppressor} from '../scanner/index.js'
import type {DecisionBase} from './core.js'
import type {AuditTrail, MetricsPort} from './ports.js'
import {safeTarget} from './core.js'
import type {ProxySnapshot} from './state.js'
import {describeSuppressor} from './scan-offload/suppression-scope.js'

export type SuppressSurface = 'response' | 'sse' | 'body_dlp'

export class RequestSuppression {
  /** The surfaces and rules audited for this request; built at the first suppression (most requests have none). */
  private audited: Set<string> | undefined

  constructor(private readonly ports: AuditTrail & MetricsPort, private readonly snap: ProxySnapshot, private readonly b: DecisionBase) {}

  /**
   * The suppressor for one surface and its target string, or undefined without entries. It is
   * described as data too (its entries and target), so a scan on the pool decides as it does and
   * hands back the names it suppressed for this closure to count and audit (scan-offload/).
   */
  for(surface: SuppressSurface, target: string): Suppressor | undefined {
    const entries = this.snap.config.suppress
    if (entries.length === 0) return undefined
    return describeSuppressor((name) => {
      const i = suppressedBy(entries, name, target)
      if (i < 0) return false
      const e = entries[i]!
      this.ports.metrics.findingsSuppressed.inc({surface, rule: e.rule})
      if (surface !== 'body_dlp') this.ports.metrics.responseScanExempt.inc({reason: 'suppress', transport: this.b.transport})
      const key = `${surface}\u0000${e.rule.toLowerCase()}`
      const audited = (this.audited ??= new Set())
      if (!audited.has(key)) {
        audited.add(key)
        this.ports.audit.event('info', 'finding_suppressed', 'finding suppressed by config', {
          rule: name, target: safeTarget(this.snap, target, 'body_dlp'), surface, transport: this.b.transport, reason: e.reason ?? '',
          suppress_index: i, client_ip: this.b.clientIp, request_id: this.b.requestId, agent: this.b.agent,
        })
      }
      return true
    }, {entries, target})
  }
}
