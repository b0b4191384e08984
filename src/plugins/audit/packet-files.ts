import {existsSync, lstatSync, readdirSync, type Dirent} from 'node:fs'
import path from 'node:path'
import type {AuditPacket} from './packet-schema.js'

// The files of an audit packet directory: the four `build` writes, under these names, and
// nothing else. `verify` refuses anything more (a file, a subdirectory, a symbolic link), so
// that nothing placed beside the evidence passes as part of what was verified.

export const PACKET_ARTIFACTS = {packet: 'packet.json', summary: 'summary.md', evidence: 'evidence.jsonl', verifier: 'verifier.txt'} as const

const WRITTEN: ReadonlySet<string> = new Set(Object.values(PACKET_ARTIFACTS))

/** Every way DIR differs from the directory build writes; [] when it holds exactly the four files. */
export function packetFileProblems(dir: string, artifacts: AuditPacket['artifacts']): string[] {
  const out: string[] = []
  for (const [name, expected] of Object.entries(PACKET_ARTIFACTS)) {
    const recorded = (artifacts as Record<string, string | undefined>)[name]
    if (recorded === expected) continue
    // One problem, said once: the path recorded, whether anything is there, and build's own name.
    const there = recorded === undefined ? '' : existsSync(path.join(dir, recorded)) ? '' : ', which does not exist'
    out.push(`packet.json artifacts.${name} is ${recorded === undefined ? 'absent' : JSON.stringify(recorded)}${there}: build writes ${expected}`)
  }
  const entries = readdirSync(dir, {withFileTypes: true}).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const e of entries) {
    if (!WRITTEN.has(e.name)) out.push(`${e.name}: ${kind(e)} that audit packet build does not write: a packet holds ${[...WRITTEN].join(', ')} and nothing else`)
  }
  for (const name of WRITTEN) {
    const st = lstatSync(path.join(dir, name), {throwIfNoEntry: false})
    if (st === undefined) out.push(`${name} is missing`)
    else if (!st.isFile()) out.push(`${name} is ${st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a regular file'}, not the regular file build writes`)
  }
  return out
}

function kind(e: Dirent): string {
  return e.isSymbolicLink() ? 'a symbolic link' : e.isDirectory() ? 'a directory' : e.isFile() ? 'a file' : 'an entry'
}
