/**
 * One `Decision` per request (ARCHITECTURE "one evaluator, one decision"). It is built in a
 * fixed order — kill switch → scanners → session/adaptive (block_all, anomaly block, warn
 * upgrades, taint authority) → contract gate → mode → response — and then handed,
 * unchanged, to every sink: audit log, metrics, the flight recorder and capture. No sink
 * re-derives a verdict; the session manager reads the same Decision back for its signals
 * (session-gate.ts `settle`).
 */
import type {RedactionSummary} from '../redaction/index.js'
import type {ContractContext} from '../gate/index.js'
import type {ExceptionUse} from './exception-rules.js'
import type {ReasonCode, ReasonRetry, ReasonSeverity, ResultClass} from '../scanner/index.js'
import type {OverrideUse, Session, TaintEvaluation} from '../sessions/index.js'

export type Transport = 'fetch' | 'forward' | 'connect' | 'intercept' | 'websocket' | 'reverse'

/** The stage that decided; `allow` decisions carry `none`. */
export type DecisionStage =
  | 'none' | 'kill_switch' | 'identity' | 'url_scan' | 'contract' | 'session' | 'taint' | 'header_dlp' | 'body_scan' | 'git_push' | 'redirect' | 'response' | 'upstream' | 'capacity' | 'sni' | 'cross_request' | 'budget' | 'authority' | 'tls_handshake' | 'upgrade' | 'envelope'
  // A WebSocket frame-level close (protocol, limit, timer, cross-request) after the handshake.
  | 'ws_frame'

export interface Decision {
  readonly requestId: string
  readonly transport: Transport
  readonly method: string
  /** Target as safe to log: redacted for content-scanner blocks (§10.4). */
  readonly target: string
  readonly agent: string
  readonly clientIp: string
  readonly sessionKey: string
  /** The profile that applied (operations.md §2.4): the bounded metric label. */
  readonly profile?: string
  /**
   * What happened to the request. `would_block` = a block decision not enforced (enforce:false);
   * `error` = allowed by policy but the upstream could not be reached or read (502).
   */
  readonly verdict: 'allow' | 'block' | 'would_block' | 'error'
  readonly stage: DecisionStage
  /** Scanner label or fixed layer (`kill_switch`, `header_dlp`, …); `all` when allowed. */
  readonly layer: string
  readonly reason: ReasonCode | null
  readonly severity: ReasonSeverity | null
  readonly retry: ReasonRetry | null
  readonly class: ResultClass | null
  /** Human reason: pattern names and hosts only, never a matched value. */
  readonly detail: string
  readonly hint?: string
  /** HTTP status the client saw (0 for a silently closed tunnel). */
  readonly status: number
  /** Names of `action: warn` DLP patterns seen on the way. */
  readonly warnings: readonly string[]
  readonly bytes: number
  readonly durationMs: number
  /**
   * The request target as the client sent it, for capture only (which redacts it before writing):
   * never logged, echoed or signed. Absent on decisions made before a target was known.
   */
  readonly url?: string
  /**
   * The bytes the deciding stage scanned (the request body for `body_scan`, the response body for
   * `response`), for capture escrow only: sealed to the escrow key, never logged, echoed or signed.
   */
  readonly payload?: Uint8Array
  /** The contract pinned for this request and what it concluded (learn-lifecycle §7.10). */
  readonly contract?: ContractContext
  /** A scoped exception that waived a block of this request (exception-gate.ts). */
  readonly exception?: ExceptionUse
  /** The receipt `action_id` chosen in advance: the mediation envelope's `rid` names it (envelope spec §2.1). */
  readonly actionId?: string
  /**
   * What class-preserving redaction replaced in this request's body (envelope-redaction §19):
   * profile, provider and counts per class, never a value. On every Decision of the request once
   * ≥ 1 value was replaced; absent otherwise.
   */
  readonly redaction?: RedactionSummary
  /** The session's taint and the taint evaluation of this request (receipts §4.2 #23–31). */
  readonly taint?: TaintEvidence
  /** A human answer to a held request (`ask`): who, and what (docs/ask.md). */
  readonly hitl?: HitlEvidence
}

/** What a receipt says about taint (receipts §4.2 fields 23–31), plus who granted an override. */
export interface TaintEvidence {
  readonly level: string
  readonly contaminated: boolean
  readonly sources: readonly {readonly url: string; readonly kind: string; readonly level: number; readonly atMs: number}[]
  readonly taskId: string
  readonly taskLabel: string
  readonly authority: string
  readonly decision: string
  readonly reason: string
  /** A runtime (task) grant decided (receipts' `task_override_applied`). */
  readonly taskOverrideApplied: boolean
  /** The override that turned the decision into allow, with its attribution. */
  readonly override?: OverrideUse
}

