import {closeSync, openSync, readSync} from 'node:fs'
import {createHash} from 'node:crypto'

// What binds evidence.jsonl to its packet: `build` names the packet after the SHA-256 of the
// evidence.jsonl it wrote (packet_id `ap-` and its first 16 hex digits) and writes whole lines
// only, so the file ends with a newline. A last line cut off — torn mid-line, or removed at a
// newline, which leaves a chain that still verifies (a final checkpoint carries no receipt) —
// changes the digest. packet.json is not signed: the binding proves the evidence is the one
// packet.json describes; pin packet_id elsewhere to prove packet.json is the one you were given.

const CHUNK = 1 << 20

export interface EvidenceDigest {
  /** SHA-256 of the file, hex. */
  sha256: string
  bytes: number
  /** The file is empty or ends with a newline. */
  wholeLines: boolean
}

export function evidenceDigest(file: string): EvidenceDigest {
  const hash = createHash('sha256')
  const buf = Buffer.allocUnsafe(CHUNK)
  let bytes = 0
  let last = -1
  const fd = openSync(file, 'r')
  try {
    for (let n = readSync(fd, buf, 0, CHUNK, null); n > 0; n = readSync(fd, buf, 0, CHUNK, null)) {
      hash.update(buf.subarray(0, n))
      bytes += n
      last = buf[n - 1] as number
    }
  } finally {
    closeSync(fd)
  }
  return {sha256: hash.digest('hex'), bytes, wholeLines: bytes === 0 || last === 0x0a}
}

/** The packet_id build gives the packet of this evidence.jsonl. */
export function packetIdOf(d: EvidenceDigest): string {
  return `ap-${d.sha256.slice(0, 16)}`
}

/** Why evidence.jsonl (named `shown`) is not the whole file the packet was built over; [] when it is. */
export function evidenceWholeProblems(shown: string, d: EvidenceDigest, packetId: string | undefined): string[] {
  const out: string[] = []
  if (!d.wholeLines) out.push(`${shown}: the last line is cut (no newline after byte ${d.bytes}): a packet's evidence ends with a whole line`)
  const id = packetIdOf(d)
  if (packetId === undefined) out.push(`packet.json has no packet_id: nothing binds ${shown} to the packet (build writes ${id} for this file)`)
  else if (packetId !== id) out.push(`${shown} gives packet_id ${id}, packet.json records ${packetId}: it is not the ${shown} the packet was built over (cut, extended or edited)`)
  return out
}
