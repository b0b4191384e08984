/**
 * Auditable policy changes (operations.md §8.2, beyond the reference): every effective change —
 * a hot reload (file watch or SIGHUP), or a start with a config different from the last run's —
 * writes a `config_change` audit event (warn) with the structural diff of the effective policy,
 * the file and policy hashes before and after, and, when given, the operator and justification.
 *
 * Where the operator's word comes from: `<config>.change` (JSON `{operator, justification,
 * change_id, file_sha256}`, written before signalling or restarting; used only when `file_sha256`
 * names the file just loaded, then renamed `<config>.change.applied`), or `run --change-note`
 * (justification of the start-up record). The last applied state lives in
 * `<flight_recorder.dir>/config-state.json` (0600), so an edit made while stopped is diffed at the
 * next start; without the flight recorder only reloads are recorded.
 */
import {createHash} from 'node:crypto'
import {readFileSync, renameSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {changesSha256, diffPolicyViews, policyView, type LoadedConfig, type PolicyChange, type PolicyDiff} from '../config/index.js'
import type {AuditLog} from './audit-log.js'
import type {ExceptionChange} from './exception-store.js'

/** `api`: an exception granted or revoked through the admin API (policy-api.ts). */
export type ChangeTrigger = 'startup' | 'sighup' | 'file_watch' | 'api'

export interface ChangeNote {
  readonly operator?: string
  readonly justification?: string
  readonly change_id?: string
}

export interface ConfigState {
  readonly file_sha256: string
  readonly policy_hash: string
  readonly effective: unknown
}

const MAX_JUSTIFICATION = 4096
/** A note sent through the admin API waits this long for the change it describes. */
export const PENDING_NOTE_TTL_MS = 15 * 60_000

/** SHA-256 hex of the config file's bytes, `none` without a file. */
export function fileSha256(file: string | undefined): string {
  if (file === undefined) return 'none'
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex')
  } catch {
    return 'none'
  }
}

export interface PolicyChangeOptions {
  readonly audit: () => AuditLog
  readonly stderr: (line: string) => void
  /** `flight_recorder.dir` when the recorder is on: where the last applied state is kept. */
  readonly stateDir?: string
  /** `run --change-note`: the justification of the start-up record. */
  readonly cliNote?: string
  /** The flight recorder's signed `config_change` receipt (EvidenceReceipt v2), when it signs. */
  readonly receipt?: (payload: Record<string, unknown>, actor: string) => boolean
  /** Clock for the admin API's pending note (default: the system clock). */
  readonly nowMs?: () => number
}

export class PolicyChangeLog {
  private current: ConfigState | undefined
  private configPath: string | undefined
  /** The admin API's note for the next effective change (policy-api.ts), until it lapses. */
  private pending: {readonly note: ChangeNote; readonly untilMs: number} | undefined

  constructor(private readonly opts: PolicyChangeOptions) {}

  private statePath(): string | undefined {
    return this.opts.stateDir === undefined ? undefined : path.join(this.opts.stateDir, 'config-state.json')
  }

  private stateOf(l: LoadedConfig): ConfigState {
    return {file_sha256: fileSha256(l.path), policy_hash: l.hash, effective: policyView(l.config)}
  }

  private save(s: ConfigState): void {
    this.current = s
    const p = this.statePath()
    if (p === undefined) return
    try {
      writeFileSync(p, JSON.stringify(s) + '\n', {mode: 0o600})
    } catch (e) {
      this.opts.stderr(`WARNING: config change: cannot write ${p}: ${(e as Error).message}`)
    }
  }

  /** The operator's note for the file just loaded (consumed), or undefined. */
  private note(l: LoadedConfig, sha: string, cli?: string): ChangeNote | undefined {
    let fromFile: ChangeNote | undefined
    if (l.path !== undefined) {
      const file = `${l.path}.change`
      let text: string | undefined
      try {
        text = readFileSync(file, 'utf8')
      } catch {
        text = undefined
      }
      if (text !== undefined) {
        try {
          const n = JSON.parse(text) as Record<string, unknown>
          if (n.file_sha256 !== sha) this.opts.stderr('WARNING: config change note does not match the loaded file; ignoring')
          else {
            fromFile = {
              ...(typeof n.operator === 'string' ? {operator: n.operator} : {}),
              ...(typeof n.justification === 'string' ? {justification: n.justification.slice(0, MAX_JUSTIFICATION)} : {}),
              ...(typeof n.change_id === 'string' ? {change_id: n.change_id} : {}),
            }
            renameSync(file, `${file}.applied`)
          }
        } catch (e) {
          this.opts.stderr(`WARNING: config change note ${file}: ${(e as Error).message}; ignoring`)
        }
      }
    }
    if (cli !== undefined && cli !== '') return {...fromFile, justification: cli.slice(0, MAX_JUSTIFICATION)}
    return fromFile
  }

