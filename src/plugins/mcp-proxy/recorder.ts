/**
 * The record step of `mcp proxy` today: every decision becomes its stderr log lines (Appendix A)
 * and counts in a metrics registry. `mcp proxy` never exports the registry (quirk Q25 kept);
 * the shared gate's sinks (receipts, capture, audit) will plug in here as further recorders.
 */
import type {McpDecision, McpRecorder} from '../mcp/index.js'

export class StderrRecorder implements McpRecorder {
  constructor(private readonly write: (line: string) => void) {}
  record(d: McpDecision): void {
    for (const n of d.notes) this.write(n.startsWith('  ') ? n : `pipelock: ${n}`)
    if (d.dlpWarnings.length > 0) {
      const at = d.transport === 'mcp_stdio' ? `${d.direction === 'request' ? 'input ' : ''}line ${d.line}: ` : ''
      this.write(`pipelock: ${at}DLP warning (${d.dlpWarnings.join(', ')})`)
    }
  }
}

/** Message counters by direction/verdict and blocks by layer. */
export class McpMetrics implements McpRecorder {
  private readonly counts = new Map<string, number>()
  record(d: McpDecision): void {
    this.bump(`mcp_messages_total{direction="${d.direction}",verdict="${d.verdict}"}`)
    if (d.verdict !== 'allow') this.bump(`mcp_findings_total{layer="${d.layer}",verdict="${d.verdict}"}`)
  }
  private bump(k: string): void {
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1)
  }
  snapshot(): ReadonlyMap<string, number> {
    return new Map([...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }
}

/** Fans one decision out to every recorder; a failing recorder never affects the message. */
export class RecorderFanout implements McpRecorder {
  constructor(private readonly recorders: readonly McpRecorder[]) {}
  record(d: McpDecision): void {
    for (const r of this.recorders) {
      try {
        r.record(d)
      } catch {
        // A sink bug must not break the message path.
      }
    }
  }
}