/** An operator's answer to a held request (the approval queue's id, who, and the outcome). */
export interface HitlEvidence {
  readonly id: string
  readonly outcome: 'allow' | 'deny' | 'strip' | 'timeout'
  readonly decidedBy: string
}

/** The receipt view of a session's taint after an evaluation. */
export function taintEvidence(s: Session, ev: TaintEvaluation): TaintEvidence {
  return {
    level: s.taint.levelName, contaminated: s.taint.contaminated,
    sources: s.taint.sources.map((x) => ({url: x.url, kind: x.kind, level: x.level, atMs: x.atMs})),
    taskId: s.currentTaskId, taskLabel: s.currentTaskLabel, authority: ev.authority, decision: ev.decision, reason: ev.reason,
    taskOverrideApplied: ev.override?.kind === 'runtime',
    ...(ev.override !== undefined ? {override: ev.override} : {}),
  }
}

/**
 * `d` as the request's record step hands it to the sinks: the same fields, plus the target as
 * sent (`url`) and, when given, the contract context and the exception use — what
 * `{...d, url, contract, exception}` gives (an optional field absent from `d` stays absent), as
 * one object literal: a spread of a Decision (≈ 20 fields) is a runtime call in V8, ≈ 2–3 µs on
 * every request (bench: proxy).
 */
export function withRequestFields(d: Decision, url: string, contract: ContractContext | undefined, exception: ExceptionUse | undefined, redaction?: RedactionSummary, payload?: Uint8Array): Decision {
  const full: {-readonly [K in keyof Decision]: Decision[K]} = {
    requestId: d.requestId, transport: d.transport, method: d.method, agent: d.agent, clientIp: d.clientIp, sessionKey: d.sessionKey,
    durationMs: d.durationMs, target: d.target, verdict: d.verdict, stage: d.stage, layer: d.layer, reason: d.reason, severity: d.severity,
    retry: d.retry, class: d.class, detail: d.detail, status: d.status, warnings: d.warnings, bytes: d.bytes, url,
  }
  if ('profile' in d) full.profile = d.profile
  if ('hint' in d) full.hint = d.hint
  if ('taint' in d) full.taint = d.taint
  if ('hitl' in d) full.hitl = d.hitl
  if (contract !== undefined) full.contract = contract
  else if ('contract' in d) full.contract = d.contract
  if (exception !== undefined) full.exception = exception
  else if ('exception' in d) full.exception = d.exception
  if ('actionId' in d) full.actionId = d.actionId
  if (redaction !== undefined) full.redaction = redaction
  else if ('redaction' in d) full.redaction = d.redaction
  if (payload !== undefined) full.payload = payload
  else if ('payload' in d) full.payload = d.payload
  return full
}

/** An airlock tier change (OP §6): not a request, but evidence all the same (a receipt per change). */
export interface AirlockEvidence {
  readonly sessionKey: string
  readonly agent: string
  readonly clientIp: string
  readonly from: string
  readonly to: string
  /** `adaptive`, `api`, `timer` or `reload`. */
  readonly trigger: string
  readonly detail: string
}

/**
 * Every consumer of decisions (audit log, metrics, flight recorder, capture) implements this.
 * The flight recorder returns the id of the signed receipt it wrote, so a block can name it.
 */
export interface DecisionSink {
  record(decision: Decision): string | void
  /** Sinks that keep evidence (the flight recorder) also record airlock tier changes. */
  recordAirlock?(change: AirlockEvidence): void
}

/** Fans one decision out to several sinks; a failing sink never affects the others or the request. */
export class DecisionFanout implements DecisionSink {
  constructor(private readonly sinks: DecisionSink[]) {}
  add(sink: DecisionSink): void {
    this.sinks.push(sink)
  }
  /** Records in every sink; returns the receipt id one of them wrote, if any. */
  record(decision: Decision): string | undefined {
    let receipt: string | undefined
    for (const s of this.sinks) {
      try {
        const id = s.record(decision)
        if (typeof id === 'string' && receipt === undefined) receipt = id
      } catch {
        // A sink bug must not break the request path.
      }
    }
    return receipt
  }
  recordAirlock(change: AirlockEvidence): void {
    for (const s of this.sinks) {
      try {
        s.recordAirlock?.(change)
      } catch {
        // A sink bug must not break the transition.
      }
    }
  }
}
