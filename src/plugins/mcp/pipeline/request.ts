/**
 * Client→server: the one verdict function for a message (spec mcp.md §4). Order: mediation-meta
 * strip → frame → kill switch → batch → content scan → tool policy / session binding → chain →
 * parse-error block → merge (strictest action) → dispatch. Gate order differs by transport only
 * where it changes state (§4.3); here every non-short-circuiting gate runs before the chain gate
 * on both, which gives the same results.
 */
import {goJson, RawJson} from '../../canonical/index.js'
import {GENERIC_PROVIDER, type RedactionSummary} from '../../redaction/index.js'
import type {ReasonCode} from '../../scanner/index.js'
import {errorLine, mcpError, type McpError} from '../jsonrpc/errors.js'
import {isObject, parseFrame, recoverRequestId, type McpFrame} from '../jsonrpc/frame.js'
import {NO_POLICY_MATCH, type PolicyVerdict} from '../policy/compile.js'
import {stricter} from '../policy/strictness.js'
import {scanRequest, type ContentVerdict} from '../scan/request.js'
import type {ChainMatch} from '../chains/matcher.js'
import type {McpContractOutcome} from './contract-step.js'
import type {McpDecision, McpFact, McpStage} from './decision.js'
import {ceeStep, sessionOf, upgraded} from './session-gates.js'
import type {McpSessionHandle, McpTaintVerdict} from './session-step.js'
import type {McpDeps, McpSessionState, McpSettings} from './settings.js'

export interface McpContext {
  readonly settings: McpSettings
  readonly deps: McpDeps
  readonly state: McpSessionState
}

const MEDIATION_META = 'com.pipelock/mediation'

/**
 * The frame the request pipeline judges: parsed, with a client-supplied mediation envelope
 * removed. The scan pool's worker builds the same frame from the same text, so its content scan
 * is the one this thread would compute.
 */
export function requestFrame(raw: string): McpFrame {
  const frame = stripMediationMeta(parseFrame(raw))
  // [ext] A request refused for a duplicate key is still answered (issue 37): with its id when the
  // envelope names one unambiguously, so the client is not left waiting for its own timeout.
  if (frame.id === null && !frame.isBatch && frame.value === undefined && (frame.error ?? '').startsWith('duplicate object key')) {
    const id = recoverRequestId(frame.text)
    if (id !== null) return {...frame, id}
  }
  return frame
}

/**
 * [ext] The answer to a batch (issue 37): one `-32600` error per request in it, each with that
 * request's id, as a JSON-RPC batch response — a client matches answers by id, so an error with
 * `id: null` alone left every request of the batch waiting. A batch with no request that has an
 * id (or not parseable as a list) gets the single `id: null` error of §4.1 step 5.
 */
export function batchAnswer(frame: McpFrame): string {
  const err = mcpError('batch_request')
  const ids: string[] = []
  const strictList = Array.isArray(frame.value) ? frame.value : null
  if (strictList !== null) {
    for (const el of strictList) {
      if (!isObject(el) || typeof el.get('method') !== 'string') continue
      const id = el.get('id')
      if (id === undefined || id === null || typeof id === 'boolean' || Array.isArray(id) || isObject(id)) continue
      ids.push(goJson(id))
    }
  } else {
    let lenient: unknown
    try {
      lenient = JSON.parse(frame.text)
    } catch {
      lenient = null
    }
    if (Array.isArray(lenient)) {
      for (const el of lenient) {
        if (el === null || typeof el !== 'object' || Array.isArray(el) || typeof el.method !== 'string') continue
        if (typeof el.id === 'string' || typeof el.id === 'number') ids.push(JSON.stringify(el.id))
      }
    }
  }
  if (ids.length === 0) return errorLine(null, err)
  return `[${ids.map((id) => errorLine(id, err)).join(',')}]`
}

/** Whether the content scan runs for a message of this state (stdio always; HTTP/WS when enabled). */
export function requestScanRuns(settings: McpSettings, transport: McpSessionState['transport']): boolean {
  return transport === 'mcp_stdio' || settings.input.enabled
}

