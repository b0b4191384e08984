import {compareUtf8, JsonNumber, parseGoTime, formatSecondsZ, type JsonObject, type JsonValue} from '../canonical/index.js'
import type {AggregateResult} from './aggregate.js'
import {formatFixed, fromByteString} from '../canonical/index.js'
import {DEFAULT_FLOORS, type Floors} from './inference.js'
import {ruleAllows} from './ratify.js'

export interface ReviewRule {
  ruleId: string
  /** `rule_kind` and what enforcing the rule lets through (ratify's `allows:` text). */
  kind: string
  allows: string
  lifecycle: string
  confidence: string
  observedGrade: string
  requiredGrade: string
  eventsObserved?: number
  opportunities?: number
  /** Budget name → sample count, in the order printed (payload before scanner, §20 Q8 sorted). */
  budgets: [string, number][]
  /** [ext, mcp.md §15.6.1] server and tool of an `mcp_tool_call` rule. */
  mcp?: {server: string; tool: string}
}

/** Review rows made on demand: `length` rows, made again on each iteration. */
export interface ReviewRuleSource extends Iterable<ReviewRule> {
  readonly length: number
}

export interface ReviewTail {
  host: string
  tail: number
  hostTotal: number
  tailPct: number
  promotionBlock: boolean
}

/** What the review template needs (§13). `undefined` sections are not recorded in the source. */
export interface ReviewInput {
  agent: string
  start: string
  end: string
  totalEvents: number
  /** The rows, or (compile) a source that makes them again on each pass, holding none. */
  rules: readonly ReviewRule[] | ReviewRuleSource
  floors: Floors
  actionClasses?: Map<string, number>
  tails?: ReviewTail[]
  /**
   * `learn review` only (our addition, not in the §13 template that compile's review.md keeps):
   * a Rules section with kind, method, host and path per rule, and one thin-sample line per rule
   * (the template prints one per thin budget, and both budgets of a rule always share a count).
   */
  detail?: boolean
}

const NOT_RECORDED = 'not recorded in the candidate (see the review written by `pipelock learn compile`)'

function secondsZ(t: string): string {
  try {
    return formatSecondsZ(parseGoTime(t))
  } catch {
    return t
  }
}

function countBy(values: Iterable<string>): string[] {
  const m = new Map<string, number>()
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1)
  return [...m.keys()].sort(compareUtf8).map((k) => `- ${k}: ${m.get(k)}`)
}

/**
 * The review markdown (learn-compile §13) with the thin-sample, opportunity-health and
 * classification-debt sections computed for real (§20 Q9 is not reproduced).
 */
export function renderReview(r: ReviewInput): string {
  const out: string[] = ['# Candidate Contract Review', '', '## Summary', '']
  out.push(`- Agent: ${r.agent}`)
  out.push(`- Observation window: ${secondsZ(r.start)} to ${secondsZ(r.end)}`)
  out.push(`- Total events: ${r.totalEvents}`)
  out.push(`- Total rules: ${r.rules.length}`)
  if (r.detail === true) {
    out.push('', '## Rules', '')
    if (r.rules.length === 0) out.push('- none')
    for (const x of r.rules) {
      const events = x.eventsObserved === undefined ? '' : `, ${x.eventsObserved} events`
      out.push(`- ${x.ruleId} (${x.kind}, ${x.lifecycle}, ${x.confidence}${events}): ${x.allows}`)
    }
  }
  const rules = r.rules
  out.push('', '## Lifecycle', '', ...countBy((function* () {
    for (const x of rules) yield x.lifecycle
  })()))
  out.push('', '## Confidence', '', ...countBy((function* () {
    for (const x of rules) yield x.confidence
  })()))
  out.push('', '## Classification Debt', '')
  if (r.actionClasses === undefined) out.push(`- Unclassified action_class events: ${NOT_RECORDED}`)
  else {
    let total = 0
    for (const n of r.actionClasses.values()) total += n
    const unclassified = r.actionClasses.get('unclassified') ?? 0
    const pct = total === 0 ? 0 : (100 * unclassified) / total
    const text = `${formatFixed(pct, 2)}% (${unclassified}/${total})`
    out.push(pct > 5.0 ? `- Warning: unclassified action_class events ${text}` : `- Unclassified action_class events ${text}`)
    for (const k of [...r.actionClasses.keys()].sort(compareUtf8)) out.push(`- ${k}: ${r.actionClasses.get(k)}`)
  }
  out.push('', '## Capture Fidelity', '')
  if (r.rules.length === 0) out.push('- none')
  for (const x of r.rules) out.push(`- ${x.ruleId}: observed ${x.observedGrade} / required ${x.requiredGrade}`)
  out.push('', '## Thin-Sample Badges', '')
  const thin: string[] = []
  for (const x of r.rules) {
    const lines = x.budgets.filter(([, n]) => n < r.floors.min_events).map(([, n]) => `- ${x.ruleId}: thin sample (${n} < ${r.floors.min_events})`)
    thin.push(...(r.detail === true ? [...new Set(lines)] : lines))
  }
  out.push(...(thin.length > 0 ? thin : ['- none']))
  out.push('', '## Opportunity Health', '')
  const health: string[] = []
  for (const x of r.rules) {
    const obs = x.eventsObserved
    const opp = x.opportunities
    if (obs === undefined || opp === undefined) continue
    if (opp > 0 && 2 * obs < opp) health.push(`- ${x.ruleId}: opportunity dropped (${obs}/${opp})`)
  }
  out.push(...(health.length > 0 ? health : ['- healthy']))
  out.push('', '## Tail Coverage', '')
  if (r.tails === undefined) out.push(`- ${NOT_RECORDED}`)
  else if (r.tails.length === 0) out.push('- none')
  else {
    for (const t of r.tails) {
      const text = `tail ${formatFixed(t.tailPct, 2)}% (${t.tail}/${t.hostTotal})`
      out.push(t.promotionBlock ? `- ${t.host}: promotion blocked; ${text}. Re-run with accept_tail or split high-traffic patterns.` : `- ${t.host}: ${text}`)
    }
  }
  // [ext, mcp.md §15.6.1] only when the candidate has MCP rules, so HTTP reviews keep their bytes.
  const mcp: ReviewRule[] = []
  for (const x of r.rules) if (x.mcp !== undefined) mcp.push(x)
  if (mcp.length > 0) {
    out.push('', '## MCP Tool Calls', '')
    for (const x of mcp) {
      const seen = x.eventsObserved === undefined ? '' : ` (${x.eventsObserved}/${x.opportunities ?? 0} calls to the server, ${x.confidence})`
      out.push(`- ${x.ruleId}: server ${JSON.stringify(x.mcp!.server)} tool ${JSON.stringify(x.mcp!.tool)}${seen}; any arguments`)
    }
  }
  return out.join('\n') + '\n'
}

