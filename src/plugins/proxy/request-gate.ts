/**
 * A request's record step (`RequestRecord`: one Decision per request, the contract pinned once,
 * the exception waiver) and the redirect hop's verdict. The stages that judge a request live in
 * gate/stages; each transport answers a block its own way, through a `BlockAnswer`.
 */
import type {RedactionSummary} from '../redaction/index.js'
import {gateHttp, unlistedAgentDenial, type ContractContext, type HttpGateResult} from '../gate/index.js'
import type {ResolvedContract} from '../enforcement/index.js'
import type {ReasonCode, UrlScanResult} from '../scanner/index.js'
import {urlScan, type DecisionBase} from './core.js'
import type {ContractsPort, EvidenceSink, ExceptionsPort} from './ports.js'
import {withRequestFields, type Decision, type DecisionStage, type HitlEvidence, type TaintEvidence} from './decision.js'
import type {ProxySessions, RequestSession} from './session-gate.js'
import type {ProxySnapshot} from './state.js'
import {waiveBlock, type BlockFinding} from './exception-gate.js'
import type {ExceptionUse} from './exception-rules.js'
import type {HopDenied} from './upstream.js'
import type {BlockBody} from './block.js'
import {captureOnlyContractHint} from './hints.js'

/**
 * A policy block as a stage or the relay states it: the Decision's stage, layer, detail and the
 * status answered; the reason when the layer's default is not it, the URL scan that found it.
 * `body`, when given, replaces the transport's usual body: a string is text, a `BlockBody` JSON.
 */
export interface Block {
  readonly stage: DecisionStage
  readonly layer: string
  readonly detail: string
  readonly status: number
  readonly reason?: ReasonCode | undefined
  readonly scan?: UrlScanResult | undefined
  readonly body?: string | BlockBody | undefined
  /** The `explain_blocks` hint when the finding decides it rather than the layer (a core DLP pattern: hints.ts `coreDlpHint`). */
  readonly hint?: string | undefined
  /** Seconds until the same request may pass (a rate limit's or budget's window): the 429's `Retry-After`. */
  readonly retryAfter?: number | undefined
}

/** How a transport answers a policy block (it records the Decision through its RequestRecord). */
export type BlockAnswer = (a: Block) => void

/** What a request's record step uses: the fan-out, the contract runtime, the exception store. */
export type RecordPorts = EvidenceSink & ContractsPort & ExceptionsPort

/** The request a record step belongs to. */
export interface RecordedRequest {
  readonly sessions: ProxySessions | null
  readonly b: DecisionBase
  /** The URL the contract and capture read. */
  readonly url: string
  /** Emits `close` when the exchange is over (the response, or the tunnel's client socket). */
  readonly lifetime?: {once(event: 'close', f: () => void): unknown}
}

/**
 * A request's one record step: its Decisions go to every sink (audit, metrics, flight recorder,
 * capture) and then to its session once it has one (§14 signals). The contract for the request's
 * agent is pinned here once (learn-lifecycle §7.5), and every Decision of the request carries the
 * contract context (§7.10) and the target as sent (for capture, which redacts it).
 */
export class RequestRecord {
  session: RequestSession | null = null
  /** The contract pinned for this request's lifetime; undefined when none applies. */
  readonly contract: ResolvedContract | undefined
  /** The name the contract was selected by. */
  readonly contractAgent: string
  private context: ContractContext | undefined
  /** The scoped exception this request used (at most one), until the decision it produced is recorded. */
  exception: ExceptionUse | undefined
  /** Whether the request already used an exception: one waiver per request, the next block stands. */
  private waived = false
  /** Who sent the request (`agent`, `auth`: what an exception's agent scope reads). */
  private readonly who: DecisionBase
  /** What redaction replaced in this request's body (gate/stages/redaction.ts); every later Decision carries it. */
  redaction: RedactionSummary | undefined
  /** An unenforced block of this request, until its outcome is recorded (`record`). */
  private held: Decision | undefined
  /** Set when the exchange was cut and its cut recorded: later Decisions are dropped. */
  private sealed = false
  /** Whether `flush` waits for the exchange's end (from the first held finding on). */
  private flushOnClose = false
  /** The `action_id` the request's next receipt takes: the `rid` its mediation envelope carried upstream. */
  actionId: string | undefined
  /** The taint evaluation of this request (taint stage): every later Decision of it carries it (receipts #23–31). */
  taint: TaintEvidence | undefined
  /** An operator's answer to this request when it was held (`ask`): the Decision it produced carries it. */
  hitl: HitlEvidence | undefined
  /**
   * The other methods the request names through a method override (contract stage): the contract
   * judges each, and every later Decision of the request carries them (for capture).
   */
  methodOverrides: readonly string[] | undefined
  /**
   * What the body stage and the response scan read (references, not copies): a Decision of the
   * stage that read it carries it as `payload`, for capture escrow sidecars (capture-sink.ts).
   */
  readonly scanned: {body?: Uint8Array; response?: Uint8Array} = {}