/** The content verdict of a message whose scan could not complete (scan pool failure): fail closed. */
export function unscannedContent(reason: string): ContentVerdict {
  return {clean: false, dlp: [], injection: [], error: `content scan failed: ${reason}`, dlpWarnings: [], action: 'block', unavailable: true}
}

/** Removes a client-supplied mediation envelope (anti-spoofing; fix: on every transport). */
function stripMediationMeta(frame: McpFrame): McpFrame {
  const v = frame.value
  if (!isObject(v)) return frame
  const params = v.get('params')
  if (!isObject(params)) return frame
  const meta = params.get('_meta')
  if (!isObject(meta) || !meta.has(MEDIATION_META)) return frame
  meta.delete(MEDIATION_META)
  return parseFrame(goJson(v))
}

function parseErrorVerdict(frame: McpFrame): ContentVerdict {
  return {clean: false, dlp: [], injection: [], error: frame.error ?? 'invalid JSON structure', dlpWarnings: [], action: 'block'}
}

type CallRedaction =
  | {readonly kind: 'rewritten'; readonly frame: McpFrame; readonly summary: RedactionSummary}
  | {readonly kind: 'blocked'; readonly reason: string}

/**
 * `params.arguments` of a `tools/call` through the redactor (the JSON rewrite of HTTP bodies, on
 * the arguments' JSON text): null when redaction is off, the message is no parsed tools/call, or
 * nothing was replaced (the frame is then forwarded as received).
 */
function redactCallArguments(settings: McpSettings, frame: McpFrame): CallRedaction | null {
  const redactor = settings.redactor
  if (redactor === undefined || redactor === null || frame.method !== 'tools/call' || frame.error !== null || frame.args === undefined) return null
  const out = redactor.redactText(goJson(frame.args), GENERIC_PROVIDER)
  if (out.kind === 'blocked') return {kind: 'blocked', reason: out.reason}
  if (out.kind !== 'rewritten' || out.summary === null) return null
  const v = frame.value
  if (!isObject(v)) return null
  const params = v.get('params')
  if (!isObject(params)) return null
  params.set('arguments', new RawJson(out.body.toString('utf8')))
  return {kind: 'rewritten', frame: parseFrame(goJson(v)), summary: out.summary}
}

/** Transport facts that feed the decision (HTTP listener). */
export interface RequestExtras {
  /** DLP pattern names found in the request headers (listener, §4.6). */
  readonly headerDlp?: readonly string[]
  /**
   * The content scan of this message's `requestFrame`, computed off the event loop by the scan
   * pool (large messages); absent = computed here. Every other gate runs here, in order.
   */
  readonly content?: ContentVerdict
  /**
   * An A2A finding of the listener (scanners-extra §2.5): the `A2A-Extensions` header or the
   * A2A walk of an A2A method's body. `block` short-circuits with -32001; otherwise a note.
   */
  readonly a2a?: {readonly on: 'header' | 'input'; readonly reason: string; readonly block: boolean}
}

