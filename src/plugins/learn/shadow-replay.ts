import {isRedactedCaptureUrl, REDACTED_ARGS, type CaptureFinding} from '../capture/index.js'
import {parseJson} from '../canonical/index.js'
import {blockReasonCode, evaluateHttp, evaluateMcp, parseRequestUrl, type ContractDecision, type IndexedContract, type ResolvedContract} from '../enforcement/index.js'
import type {ReplayedRecord} from './shadow-analyze.js'
import type {PayloadReplay, ScannerReplay, ScannerReplayResult, ToolPolicyReplay} from './shadow-scanner.js'

// learn-lifecycle §3.2 with the §10.6 decision: a URL event is judged by the same evaluator the
// live gate uses (evaluateHttp in live mode: contract-wide default deny, port rule, blocks on
// paths that cannot be canonicalised), on top of the replayed scanner verdict.

/** The fields of a capture summary that replay reads. */
export interface CapturedEvent {
  surface: string
  method: string
  url: string
  toolName: string
  /** `request.tool_args_json` of a tool call ('' when absent). */
  toolArgsJson: string
  mcpMethod: string
  /** [ext, mcp.md §15.6.1] `request.mcp_server` of an MCP tool-call record ('' otherwise). */
  mcpServer?: string
  effectiveAction: string
  /** The methods the request named through a method override (`request.headers`, as capture writes them); absent: none. */
  methodOverrides?: readonly string[]
  payloadRef: string
  /** `payload_sha256` of the record ('' when absent). */
  payloadSha256: string
  /**
   * [ext] A URL record's captured scanner verdict that replay cannot redo (`unreplayableScan`):
   * the finding kind that decided it, and why replay cannot redo it. Its captured verdict stands.
   */
  keptScan?: KeptScan
  /** The decrypted sidecar (`--escrow-private-key`), checked against `payloadSha256`. */
  payload?: Uint8Array
  observedAtNs: bigint | undefined
}

/** A captured URL-scanner verdict that replay keeps as it was (see `unreplayableScan`). */
export interface KeptScan {
  /** The captured finding's kind (the scanner stage: `ratelimit`, `core_dlp`, …). */
  readonly kind: string
  /** What the report counts it under: the kind, with ` (redacted capture)` for a DLP finding. */
  readonly cause: string
}

/**
 * URL-scanner stages whose verdict rests on live state a replay does not have (§3.1 step 2 and
 * `replayScannerSettings`): the rate and data-budget counters, DNS and the internal-network list
 * (SSRF), the request's own cancellation.
 */
const LIVE_STATE_STAGES: ReadonlySet<string> = new Set(['ratelimit', 'databudget', 'ssrf', 'context'])
/** URL DLP stages: replayable from the URL, unless capture replaced the secret in it. */
const URL_DLP_STAGES: ReadonlySet<string> = new Set(['dlp', 'core_dlp'])

/**
 * A URL record whose captured block (or unenforced block / warning) came from a scanner stage the
 * replay cannot redo: a live-state stage, or DLP on a URL capture redacted. Rescanning would say
 * `allow` for bytes the live scanner blocked, and a contract allow would then read as a "new
 * allow" the proxy never gives (a scanner block always wins over a contract allow). Undefined for
 * every other record, which is replayed as usual.
 */
export function unreplayableScan(url: string, effectiveAction: string, findings: unknown): KeptScan | undefined {
  if ((effectiveAction !== 'block' && effectiveAction !== 'warn') || !Array.isArray(findings)) return undefined
  for (const f of findings as unknown[]) {
    if (f === null || typeof f !== 'object') continue
    const {kind, action} = f as {kind?: unknown; action?: unknown}
    if (typeof kind !== 'string' || (action !== 'block' && action !== 'warn')) continue
    if (LIVE_STATE_STAGES.has(kind)) return {kind, cause: kind}
    if (URL_DLP_STAGES.has(kind) && isRedactedCaptureUrl(url)) return {kind, cause: `${kind} (redacted capture)`}
  }
  return undefined
}

/** The scan a kept record is judged with: its captured verdict, one finding of the captured kind. */
export function keptScanResult(ev: Pick<CapturedEvent, 'effectiveAction'>, kept: KeptScan): ScannerReplayResult {
  return {verdict: ev.effectiveAction, findings: [{kind: kept.kind, action: ev.effectiveAction}]}
}

