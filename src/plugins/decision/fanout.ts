/**
 * The one evidence fan-out: every transport, HTTP and MCP, hands its Decision to a
 * `DecisionFanout`, which gives it, unchanged, to each sink — the audit log, metrics, the flight
 * recorder (receipts), capture, the event emitters (through the audit log's tap) and, for the
 * MCP wrap, its stderr lines. Each sink kind is one class that reads both subjects. The record
 * step runs before the answer is released, so a block can name the receipt that recorded it.
 */
import type {AirlockEvidence, Decision} from './decision.js'

/**
 * Every consumer of decisions implements this. The flight recorder returns the id of the signed
 * receipt it wrote, so a block can name it.
 */
export interface DecisionSink {
  // A property, not a method: its parameter is checked strictly, so a sink written for one
  // subject only (`record(d: RequestDecision)`) does not compile — every sink reads both.
  record: (decision: Decision) => string | void
  /** Sinks that keep evidence (the flight recorder) also record airlock tier changes. */
  recordAirlock?(change: AirlockEvidence): void
  /** True for a sink that writes a request's method overrides (capture): the gate reads them only then, or for a contract. */
  readonly readsMethodOverrides?: boolean
}

/** Fans one decision out to several sinks; a failing sink never affects the others or the request. */
export class DecisionFanout implements DecisionSink {
  constructor(private readonly sinks: DecisionSink[]) {}
  add(sink: DecisionSink): void {
    this.sinks.push(sink)
  }
  /** Whether one of the sinks writes a request's method overrides. */
  get readsMethodOverrides(): boolean {
    return this.sinks.some((s) => s.readsMethodOverrides === true)
  }
  /** Records in every sink; returns the receipt id one of them wrote, if any. */
  record(decision: Decision): string | undefined {
    let receipt: string | undefined
    for (const s of this.sinks) {
      try {
        const id = s.record(decision)
        if (typeof id === 'string' && receipt === undefined) receipt = id
      } catch {
        // A sink bug must not break the request or message path.
      }
    }
    return receipt
  }
  recordAirlock(change: AirlockEvidence): void {
    for (const s of this.sinks) {
      try {
        s.recordAirlock?.(change)
      } catch {
        // A sink bug must not break the transition.
      }
    }
  }
}
