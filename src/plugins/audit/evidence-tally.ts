import type {EvidenceCounts} from './evidence-types.js'

// Counters kept while walking evidence: decisions by verdict and transport, v2 receipts by
// payload kind.

export class Tally {
  private readonly verdicts = new Map<string, number>()
  private readonly transports = new Map<string, number>()
  private readonly kinds = new Map<string, number>()
  v2Count = 0

  decision(verdict: string, transport: string): void {
    bump(this.verdicts, verdict)
    bump(this.transports, transport)
  }

  payloadKind(kind: string): void {
    this.v2Count++
    bump(this.kinds, kind)
  }

  counts(): EvidenceCounts {
    return {byVerdict: sorted(this.verdicts), byTransport: sorted(this.transports), byPayloadKind: sorted(this.kinds)}
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
