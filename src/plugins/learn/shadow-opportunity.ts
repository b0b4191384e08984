import {copyString, JsonNumber, type JsonObject, type JsonValue} from '../canonical/index.js'
import {DEFAULT_WINDOW_SECONDS} from './compile.js'
import {grown, grownBuffer} from './grown.js'
import {parseHttpUrl} from '../canonical/index.js'
import type {ReplayedRecord} from './shadow-analyze.js'
import {rfc3339} from './shadow-report.js'

// `opportunity_missing` from a shadow replay. The reference's shadow never emits it
// (learn-lifecycle §3.5) and §7.11 defines only the payload, so this port defines the signal:
// a rule's *opportunity* is its parent context — the rule's host — appearing in a compile-sized
// window (1 h). Historical rate = the rule's `observation.windows_with_opportunity /
// windows_observed` from compile; current rate = windows of the replay in which the host
// appears / windows of the replay that hold any timestamped record. When the current rate falls
// below historical × `opportunity_health.missing_alert_threshold`, the rule can no longer be
// confirmed from traffic: that is reported (never acted on — nothing is demoted).

export const OPPORTUNITY_WINDOW_NS = BigInt(DEFAULT_WINDOW_SECONDS) * 1_000_000_000n

export interface OpportunityObservation {
  /** Window starts (ns) holding any timestamped replayed record. */
  windows: Set<bigint>
  /** Lower-case host → window starts in which it appears. */
  hostWindows: Map<string, Set<bigint>>
}

export interface OpportunityFinding {
  ruleId: string
  parentContext: string
  /** Decimal strings with two places (floats are never signed). */
  historicalRate: string
  currentRate: string
  /** `<first window start>/<last window end>` in RFC 3339 UTC. */
  window: string
}

/** The parent context of a record's URL: its host, lower-cased, one trailing dot stripped. */
export function opportunityHost(url: string): string | undefined {
  if (url === '') return undefined
  const p = parseHttpUrl(url)
  if (p === undefined || p.hostname === '') return undefined
  let h = p.hostname.toLowerCase()
  if (h.endsWith('.')) h = h.slice(0, -1)
  return h
}

/**
 * Folds one replayed record into the observation. `host`: `opportunityHost(r.url)`, given when
 * the caller remembered it for this URL.
 */
export function addOpportunity(obs: OpportunityObservation, r: ReplayedRecord, windowNs: bigint = OPPORTUNITY_WINDOW_NS, host: string | undefined = opportunityHost(r.url)): void {
  if (r.observedAtNs === undefined) return
  const w = r.observedAtNs - (r.observedAtNs % windowNs)
  obs.windows.add(w)
  if (host === undefined) return
  let set = obs.hostWindows.get(host)
  if (set === undefined) obs.hostWindows.set(host, (set = new Set()))
  set.add(w)
}

export function observeOpportunity(records: readonly ReplayedRecord[], windowNs: bigint = OPPORTUNITY_WINDOW_NS): OpportunityObservation {
  const obs: OpportunityObservation = {windows: new Set(), hostWindows: new Map()}
  for (const r of records) addOpportunity(obs, r, windowNs)
  return obs
}

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v instanceof Map ? v : undefined
}

function int(v: JsonValue | undefined): number | undefined {
  return v instanceof JsonNumber && /^\d{1,15}$/.test(v.text) ? Number(v.text) : undefined
}

const DECIMAL = /^\d+(\.\d+)?$/

/**
 * What `findOpportunityMissing` reads of one rule, read once before the replay so the decoded
 * contract tree need not be kept for it (bench: shadow, memory).
 */
export interface OpportunityRule {
  readonly ruleId: string
  /** The rule's host, trimmed, lower-cased, one trailing dot stripped. */
  readonly host: string
  /** `windows_with_opportunity / windows_observed`, at most 1. */
  readonly historical: number
  /** `opportunity_health.missing_alert_threshold` as a number. */
  readonly threshold: number
}

/** The enforce/capture_only HTTP rules that carry an opportunity history, in contract order. */
export function opportunityRules(body: JsonObject): OpportunityRule[] {
  const rules = body.get('rules')
  const out: OpportunityRule[] = []
  for (const rule of Array.isArray(rules) ? rules : []) {
    const r = rule instanceof Map ? opportunityRule(rule) : undefined
    if (r !== undefined) out.push(r)
  }
  return out
}

/**
 * One rule's opportunity history, or undefined when it has none to compare (see
 * `opportunityRules`). Its strings may be slices of the contract text: what is kept is copied
 * (`OpportunityTableBuilder`).
 */
export function opportunityRule(rule: JsonObject): OpportunityRule | undefined {
  const state = rule.get('lifecycle_state')
  if (state !== 'enforce' && state !== 'capture_only') return undefined
  const kind = rule.get('rule_kind')
  if (kind !== 'http_destination' && kind !== 'http_action') return undefined
  const hostValue = obj(obj(rule.get('selector'))?.get('host'))?.get('value')
  const threshold = obj(rule.get('opportunity_health'))?.get('missing_alert_threshold')
  const observation = obj(rule.get('observation'))
  const seen = int(observation?.get('windows_observed'))
  const withOpportunity = int(observation?.get('windows_with_opportunity'))
  if (typeof hostValue !== 'string' || typeof threshold !== 'string' || !DECIMAL.test(threshold)) return undefined
  if (seen === undefined || seen === 0 || withOpportunity === undefined) return undefined
  return {
    ruleId: String(rule.get('rule_id') ?? ''),
    host: hostValue.trim().toLowerCase().replace(/\.$/, ''),
    historical: Math.min(1, withOpportunity / seen),
    threshold: Number(threshold),
  }
}

