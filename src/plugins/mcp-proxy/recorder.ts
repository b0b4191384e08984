/**
 * The stderr lines of an MCP Decision (Appendix A): the wrap's own log, a sink of the one fan-out
 * beside metrics, the audit log and its emitters, receipts and capture (which are the proxy's
 * sinks, shared by both subjects). A URL request has no stderr line of its own here.
 */
import {isToolCall, type Decision, type DecisionSink} from '../decision/index.js'

export class StderrRecorder implements DecisionSink {
  constructor(private readonly write: (line: string) => void) {}
  record(d: Decision): void {
    if (!isToolCall(d)) return
    for (const n of d.notes) this.write(n.startsWith('  ') ? n : `pipelock: ${n}`)
    if (d.dlpWarnings.length > 0) {
      const at = d.transport === 'mcp_stdio' ? `${d.direction === 'request' ? 'input ' : ''}line ${d.line}: ` : ''
      this.write(`pipelock: ${at}DLP warning (${d.dlpWarnings.join(', ')})`)
    }
  }
}