/** §3.2 capture grade per surface; `input`: the record's payload is at hand (a decrypted sidecar). */
export function captureGrade(surface: string, input = false): string {
  if (input) return 'full'
  switch (surface) {
    case 'url':
    case 'tool_policy':
      return 'full'
    case 'cee':
      return 'none'
    case 'response':
    case 'dlp':
    case 'tool_scan':
      return 'partial'
    default:
      return 'summary'
  }
}

export async function replayEvent(ev: CapturedEvent, contract: ResolvedContract | IndexedContract, scanner: ScannerReplay, toolPolicy?: ToolPolicyReplay): Promise<ReplayedRecord> {
  return judgeEvent(ev, contract, ev.surface === 'url' && ev.keptScan === undefined ? await scanner(ev.url) : undefined, toolPolicy)
}

/**
 * `replayEvent` with the URL scan already done: `scan` is the scanner's result for `ev.url` when
 * `ev.surface` is `url` (ignored otherwise). Synchronous, so a replay can scan a batch's URLs
 * first (from a memo, or on another thread) and judge its events in order without an await each.
 */
export function judgeEvent(ev: CapturedEvent, contract: ResolvedContract | IndexedContract, scan: ScannerReplayResult | undefined, toolPolicy?: ToolPolicyReplay, payloadReplay?: PayloadReplay): ReplayedRecord {
  if (ev.surface === 'response' || ev.surface === 'dlp') {
    // The scanned bytes live only in an escrowed sidecar; without it the record is summary-only.
    if (ev.payload === undefined || payloadReplay === undefined) return replayedRecord(ev, '', false, true, [])
    const r = payloadReplay(ev.surface, ev.payload)
    return replayedRecord(ev, r.verdict, false, false, r.findings)
  }
  if (ev.surface === 'tool_policy' && ev.mcpMethod === 'tools/call' && ev.toolName !== '' && (ev.mcpServer ?? '') !== '') {
    const t = replayToolCall(ev, contract, toolPolicy)
    const r = replayedRecord(ev, t.candidateAction, t.evidenceOnly, t.summaryOnly, t.findings, t.contractReason)
    return t.mcpReason === undefined ? r : {...r, mcpReason: t.mcpReason}
  }
  if (ev.surface === 'tool_policy' && toolPolicy !== undefined && ev.toolName !== '') {
    // §3.2: the candidate config's tool policy is re-run, so a loosened policy shows up as new allows.
    const r = toolPolicy(ev.toolName, ev.toolArgsJson)
    return replayedRecord(ev, r.verdict, false, false, r.findings)
  }
  if (ev.surface !== 'url') {
    // cee, tool_scan, unknown surfaces, and tool_policy without a tool name or a policy to replay.
    return replayedRecord(ev, '', true, false, [])
  }
  if (ev.keptScan !== undefined) return urlRecord(ev, judgeUrl(ev, contract, keptScanResult(ev, ev.keptScan)))
  if (scan === undefined) throw new Error('learn shadow: a url record was judged without its scan')
  return urlRecord(ev, judgeUrl(ev, contract, scan))
}

/** A replayed record: the event's own fields and the candidate's side. */
function replayedRecord(ev: CapturedEvent, candidateAction: string, evidenceOnly: boolean, summaryOnly: boolean, findings: CaptureFinding[], contractReason?: string): ReplayedRecord {
  return {
    surface: ev.surface,
    method: ev.method,
    url: ev.url,
    toolName: ev.toolName,
    mcpMethod: ev.mcpMethod,
    mcpServer: ev.mcpServer ?? '',
    ...(ev.methodOverrides === undefined ? {} : {methodOverrides: ev.methodOverrides}),
    ...(contractReason === undefined ? {} : {contractReason}),
    ...(ev.keptScan === undefined ? {} : {keptAsCaptured: ev.keptScan.cause}),
    originalAction: ev.effectiveAction,
    grade: captureGrade(ev.surface, ev.payload !== undefined),
    sidecar: ev.payloadRef !== '',
    observedAtNs: ev.observedAtNs,
    candidateAction,
    evidenceOnly,
    summaryOnly,
    findings,
  }
}

/** The candidate's side of a URL record: its verdict and findings (`judgeUrl`). */
export interface UrlOutcome {
  readonly candidateAction: string
  readonly findings: CaptureFinding[]
  /** Set when the contract decided: the wire block reason of a block ('' for an allow by a rule). */
  readonly contractReason?: string
  /** Set on a default deny that a `capture_only` rule would have allowed: that rule. */
  readonly captureOnlyRuleId?: string
}

