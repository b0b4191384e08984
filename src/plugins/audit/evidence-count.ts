import type {EvidenceCounts} from './evidence-types.js'

// The one definition of what an evidence set counts (docs/receipts.md, "What is counted").
// `verify-receipt`, `audit report` and `audit packet build` all read their numbers from here,
// so the three never tell two stories about the same directory.
//
// Every receipt falls in exactly one class:
//   decision           an ActionReceipt v1 for a request, response or MCP message the gate decided
//   contract_decision  an EvidenceReceipt v2 proxy_decision: the contract's (or an exception's)
//                      view of a decision that `pipelock run` also signs as a v1 receipt — the
//                      same decision, not a second one
//   airlock            a v1 receipt of a session's airlock tier change (transport `airlock`)
//   session_control    a v1 session_open / heartbeat / session_close receipt (process runs)
//   config_change      a v2 config_change receipt (a reload, an exception grant)
//   lifecycle          any other v2 receipt (ratify, promote, rollback, shadow_delta, drift, …)
//
// Decisions are the `decision` receipts. Only evidence that holds no v1 decision at all (a file
// of bare v2 receipts) counts its proxy_decision receipts as the decisions instead.

export const RECEIPT_CLASSES = ['decision', 'contract_decision', 'airlock', 'session_control', 'config_change', 'lifecycle'] as const
export type ReceiptClass = (typeof RECEIPT_CLASSES)[number]

/** What the classification needs of a receipt (a ReceiptFact has it all). */
export interface CountedReceipt {
  version: 1 | 2
  /** v1 action_type, v2 payload_kind. */
  kind: string
  /** v1 session_control receipt. */
  control: boolean
  transport?: string
  verdict?: string
}

export function receiptClass(r: CountedReceipt): ReceiptClass {
  if (r.version === 1) return r.control ? 'session_control' : r.transport === 'airlock' ? 'airlock' : 'decision'
  if (r.kind === 'proxy_decision') return 'contract_decision'
  if (r.kind === 'config_change') return 'config_change'
  return 'lifecycle'
}

/** Which receipts the decisions were counted from. */
export type DecisionSource = EvidenceCounts['decisionSource']

export function decisionSourceOf(byClass: Record<ReceiptClass, number>): DecisionSource {
  return byClass.decision > 0 ? 'action_receipts' : byClass.contract_decision > 0 ? 'proxy_decision_receipts' : 'none'
}

/** True when a receipt of this class is one of the counted decisions under `source`. */
export function isCountedDecision(cls: ReceiptClass, source: DecisionSource): boolean {
  return (cls === 'decision' && source === 'action_receipts') || (cls === 'contract_decision' && source === 'proxy_decision_receipts')
}

/**
 * Per-decision details a consumer gathers while the evidence streams by (hosts, blocks, layers):
 * one collection for v1 decisions and one for v2 proxy_decisions; `pick` returns the one the
 * counted decisions came from, once the whole input has been read.
 */
export class DecisionSplit<T> {
  readonly v1: T
  readonly v2: T
  constructor(make: () => T) {
    this.v1 = make()
    this.v2 = make()
  }

  /** The collection for this receipt, or undefined when it can never be a counted decision. */
  for(cls: ReceiptClass): T | undefined {
    return cls === 'decision' ? this.v1 : cls === 'contract_decision' ? this.v2 : undefined
  }

  pick(source: DecisionSource): T {
    return source === 'proxy_decision_receipts' ? this.v2 : this.v1
  }
}

/** Counters kept while walking evidence (flat memory: a few small maps). */
export class EvidenceCounter {
  private readonly classes = Object.fromEntries(RECEIPT_CLASSES.map((c) => [c, 0])) as Record<ReceiptClass, number>
  private readonly verdicts = new DecisionSplit(() => new Map<string, number>())
  private readonly transports = new DecisionSplit(() => new Map<string, number>())
  private readonly kinds = new Map<string, number>()
  v2Count = 0

  /** Counts one receipt; returns its class. */
  add(r: CountedReceipt): ReceiptClass {
    const cls = receiptClass(r)
    this.classes[cls]++
    if (r.version === 2) {
      this.v2Count++
      bump(this.kinds, r.kind)
    }
    const v = this.verdicts.for(cls)
    if (v !== undefined) {
      bump(v, r.verdict ?? '')
      bump(this.transports.for(cls) as Map<string, number>, r.transport ?? '')
    }
    return cls
  }

  counts(): EvidenceCounts {
    const source = decisionSourceOf(this.classes)
    const byVerdict = sorted(this.verdicts.pick(source))
    return {
      receipts: RECEIPT_CLASSES.reduce((s, c) => s + this.classes[c], 0),
      decisions: Object.values(byVerdict).reduce((s, n) => s + n, 0),
      decisionSource: source,
      byClass: {...this.classes},
      byVerdict,
      byTransport: sorted(this.transports.pick(source)),
      byPayloadKind: sorted(this.kinds),
    }
  }
}

export function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1)
}

/** A count map as a record with keys in sorted order (stable JSON). */
export function sorted(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of [...m.keys()].sort()) out[k] = m.get(k) as number
  return out
}

/** One line naming every class with a count: `59 decisions, 14 session control, …`. */
export function describeCounts(c: EvidenceCounts): string {
  const names: Record<ReceiptClass, string> = {
    decision: 'decisions',
    contract_decision: 'contract views of decisions (proxy_decision)',
    airlock: 'airlock changes',
    session_control: 'session control',
    config_change: 'config changes',
    lifecycle: 'lifecycle',
  }
  const parts: string[] = []
  for (const cls of RECEIPT_CLASSES) {
    const n = c.byClass[cls]
    if (n === 0) continue
    if (cls === 'contract_decision' && c.decisionSource === 'proxy_decision_receipts') parts.push(`${n} decisions (proxy_decision)`)
    else parts.push(`${n} ${names[cls]}`)
  }
  return parts.join(', ')
}