  readonly sessions: ProxySessions | null
  readonly url: string
  private readonly lifetime: RecordedRequest['lifetime']

  /**
   * `r.lifetime` emits `close` when the exchange is over (the response, or the tunnel's client
   * socket): from the session lookup until then the request counts as in flight (§12), and a
   * held finding not yet recorded is then (`flush`).
   */
  constructor(private readonly ports: RecordPorts, r: RecordedRequest) {
    const b = r.b
    this.sessions = r.sessions
    this.url = r.url
    this.lifetime = r.lifetime
    this.contractAgent = b.contractAgent ?? b.agent
    this.contract = ports.contracts?.resolve(this.contractAgent)
    this.who = b
  }

  /**
   * The exception step (exception-gate.ts; the `exception` settle stage calls it) for an enforced
   * block of this request: true when a matching exception in force was used, so the request goes
   * on through the rest of the order; at most one per request.
   */
  waive(finding: BlockFinding): boolean {
    if (this.waived) return false
    const use = waiveBlock(this.ports, this.who, this.url, finding)
    if (use === undefined) return false
    this.waived = true
    this.exception = use
    return true
  }

  /** Opens the request's session (one lookup) and counts the exchange in flight. */
  open(b: DecisionBase): void {
    if (this.sessions === null) return
    this.session = this.sessions.begin(b.sessionKey, b.agent, b.clientIp, b.bound === true)
    if (this.lifetime !== undefined) this.sessions.trackInFlight(this.session, this.lifetime)
  }

  /**
   * Records the decision in every sink first; returns the id of the receipt that recorded it.
   *
   * One Decision per request: a stage's unenforced block (`would_block`, audit mode) is held and
   * folded into the request's outcome when that is recorded — the request passed, so its one
   * Decision is `would_block` with the status and bytes the client saw; an upstream error keeps
   * the would-block and its status; a later enforced block is a second finding, recorded after it.
   * Held findings still reach the sinks if the exchange ends without an outcome (`flush`).
   */
  record(d: Decision): string | undefined {
    // A cut exchange (relay/exchange-cut.ts) was answered and recorded: whatever of it was still
    // running (an `ask` being answered, a late response stage) must not add a second outcome.
    if (this.sealed) return undefined
    if (d.verdict === 'would_block') {
      // The session scores the finding at once (§14.2: an unenforced block still raises the level,
      // so block_all can deny this very request at its session stage); the evidence waits.
      if (this.session !== null) this.sessions!.settle(this.session, withRequestFields(d, this.url, this.contract !== undefined ? this.contextFor(d) : undefined, undefined))
      // The first held finding asks for the exchange's end (`flush`): a request that holds none,
      // nearly every one, adds no listener.
      if (!this.flushOnClose) {
        this.flushOnClose = true
        this.lifetime?.once('close', () => this.flush())
      }
      this.held = this.held === undefined ? d : foldWouldBlock(this.held, d)
      return undefined
    }
    const held = this.held
    this.held = undefined
    // An enforced block after an unenforced one: two findings, two Decisions (the would-block is
    // audit evidence of its own; the block is what the client saw).
    if (held !== undefined && d.verdict === 'block') this.emit(held, false)
    return this.emit(held !== undefined && d.verdict !== 'block' ? foldWouldBlock(held, d) : d, true, d)
  }

  /** No Decision of this request is recorded any more (its cut was). */
  seal(): void {
    this.sealed = true
  }

  /** Records a held would-block finding when the exchange ended without an outcome. */
  flush(): void {
    const held = this.held
    this.held = undefined
    if (held !== undefined) this.emit(held, false)
  }

