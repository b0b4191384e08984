/**
 * The response gate's context (docs/architecture.md, "The response gate"): what a transport hands
 * the response stages once the upstream's body is buffered, and what the stages write for the
 * transport to relay. The response gate records nothing of its own: a block is answered through
 * `block`, the transport's one `BlockAnswer`, which records the request's one Decision; an allow is
 * recorded by the transport after the gate. So the response verdict is always the request's
 * Decision (linked by its request id), never a second record.
 */
import type {ServerResponse} from 'node:http'
import type {Suppressor} from '../../../scanner/index.js'
import type {DecisionBase} from '../../core.js'
import type {BlockAnswer, RequestRecord} from '../../request-gate.js'
import type {ResponseOrigin, ShieldTransport} from '../../relay/response-transforms.js'
import type {ProxySnapshot} from '../../state.js'
import type {GatePorts} from '../context.js'

/** The stages of the response gate, in the one order they run (order.ts). */
export type ResponseStageId = 'transform' | 'media_policy' | 'page_text' | 'response_scan' | 'hidden_content'

/** How the session counts what reached the agent (ProxySessions.exposure). */
export type ResponseExposure = 'response' | 'media' | 'prompt_injection'

/** `ResponseOrigin`: the URL and host the transforms and the injection scan read, as shown, with the headers. */
export interface ResponseGateContext extends ResponseOrigin {
  readonly ports: GatePorts
  readonly snap: ProxySnapshot
  readonly rec: RequestRecord
  readonly b: DecisionBase
  /** The agent's response (an `ask` is held until it is answered or the client goes away). */
  readonly res: ServerResponse
  /** A block: the transport's answer, which records the request's one Decision. */
  readonly block: BlockAnswer
  /** The transport label of Browser Shield's metrics and events. */
  readonly shieldTransport: ShieldTransport
  /** The host the session scores a warn against. */
  readonly sessionHost: string
  /** The upstream's Content-Type as sent. */
  readonly contentType: string
  /** The response scans' finding suppression (operations.md §4.3), undefined without entries. */
  readonly suppress?: Suppressor
  /** /fetch records a media exposure on the session as soon as the policy passes it. */
  readonly mediaExposureAtOnce?: boolean

  // Written by the stages, read by the later ones and by the transport after the gate.
  /** The body as it will be relayed (transformed, media-stripped, injection-stripped). */
  body: Buffer
  /** Browser Shield or an A2A check rewrote the body (validators go stale). */
  transformed: boolean
  /** The media policy or a strip changed the body after the transforms (the reverse proxy drops validators). */
  rewritten: boolean
  /** The media type the media policy settled on ('' when it did not run). */
  mediaType: string
  /** What the session records as reaching the agent. */
  exposure: ResponseExposure
  /** /fetch: the page's title and text (the agent gets text, not markup) and the markup for the hidden-content scan. */
  page?: {title: string; content: string; readonly markup: string}
}

/**
 * One response stage: `run` answers the response (through `ctx.block`) and returns true, or
 * returns false and the gate goes on. A stage never answers an allow: the transport relays
 * `ctx.body` after the gate.
 */
export interface ResponseStage {
  readonly id: ResponseStageId
  run(ctx: ResponseGateContext): boolean | Promise<boolean>
}
