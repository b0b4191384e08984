// The checks `audit packet verify` runs, in order, and what each one covers: the verdict lists
// every one of them with its status, so that an operator sees exactly what PACKET VALID rests on.

export const PACKET_CHECKS = {
  schema: 'packet.json has the v0 shape and keeps the format invariants',
  files: 'the directory holds packet.json, summary.md, evidence.jsonl and verifier.txt, each a regular file, and nothing else',
  evidence: 'evidence.jsonl verifies again with the recorded verdict, receipt count, root hash, signer and derived fields',
  evidence_whole: 'evidence.jsonl ends with a whole line and is the file the packet was built over (packet_id is its SHA-256)',
  summary: 'summary.md is what build renders from packet.json and evidence.jsonl',
  verifier_output: 'verifier.txt is what build renders from evidence.jsonl',
} as const

export type PacketCheckName = keyof typeof PACKET_CHECKS

export interface PacketCheck {
  check: PacketCheckName
  status: 'passed' | 'failed' | 'not_run'
  /** What a pass proves. */
  covers: string
  /** Why it did not run. */
  reason?: string
}

/** Problems of one packet, filed under the check that found them. */
export class PacketFindings {
  readonly problems: string[] = []
  private readonly failed = new Set<PacketCheckName>()
  private readonly ran = new Set<PacketCheckName>()
  private readonly skipped = new Map<PacketCheckName, string>()

  fail(check: PacketCheckName, problem: string): void {
    this.ran.add(check)
    this.failed.add(check)
    this.problems.push(problem)
  }

  /** The cause of every other problem: listed first. */
  failFirst(check: PacketCheckName, problem: string): void {
    this.fail(check, problem)
    this.problems.unshift(this.problems.pop() as string)
  }

  run(check: PacketCheckName): void {
    this.ran.add(check)
  }

  skip(check: PacketCheckName, reason: string): void {
    if (!this.ran.has(check)) this.skipped.set(check, reason)
  }

  checks(): PacketCheck[] {
    return (Object.keys(PACKET_CHECKS) as PacketCheckName[]).map((check) => {
      const covers = PACKET_CHECKS[check]
      if (this.failed.has(check)) return {check, status: 'failed', covers}
      if (this.ran.has(check)) return {check, status: 'passed', covers}
      return {check, status: 'not_run', covers, reason: this.skipped.get(check) ?? 'an earlier check failed'}
    })
  }
}
