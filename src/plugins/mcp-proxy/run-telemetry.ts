/**
 * The audit log and metrics of `run --mcp-listen` (mcp.md §15.7): the run's real logger and
 * registry instead of `mcp proxy`'s unexported counters. Reads the one `McpDecision`:
 *
 * * audit `blocked` for every MCP block ([ext, recommended] in §15.7) with `method: "MCP"`, the
 *   resource (tool name, method, `response:<id>`), `scanner` = the receipt layer, `reason` = the
 *   deciding pattern or reason code — never a matched value; kill-switch denials emit none (§15.1);
 * * audit `dlp_warn` per warn-only DLP pattern (R§19);
 * * `pipelock_mcp_messages_total{direction,verdict}` and `pipelock_mcp_findings_total{layer,verdict}`
 *   on the run's `/metrics`.
 */
import type {McpDecision, McpRecorder} from '../mcp/index.js'
import {renderFamily, type AuditLog} from '../proxy/index.js'

export class McpRunTelemetry implements McpRecorder {
  private readonly messages = new Map<string, number>()
  private readonly findings = new Map<string, number>()

  constructor(private readonly audit: () => AuditLog) {}

  record(d: McpDecision): void {
    bump(this.messages, `${d.direction}\u0000${d.verdict}`)
    if (d.verdict !== 'allow') bump(this.findings, `${d.layer}\u0000${d.verdict}`)
    const resource = d.direction === 'response' ? (d.id === null ? 'server_response' : `response:${d.id}`) : d.tool !== '' ? d.tool : d.method
    const common = {method: 'MCP', resource, transport: d.transport}
    for (const w of d.dlpWarnings) this.audit().event('warn', 'dlp_warn', 'DLP warn-only pattern matched', {...common, pattern: w})
    if (d.verdict === 'block' && d.stage !== 'kill_switch') {
      this.audit().blocked({...common, scanner: d.layer, reason: d.pattern ?? d.reason ?? '', block_reason: d.reason ?? ''})
    }
  }

  render(out: string[]): void {
    renderFamily(out, 'pipelock_mcp_messages_total', 'MCP listener messages by direction and verdict.', 'counter', labelled(this.messages, 'direction', 'verdict'))
    renderFamily(out, 'pipelock_mcp_findings_total', 'MCP listener warn/block decisions by layer.', 'counter', labelled(this.findings, 'layer', 'verdict'))
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1)
}

function labelled(m: ReadonlyMap<string, number>, a: string, b: string): Array<readonly [Record<string, string>, number]> {
  return [...m].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => {
    const [va, vb] = k.split('\u0000') as [string, string]
    return [{[a]: va, [b]: vb}, v] as const
  })
}
