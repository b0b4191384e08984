/**
 * The response head gate's context (docs/architecture.md, "The response head gate"): what a
 * transport hands the head stages as soon as the upstream answers, before any body is read —
 * a HEAD, a 204/304, an SSE stream and a streamed body carry headers too, and the response gate
 * (run-response-gate.ts) sees only a buffered body. Like the response gate it records nothing of
 * its own: a block is answered through `block`, the transport's one `BlockAnswer`.
 */
import type {GateStage} from '../../../stages/index.js'
import type {ResponseHeaders, Suppressor} from '../../../scanner/index.js'
import type {ResponseScanSubject} from '../../relay/response-scan.js'
import type {ProxySnapshot} from '../../state.js'

/** The stages of the response head gate, in the one order they run (head-gate.ts). */
export type ResponseHeadStageId = 'response_headers'

export interface ResponseHeadContext extends ResponseScanSubject {
  readonly snap: ProxySnapshot
  /** The upstream's host, for `response_scanning.exempt_domains`. */
  readonly upstreamHost: string
  /** The response scans' finding suppression (operations.md §4.3). */
  readonly suppress?: Suppressor | undefined
  /** The headers as they will be relayed (a strip drops some); read by the transport after the gate. */
  headers: ResponseHeaders
}

/** One head stage: answers the response through `ctx.block` (true) or lets the gate go on (false); never awaits. */
export interface ResponseHeadStage extends GateStage<ResponseHeadStageId, ResponseHeadContext> {
  run(ctx: ResponseHeadContext): boolean
}
