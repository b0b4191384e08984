import {canonicalString, formatFixed, fromByteString, yamlString} from '../canonical/index.js'
import type {RuleAggregate} from './aggregate.js'
import {classify, wilsonLower, type BudgetStats, type Confidence, type Floors} from './inference.js'
import {NORMALIZATION_ALGORITHM, type PathNormalization} from './normalize.js'
import type {ReviewRule, ReviewRuleSource} from './review.js'
import {displayName, mcpDisplayName, ruleId} from './rules.js'

// One contract rule written straight from its aggregate, as canonical JSON (§10.1) and as its
// item of the contract YAML's `body.rules` sequence (§11), without building its tree: compile
// writes every rule three times for the hash and the signature and once for the YAML, and a
// tree per rule per pass cost more than the rest of the compile at 200,000 rules (issue 36).
// The text is the text the generic emitters make of `buildRule`'s projected tree, byte for
// byte: the goldens and a unit test over hostile strings compare the two.

/** The values of one rule that are computed, not copied. */
interface Derived {
  id: string
  name: string
  kind: string
  confidence: Confidence
  wText: string
  mcp: boolean
  budgets: readonly [BudgetStats, BudgetStats] | undefined
}

/** The rule id, hashed once per rule (every pass writes it). */
function idOf(r: RuleAggregate): string {
  return (r.id ??= ruleId(r.key))
}

function derive(r: RuleAggregate, floors: Floors): Derived {
  const w = wilsonLower(r.observed, r.opportunities)
  const mcp = r.server !== undefined && r.tool !== undefined
  return {
    id: idOf(r),
    name: mcp ? mcpDisplayName(r.server as string, r.tool as string) : displayName(r),
    kind: mcp ? 'mcp_tool_call' : r.action !== undefined ? 'http_action' : 'http_destination',
    confidence: classify(r.observed, r.sessions, r.windows, w, floors),
    wText: formatFixed(w, 6),
    mcp,
    budgets: r.budgets,
  }
}

/** The rule's confidence (§7.3), as `buildRule` classifies it. */
export function ruleConfidence(r: RuleAggregate, floors: Floors): Confidence {
  return classify(r.observed, r.sessions, r.windows, wilsonLower(r.observed, r.opportunities), floors)
}

function summary(r: RuleAggregate, d: Derived): string {
  return `Observed ${r.observed} events across ${r.sessions} sessions; Wilson lower bound ${d.wText} classified as ${d.confidence}.`
}

const q = canonicalString

function canonicalBudget(b: BudgetStats): string {
  return `{"data_class":"public","enforced":${q(formatFixed(b.enforced, 0))},"max":${b.max},"median":${q(formatFixed(b.median, 0))},"p95":${q(formatFixed(b.p95, 0))},"p99":${q(formatFixed(b.p99, 0))},"sample_count":${b.sampleCount}}`
}

function canonicalNormalization(n: PathNormalization): string {
  const collapsed = n.collapsed.map((c) => `{"distinct_values":${c.distinct_values},"event_count":${c.event_count},"index":${c.index},"reason":${q(c.reason)}}`)
  const retained = n.retained.map((x) => `{"index":${x.index},"reason":${q(x.reason)},"value":${q(fromByteString(x.value))}}`)
  return `{"algorithm":${q(NORMALIZATION_ALGORITHM)},"collapsed_segments":[${collapsed.join(',')}],"retained_segments":[${retained.join(',')}]}`
}

function canonicalSelector(r: RuleAggregate, d: Derived): string {
  const parts: string[] = []
  if (r.action !== undefined) parts.push(`"effective_action":${q(fromByteString(r.action))}`)
  if (d.mcp) {
    parts.push(`"server":{"data_class":"public","value":${q(fromByteString(r.server as string))}}`)
    parts.push(`"tool":{"data_class":"public","value":${q(fromByteString(r.tool as string))}}`)
  } else parts.push(`"host":{"data_class":"public","value":${q(fromByteString(r.host))}}`)
  if (r.method !== undefined) parts.push(`"methods":[${q(fromByteString(r.method))}]`)
  if (r.path !== undefined) {
    const norm = r.normalization === undefined ? '' : `,"normalization":${canonicalNormalization(r.normalization)}`
    parts.push(`"paths":[{"data_class":"public"${norm},"value":${q(fromByteString(r.path))}}]`)
  }
  return `{${parts.join(',')}}`
}

/** The rule's canonical JSON: `canonicalize(projectContractRule(buildRule(r, floors).tree, i))`. */
export function ruleCanonical(r: RuleAggregate, floors: Floors): string {
  const d = derive(r, floors)
  const budgets = d.budgets === undefined ? '' : `"budgets":{"payload_size_bytes":${canonicalBudget(d.budgets[0])},"scanner_size_bytes":${canonicalBudget(d.budgets[1])}},`
  return (
    `{${budgets}"confidence":${q(d.confidence)},"display_name":${q(d.name)},"lifecycle_state":"capture_only",` +
    `"observation":{"events_observed":${r.observed},"sessions_observed":${r.sessions},"sessions_with_opportunity":${r.opportunities},"windows_observed":${r.windows},"windows_with_opportunity":${r.windows}},` +
    `"observed_capture_grade":"full","opportunity_health":{"missing_alert_threshold":"0.50"},` +
    `"rationale":{"data_class":"internal","summary":${q(summary(r, d))}},` +
    `"recurring_support":{"windows_floor":${floors.min_windows},"windows_seen_in_last_n":${r.windows}},` +
    `"required_capture_grade":"full","rule_id":${q(d.id)},"rule_kind":${q(d.kind)},` +
    `"selector":${canonicalSelector(r, d)},"wilson_lower":${q(d.wText)}}`
  )
}

const y = yamlString