/** What a contract decision says decided it: the wire block reason of a block, '' for an allow. */
function contractReasonOf(d: ContractDecision): string {
  return d.verdict === 'block' ? blockReasonCode(d) : ''
}

/**
 * The candidate side of a URL record: the evaluator (live mode) on top of the replayed scan. A
 * pure function of the URL, method, method overrides, effective action, the scan of that URL and the contract — so
 * a replay may remember it for records that repeat those (shadow-url-memo.ts).
 */
export function judgeUrl(ev: Pick<CapturedEvent, 'url' | 'method' | 'effectiveAction' | 'methodOverrides'>, contract: ResolvedContract | IndexedContract, scan: ScannerReplayResult): UrlOutcome {
  if (parseRequestUrl(ev.url) === undefined) return {candidateAction: scan.verdict, findings: scan.findings}
  const d = evaluateHttp(contract, {url: ev.url, method: ev.method, effectiveAction: ev.effectiveAction, mode: 'live', scannerVerdict: scan.verdict, ...(ev.methodOverrides === undefined ? {} : {methodOverrides: ev.methodOverrides})})
  if (d.winningSource !== 'contract') return {candidateAction: d.verdict, findings: scan.findings}
  return {
    candidateAction: d.verdict,
    findings: [{kind: 'contract', action: d.verdict === 'block' ? 'block' : 'allow', policy_rule: d.ruleId, match_text: ev.url}],
    contractReason: contractReasonOf(d),
    ...(d.captureOnlyRuleId === undefined ? {} : {captureOnlyRuleId: d.captureOnlyRuleId}),
  }
}

/** `judgeEvent`'s record for a URL event whose outcome is known (`judgeUrl`, or remembered). */
export function urlRecord(ev: CapturedEvent, outcome: UrlOutcome): ReplayedRecord {
  const r = replayedRecord(ev, outcome.candidateAction, false, false, outcome.findings, outcome.contractReason)
  return outcome.captureOnlyRuleId === undefined ? r : {...r, captureOnlyRuleId: outcome.captureOnlyRuleId}
}

/**
 * [ext, mcp.md §15.6.1] An MCP tool-call record is judged by the evaluator the live MCP gate uses
 * (`evaluateMcp` in live mode) on top of the replayed tool policy. Arguments are what capture
 * kept (a shape unless `--capture-raw`): a rule with `args` matchers only matches raw captures.
 */
function replayToolCall(ev: CapturedEvent, contract: ResolvedContract | IndexedContract, toolPolicy: ToolPolicyReplay | undefined): Pick<ReplayedRecord, 'candidateAction' | 'evidenceOnly' | 'summaryOnly' | 'findings' | 'contractReason' | 'mcpReason'> {
  let scan = toolPolicy?.(ev.toolName, ev.toolArgsJson) ?? {verdict: 'allow', findings: []}
  // Capture wrote `[REDACTED]` because the content scan found DLP in the arguments: the bytes the
  // scanner judged are gone, so its recorded verdict stands (never a false "new allow").
  if (ev.toolArgsJson === REDACTED_ARGS) {
    const v = ev.effectiveAction === 'warn' ? 'warn' : 'block'
    scan = {verdict: v, findings: [{kind: 'dlp', action: v, tool_name: ev.toolName}]}
  }
  let args: unknown
  try {
    args = parseJson(ev.toolArgsJson)
  } catch {
    args = undefined
  }
  const d = evaluateMcp(contract, {mode: 'live', scannerVerdict: scan.verdict, server: ev.mcpServer ?? '', tool: ev.toolName, args: args instanceof Map ? args : new Map()})
  const findings: CaptureFinding[] = d.winningSource === 'contract' ? [{kind: 'contract', action: d.verdict === 'block' ? 'block' : 'allow', policy_rule: d.ruleId, tool_name: ev.toolName}] : scan.findings
  // The wire code of an MCP block is one HTTP's host-level denies use too (§7.9): keep the
  // evaluator's own reason, so the report can say what about the call was refused.
  const mcpReason = d.winningSource === 'contract' && d.verdict === 'block' && d.reason !== '' ? {mcpReason: d.reason} : {}
  return {candidateAction: d.verdict, evidenceOnly: false, summaryOnly: false, findings, ...(d.winningSource === 'contract' ? {contractReason: contractReasonOf(d)} : {}), ...mcpReason}
}
