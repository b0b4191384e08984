/**
 * Content scan of the message — DLP and injection over a tools/call's arguments and every other
 * request's params (mcp.md §4.1). stdio always scans (warn when input scanning is off); HTTP and
 * WebSocket only when enabled, but an unparseable message is refused there too (fix Q1: fail
 * closed). A finding is collected for `mode`; a parse error is answered by `parse`.
 */
import {scanRequest, type ContentVerdict} from '../../../scan/request.js'
import type {McpFrame} from '../../../jsonrpc/frame.js'
import type {McpSessionState, McpSettings} from '../../settings.js'
import type {McpGateStage} from '../context.js'

export const contentStage: McpGateStage = {
  id: 'content',
  run(ctx) {
    const {settings, deps, state} = ctx.mcp
    const frame = ctx.frame
    const unparseable = frame.value === undefined || frame.error !== null
    // A pool's scan is of the original text: a rewritten frame is scanned here.
    // The pool's verdict is of the frame it scanned: the redacted one when it also redacted (extras.redaction), else the message as received.
    if (requestScanRuns(settings, state.transport)) ctx.content = (ctx.red !== null && ctx.red.kind === 'rewritten' && ctx.extras.redaction === undefined ? undefined : ctx.extras.content) ?? scanRequest(deps.scanner, frame, settings.input)
    else ctx.content = unparseable ? parseErrorVerdict(frame) : CLEAN
    ctx.base.dlpWarnings.push(...ctx.content.dlpWarnings)
    ctx.reasons.push(...ctx.content.dlp.map((d) => d.pattern), ...ctx.content.injection)
    return false
  },
}

export const CLEAN: ContentVerdict = {clean: true, dlp: [], injection: [], error: null, dlpWarnings: [], action: ''}

/** Whether the content scan runs for a message of this state (stdio always; HTTP/WS when enabled). */
export function requestScanRuns(settings: McpSettings, transport: McpSessionState['transport']): boolean {
  return transport === 'mcp_stdio' || settings.input.enabled
}

/** The content verdict of a message whose scan could not complete (scan pool failure): fail closed. */
export function unscannedContent(reason: string): ContentVerdict {
  return {clean: false, dlp: [], injection: [], error: `content scan failed: ${reason}`, dlpWarnings: [], action: 'block', unavailable: true}
}

function parseErrorVerdict(frame: McpFrame): ContentVerdict {
  return {clean: false, dlp: [], injection: [], error: frame.error ?? 'invalid JSON structure', dlpWarnings: [], action: 'block'}
}
