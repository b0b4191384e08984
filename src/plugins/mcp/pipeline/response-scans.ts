/**
 * The CPU-heavy part of the response decision (spec mcp.md §5.1 steps 7–9 and the unparseable
 * note): media policy, tool-definition scans and the general injection scan of one server
 * message. A pure function of the frame and the firewall's configuration, so the scan pool's
 * worker computes exactly what `decideResponse` would; every stateful step (kill switch, session,
 * confused deputy, drift, binding inventory, actions) stays in `decideResponse`, in order.
 */
import {goJson} from '../../canonical/index.js'
import type {Scanner} from '../../scanner/index.js'
import {isObject, type McpFrame} from '../jsonrpc/frame.js'
import {applyMediaToResult, type MediaCheck, type MediaResult} from '../scan/media.js'
import {scanMessage, scanText, toolsListOf} from '../scan/response.js'
import {decodeTools, type ToolScanner} from '../tools/scan.js'

export interface ResponseScanDeps {
  readonly scanner: Scanner
  readonly toolScanner: ToolScanner
  readonly media: MediaCheck | null
}

export type ResponseScans =
  /** Not a JSON-RPC 2.0 object: the injection names of the raw text (logged before the block). */
  | {readonly kind: 'unparseable'; readonly injection: readonly string[]}
  | {
    readonly kind: 'message'
    /** Media policy outcome (null = no media policy). */
    readonly media: MediaResult | null
    /** The message text after media rewriting (the frame's text when nothing was rewritten). */
    readonly text: string
    /** Per tool of a tools/list (in `decodeTools` order) when tool scanning is on, else null. */
    readonly tools: ReadonlyArray<{readonly findings: readonly string[]; readonly params: readonly string[]}> | null
    /**
     * Distinct injection pattern names of the general scan (§5.2); null = not computed yet (the
     * inline path scans only when the tool scan did not block, as it always did).
     */
    readonly injection: readonly string[] | null
  }
  /** The scan could not complete (scan pool failure): the message is blocked, never forwarded. */
  | {readonly kind: 'failed'; readonly error: string}

/** Whether a parsed frame takes the unparseable path of §5.1 (batches are decided earlier). */
export function unparseableResponse(frame: McpFrame): boolean {
  const msg = frame.value
  return !isObject(msg) || frame.error !== null || msg.get('jsonrpc') !== '2.0'
}

/**
 * The scans of one server frame. Media rewriting happens in place on `frame.value` (as the
 * inline pipeline always did); the rewritten text is returned for the thread that did not see it.
 * `injection` false leaves the injection scan to the caller (`decideResponse` inline).
 */
export function scanResponseFrame(deps: ResponseScanDeps, toolScanEnabled: boolean, frame: McpFrame, injection = true): ResponseScans {
  if (frame.isBatch) return {kind: 'unparseable', injection: []}
  const msg = frame.value
  if (unparseableResponse(frame) || !isObject(msg)) return {kind: 'unparseable', injection: scanText(deps.scanner, frame.text).names}
  let text = frame.text
  const media = deps.media === null ? null : applyMediaToResult(msg, deps.media)
  if (media?.kind === 'block') return {kind: 'message', media, text, tools: null, injection: []}
  if (media?.kind === 'rewritten') text = goJson(msg)
  const tools = toolScanEnabled ? toolsListOf(msg) : null
  return {
    kind: 'message',
    media,
    text,
    tools: tools === null ? null : decodeTools(tools).map((def) => deps.toolScanner.scanTool(def)),
    injection: injection ? scanMessage(deps.scanner, msg, tools !== null).names : null,
  }
}
