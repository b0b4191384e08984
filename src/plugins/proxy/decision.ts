/**
 * The proxy's side of the one Decision (plugin `decision`): an HTTP transport's Decision is the
 * URL-request variant, built in a fixed order — kill switch → scanners → session/adaptive
 * (block_all, anomaly block, warn upgrades, taint authority) → contract gate → mode → response —
 * and then handed, unchanged, to the one fan-out (`DecisionFanout`): audit log, metrics, the
 * flight recorder, capture and the emitters. No sink re-derives a verdict; the session manager
 * reads the same Decision back for its signals (session-gate.ts `settle`).
 */
import type {ContractContext} from '../gate/index.js'
import type {RedactionSummary} from '../redaction/index.js'
import type {ExceptionUse, RequestDecision, TaintEvidence} from '../decision/index.js'
import type {Session, TaintEvaluation} from '../sessions/index.js'

export {DecisionFanout, type AirlockEvidence, type DecisionSink, type DecisionStage, type HitlEvidence, type TaintEvidence} from '../decision/index.js'
/** A URL request's Decision (the variant of the one `Decision` the HTTP transports yield). */
export type Decision = RequestDecision
export type {HttpTransport as Transport} from '../decision/index.js'

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
  if ('bound' in d) full.bound = d.bound
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

