/**
 * Reading `<flight_recorder.dir>/config-state.json`, the running policy `pipelock run` saves after
 * every applied change (policy-change.ts writes it whole, atomically). The file outlives the
 * proxy and sits in a directory an operator may copy, restore or edit, so what is read back is
 * checked field by field: a state of another shape is `damaged` (named, never used), not a value
 * whose missing fields crash the start-up or `pipelock check`.
 */
import {readFileSync} from 'node:fs'

export interface ConfigState {
  readonly file_sha256: string
  readonly policy_hash: string
  readonly effective: unknown
  /** The config file the state was loaded from (`pipelock check` compares only the same file). */
  readonly config_path?: string
  /** Set while the file on disk was refused by a reload: the running policy is not the file's. */
  readonly drift?: ConfigDrift
  /**
   * Fields of the file in force (`file_sha256`) whose running value a reload kept (restart-only,
   * or a switch that failed): the running proxy is not this file's until a restart.
   */
  readonly restart_pending?: readonly string[]
}

/** The file on disk differs from the running policy because a reload refused it. */
export interface ConfigDrift {
  /** SHA-256 of the refused file. */
  readonly file_sha256: string
  /** SHA-256 of the file the running policy was loaded from. */
  readonly running_file_sha256: string
  readonly reason: string
  readonly since: string
}

export type ConfigStateRead =
  | {readonly kind: 'absent'}
  | {readonly kind: 'state'; readonly state: ConfigState}
  | {readonly kind: 'damaged'; readonly why: string}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Why `v` is not a saved state, or undefined when it is one. */
function shapeProblem(v: unknown): string | undefined {
  if (!isObject(v)) return 'not a JSON object'
  for (const k of ['file_sha256', 'policy_hash'] as const) if (typeof v[k] !== 'string') return `${k} is not a string`
  if (!('effective' in v)) return 'effective is missing'
  if (v.config_path !== undefined && typeof v.config_path !== 'string') return 'config_path is not a string'
  if (v.drift !== undefined && !(isObject(v.drift) && (['file_sha256', 'running_file_sha256', 'reason', 'since'] as const).every((k) => typeof (v.drift as Record<string, unknown>)[k] === 'string'))) return 'drift is not a drift record'
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
  return problem === undefined ? {kind: 'state', state: v as ConfigState} : {kind: 'damaged', why: problem}
}
