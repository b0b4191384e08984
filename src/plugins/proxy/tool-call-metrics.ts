/**
 * The tool-call counters of the metrics sink (mcp.md §15.7): messages by direction and verdict,
 * findings by deciding layer, and the facts (chain matches, budgets, cross-request findings,
 * adaptive upgrades, redirects). `ProxyMetrics` hands it every tool-call Decision and renders it
 * on `/metrics`; `mcp proxy`, which has no HTTP registry, records into one directly (its
 * `--metrics-listen`). Every label comes from a closed vocabulary (directions, verdicts, gate
 * layers, budget names, level labels) or from configuration (chain pattern names): never from a
 * tool name, key or message.
 */
import {isToolCall, type Decision, type DecisionSink} from '../decision/index.js'

export class ToolCallMetrics implements DecisionSink {
  private readonly counts = new Map<string, number>()

  record(d: Decision): void {
    if (!isToolCall(d)) return
    this.bump(`mcp_messages_total{direction="${d.direction}",verdict="${d.verdict}"}`)
    if (d.verdict !== 'allow') this.bump(`mcp_findings_total{layer="${d.layer}",verdict="${d.verdict}"}`)
    for (const f of d.facts ?? []) {
      if (f.kind === 'chain_detection') this.bump(`chain_detections_total{action="${f.action}",pattern="${label(f.name)}",severity="${f.severity ?? ''}"}`)
      else if (f.kind === 'adaptive_upgrade') this.bump(`mcp_adaptive_upgrades_total{from_action="${f.name.split('->')[0]}",level="${f.severity ?? ''}",to_action="${f.action}"}`)
      else if (f.kind === 'tool_redirect') this.bump(`mcp_tool_redirects_total{result="${f.action === 'redirect' ? 'redirected' : 'blocked'}"}`)
      else if (f.kind === 'denial_of_wallet') this.bump(`mcp_budget_findings_total{action="${f.action}",budget="${f.name}"}`)
      else this.bump(`mcp_cross_request_findings_total{action="${f.action}",kind="${f.kind}"}`)
    }
  }

  /** Prometheus text (`pipelock_` prefix), families sorted; nothing before the first tool call. */
  render(out: string[]): void {
    const families = new Map<string, string[]>()
    for (const [k, v] of this.snapshot()) {
      const name = k.slice(0, k.indexOf('{'))
      if (!families.has(name)) families.set(name, [])
      families.get(name)!.push(`pipelock_${k} ${v}`)
    }
    for (const [name, lines] of families) {
      out.push(`# HELP pipelock_${name} ${TOOL_CALL_METRIC_HELP[name] ?? 'MCP firewall counter.'}`, `# TYPE pipelock_${name} counter`, ...lines)
    }
  }

  private bump(k: string): void {
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1)
  }

  snapshot(): ReadonlyMap<string, number> {
    return new Map([...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }
}

/** Every tool-call family (name without `pipelock_`) and its help text; docs/compatibility.md lists the names. */
export const TOOL_CALL_METRIC_HELP: Readonly<Record<string, string>> = {
  mcp_messages_total: 'MCP messages by direction and verdict.',
  mcp_findings_total: 'MCP messages warned or blocked, by deciding layer.',
  mcp_tool_redirects_total: 'MCP tool calls sent to a redirect profile, by result.',
  chain_detections_total: 'MCP tool-call chain pattern matches.',
  mcp_adaptive_upgrades_total: 'MCP actions upgraded by the session escalation level.',
  mcp_budget_findings_total: 'MCP denial-of-wallet budget findings.',
  mcp_cross_request_findings_total: 'MCP cross-request detection findings.',
}

/** A configured name as a label value (quotes and backslashes escaped). */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
