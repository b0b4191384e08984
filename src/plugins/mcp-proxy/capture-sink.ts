/**
 * [ext, mcp.md §15.6.1] Capture of every `tools/call` final decision — clean ones included — so
 * `learn compile --include-mcp` can propose `mcp_tool_call` rules. A recorder like the receipt
 * sink: it reads the one `McpDecision`, never re-derives a verdict. The arguments are written as a
 * shape (`capture.argsShape`): keys kept, values HMAC'd with the salt or replaced by their type, a
 * DLP hit anywhere → `[REDACTED]` — the privacy rules of HTTP capture.
 *
 * Session directory `<agent>|mcp-<stdio|http|ws>-<n>`: discoverable as an agent's sibling
 * (learn-compile §2.6), one per invocation.
 */
import {argsShape, openCaptureWriter, type CaptureFinding, type CaptureWriter} from '../capture/index.js'
import type {Clock} from '../canonical/index.js'
import type {McpDecision, McpRecorder, McpTransport} from '../mcp/index.js'
import {classifyMcp} from '../recorder/index.js'

export interface McpCaptureSinkOptions {
  readonly dir: string
  readonly clock: Clock
  readonly configHash: string
  readonly build: {readonly version: string; readonly sha: string}
  /** Contract agent (§1.2): names the session directory and every record. */
  readonly agent: string
  /** Server identity (§1.2), the `mcp_server` of every record. */
  readonly server: string
  /** Invocation number `<n>` of the session directory. */
  readonly invocation: number
  readonly raw: boolean
  readonly salt: string | undefined
  /** True when a DLP pattern matches the text (the runtime's scanner). */
  readonly dlpHit: (text: string) => boolean
}

const SHORT: Record<McpTransport, string> = {mcp_stdio: 'stdio', mcp_http_upstream: 'http', mcp_http_listener: 'http', mcp_ws: 'ws'}

function findingsOf(d: McpDecision): CaptureFinding[] | null {
  const out: CaptureFinding[] = []
  if (d.verdict !== 'allow') {
    out.push({
      kind: d.stage === 'contract' || d.stage === 'contract_upstream' ? 'contract' : d.layer,
      // A would-block of audit mode is captured as HTTP captures its would_block: a warning.
      action: d.verdict === 'would_block' ? 'warn' : d.verdict,
      ...(d.severity ? {severity: d.severity} : {}),
      ...(d.pattern ? {pattern_name: d.pattern} : {}),
      tool_name: d.tool,
    })
  } else if (d.contract !== undefined && d.contract.reason !== '') {
    // A shadow-mode contract that would have blocked: the finding compile and review can show.
    out.push({kind: 'contract', action: 'warn', pattern_name: d.contract.reason, tool_name: d.tool})
  }
  for (const w of d.dlpWarnings) out.push({kind: 'dlp', action: 'warn', pattern_name: w})
  return out.length === 0 ? null : out
}

/** Receipt classification → capture action class (mcp.md §15.6). */
function actionClass(tool: string): string {
  const t = classifyMcp('tools/call', tool).actionType
  return t === 'read' || t === 'write' || t === 'delegate' ? t : 'unclassified'
}

export class McpCaptureSink implements McpRecorder {
  private readonly writer: CaptureWriter
  private scheduled = false
  private closed = false
  written = 0

  constructor(private readonly o: McpCaptureSinkOptions) {
    this.writer = openCaptureWriter(o.dir, {clock: o.clock, batch: true})
  }

  get description(): string {
    const o = this.o
    return `${o.dir} (MCP tool calls; ${o.raw ? 'RAW: argument values as sent, DLP hits redacted' : o.salt !== undefined ? 'argument values HMAC-salted' : 'argument values replaced by their type (no learn.privacy.salt_source)'})`
  }

  get dropped(): number {
    return this.writer.dropped
  }

  record(d: McpDecision): void {
    if (this.closed || d.direction !== 'request' || d.method !== 'tools/call') return
    const o = this.o
    const found = findingsOf(d)
    const appended = this.writer.append({
      sessionId: `${o.agent}|mcp-${SHORT[d.transport]}-${o.invocation}`,
      transport: d.transport,
      detail: {
        capture_schema_version: 1,
        surface: 'tool_policy',
        subsurface: 'mcp_tool_call',
        config_hash: o.configHash,
        build_version: o.build.version,
        build_sha: o.build.sha,
        agent: o.agent,
        action_class: actionClass(d.tool),
        payload_complete: false,
        transform_kind: 'raw',
        request: {
          method: '',
          url: '',
          tool_name: d.tool,
          tool_args_json: argsShape(d.args, {raw: o.raw, salt: o.salt, dlpHit: o.dlpHit}),
          mcp_method: 'tools/call',
          mcp_server: o.server,
        },
        raw_findings: found,
        effective_findings: found,
        effective_action: d.verdict === 'would_block' ? 'warn' : d.verdict,
        outcome: d.verdict === 'block' ? 'blocked' : d.verdict === 'warn' || d.verdict === 'would_block' ? 'warned' : 'clean',
      },
    })
    if (appended) this.written++
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        if (!this.closed) this.writer.flush()
      })
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.writer.flush()
    this.writer.close()
  }
}
