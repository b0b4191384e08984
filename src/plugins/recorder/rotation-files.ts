import {readdir} from 'node:fs/promises'
import path from 'node:path'
import {endorsesBoundary, loadEndorsements, type RotationBoundary, type RotationEndorsement} from '../receipts/index.js'

// Rotation endorsements kept in a recorder directory as `rotation-<n>.json` (n = 1, 2, …), the
// files `signing rotation endorse` writes and a restarted `pipelock run` looks in for the one that
// authorises its key to continue the chain (receipts.md §6.6, §10).

const ROTATION_FILE = /^rotation-([1-9][0-9]{0,8})\.json$/

/** Whether a file name is one `pipelock run` looks for (`rotation-<n>.json`). */
export function isRotationFileName(name: string): boolean {
  return ROTATION_FILE.test(name)
}

/** The `rotation-<n>.json` files of `dir`, by n; none when the directory does not exist. */
export async function rotationFiles(dir: string): Promise<{file: string; n: number}[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  return names
    .map((name) => ({name, m: ROTATION_FILE.exec(name)}))
    .filter((x): x is {name: string; m: RegExpExecArray} => x.m !== null)
    .map((x) => ({file: path.join(dir, x.name), n: Number(x.m[1])}))
    .sort((a, b) => a.n - b.n)
}

/** One `rotation-<n>.json` read and verified: its endorsement, or why it is not one. */
export type RotationFileRead = {readonly file: string; readonly name: string} & ({readonly endorsement: RotationEndorsement} | {readonly error: Error})

/** Every `rotation-<n>.json` of `dir` (by n), each read and its signature verified. */
export async function readRotationFiles(dir: string): Promise<RotationFileRead[]> {
  const out: RotationFileRead[] = []
  for (const {file} of await rotationFiles(dir)) {
    const name = path.basename(file)
    try {
      const [endorsement] = (await loadEndorsements([file])) as [RotationEndorsement]
      out.push({file, name, endorsement})
    } catch (error) {
      out.push({file, name, error: error as Error})
    }
  }
  return out
}

/** `<dir>/rotation-<n>.json` with n one past the highest there. */
export async function nextRotationFile(dir: string): Promise<string> {
  const files = await rotationFiles(dir)
  return path.join(dir, `rotation-${(files.at(-1)?.n ?? 0) + 1}.json`)
}

export interface EndorsementSearch {
  /** The one verified endorsement that authorises the boundary. */
  match?: {file: string; endorsement: RotationEndorsement}
  /** Why each other file does not (file name: reason), for the refusal. */
  problems: string[]
}

/**
 * Reads and verifies every `rotation-<n>.json` of `dir` and finds the one that authorises
 * `boundary`. Endorsements of earlier boundaries are passed over; two that authorise this one
 * are refused (a verifier would refuse the pair as well).
 */
export async function findRotationEndorsement(dir: string, boundary: RotationBoundary): Promise<EndorsementSearch> {
  const problems: string[] = []
  const matches: {file: string; endorsement: RotationEndorsement}[] = []
  for (const r of await readRotationFiles(dir)) {
    if ('error' in r) problems.push(`${r.name}: ${r.error.message}`)
    else if (endorsesBoundary(r.endorsement, boundary)) matches.push({file: r.file, endorsement: r.endorsement})
    else problems.push(`${r.name}: ${mismatch(r.endorsement, boundary)}`)
  }
  if (matches.length > 1) {
    return {problems: [`${matches.map((m) => path.basename(m.file)).join(', ')} all authorise this boundary; keep one`, ...problems]}
  }
  return matches.length === 1 ? {match: matches[0], problems} : {problems}
}

const short = (hex: string): string => `${hex.slice(0, 16)}…`

/** The first field in which an endorsement and a boundary differ, said plainly. */
function mismatch(e: RotationEndorsement, b: RotationBoundary): string {
  if (e.sessionId !== b.sessionId) return `is for session ${JSON.stringify(e.sessionId)}, not ${JSON.stringify(b.sessionId)}`
  if (e.priorSignerKey !== b.priorSignerKey) return `retires key ${short(e.priorSignerKey)}, but the tail is signed by ${short(b.priorSignerKey)}`
  if (e.priorFinalSeq !== b.priorFinalSeq || e.priorTailHash !== b.priorTailHash) {
    return `ends the old segment at chain_seq ${e.priorFinalSeq} (hash ${short(e.priorTailHash)}), but the tail is chain_seq ${b.priorFinalSeq} (hash ${short(b.priorTailHash)})`
  }
  return `authorises key ${short(e.newSignerKey)}, not this key ${short(b.newSignerKey)}`
}