function num(v: JsonValue | undefined): number | undefined {
  if (v instanceof JsonNumber && /^-?\d+$/.test(v.text)) return Number(v.text)
  return undefined
}

function str(m: JsonObject | undefined, k: string): string {
  const v = m?.get(k)
  return typeof v === 'string' ? v : ''
}

function obj(m: JsonObject | undefined, k: string): JsonObject | undefined {
  const v = m?.get(k)
  return v instanceof Map ? v : undefined
}

/** Review rows from a contract body (compile output or a loaded candidate). */
export function reviewRulesFromBody(body: JsonObject): ReviewRule[] {
  const rules = (body.get('rules') as JsonObject[] | null) ?? []
  return rules.map(reviewRuleFromTree)
}

/** The review row of one contract rule. */
export function reviewRuleFromTree(r: JsonObject): ReviewRule {
  {
    const obs = obj(r, 'observation')
    const budgets: [string, number][] = []
    const b = obj(r, 'budgets')
    if (b !== undefined) {
      for (const name of [...b.keys()].sort(compareUtf8)) {
        const n = num(obj(b, name)?.get('sample_count'))
        if (n !== undefined) budgets.push([name, n])
      }
    }
    const ev = num(obs?.get('events_observed'))
    const opp = num(obs?.get('sessions_with_opportunity'))
    const sel = obj(r, 'selector')
    const mcp = str(r, 'rule_kind') === 'mcp_tool_call' ? {server: str(obj(sel, 'server'), 'value'), tool: str(obj(sel, 'tool'), 'value')} : undefined
    return {
      ...(mcp !== undefined ? {mcp} : {}),
      ruleId: str(r, 'rule_id'),
      kind: str(r, 'rule_kind'),
      allows: ruleAllows(r),
      lifecycle: str(r, 'lifecycle_state'),
      confidence: str(r, 'confidence'),
      observedGrade: str(r, 'observed_capture_grade'),
      requiredGrade: str(r, 'required_capture_grade'),
      ...(ev === undefined ? {} : {eventsObserved: ev}),
      ...(opp === undefined ? {} : {opportunities: opp}),
      budgets,
    }
  }
}

export function reviewInputFromCompile(body: JsonObject, agg: AggregateResult, floors: Floors, _acceptTail: boolean, rules?: ReviewRuleSource): ReviewInput {
  const win = obj(body, 'observation_window')
  return {
    agent: str(obj(body, 'selector'), 'agent'),
    start: str(win, 'start'),
    end: str(win, 'end'),
    totalEvents: agg.total,
    rules: rules ?? reviewRulesFromBody(body),
    floors,
    actionClasses: agg.actionClasses,
    tails: agg.tails.map((t) => ({host: fromByteString(t.host), tail: t.tail, hostTotal: t.hostTotal, tailPct: t.tailPct, promotionBlock: t.promotionBlock})),
  }
}

/**
 * `learn review` (§13.1) from a candidate alone. The floors are the contract's own
 * `defaults.confidence` (defaults 5/20/3 when absent), so the badges agree with compile's review.
 * `rules`: the rows when the body was read without them (a streamed read), else the body's.
 */
export function reviewInputFromCandidate(body: JsonObject, rules: readonly ReviewRule[] = reviewRulesFromBody(body)): ReviewInput {
  const win = obj(body, 'observation_window')
  const conf = obj(obj(body, 'defaults'), 'confidence')
  const floors: Floors = {
    min_sessions: num(conf?.get('min_sessions')) || DEFAULT_FLOORS.min_sessions,
    min_events: num(conf?.get('min_events')) || DEFAULT_FLOORS.min_events,
    min_windows: num(conf?.get('min_windows')) || DEFAULT_FLOORS.min_windows,
  }
  return {
    agent: str(obj(body, 'selector'), 'agent'),
    start: str(win, 'start'),
    end: str(win, 'end'),
    totalEvents: num(win?.get('event_count')) ?? 0,
    rules,
    floors,
    detail: true,
  }
}