  /**
   * Fans `d` out to every sink; `settle` hands the session `outcome` (the Decision as its stage
   * made it: a held would-block was scored when it was made).
   */
  private emit(d: Decision, settle: boolean, outcome: Decision = d): string | undefined {
    // The request's next decision is the one the exception produced (its allow, or a later
    // stage's block): it alone carries the use, so the use is audited, counted and signed once.
    const exception = this.exception
    this.exception = undefined
    const id = settle ? this.actionId : undefined
    if (id !== undefined) this.actionId = undefined
    const payload = d.stage === 'body_scan' ? this.scanned.body : d.stage === 'response' ? this.scanned.response : undefined
    const fields = withRequestFields(d, this.url, this.contract !== undefined ? this.contextFor(d) : undefined, exception, this.redaction, payload)
    const full = id === undefined ? fields : {...fields, actionId: id}
    if (this.taint !== undefined && full.taint === undefined) (full as {taint?: TaintEvidence}).taint = this.taint
    if (this.hitl !== undefined && full.hitl === undefined) (full as {hitl?: HitlEvidence}).hitl = this.hitl
    if (this.methodOverrides !== undefined && full.methodOverrides === undefined) (full as {methodOverrides?: readonly string[]}).methodOverrides = this.methodOverrides
    const receipt = this.ports.sink.record(full)
    if (settle && this.session !== null) this.sessions!.settle(this.session, outcome === d ? full : withRequestFields(outcome, this.url, full.contract, exception, this.redaction))
    return receipt
  }

  /**
   * With no contract for the request's agent: the denial when live contracts are in force and the
   * agent is not listed as unlocked (gate/unlisted-agent.ts); null otherwise.
   */
  unlisted(unlocked: readonly string[]): string | null {
    if (this.contract !== undefined || this.ports.contracts == null) return null
    return unlistedAgentDenial(this.ports.contracts, this.contractAgent, unlocked)
  }

  /** The contract step (§7.6 step 4, §7.8) for `url`; its context is kept for the request's later decisions. */
  gate(url: string, method: string, scannerVerdict: string): HttpGateResult | null {
    if (this.contract === undefined) return null
    const r = gateHttp(this.ports.contracts!.mode, this.contract, {url, method, scannerVerdict, effectiveAction: scannerVerdict, methodOverrides: this.methodOverrides})
    this.context = r.context
    return r
  }

  /**
   * The contract context a decision carries: the contract step's own, for its decision and every
   * later one that is not a block (a contract-denied redirect hop is recorded at stage `contract`);
   * a scanner block, or a decision made before the step, names the contract in force with the
   * scanner's verdict.
   */
  private contextFor(d: Decision): ContractContext {
    if (this.context !== undefined && (d.stage === 'contract' || d.verdict !== 'block')) return this.context
    const scanner = d.verdict === 'block' ? 'block' : d.warnings.length > 0 ? 'warn' : 'allow'
    return gateHttp(this.ports.contracts!.mode, this.contract!, {url: this.url, method: d.method, scannerVerdict: scanner, effectiveAction: scanner, methodOverrides: this.methodOverrides}).context
  }
}


/**
 * A redirect hop: the full URL scan, then the contract for the hop's URL (§7.6 on every hop).
 * A contract denial comes back as a `HopDenied`.
 */
export async function hopVerdict(snap: ProxySnapshot, rec: RequestRecord, next: string, method: string): Promise<UrlScanResult | HopDenied> {
  const scan = await urlScan(snap, next)
  if (!scan.allowed) return scan
  const r = rec.gate(next, method, scan.warnings.length > 0 ? 'warn' : 'allow')
  if (r === null || r.verdict !== 'block') return scan
  const hint = contractHint(r)
  return {kind: 'contract', code: r.code as ReasonCode, detail: r.detail, ...(hint === undefined ? {} : {hint})}
}

/**
 * The `explain_blocks` hint of a contract block when it knows the fix (a capture-only rule matches
 * the request: enforce it); undefined leaves the layer's generic contract hint.
 */
export function contractHint(r: HttpGateResult): string | undefined {
  return r.captureOnlyRuleId === undefined ? undefined : captureOnlyContractHint(r.captureOnlyRuleId, r.context.contractHash)
}





/** The first value of a request header. */
export function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/**
 * `held` (an unenforced block) folded into the request's next Decision `d` (not a block): an allow
 * becomes the would-block with the status, bytes and duration the client saw; an error keeps the
 * would-block with the error's status and detail; a second would-block joins its detail.
 */
export function foldWouldBlock(held: Decision, d: Decision): Decision {
  const warnings = d.warnings.length === 0 ? held.warnings : [...new Set([...held.warnings, ...d.warnings])]
  const detail = d.verdict === 'would_block' ? `${held.detail}; ${d.layer}: ${d.detail}` : d.verdict === 'error' ? `${held.detail}; then ${d.detail}` : held.detail
  return {...held, detail, status: d.status, bytes: d.bytes, durationMs: d.durationMs, warnings}
}