export function decideRequest(ctx: McpContext, raw: string, extras: RequestExtras = {}): McpDecision {
  const {settings, deps, state} = ctx
  const http = state.transport !== 'mcp_stdio'
  const line = ++state.inputLine
  const at = http ? 'input: ' : `input line ${line}: `
  let frame = requestFrame(raw)
  // Redaction of tools/call arguments (envelope-redaction §19) before the content scan, which
  // then scans what is forwarded; a failure is answered after the kill switch and batch checks.
  const red = redactCallArguments(settings, frame)
  if (red !== null && red.kind === 'rewritten') frame = red.frame
  const notes: string[] = []
  const facts: McpFact[] = []
  const isCallFrame = frame.method === 'tools/call' && frame.error === null
  const sess = sessionOf(ctx)
  const base = {
    direction: 'request' as const, transport: state.transport, line, id: frame.id, method: frame.method, tool: frame.toolName, dlpWarnings: [] as string[], notes, facts,
    ...(isCallFrame && frame.args !== undefined ? {args: frame.args} : {}),
    ...(sess !== null ? {session: sess.key} : {}),
    ...(red !== null && red.kind === 'rewritten' ? {redaction: red.summary} : {}),
  }
  const block = (stage: McpStage, layer: string, err: McpError, findings: string[], extra: Partial<McpDecision> = {}): McpDecision => ({
    ...base, verdict: 'block', stage, layer, reason: err.reason, findings, forward: null,
    answer: frame.id === null && stage !== 'batch' ? null : errorLine(frame.id, err), ...extra,
  })

  // Kill switch first (§15.1).
  const ks = deps.killSwitch.status()
  if (ks.active) {
    notes.push(frame.id === null ? `${at}kill switch dropped notification (source=${ks.source})` : `${at}kill switch denied (source=${ks.source})`)
    return block('kill_switch', 'kill_switch', mcpError('kill_switch', ks.message), [])
  }
  // Session step, on entry (§4.1 step 4): due time recovery; block_all is applied at §4.4.
  const entry = sess?.enter() ?? null
  if (extras.headerDlp !== undefined && extras.headerDlp.length > 0) {
    notes.push(`DLP match in request headers: ${extras.headerDlp.join(', ')}`)
    sess?.signal('block', 'request_headers', 'header DLP')
    return block('header_dlp', 'header_dlp', mcpError('input_scanning', '', 'dlp_match'), [...extras.headerDlp])
  }
  if (extras.a2a !== undefined) {
    const a = extras.a2a
    if (a.block) {
      notes.push(`${at}blocked ${frame.method || 'unknown'} request (${a.reason})`)
      sess?.signal('block', 'a2a', a.on === 'header' ? 'A2A header' : 'A2A input')
      return block('content', a.on === 'header' ? 'a2a_header' : 'mcp_a2a_scanning', mcpError(a.on === 'header' ? 'a2a_header' : 'a2a_input'), [a.reason], {pattern: a.reason})
    }
    notes.push(`a2a ${a.on}: warning (${a.reason})`)
  }
  if (frame.isBatch) {
    notes.push(`${at}blocked batch request (not supported by MCP)`)
    sess?.signal('block', 'batch', 'batch request')
    return {...block('batch', 'mcp_input_scanning', mcpError('batch_request'), ['batch']), answer: batchAnswer(frame)}
  }

  if (red !== null && red.kind === 'blocked') {
    const detail = `redaction blocked request: ${red.reason}`
    notes.push(frame.id === null ? `blocked notification (no response sent): ${detail}` : `${at}blocked tools/call request (${detail})`)
    sess?.signal('block', frame.toolName, detail)
    return block('content', 'redaction', mcpError('input_scanning', '', 'redaction_failure'), [detail], {pattern: detail, severity: 'critical'})
  }

  // 1. Content scan. stdio always scans (warn when input scanning is off); HTTP/WS only when
  // enabled, but an unparseable message is blocked there too (fix Q1: fail closed).
  const unparseable = frame.value === undefined || frame.error !== null
  let content: ContentVerdict
  // A pool's scan is of the original text: a rewritten frame is scanned here.
  if (requestScanRuns(settings, state.transport)) content = (red !== null && red.kind === 'rewritten' ? undefined : extras.content) ?? scanRequest(deps.scanner, frame, settings.input)
  else content = unparseable ? parseErrorVerdict(frame) : {clean: true, dlp: [], injection: [], error: null, dlpWarnings: [], action: ''}
  base.dlpWarnings.push(...content.dlpWarnings)

  const isCall = frame.method === 'tools/call' && frame.error === null
  // 2. Tool policy (no short-circuit).
  const policy: PolicyVerdict = isCall && settings.policy !== null ? settings.policy.check(frame.toolName, frame.args) : NO_POLICY_MATCH
  // 3. Denial-of-wallet budgets (§10.1; block short-circuits, warn counts as clean).
  let dowWarned = false
  if (isCall && frame.toolName !== '' && deps.budget != null) {
    const f = deps.budget.observe(frame.toolName, frame.args === undefined ? '' : goJson(frame.args))
    if (f !== null) {
      facts.push({kind: 'denial_of_wallet', action: f.action, name: f.budget, detail: f.reason})
      notes.push(`${at}tools/call "${frame.toolName}" DoW ${f.action}: ${f.reason} (${f.budget})`)
      if (f.action === 'block') {
        sess?.signal('block', frame.toolName, f.reason)
        return block('denial_of_wallet', 'mcp_denial_of_wallet', mcpError('denial_of_wallet', f.reason), [f.reason], {pattern: f.reason, severity: 'high'})
      }
      sess?.signal('near_miss', frame.toolName, f.reason)
      dowWarned = true
    }
  }
  // 3. Session binding (no short-circuit).
  let binding: {reason: string; action: 'warn' | 'block'} | null = null
  if (isCall && settings.binding !== null) {
    const f = state.baseline.bindingFinding(frame.toolName)
    if (f !== null) {
      binding = {reason: `session_binding:${f}`, action: f === 'no_baseline' ? settings.binding.noBaselineAction : settings.binding.unknownToolAction}
      notes.push(
        f === 'missing_tool_name' ? `${at}tools/call missing params.name`
          : f === 'no_baseline' ? `${at}tools/call "${frame.toolName}" before baseline established`
            : `${at}tools/call "${frame.toolName}" not in session baseline`,
      )
    }
  }
  // 4. Chain detection (block short-circuits).
  let chain: ChainMatch | null = null
  if (isCall && frame.toolName !== '' && state.chains !== null) {
    chain = state.chains.observe(state.chainKey, frame.toolName, frame.text, deps.now())
    if (chain !== null) {
      notes.push(`chain detected: ${chain.pattern} (severity=${chain.severity}, action=${chain.action})`)
      facts.push({kind: 'chain_detection', action: chain.action, name: chain.pattern, detail: frame.toolName, severity: chain.severity})
      if (chain.action === 'block') {
        sess?.signal('block', frame.toolName, `chain:${chain.pattern}`)
        return block('chain', 'mcp_chain_detection', mcpError('chain', chain.pattern), [`chain:${chain.pattern}`], {pattern: chain.pattern, severity: chain.severity})
      }
    }
  }
  // 5. Parse error (short-circuit; a message without a readable id is dropped).
  if (content.error !== null) {
    // A scan that could not complete is `pattern_unavailable` (transient), not the message's fault.
    const err = mcpError('input_scanning', '', content.unavailable === true ? 'pattern_unavailable' : 'parse_error')
    notes.push(frame.id === null ? `blocked notification (no response sent): ${content.error}` : `${at}blocked ${frame.method || 'unknown'} request (${content.error})`)
    return block('parse', 'mcp_input_scanning', err, [content.error], {pattern: content.error})
  }

  const contentDirty = !content.clean
  const reasons = [
    ...content.dlp.map((d) => d.pattern),
    ...content.injection,
    ...policy.rules.map((r) => `policy:${r}`),
    ...(binding ? [binding.reason] : []),
    ...(chain ? [`chain:${chain.pattern}`] : []),
  ]
  const trackable = http ? frame.hasMethod && !frame.isResponse && frame.id !== null : frame.id !== null
  if (reasons.length === 0) {
    // §4.4 all-clean path: block_all, then CEE, then the contract.
    if (entry?.blockAll === true) {
      notes.push(frame.id === null ? `blocked notification (no response sent): session escalation level ${entry.label}` : `${at}session deny — escalation level ${entry.label}`)
      return block('session', 'session_deny', mcpError('escalation', entry.label), [`escalation_level:${entry.label}`], {pattern: `escalation_level:${entry.label}`, severity: 'critical'})
    }
    const cee = ceeStep(ctx, frame, at, notes, facts)
    if (cee.block !== null) return block('cross_request', 'cross_request', cee.block, [cee.block.message], {pattern: cee.pattern, severity: 'critical'})
    const gated = contractStep(ctx, frame.id, isCall, frame.toolName, frame.args, 'allow', false, at, notes)
    if (gated.block !== null) return block(gated.stage, gated.stage, gated.block, [gated.block.message], gated.context)
    const tainted = isCall ? sess?.taintCall?.(frame.toolName, frame.args) ?? null : null
    if (tainted !== null) return taintBlock(tainted, frame.id, frame.toolName, at, notes, sess, block, gated.context)
    if (trackable) state.tracker.track(frame.id!)
    if (!dowWarned && !cee.warned) sess?.clean()
    return {...base, verdict: 'allow', stage: 'none', layer: '', reason: null, findings: [], forward: frame.text, answer: null, ...gated.context}
  }

  // Findings path (§4.4): strictest action wins.
  let action = ''
  if (contentDirty) action = stricter(action, content.action)
  action = stricter(action, policy.action)
  if (binding) action = stricter(action, binding.action)
  if (chain) action = stricter(action, chain.action)
  // Layer and stage by precedence chain > policy > binding > content (§15.4).
  const [stage, layer]: [McpStage, string] = chain ? ['chain', 'mcp_chain_detection']
    : policy.rules.length > 0 ? ['tool_policy', 'mcp_tool_policy']
      : binding ? ['session_binding', 'mcp_session_binding'] : ['content', 'mcp_input_scanning']

  // Adaptive upgrade of the merged action by the session level (§4.4 step 4, runtime §14.3).
  if (sess !== null && entry !== null) {
    const up = upgraded(sess.upgrade(action), action, entry.label, notes)
    if (up !== action) facts.push({kind: 'adaptive_upgrade', action: up, name: `${action}->${up}`, detail: 'mcp_input', severity: entry.label})
    action = up
  }
  if (action === 'warn') {
    sess?.signal('near_miss', frame.toolName || frame.method, reasons.join(', '))
    const cee = ceeStep(ctx, frame, at, notes, facts)
    if (cee.block !== null) return block('cross_request', 'cross_request', cee.block, [...reasons, cee.block.message], {pattern: cee.pattern, severity: 'critical'})
    const gated = contractStep(ctx, frame.id, isCall, frame.toolName, frame.args, 'warn', true, at, notes)
    if (gated.block !== null) return block(gated.stage, gated.stage, gated.block, [...reasons], gated.context)
    const tainted = isCall ? sess?.taintCall?.(frame.toolName, frame.args) ?? null : null
    if (tainted !== null) return taintBlock(tainted, frame.id, frame.toolName, at, notes, sess, block, gated.context)
    notes.push(http ? `input: warning (${reasons.join(', ')})` : `${at}warning — ${frame.method} request contains flagged content (${reasons.join('\n')})`)
    if (trackable) state.tracker.track(frame.id!)
    return {...base, verdict: 'warn', stage, layer, reason: blockReason(content, policy, chain, null), findings: reasons, forward: frame.text, answer: null, ...gated.context, ...receiptOf(stage, content, policy, binding, chain)}
  }
  // redirect (§8.5): a tools/call with an id is the fail-closed block carrying the profile; the
  // redirect step of the transports (mcp-proxy/redirect.ts) runs it and replaces the answer.
  if (action === 'redirect' && isCall && frame.id !== null && policy.redirectRule !== undefined) {
    return {
      ...block('tool_policy', 'mcp_tool_policy', mcpError('tool_policy'), reasons, {pattern: policy.redirectRule, severity: 'high'}),
      redirect: {profile: policy.redirectProfile, rule: policy.redirectRule},
    }
  }
  // block; `ask` is not offered on the request path — it blocks, as a redirect without an id does.
  if (action !== 'block') notes.push(`${at}[${action} not supported for input scanning]`)
  sess?.signal('block', frame.toolName || frame.method, reasons.join(', '))
  const bindingBlock = binding !== null && binding.action === 'block'
  let err: McpError
  if (http && bindingBlock) err = mcpError('session_binding', binding!.reason.slice('session_binding:'.length))
  else if (contentDirty || policy.rules.length === 0) err = mcpError('input_scanning', '', blockReason(content, policy, chain, bindingBlock ? 'session_binding' : null))
  else err = mcpError('tool_policy', '', blockReason(content, policy, chain, bindingBlock ? 'session_binding' : null))
  notes.push(
    frame.id === null ? `blocked notification (no response sent): ${reasons.join(', ')}`
      : http ? `input: blocked (${reasons.join(', ')})` : `${at}blocked ${frame.method} request (${reasons.join('\n')})`,
  )
  return block(stage, layer, err, reasons, receiptOf(stage, content, policy, binding, chain))
}

