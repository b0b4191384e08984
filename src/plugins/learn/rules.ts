import {JsonNumber, type JsonObject, type JsonValue} from '../canonical/index.js'
import type {RuleAggregate} from './aggregate.js'
import {fromByteString, formatFixed} from '../canonical/index.js'
import {classify, wilsonLower, type BudgetStats, type Confidence, type Floors} from './inference.js'
import {NORMALIZATION_ALGORITHM, type PathNormalization} from './normalize.js'
import {sha256Hex} from '../signing/index.js'

const int = (n: number): JsonNumber => new JsonNumber(String(n))

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/

/** `r-` + first 10 bytes of SHA-256(rule key) in hex (§8). */
export function ruleId(key: string): string {
  // The key is a byte string: an ASCII one is its own UTF-8, so it is hashed one-shot as it is
  // (no Buffer, no Hash object: compile gives every rule an id; bench: compile).
  return 'r-' + sha256Hex(ASCII.test(key) ? key : Buffer.from(key, 'latin1')).slice(0, 20)
}

/**
 * §8: a component with `/` trimmed from both ends, `.` `/` `-` `=` turned into `_`, then `_`
 * trimmed from both ends. The first trim is implied by the last (a `/` at either end becomes a
 * `_` there), so the text is replaced once and trimmed by index (one regular expression instead
 * of three: compile names every rule twice; bench: compile).
 */
function namePart(component: string): string {
  const s = component.replace(/[./\-=]/g, '_')
  let start = 0
  let end = s.length
  while (start < end && s.charCodeAt(start) === 0x5f) start++
  while (end > start && s.charCodeAt(end - 1) === 0x5f) end--
  return start === end ? 'root' : start === 0 && end === s.length ? s : s.slice(start, end)
}

/** §8 display name: host, path, method, action parts, each cleaned, joined with `_`. */
export function displayName(r: Pick<RuleAggregate, 'host' | 'path' | 'method' | 'action'>): string {
  const parts = [r.host, r.path, r.method, r.action].filter((p): p is string => p !== undefined).map(namePart)
  return parts.length === 0 ? 'observed_rule' : fromByteString(parts.join('_'))
}

function budget(b: BudgetStats): JsonObject {
  return new Map<string, JsonValue>([
    ['data_class', 'public'],
    ['enforced', formatFixed(b.enforced, 0)],
    ['max', int(b.max)],
    ['median', formatFixed(b.median, 0)],
    ['p95', formatFixed(b.p95, 0)],
    ['p99', formatFixed(b.p99, 0)],
    ['sample_count', int(b.sampleCount)],
  ])
}

function normalizationTree(n: PathNormalization): JsonObject {
  const m: JsonObject = new Map()
  m.set('algorithm', NORMALIZATION_ALGORITHM)
  m.set(
    'collapsed_segments',
    n.collapsed.map(
      (c) =>
        new Map<string, JsonValue>([
          ['distinct_values', int(c.distinct_values)],
          ['event_count', int(c.event_count)],
          ['index', int(c.index)],
          ['reason', c.reason],
        ]),
    ),
  )
  m.set('retained_segments', n.retained.map((r) => new Map<string, JsonValue>([['index', int(r.index)], ['reason', r.reason], ['value', fromByteString(r.value)]])))
  return m
}

export interface BuiltRule {
  tree: JsonObject
  confidence: Confidence
}

/** [ext, mcp.md §15.6.1] `mcp_` + server + `_` + tool, each cleaned as §8 display names are. */
export function mcpDisplayName(server: string, tool: string): string {
  return fromByteString(`mcp_${namePart(server)}_${namePart(tool)}`)
}

/** [ext §15.6.1] `{server, tool}` public matchers and no `args` (any arguments match, LL§7.7). */
function mcpSelector(server: string, tool: string): JsonObject {
  return new Map<string, JsonValue>([
    ['server', new Map<string, JsonValue>([['data_class', 'public'], ['value', fromByteString(server)]])],
    ['tool', new Map<string, JsonValue>([['data_class', 'public'], ['value', fromByteString(tool)]])],
  ])
}

/** One contract rule (§8) from its aggregate; object keys sorted as Go marshals maps. */
export function buildRule(r: RuleAggregate, floors: Floors): BuiltRule {
  const w = wilsonLower(r.observed, r.opportunities)
  const confidence = classify(r.observed, r.sessions, r.windows, w, floors)
  const wText = formatFixed(w, 6)
  const mcp = r.server !== undefined && r.tool !== undefined
  const selector: JsonObject = mcp ? mcpSelector(r.server!, r.tool!) : new Map()
  if (r.action !== undefined) selector.set('effective_action', fromByteString(r.action))
  if (!mcp) selector.set('host', new Map<string, JsonValue>([['data_class', 'public'], ['value', fromByteString(r.host)]]))
  if (r.method !== undefined) selector.set('methods', [fromByteString(r.method)])
  if (r.path !== undefined) {
    const p: JsonObject = new Map<string, JsonValue>([['data_class', 'public']])
    if (r.normalization !== undefined) p.set('normalization', normalizationTree(r.normalization))
    p.set('value', fromByteString(r.path))
    selector.set('paths', [p])
  }
  const tree: JsonObject = new Map()
  tree.set('rule_id', ruleId(r.key))
  tree.set('display_name', mcp ? mcpDisplayName(r.server!, r.tool!) : displayName(r))
  tree.set('rule_kind', mcp ? 'mcp_tool_call' : r.action !== undefined ? 'http_action' : 'http_destination')
  tree.set('lifecycle_state', 'capture_only')
  tree.set('required_capture_grade', 'full')
  tree.set('observed_capture_grade', 'full')
  tree.set('confidence', confidence)
  tree.set('wilson_lower', wText)
  tree.set(
    'observation',
    new Map<string, JsonValue>([
      ['events_observed', int(r.observed)],
      ['sessions_observed', int(r.sessions)],
      // Named "sessions" but an event count, and windows_with_opportunity mirrors
      // windows_observed: both as the reference signs them (§20 Q2).
      ['sessions_with_opportunity', int(r.opportunities)],
      ['windows_observed', int(r.windows)],
      ['windows_with_opportunity', int(r.windows)],
    ]),
  )
  tree.set('selector', selector)
  if (r.budgets !== undefined) {
    tree.set('budgets', new Map<string, JsonValue>([['payload_size_bytes', budget(r.budgets[0])], ['scanner_size_bytes', budget(r.budgets[1])]]))
  }
  tree.set(
    'rationale',
    new Map<string, JsonValue>([
      ['data_class', 'internal'],
      ['summary', `Observed ${r.observed} events across ${r.sessions} sessions; Wilson lower bound ${wText} classified as ${confidence}.`],
    ]),
  )
  tree.set('recurring_support', new Map<string, JsonValue>([['windows_floor', int(floors.min_windows)], ['windows_seen_in_last_n', int(r.windows)]]))
  tree.set('opportunity_health', new Map<string, JsonValue>([['missing_alert_threshold', '0.50']]))
  return {tree, confidence}
}
