/**
 * What one request brings to the gate (ARCHITECTURE "One gate, one decision"): the transport
 * parses the request into this context, `runGate` runs the transport's stages over it in the one
 * declared order, and every stage reads and writes only here. A stage answers a block that
 * stands in every mode through `block` (the transport's own answer: JSON for `/fetch`, text for
 * the forward proxy, a raw response on a hijacked CONNECT or WebSocket socket), which records the
 * Decision first; a block an exception may waive or audit mode may downgrade is stated as a
 * `Finding`, which the settle stages end (order.ts, `SETTLE_ORDER`).
 */
import type {IncomingMessage} from 'node:http'
import type {GoUrl} from '../../canonical/index.js'
import type {HeaderList, Resolver, Suppressor, UrlScanResult} from '../../scanner/index.js'
import type {AirlockTransport} from '../../sessions/index.js'
import type {DecisionBase} from '../core.js'
import type {ApprovalsPort, AuditTrail, Clock, KillSwitchPort, MetricsPort, SnapshotSource, StreamRegistry, TransformStatePort} from '../ports.js'
import type {Block, BlockAnswer, RecordPorts, RequestRecord} from '../request-gate.js'
import type {BlockFinding} from '../exception-gate.js'
import type {RequestSuppression} from '../suppression.js'
import type {ProxySnapshot} from '../state.js'
import type {MediationAdmission} from '../relay/mediation.js'

/**
 * The ports the stages of the request gate read (compose.ts builds them): the kill switch, the
 * clock of every Decision, the audit trail and metrics, the record step's (the fan-out, contracts,
 * exceptions), held requests (taint's `ask`) and the A2A response state.
 */
export type GatePorts = SnapshotSource & Clock & AuditTrail & MetricsPort & KillSwitchPort & StreamRegistry & ApprovalsPort & TransformStatePort & RecordPorts

export interface RequestGateContext {
  readonly ports: GatePorts
  readonly snap: ProxySnapshot
  readonly b: DecisionBase
  readonly rec: RequestRecord
  readonly req: IncomingMessage
  readonly block: BlockAnswer
  /** Names of `action: warn` DLP patterns seen on the way; every later Decision carries them. */
  readonly warnings: string[]
  readonly method: string
  /** The URL the URL scan and cross-request detection read (CONNECT: `https://host/`). */
  readonly target: string
  /** `parseGoUrl(target)` when the transport parsed it already: the URL scan reads it instead of parsing again. */
  readonly parsed?: GoUrl
  /** The URL the contract reads (CONNECT: the port kept, learn-lifecycle §7.6). */
  readonly contractUrl: string
  /** How `target` may appear in logs once `layer` decided (null: it passed every URL check). */
  readonly shownAs: (layer: string | null) => string
  /** The session preflight's transport name (airlock action classes, OP §6). */
  readonly airlock: AirlockTransport
  /** The URL scan's resolver (CONNECT hands the dial the scan's own DNS answer). */
  readonly resolver?: Resolver
  /** The headers header DLP reads; default: the request's headers as received. */
  readonly headers?: () => HeaderList
  /** The request's finding suppression (operations.md §4.3), given by the transports that suppress request-body findings. */
  readonly suppression?: RequestSuppression
  /** Whether the request carries a body, when the transport knows better (HTTP/2 frames it without Content-Length). */
  readonly hasBody?: boolean
  /** The host the budget charges (default: the target's host as Go parses it). */
  readonly budgetHost?: string
  /** CONNECT: the tunnel's lower-cased host and display form (cross-request detection reads the host alone). */
  readonly tunnel?: {readonly host: string; readonly display: string}

