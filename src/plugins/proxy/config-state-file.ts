/**
 * Reading `<flight_recorder.dir>/config-state.json`, the running policy `pipelock run` saves after
 * every applied change (policy-change.ts writes it whole, atomically). The file outlives the
 * proxy and sits in a directory an operator may copy, restore or edit, so what is read back is
 * checked field by field: a state of another shape is `damaged` (named, never used), not a value
 * whose missing fields crash the start-up or `pipelock check`.
 */
import {readFileSync} from 'node:fs'

/** The drift and restart fields as saved; only their types are checked here. */
export interface SavedConfigState {
  readonly file_sha256: string
  readonly policy_hash: string
  readonly effective: unknown
  readonly config_path?: string
  readonly drift?: {readonly file_sha256: string; readonly running_file_sha256?: string; readonly reason: string; readonly since?: string}
  readonly restart_pending?: readonly string[]
}

export type ConfigStateRead =
  | {readonly kind: 'absent'}
  | {readonly kind: 'state'; readonly state: SavedConfigState}
  | {readonly kind: 'damaged'; readonly why: string}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Why `v` is not a saved state, or undefined when it is one. */
function shapeProblem(v: unknown): string | undefined {
  if (!isObject(v)) return 'not a JSON object'
  for (const k of ['file_sha256', 'policy_hash'] as const) if (typeof v[k] !== 'string') return `${k} is not a string`
  if (!('effective' in v)) return 'effective is missing'
  if (v.config_path !== undefined && typeof v.config_path !== 'string') return 'config_path is not a string'
  if (v.drift !== undefined && !(isObject(v.drift) && typeof v.drift.file_sha256 === 'string' && typeof v.drift.reason === 'string')) return 'drift is not a drift record'
  if (v.restart_pending !== undefined && !(Array.isArray(v.restart_pending) && v.restart_pending.every((f) => typeof f === 'string'))) return 'restart_pending is not a list of field names'
  return undefined
}

/** The state file at `file`: absent (no file), a state, or damaged (unreadable, not JSON, another shape). */
export function readConfigState(file: string): ConfigStateRead {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {kind: 'absent'}
    return {kind: 'damaged', why: (e as Error).message}
  }
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return {kind: 'damaged', why: 'not JSON'}
  }
  const problem = shapeProblem(v)
  return problem === undefined ? {kind: 'state', state: v as SavedConfigState} : {kind: 'damaged', why: problem}
}
