import type {JsonObject, JsonValue} from '../canonical/index.js'
import {normalizeHost} from '../enforcement/index.js'
import type {RatifyDecision} from './ratify.js'
import {ruleAllows} from './ratify.js'

// A rejected rule stays reachable when a broader rule the operator enforces still matches it
// (same host; that rule allows any method or every method of the rejected one; any path, or every
// path of the rejected one). Ratify says so, naming both, instead of letting the operator believe
// the rejection removed the access. Only literal coverage is judged: placeholders are not expanded.

const HTTP_KINDS = new Set(['http_destination', 'http_action'])

function sel(r: JsonObject): JsonObject {
  const s = r.get('selector')
  return s instanceof Map ? s : new Map()
}

function values(s: JsonObject, key: string, pick: (v: JsonValue) => string): string[] | undefined {
  const v = s.get(key)
  return Array.isArray(v) && v.length > 0 ? v.map(pick) : undefined
}

const text = (v: JsonValue): string => (typeof v === 'string' ? v : v instanceof Map && typeof v.get('value') === 'string' ? (v.get('value') as string) : '')
// Hosts compared as the contract gate reads them (§3.2: trimmed, lower-cased, one trailing dot dropped).
const host = (s: JsonObject): string => normalizeHost(text(s.get('host') ?? ''))

function covers(broad: JsonObject, narrow: JsonObject): boolean {
  const b = sel(broad)
  const n = sel(narrow)
  if (host(b) === '' || host(b) !== host(n)) return false
  if (b.get('effective_action') !== undefined && b.get('effective_action') !== n.get('effective_action')) return false
  const bm = values(b, 'methods', text)
  const nm = values(n, 'methods', text)
  if (bm !== undefined && (nm === undefined || !nm.every((m) => bm.includes(m)))) return false
  const bp = values(b, 'paths', text)
  const np = values(n, 'paths', text)
  return bp === undefined || (np !== undefined && np.every((p) => bp.includes(p)))
}

/** One warning per rejected HTTP rule that a kept enforce rule still covers. */
export function rejectedButCovered(rules: readonly JsonObject[], decisions: readonly RatifyDecision[]): string[] {
  const out: string[] = []
  const id = (r: JsonObject): string => (typeof r.get('rule_id') === 'string' ? (r.get('rule_id') as string) : '')
  rules.forEach((r, i) => {
    if (decisions[i] !== 'reject' || !HTTP_KINDS.has(String(r.get('rule_kind')))) return
    const j = rules.findIndex((k, jj) => jj !== i && decisions[jj] === 'enforce' && HTTP_KINDS.has(String(k.get('rule_kind'))) && covers(k, r))
    if (j < 0) return
    const k = rules[j] as JsonObject
    out.push(`learn ratify: rejected rule ${id(r)} (${ruleAllows(r)}) is still allowed by enforced rule ${id(k)} (${ruleAllows(k)}); reject or capture-only that rule too to block it`)
  })
  return out
}