  // Written by the stages, read by the later ones and by the transport after the gate.
  /** What the stage that just ran found, until the settle stages end it (run-gate.ts). */
  finding?: Finding | undefined
  /** The request-body DLP suppressor the suppression stage prepared (undefined: no entries, or none for this transport). */
  suppress?: Suppressor | undefined
  /** The URL scan's result; the reverse proxy's URL-DLP stage writes an allowed one. */
  scan: UrlScanResult | null
  /** How the request's URL appears from here on (an unenforced DLP hit stays redacted). */
  shown: string
  /** The session's view of the target host ('' without session profiling). */
  sessionHost: string
  /** The request body as read and scanned by the body stage (null: none). */
  body: Buffer | null
  /** The body the envelope verifier buffered for its digest check; the body stage reads it instead of the socket. */
  verifiedBody?: Buffer
  /** The envelope admitted with the request (stage `envelope`), attached on forward by relay/mediation.ts. */
  mediation?: MediationAdmission
  /**
   * Set by the redaction stage when it read the body: `body` then holds what is forwarded (the
   * re-encoded JSON), `original` the bytes as received (the body stage's pre-redaction DLP reads
   * them, envelope-redaction §12). Absent when redaction did not run.
   */
  redacted?: {readonly original: Buffer; readonly replaced: boolean}
}

/** The stages of the request gate, in the one order they run (order.ts). */
export type StageId =
  | 'kill_switch' | 'identity' | 'envelope_verify' | 'url_scan' | 'url_dlp' | 'session' | 'taint' | 'header_dlp' | 'redaction' | 'suppression' | 'body' | 'git_push' | 'address' | 'a2a' | 'cross_request' | 'contract' | 'budget' | 'envelope'

/** The settle stages, in the order they end a stage's finding (order.ts, `SETTLE_ORDER`). */
export type SettleId = 'exception' | 'mode'

/**
 * How the mode ends a finding (stages/mode.ts):
 * - `record`: answered when enforcing; in audit mode (`enforce: false`) recorded as the request's
 *   would-block, and the request goes on;
 * - `pass`: answered when enforcing; in audit mode the request goes on with nothing recorded (the
 *   stage's `passed` report is the evidence);
 * - `stands`: answered in every mode (a fail-closed refusal: a body or headers that cannot be read);
 * - `unenforced`: the scanner answered `warn` already (audit mode made it one, or a rule excused
 *   it): never answered; audit mode records the block enforcement would have answered.
 */
export type FindingMode = 'record' | 'pass' | 'stands' | 'unenforced'

/**
 * What a blocking stage found, stated on the context instead of answered: the settle stages end
 * it before the next stage runs — `exception` may waive it, `mode` answers it or lets the request
 * go on. A stage leaves at most one finding per run; its `rest` may leave the next.
 */
export interface Finding {
  /** The block answered when the finding stands (through the transport's `block`). */
  readonly block: Block
  /** What a scoped exception may waive (operations.md §8.3); absent when the layer is not waivable. */
  readonly waivable?: BlockFinding | undefined
  readonly mode: FindingMode
  /** The stage's own report when the finding does not end the request (waived, or let through by the mode), before a would-block is recorded. */
  readonly passed?: ((ctx: RequestGateContext) => void) | undefined
  /**
   * The rest of the stage once its finding did not end the request: answers (true), goes on
   * (false) or leaves the next finding. (Not named `then`: a Finding must never be a thenable.)
   */
  readonly rest?: ((ctx: RequestGateContext) => boolean | Promise<boolean>) | undefined
}

/**
 * One stage: `run` answers the request (through `ctx.block`) and returns true, or returns false
 * and the gate goes on — having stated a `Finding` when it found a block the settle stages end.
 * A stage never answers an allow: the transport relays after the gate.
 */
export interface Stage {
  readonly id: StageId
  run(ctx: RequestGateContext): boolean | Promise<boolean>
  /**
   * False when the stage has nothing to do under `snap`'s config (its feature off): decided once
   * per snapshot, when `runGate` compiles the transport's row for it (run-gate.ts), not per
   * request. Absent: the stage applies under every config. `run` still checks for itself.
   */
  readonly applies?: (snap: ProxySnapshot) => boolean
}

/**
 * A settle stage: runs after any stage that left a finding (`ctx.finding`), in `SETTLE_ORDER`;
 * answers (true), or ends the finding and lets the request go on. Synchronous: settling costs no
 * promise turn.
 */
export interface SettleStage {
  readonly id: SettleId
  run(ctx: RequestGateContext): boolean
}
