/**
 * Audit events for MCP decisions (mcp.md §15.7) where a real audit log exists — `pipelock run`
 * hosting MCP traffic (`mcp proxy` keeps the reference's no-op logger, Q25). Reads the one
 * `McpDecision`; never re-derives a verdict:
 *
 * * every block → `blocked` with `scanner` = the deciding layer ([ext] recommended by §15.7: the
 *   reference emits it only for DoW, frozen tool, media, provenance and CEE), `method` `MCP`
 *   (`CEE` for cross-request blocks), `resource` = tool name / `tools/list` / `response:<id>` /
 *   `mcp-input`;
 * * a block not enforced (`would_block`, audit mode) → `anomaly` `would block (not enforced)`, as
 *   HTTP's would_block;
 * * a DoW or CEE finding that did not block → `anomaly`;
 * * a chain match → `chain_detection` `{pattern, pattern_severity, severity, action, tool, session}`;
 * * an action upgraded by the session level → `adaptive_upgrade`;
 * * a DLP warn-pattern hit → `dlp_warn`;
 * * a redirect handler run (mcp.md §8.5) → `tool_redirect` `{tool_name, args_digest,
 *   redirect_profile, redirect_reason, policy_rule, result, latency_ms}`.
 *
 * Fields never carry argument values or matched text: names, layers and reasons only.
 */
import type {McpDecision, McpRecorder} from '../mcp/index.js'

/** The part of the audit log this sink needs (`proxy.AuditLog` satisfies it). */
export interface McpAuditTarget {
  event(level: 'info' | 'warn' | 'error', event: string, message: string, fields?: Record<string, unknown>): void
  /** A `blocked` event (the run's audit log: `include_blocked` silences only its local log, §3.1). */
  blocked(fields: Record<string, unknown>): void
}

function resourceOf(d: McpDecision): string {
  if (d.direction === 'request') return d.tool !== '' ? d.tool : 'mcp-input'
  if (d.stage === 'tool_scan') return 'tools/list'
  return d.id === null ? 'server_response' : `response:${d.id}`
}

export class McpAuditSink implements McpRecorder {
  constructor(private readonly audit: McpAuditTarget) {}

  record(d: McpDecision): void {
    const common = {resource: resourceOf(d), transport: d.transport, ...(d.session !== undefined ? {session: d.session} : {})}
    for (const f of d.facts ?? []) {
      switch (f.kind) {
        case 'chain_detection':
          this.audit.event(f.action === 'block' ? 'warn' : 'info', 'chain_detection', 'tool call chain pattern detected', {
            pattern: f.name, pattern_severity: f.severity ?? '', severity: f.action === 'block' ? 'critical' : 'warn', action: f.action, tool: f.detail, session: d.session ?? '',
          })
          break
        case 'adaptive_upgrade':
          this.audit.event('warn', 'adaptive_upgrade', 'action upgraded by session escalation level', {
            ...common, from_action: f.name.split('->')[0], to_action: f.action, level: f.severity ?? '', surface: f.detail,
          })
          break
        case 'tool_redirect':
          // containment.md §7: one event per executed redirect handler, redirected or blocked.
          this.audit.event('info', 'tool_redirect', 'tool call redirected by policy', {...common, ...f.fields})
          break
        default:
          // DoW / CEE findings that blocked are reported once, as the decision's `blocked` event below.
          if (f.action !== 'block') {
            this.audit.event('warn', 'anomaly', 'MCP budget or cross-request finding', {
              ...common, method: f.kind === 'denial_of_wallet' ? 'MCP' : 'CEE', scanner: f.kind, reason: f.detail, action: f.action,
            })
          }
      }
    }
    // Audit mode: what would have blocked, as HTTP's would_block event.
    if (d.verdict === 'would_block') this.audit.event('warn', 'anomaly', 'would block (not enforced)', {...common, method: 'MCP', scanner: d.layer, reason: d.reason ?? ''})
    // Kill-switch denials emit no audit event (mcp.md §15.1).
    if (d.verdict === 'block' && d.stage !== 'kill_switch') {
      this.audit.blocked({
        method: d.stage === 'cross_request' ? 'CEE' : 'MCP', ...common, scanner: d.layer, reason: d.reason ?? '', direction: d.direction,
        ...(d.pattern !== undefined ? {pattern: d.pattern} : {}),
      })
    }
    for (const w of d.dlpWarnings) this.audit.event('warn', 'dlp_warn', 'DLP warn-only pattern matched', {...common, method: 'MCP', pattern: w})
  }
}