/**
 * The taint gate (policy-extra §1.10), the last request gate: a `block`, or an `ask` — which no
 * operator can answer on an MCP message here, so it is denied — is `-32002 pipelock: <reason>`,
 * receipt layer `mcp_tool_taint`, severity critical (block) / high (ask).
 */
function taintBlock(
  v: McpTaintVerdict, id: string | null, tool: string, at: string, notes: string[], sess: McpSessionHandle | null,
  block: (stage: McpStage, layer: string, err: McpError, findings: string[], extra?: Partial<McpDecision>) => McpDecision, context: Partial<McpDecision>,
): McpDecision {
  const gate = v.decision === 'block' ? 'taint_block' : 'taint_ask_denied'
  notes.push(id === null ? `blocked notification (no response sent): ${gate} ${v.reason}` : `${at}tools/call "${tool}" ${gate}: ${v.reason} (${v.actionRef})`)
  sess?.signal('block', tool, v.reason)
  return block('taint', 'mcp_tool_taint', mcpError('taint', v.reason), [`${gate}:${v.reason}`], {...context, pattern: v.reason, severity: v.decision === 'block' ? 'critical' : 'high'})
}

/**
 * Receipt pattern and severity of the deciding gate (§15.4): content → first DLP pattern and its
 * severity, else first injection pattern and `high`; policy → first rule, `high`; binding →
 * reason, `high`; chain → pattern and its severity.
 */
