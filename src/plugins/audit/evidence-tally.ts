import type {EvidenceCounts, Position} from './evidence-types.js'

// Counters kept while walking evidence: decisions by verdict and transport, v2 receipts by
// payload kind, and the file/line of every v1 receipt in two typed arrays (a failure found by
// the chain verifier names a receipt index; this turns it into a place an auditor can open).

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

export class ActionPositions {
  private files: string[] = []
  private fileIndex = new Uint16Array(1024)
  private lines = new Uint32Array(1024)
  private n = 0

  push(at: Position): void {
    if (this.n === this.lines.length) {
      const f = new Uint16Array(this.n * 2)
      f.set(this.fileIndex)
      this.fileIndex = f
      const l = new Uint32Array(this.n * 2)
      l.set(this.lines)
      this.lines = l
    }
    if (this.files[this.files.length - 1] !== at.file) this.files.push(at.file)
    this.fileIndex[this.n] = this.files.length - 1
    this.lines[this.n] = at.line
    this.n++
  }

  at(index: number): Position | undefined {
    if (index < 0 || index >= this.n) return undefined
    return {file: this.files[this.fileIndex[index] as number] as string, line: this.lines[index] as number}
  }
}