  private write(trigger: ChangeTrigger, outcome: 'applied' | 'rejected', configPath: string | undefined, prior: ConfigState | undefined, next: ConfigState, diff: PolicyDiff, extra: Record<string, unknown>): void {
    this.opts.audit().event('warn', 'config_change', `policy ${outcome} (${trigger}): ${diff.total} change(s)`, {
      trigger, outcome, config_path: configPath ?? '',
      prior_file_sha256: prior?.file_sha256 ?? 'none', new_file_sha256: next.file_sha256,
      prior_policy_hash: prior?.policy_hash ?? 'none', new_policy_hash: next.policy_hash,
      changes: diff.changes, ...(diff.truncated ? {truncated: true} : {}), ...extra,
    })
    const note = extra as ChangeNote & {reject_reason?: string}
    this.opts.receipt?.({
      trigger, outcome, config_path: configPath ?? 'defaults',
      prior_file_sha256: prior?.file_sha256 ?? 'none', new_file_sha256: next.file_sha256,
      prior_policy_hash: prior?.policy_hash ?? 'none', new_policy_hash: next.policy_hash,
      changes_sha256: diff.sha256,
      ...(diff.paths.length > 0 ? {changed_paths: [...diff.paths]} : {}),
      ...(note.operator ? {operator: note.operator} : {}),
      ...(note.change_id ? {change_id: note.change_id} : {}),
      ...(note.justification ? {justification_sha256: createHash('sha256').update(note.justification, 'utf8').digest('hex')} : {}),
      ...(note.reject_reason ? {reject_reason: note.reject_reason} : {}),
    }, note.operator || 'pipelock')
  }

  private now(): number {
    return this.opts.nowMs?.() ?? Date.now()
  }

  /** Holds an operator's note (admin API) for the next reload that changes the policy. */
  pendingNote(note: ChangeNote): {expires_at: string} {
    const untilMs = this.now() + PENDING_NOTE_TTL_MS
    this.pending = {note, untilMs}
    return {expires_at: new Date(untilMs).toISOString().replace(/\.\d{3}Z$/, 'Z')}
  }

  /** The pending API note, used once; a lapsed one is dropped. */
  private takePending(): ChangeNote | undefined {
    const p = this.pending
    this.pending = undefined
    return p !== undefined && p.untilMs > this.now() ? p.note : undefined
  }

  /**
   * An exception granted or revoked (admin API): a `config_change` with trigger `api`, one
   * `exceptions.<id>` entry (add/remove of its scope), the operator, the exception id as
   * `change_id` and the grant's reason as justification. The config file and its policy hash are
   * unchanged by an exception, so both hashes name the config in force.
   */
  exception(c: ExceptionChange): void {
    const cur = this.current
    if (cur === undefined) return
    const e = c.exception
    const scope = {
      host: e.host, ...(e.path !== undefined ? {path: e.path} : {}), ...(e.pattern !== undefined ? {pattern: e.pattern} : {}), ...(e.agent !== undefined ? {agent: e.agent} : {}),
      uses: e.uses, uses_left: e.uses_left, expires_at: e.expires_at, granted_by: e.granted_by,
    }
    const entry: PolicyChange = c.action === 'grant' ? {path: `exceptions.${e.id}`, op: 'add', new: scope} : {path: `exceptions.${e.id}`, op: 'remove', old: scope}
    const diff: PolicyDiff = {changes: [entry], truncated: false, total: 1, sha256: changesSha256([entry]), paths: ['exceptions']}
    this.write('api', 'applied', this.configPath, cur, cur, diff, {
      operator: c.operator, change_id: e.id, justification: c.action === 'grant' ? e.reason : `revoked exception ${e.id}`,
    })
  }

  /** At start-up: a record only when a stored state exists and the policy differs (edit made while stopped). */
  startup(l: LoadedConfig): void {
    const p = this.statePath()
    let prior: ConfigState | undefined
    if (p !== undefined) {
      try {
        prior = JSON.parse(readFileSync(p, 'utf8')) as ConfigState
      } catch {
        prior = undefined
      }
    }
    const next = this.stateOf(l)
    this.configPath = l.path
    if (prior !== undefined && prior.policy_hash !== next.policy_hash) {
      const note = this.note(l, next.file_sha256, this.opts.cliNote)
      this.write('startup', 'applied', l.path, prior, next, diffPolicyViews(prior.effective, next.effective), {...note})
    }
    this.save(next)
  }

  /** A reload that took effect. */
  applied(trigger: 'sighup' | 'file_watch', l: LoadedConfig, downgrades: readonly string[]): void {
    const prior = this.current
    const next = this.stateOf(l)
    if (prior !== undefined && prior.policy_hash === next.policy_hash) return
    const note = this.note(l, next.file_sha256) ?? this.takePending()
    this.write(trigger, 'applied', l.path, prior, next, diffPolicyViews(prior?.effective ?? {}, next.effective), {
      ...(downgrades.length > 0 ? {downgrades: [...downgrades]} : {}), ...note,
    })
    this.save(next)
  }

  /** A reload refused (downgrade from strict, forward proxy enabled by reload…): the running policy stays. */
  rejected(trigger: 'sighup' | 'file_watch', configPath: string | undefined, reason: string): void {
    const prior = this.current
    if (prior === undefined) return
    const next = {...prior, file_sha256: fileSha256(configPath)}
    this.write(trigger, 'rejected', configPath, prior, next, {changes: [], truncated: false, total: 0, sha256: changesSha256([]), paths: []}, {reject_reason: reason, ...this.takePending()})
  }
}
