import type {JsonObject, JsonValue} from '../canonical/index.js'
import {normalizeHost, pathMatches, rulePaths, type PathMatcher} from '../enforcement/index.js'
import type {RatifyDecision} from './ratify.js'
import {ruleAllows} from './ratify.js'

// A rejected rule stays reachable when a broader rule the operator enforces still matches it
// (same host; that rule allows any method or every method of the rejected one; any path, or every
// path of the rejected one). Ratify says so, naming both, instead of letting the operator believe
// the rejection removed the access. Paths are judged as the gate judges them: a collapsed `*`
// covers the rejected path's segment unless the broader rule pins it (learn pin), and then the
// warning says which segment to pin.

const HTTP_KINDS = new Set(['http_destination', 'http_action'])

/** Whether the warnings below look at the rule at all (an HTTP rule). */
export function isHttpRule(r: JsonObject): boolean {
  return HTTP_KINDS.has(String(r.get('rule_kind')))
}

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

/** The rule's host as the warnings compare it ('' when it names none: never covered, never warned about). */
export function ruleHost(r: JsonObject): string {
  return host(sel(r))
}

/** Whether `broad` still allows what `narrow` names; `pin`: the segment a collapsed `*` of `broad` covers (pinning it there closes that). */
function covers(broad: JsonObject, narrow: JsonObject): {pin?: string} | undefined {
  const b = sel(broad)
  const n = sel(narrow)
  if (host(b) === '' || host(b) !== host(n)) return undefined
  if (b.get('effective_action') !== undefined && b.get('effective_action') !== n.get('effective_action')) return undefined
  const bm = values(b, 'methods', text)
  const nm = values(n, 'methods', text)
  if (bm !== undefined && (nm === undefined || !nm.every((m) => bm.includes(m)))) return undefined
  const bp = rulePaths(broad)
  if (bp === undefined) return {}
  const np = values(n, 'paths', text)
  if (np === undefined) return undefined
  let pin: string | undefined
  for (const p of np) {
    if (bp.some((m) => m.value === p)) continue
    const m = bp.find((x) => pathMatches(x, p))
    if (m === undefined) return undefined
    pin ??= collapsedSegmentOf(m, p)
  }
  return pin === undefined ? {} : {pin}
}

/** The segment of `path` that a collapsed `*` of `m` stands for (the first one). */
function collapsedSegmentOf(m: PathMatcher, path: string): string | undefined {
  const want = m.value.split('/')
  const got = path.split('/')
  for (const i of m.collapsed) if (want[i] === '*' && got[i] !== undefined && got[i] !== '*') return got[i]
  return undefined
}

/** One warning per rejected HTTP rule that a kept enforce rule still covers. */
export function rejectedButCovered(rules: readonly JsonObject[], decisions: readonly RatifyDecision[]): string[] {
  const out: string[] = []
  const id = (r: JsonObject): string => (typeof r.get('rule_id') === 'string' ? (r.get('rule_id') as string) : '')
  rules.forEach((r, i) => {
    if (decisions[i] !== 'reject' || !isHttpRule(r)) return
    let how: {pin?: string} | undefined
    const j = rules.findIndex((k, jj) => jj !== i && decisions[jj] === 'enforce' && isHttpRule(k) && (how = covers(k, r)) !== undefined)
    if (j < 0 || how === undefined) return
    const k = rules[j] as JsonObject
    const fix =
      how.pin === undefined
        ? 'reject or capture-only that rule too to block it'
        : `its collapsed segment stands for ${JSON.stringify(how.pin)}: pin it there (learn pin --rule ${id(k)} --segment ${how.pin}) before ratifying, or reject or capture-only that rule too, to block it`
    out.push(`learn ratify: rejected rule ${id(r)} (${ruleAllows(r)}) is still allowed by enforced rule ${id(k)} (${ruleAllows(k)}); ${fix}`)
  })
  return out
}

/**
 * One warning per capture-only HTTP rule whose host has an enforce rule that does not cover it.
 * Under a live contract only enforce rules allow, so that host's default deny
 * (`contract_enforce_default`) refuses what only the capture-only rule matches: "capture-only"
 * does not mean "keep watching, let it through" once the host is enforced. `enforcesHttp`: whether
 * the contract enforces any HTTP rule (default: one of `rules` is), for a caller that gives
 * only some of the contract's rules (`coverageWarnings`).
 */
export function captureOnlyDenied(rules: readonly JsonObject[], decisions: readonly RatifyDecision[], enforcesHttp?: boolean): string[] {
  const out: string[] = []
  const id = (r: JsonObject): string => (typeof r.get('rule_id') === 'string' ? (r.get('rule_id') as string) : '')
  const enforced = rules.filter((k, j) => decisions[j] === 'enforce' && isHttpRule(k))
  const anyEnforced = enforcesHttp ?? enforced.length > 0
  rules.forEach((r, i) => {
    if (decisions[i] !== 'capture_only' || !isHttpRule(r)) return
    const h = host(sel(r))
    if (h === '' || !anyEnforced) return
    if (!enforced.some((k) => host(sel(k)) === h)) {
      // The contract enforces other hosts: a host with no enforce rule is denied as a whole.
      out.push(
        `learn ratify: capture-only rule ${id(r)} (${ruleAllows(r)}) is not enforced, and no enforce rule names host ${h} while the contract enforces other hosts: under a live contract its requests are denied by the contract's default deny (contract_default_deny); enforce it to keep them reachable`,
      )
      return
    }
    if (enforced.some((k) => covers(k, r) !== undefined)) return
    out.push(
      `learn ratify: capture-only rule ${id(r)} (${ruleAllows(r)}) is not enforced, and host ${h} has enforce rules: under a live contract its requests are denied by the host's default deny (contract_enforce_default); enforce it to keep them reachable`,
    )
  })
  return out
}

/**
 * The coverage warnings (`rejectedButCovered`, then `captureOnlyDenied`). Both compare a rule
 * with the rules of its own host only, so `rules` may be only the HTTP rules of the hosts
 * `coverageHosts` names (in contract order, with their decisions) when `enforcesHttp` says
 * whether the whole contract enforces an HTTP rule: the warnings are then the whole contract's.
 */
export function coverageWarnings(rules: readonly JsonObject[], decisions: readonly RatifyDecision[], enforcesHttp?: boolean): string[] {
  return [...rejectedButCovered(rules, decisions), ...captureOnlyDenied(rules, decisions, enforcesHttp)]
}

/** The hosts a coverage warning can be about: those of the rejected and capture-only HTTP rules (`http`, `host`: `isHttpRule`, `ruleHost`). */
export function coverageHosts(rules: readonly {readonly http: boolean; readonly host: string}[], decisions: readonly RatifyDecision[]): Set<string> {
  const hosts = new Set<string>()
  rules.forEach((r, i) => {
    if (r.http && r.host !== '' && decisions[i] !== 'enforce') hosts.add(r.host)
  })
  return hosts
}