/**
 * The opportunity histories of a contract's rules (`opportunityRule`), in contract order, as typed
 * arrays and one table of distinct hosts. A replay holds them from the contract's load to its
 * report: as objects, a 158,778-rule contract's took about 43 MB of the replay's heap (an object,
 * a rule id and a host string each; bench: shadow, 300k records), in this form about 12. Plain
 * data: the contract worker's structured clone copies the arrays whole (shadow-contract-thread.ts).
 */
export interface OpportunityTable {
  readonly size: number
  /** The rule ids' UTF-8 bytes one after another: rule i's end at `idEnds[i]`, its start at the end before. */
  readonly ids: Uint8Array
  readonly idEnds: Uint32Array
  /** Distinct hosts; rule i's is `hosts[hostOf[i]]`. */
  readonly hosts: string[]
  readonly hostOf: Uint32Array
  readonly historical: Float64Array
  readonly threshold: Float64Array
}

/** Builds an `OpportunityTable` one rule at a time (`add` skips a rule without a history). */
export class OpportunityTableBuilder {
  private size = 0
  private ids = Buffer.alloc(1 << 12)
  private idBytes = 0
  private idEnds = new Uint32Array(256)
  private hostOf = new Uint32Array(256)
  private historical = new Float64Array(256)
  private threshold = new Float64Array(256)
  private readonly hosts: string[] = []
  private readonly hostIndex = new Map<string, number>()

  add(rule: JsonObject): void {
    const r = opportunityRule(rule)
    if (r === undefined) return
    const n = this.size + 1
    this.idEnds = grown(this.idEnds, n)
    this.hostOf = grown(this.hostOf, n)
    this.historical = grown(this.historical, n)
    this.threshold = grown(this.threshold, n)
    this.ids = grownBuffer(this.ids, this.idBytes, this.idBytes + Buffer.byteLength(r.ruleId))
    this.idBytes += this.ids.write(r.ruleId, this.idBytes, 'utf8')
    let h = this.hostIndex.get(r.host)
    if (h === undefined) {
      h = this.hosts.length
      // a copy, not a slice of the contract text (which a slice would keep alive)
      const host = copyString(r.host)
      this.hosts.push(host)
      this.hostIndex.set(host, h)
    }
    const i = this.size++
    this.idEnds[i] = this.idBytes
    this.hostOf[i] = h
    this.historical[i] = r.historical
    this.threshold[i] = r.threshold
  }

  /** The table, its arrays cut to their length (plain typed arrays: a Buffer's class is not kept by a structured clone). */
  finish(): OpportunityTable {
    const n = this.size
    const ids = new Uint8Array(this.idBytes)
    ids.set(this.ids.subarray(0, this.idBytes))
    return {
      size: n,
      ids,
      idEnds: this.idEnds.slice(0, n),
      hosts: this.hosts,
      hostOf: this.hostOf.slice(0, n),
      historical: this.historical.slice(0, n),
      threshold: this.threshold.slice(0, n),
    }
  }
}

/** `opportunityRules(body)` as an `OpportunityTable`. */
export function opportunityTable(body: JsonObject): OpportunityTable {
  const b = new OpportunityTableBuilder()
  const rules = body.get('rules')
  for (const rule of Array.isArray(rules) ? rules : []) if (rule instanceof Map) b.add(rule)
  return b.finish()
}

/** The rules of an `OpportunityTable`, in contract order. */
export function* opportunityTableRules(t: OpportunityTable): Generator<OpportunityRule> {
  const ids = Buffer.from(t.ids.buffer, t.ids.byteOffset, t.ids.length)
  for (let i = 0, start = 0; i < t.size; i++) {
    const end = t.idEnds[i]!
    yield {ruleId: ids.toString('utf8', start, end), host: t.hosts[t.hostOf[i]!]!, historical: t.historical[i]!, threshold: t.threshold[i]!}
    start = end
  }
}

/** Rules whose parent context was seen too rarely in the replay (see the header comment). */
export function findOpportunityMissing(rules: JsonObject | OpportunityTable, obs: OpportunityObservation, windowNs: bigint = OPPORTUNITY_WINDOW_NS): OpportunityFinding[] {
  if (obs.windows.size === 0) return [] // no timestamped traffic: nothing to compare
  const starts = [...obs.windows].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const window = `${rfc3339(starts[0] as bigint)}/${rfc3339((starts[starts.length - 1] as bigint) + windowNs)}`
  const out: OpportunityFinding[] = []
  for (const r of rules instanceof Map ? opportunityRules(rules) : opportunityTableRules(rules)) {
    const current = (obs.hostWindows.get(r.host)?.size ?? 0) / obs.windows.size
    if (current >= r.historical * r.threshold) continue
    out.push({ruleId: r.ruleId, parentContext: r.host, historicalRate: r.historical.toFixed(2), currentRate: current.toFixed(2), window})
  }
  return out
}