function receiptOf(stage: McpStage, content: ContentVerdict, policy: PolicyVerdict, binding: {reason: string} | null, chain: ChainMatch | null): {pattern?: string; severity?: string} {
  switch (stage) {
    case 'chain':
      return chain === null ? {} : {pattern: chain.pattern, severity: chain.severity}
    case 'tool_policy':
      return {pattern: policy.rules[0] ?? '', severity: 'high'}
    case 'session_binding':
      return {pattern: binding?.reason ?? '', severity: 'high'}
    case 'content': {
      const first = content.dlp[0]
      if (first !== undefined) return {pattern: first.pattern, severity: first.severity}
      const inj = content.injection[0]
      return inj !== undefined ? {pattern: inj, severity: 'high'} : {}
    }
    default:
      return {}
  }
}

interface GatedStep {
  readonly block: McpError | null
  readonly stage: McpStage
  readonly context: Partial<McpDecision>
}

/**
 * The contract step (§15.3) on a message the scanners let through: the tool-call gate for a
 * `tools/call`, then the upstream gate for every forwarded message. A scanner block never gets
 * here (it returned earlier), so a scanner block always wins.
 */
function contractStep(ctx: McpContext, id: string | null, isCall: boolean, tool: string, args: unknown, verdict: 'allow' | 'warn', matched: boolean, at: string, notes: string[]): GatedStep {
  const gate = ctx.deps.contract
  if (gate === undefined || gate === null) return {block: null, stage: 'none', context: {}}
  let out: McpContractOutcome | null = null
  let stage: McpStage = 'contract'
  if (isCall) out = gate.toolCall({tool, args: args as McpContractCallArgs, scannerVerdict: verdict, scannerMatched: matched})
  const context: Partial<McpDecision> = out?.context ? {contract: out.context} : {}
  if (out?.block == null) {
    const up = gate.upstream()
    if (up?.block != null) {
      out = up
      stage = 'contract_upstream'
    }
  }
  const b = out?.block
  if (b === undefined || b === null) return {block: null, stage: 'none', context}
  notes.push(id === null ? `blocked notification (no response sent): ${b.reason}` : `${at}blocked by live-lock contract (${b.reason}${tool !== '' ? `, tool "${tool}"` : ''})`)
  const ctxOut: Partial<McpDecision> = out?.context ? {contract: out.context} : context
  return {block: {code: b.code, message: b.message, reason: b.reason as ReasonCode, data: b.data}, stage, context: {...ctxOut, pattern: b.reason, severity: 'critical'}}
}

type McpContractCallArgs = Parameters<NonNullable<McpDeps['contract']>['toolCall']>[0]['args']

/** `data.block_reason` for content-path blocks (§7.3). */
function blockReason(content: ContentVerdict, policy: PolicyVerdict, chain: ChainMatch | null, override: ReasonCode | null): ReasonCode {
  if (override !== null) return override
  if (content.dlp.length > 0) return 'dlp_match'
  if (content.injection.length > 0) return 'prompt_injection'
  if (policy.rules.length > 0) return 'tool_policy_deny'
  if (chain !== null) return 'tool_chain_blocked'
  return 'parse_error'
}