function yamlBudget(out: string[], name: string, b: BudgetStats): void {
  out.push(
    `            ${name}:`,
    '                data_class: public',
    `                enforced: ${y(formatFixed(b.enforced, 0))}`,
    `                max: ${b.max}`,
    `                median: ${y(formatFixed(b.median, 0))}`,
    `                p95: ${y(formatFixed(b.p95, 0))}`,
    `                p99: ${y(formatFixed(b.p99, 0))}`,
    `                sample_count: ${b.sampleCount}`,
  )
}

function yamlNormalization(out: string[], n: PathNormalization): void {
  out.push('                  normalization:', `                    algorithm: ${y(NORMALIZATION_ALGORITHM)}`)
  if (n.collapsed.length === 0) out.push('                    collapsed_segments: []')
  else {
    out.push('                    collapsed_segments:')
    for (const c of n.collapsed) {
      out.push(
        `                        - distinct_values: ${c.distinct_values}`,
        `                          event_count: ${c.event_count}`,
        `                          index: ${c.index}`,
        `                          reason: ${y(c.reason)}`,
      )
    }
  }
  if (n.retained.length === 0) out.push('                    retained_segments: []')
  else {
    out.push('                    retained_segments:')
    for (const x of n.retained) {
      out.push(`                        - index: ${x.index}`, `                          reason: ${y(x.reason)}`, `                          value: ${y(fromByteString(x.value))}`)
    }
  }
}

/**
 * The rule's item of the YAML `body.rules` sequence (dash at column 8), one string per line:
 * the lines the generic emitter writes for `projectContractRule(buildRule(r, floors).tree, i)`.
 */
export function ruleYamlLines(r: RuleAggregate, floors: Floors, out: string[]): void {
  const d = derive(r, floors)
  const first = d.budgets === undefined ? `        - confidence: ${y(d.confidence)}` : '        - budgets:'
  out.push(first)
  if (d.budgets !== undefined) {
    yamlBudget(out, 'payload_size_bytes', d.budgets[0])
    yamlBudget(out, 'scanner_size_bytes', d.budgets[1])
    out.push(`          confidence: ${y(d.confidence)}`)
  }
  out.push(
    `          display_name: ${y(d.name)}`,
    '          lifecycle_state: capture_only',
    '          observation:',
    `            events_observed: ${r.observed}`,
    `            sessions_observed: ${r.sessions}`,
    `            sessions_with_opportunity: ${r.opportunities}`,
    `            windows_observed: ${r.windows}`,
    `            windows_with_opportunity: ${r.windows}`,
    '          observed_capture_grade: full',
    '          opportunity_health:',
    '            missing_alert_threshold: "0.50"',
    '          rationale:',
    '            data_class: internal',
    `            summary: ${y(summary(r, d))}`,
    '          recurring_support:',
    `            windows_floor: ${floors.min_windows}`,
    `            windows_seen_in_last_n: ${r.windows}`,
    '          required_capture_grade: full',
    `          rule_id: ${y(d.id)}`,
    `          rule_kind: ${y(d.kind)}`,
    '          selector:',
  )
  if (r.action !== undefined) out.push(`            effective_action: ${y(fromByteString(r.action))}`)
  if (d.mcp) {
    out.push('            server:', '                data_class: public', `                value: ${y(fromByteString(r.server as string))}`)
    out.push('            tool:', '                data_class: public', `                value: ${y(fromByteString(r.tool as string))}`)
  } else out.push('            host:', '                data_class: public', `                value: ${y(fromByteString(r.host))}`)
  if (r.method !== undefined) out.push('            methods:', `                - ${y(fromByteString(r.method))}`)
  if (r.path !== undefined) {
    out.push('            paths:', '                - data_class: public')
    if (r.normalization !== undefined) yamlNormalization(out, r.normalization)
    out.push(`                  value: ${y(fromByteString(r.path))}`)
  }
  out.push(`          wilson_lower: ${y(d.wText)}`)
}

/**
 * Throws the YamlEmitError the YAML would throw for this rule (a line break in one of its
 * strings), so that a contract is refused before any of it is hashed or written.
 */
export function assertRuleYamlEmittable(r: RuleAggregate): void {
  for (const v of [r.host, r.path, r.method, r.action, r.server, r.tool]) if (v !== undefined) y(fromByteString(v))
  for (const x of r.normalization?.retained ?? []) y(fromByteString(x.value))
}

/** The review row of a compiled rule: what `reviewRuleFromTree` reads from its tree. */
function reviewRow(r: RuleAggregate, floors: Floors): ReviewRule {
  const mcp = r.server !== undefined && r.tool !== undefined
  return {
    ...(mcp ? {mcp: {server: fromByteString(r.server as string), tool: fromByteString(r.tool as string)}} : {}),
    ruleId: idOf(r),
    kind: mcp ? 'mcp_tool_call' : r.action !== undefined ? 'http_action' : 'http_destination',
    // Only `learn review`'s Rules section prints it; compile's review never does.
    allows: '',
    lifecycle: 'capture_only',
    confidence: ruleConfidence(r, floors),
    observedGrade: 'full',
    requiredGrade: 'full',
    eventsObserved: r.observed,
    opportunities: r.opportunities,
    budgets:
      r.budgets !== undefined
        ? [
            ['payload_size_bytes', r.budgets[0].sampleCount],
            ['scanner_size_bytes', r.budgets[1].sampleCount],
          ]
        : [],
  }
}

/** The compile review's rows, made from the aggregates on each pass and never held. */
export function reviewRuleSource(rules: readonly RuleAggregate[], floors: Floors): ReviewRuleSource {
  return {
    length: rules.length,
    *[Symbol.iterator]() {
      for (const r of rules) yield reviewRow(r, floors)
    },
  }
}
