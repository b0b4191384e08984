/**
 * Auditable policy changes (operations.md §8.2, beyond the reference): every effective change —
 * a hot reload (file watch or SIGHUP), or a start with a config different from the last run's —
 * writes a `config_change` audit event (warn) with the structural diff of the effective policy,
 * the file and policy hashes before and after, and, when given, the operator and justification.
 *
 * Where the operator's word comes from: `<config>.change` (JSON `{operator, justification,
 * change_id, file_sha256}`; used only when `file_sha256` names the file loaded, then renamed
 * `<config>.change.applied`), the admin API's note (policy-api.ts), or `run --change-note`
 * (justification of the start-up record).
 *
 * A note binds to the change it describes by the SHA-256 of the config file it was written for
 * (issue 34), never to "the next change": a note for the file in force attests the change that
 * loaded that file (the file watcher applied the edit before the note came: a `config_change`
 * with `outcome: attested` names that change), a note for another file waits for the reload that
 * loads exactly that file, and a note for the file in force whose change is attested already (or
 * that no change loaded) is refused. A reload refused as a strict-mode downgrade is applied when
 * a note is bound to the file (the operator's attested loosening); a refusal leaves the running
 * policy and the file apart, which `drift()` reports (`/health`, metrics, `pipelock check`), and so
 * does an applied reload that held restart-only fields (`restartPending()`). The last applied state lives in
 * `<flight_recorder.dir>/config-state.json` (0600), so an edit made while stopped is diffed at the
 * next start; without the flight recorder only reloads are recorded.
 */
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, renameSync} from 'node:fs'
import path from 'node:path'
import {changesSha256, diffPolicyViews, policyView, type LoadedConfig, type PolicyChange, type PolicyDiff} from '../config/index.js'
import {writeFileAtomic} from '../signing/index.js'
import type {AuditLog} from './audit-log.js'
import {readConfigState, type ConfigDrift, type ConfigState} from './config-state-file.js'
import type {ExceptionChange} from './exception-store.js'

/** `api`: an exception granted or revoked, or a note given, through the admin API (policy-api.ts). */
export type ChangeTrigger = 'startup' | 'sighup' | 'file_watch' | 'api'

export interface ChangeNote {
  readonly operator?: string
  readonly justification?: string
  readonly change_id?: string
}

/** What the admin API's note became (policy-api.ts answers it). */
export type NoteBinding =
  | {readonly ok: true; readonly state: 'pending'; readonly file_sha256: string; readonly expires_at: string}
  | {readonly ok: true; readonly state: 'attested'; readonly file_sha256: string; readonly change: {readonly trigger: string; readonly at: string; readonly changed_paths: readonly string[]}}
  | {readonly ok: false; readonly status: number; readonly error: string}

/** The last effective change, kept so a note that arrives after it can attest it. */
interface LastChange {
  readonly trigger: ChangeTrigger
  readonly at: string
  readonly prior: ConfigState | undefined
  readonly next: ConfigState
  readonly diff: PolicyDiff
  attested: boolean
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
  /** The admin API's note for the file with `fileSha` (policy-api.ts), until it lapses. */
  private pending: {readonly note: ChangeNote; readonly fileSha: string; readonly untilMs: number} | undefined
  private last: LastChange | undefined
  private driftState: ConfigDrift | undefined
  private pendingRestart: readonly string[] = []

  constructor(private readonly opts: PolicyChangeOptions) {}

  private statePath(): string | undefined {
    return this.opts.stateDir === undefined ? undefined : path.join(this.opts.stateDir, 'config-state.json')
  }

  private stateOf(l: LoadedConfig): ConfigState {
    return {file_sha256: fileSha256(l.path), policy_hash: l.hash, effective: policyView(l.config), ...(l.path !== undefined ? {config_path: path.resolve(l.path)} : {})}
  }

  private save(s: ConfigState): void {
    this.current = s
    const p = this.statePath()
    if (p === undefined) return
    try {
      const {drift: _old, restart_pending: _held, ...base} = s
      const state = {
        ...base, ...(this.driftState !== undefined ? {drift: this.driftState} : {}), ...(this.pendingRestart.length > 0 ? {restart_pending: this.pendingRestart} : {}),
      }
      // Whole or not at all: a state cut short by a full disk reads as no state, and the next
      // start would then record no config_change for an edit made while stopped.
      writeFileAtomic(p, JSON.stringify(state) + '\n', 0o600)
    } catch (e) {
      this.opts.stderr(`WARNING: config change: cannot write ${p}: ${(e as Error).message}`)
    }
  }

  /** The operator's note for the file just loaded (consumed), or undefined. */
  private note(l: Pick<LoadedConfig, 'path'>, sha: string, cli?: string): ChangeNote | undefined {
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

  private write(trigger: ChangeTrigger, outcome: 'applied' | 'rejected' | 'attested', configPath: string | undefined, prior: ConfigState | undefined, next: ConfigState, diff: PolicyDiff, extra: Record<string, unknown>): void {
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

  /**
   * Binds an operator's note (admin API) to the change it describes, named by the SHA-256 of
   * the config file it was written for (`fileSha`; default: the file on disk now). The file in
   * force: the note attests the change that loaded it, if that change has no note yet. Another
   * file: the note waits (15 minutes at most) for the reload that loads exactly that file.
   * Otherwise it is refused — it would otherwise end up on some later, unrelated change.
   */
  bindNote(note: ChangeNote, fileSha?: string): NoteBinding {
    const cur = this.current
    if (cur === undefined || this.configPath === undefined) return {ok: false, status: 409, error: 'no config file: pipelock run was started without --config, so there is no change to note'}
    const sha = fileSha ?? fileSha256(this.configPath)
    if (sha === cur.file_sha256) {
      const last = this.last
      if (last === undefined || last.attested || last.next.file_sha256 !== sha) {
        return {
          ok: false, status: 409,
          error: `nothing to attach the note to: the file in force (sha256 ${sha.slice(0, 12)}…) ${last === undefined || last.next.file_sha256 !== sha ? 'was loaded by no change since start-up' : 'was loaded by a change that has a note'}; save the edit first, or name the new file with --file`,
        }
      }
      this.attest('api', last, note)
      return {ok: true, state: 'attested', file_sha256: sha, change: {trigger: last.trigger, at: last.at, changed_paths: [...last.diff.paths]}}
    }
    const untilMs = this.now() + PENDING_NOTE_TTL_MS
    this.pending = {note, fileSha: sha, untilMs}
    return {ok: true, state: 'pending', file_sha256: sha, expires_at: new Date(untilMs).toISOString().replace(/\.\d{3}Z$/, 'Z')}
  }

  /** The pending API note if it was written for the file with `sha` (consumed); a lapsed one is dropped. */
  private takePending(sha: string): ChangeNote | undefined {
    const p = this.pending
    if (p === undefined) return undefined
    if (p.untilMs <= this.now()) {
      this.pending = undefined
      return undefined
    }
    if (p.fileSha !== sha) return undefined
    this.pending = undefined
    return p.note
  }

  /** True when an operator's note (pending API note or `<config>.change`) names the file at `file` as it is now. */
  hasBoundNote(file: string | undefined): boolean {
    if (file === undefined) return false
    const sha = fileSha256(file)
    const p = this.pending
    if (p !== undefined && p.untilMs > this.now() && p.fileSha === sha) return true
    try {
      const n = JSON.parse(readFileSync(`${file}.change`, 'utf8')) as Record<string, unknown>
      return n.file_sha256 === sha
    } catch {
      return false
    }
  }

  /** The running policy differs from the config file because a reload was refused; undefined when in step. */
  drift(): ConfigDrift | undefined {
    return this.driftState
  }

  /** Fields of the file in force that the running proxy does not apply until a restart (sorted); empty when none. */
  restartPending(): readonly string[] {
    return this.pendingRestart
  }

  /** A `config_change` with `outcome: attested`: the hashes and diff of the change the note describes. */
  private attest(trigger: ChangeTrigger, last: LastChange, note: ChangeNote): void {
    last.attested = true
    this.write(trigger, 'attested', this.configPath, last.prior, last.next, last.diff, {...note, attested_trigger: last.trigger, attested_at: last.at})
  }

  private remember(trigger: ChangeTrigger, prior: ConfigState | undefined, next: ConfigState, diff: PolicyDiff, attested: boolean): void {
    this.last = {trigger, at: new Date(this.now()).toISOString(), prior, next, diff, attested}
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
      const read = readConfigState(p)
      if (read.kind === 'state') prior = read.state
      // Written afresh by save() below; until then the damage costs this start its comparison.
      else if (read.kind === 'damaged') this.opts.stderr(`WARNING: config change: ${p} is damaged (${read.why}): read as no earlier state, so an edit made while pipelock was stopped is not recorded this time; it is written again now`)
    }
    const next = this.stateOf(l)
    this.configPath = l.path
    if (prior !== undefined && prior.policy_hash !== next.policy_hash) {
      const note = this.note(l, next.file_sha256, this.opts.cliNote)
      const diff = diffPolicyViews(prior.effective, next.effective)
      this.write('startup', 'applied', l.path, prior, next, diff, {...note})
      this.remember('startup', prior, next, diff, note !== undefined)
    }
    this.save(next)
  }

  /**
   * A reload that took effect. The note is the one bound to the loaded file (`.change` or the
   * API's); none is taken from another file. A reload that changes nothing may still bring the
   * note for the change in force (`.change` written after the watcher applied the edit): that
   * note attests it.
   */
  applied(trigger: 'sighup' | 'file_watch', l: LoadedConfig, downgrades: readonly string[], held: readonly string[] = []): void {
    const prior = this.current
    const next = this.stateOf(l)
    this.driftState = undefined
    // Every reload compares the file with the running values, so `held` is the whole set now.
    this.pendingRestart = [...new Set(held)].sort()
    if (prior !== undefined && prior.policy_hash === next.policy_hash) {
      this.unchanged(trigger, l.path)
      this.save({...prior, file_sha256: next.file_sha256})
      return
    }
    const note = this.note(l, next.file_sha256) ?? this.takePending(next.file_sha256)
    const diff = diffPolicyViews(prior?.effective ?? {}, next.effective)
    this.write(trigger, 'applied', l.path, prior, next, diff, {
      ...(downgrades.length > 0 ? {downgrades: [...downgrades]} : {}), ...note,
    })
    this.remember(trigger, prior, next, diff, note !== undefined)
    this.save(next)
  }

  /**
   * A reload that found the policy in force (same hash, or ignored within the de-duplication
   * window): a `.change` for the file in force attests the change that loaded it.
   */
  unchanged(trigger: 'sighup' | 'file_watch', configPath: string | undefined): void {
    const cur = this.current
    if (cur === undefined || configPath === undefined) return
    const sha = fileSha256(configPath)
    if (!existsSync(`${configPath}.change`)) return
    const last = this.last
    if (last === undefined || last.attested || last.next.file_sha256 !== sha) return
    const note = this.note({path: configPath}, sha)
    if (note !== undefined) this.attest(trigger, last, note)
  }

  /**
   * A reload whose file did not load (invalid YAML or fields, a section this build refuses): no
   * record (nothing was decided on a policy), but the file and the running policy are apart until
   * a file loads again.
   */
  unloadable(configPath: string | undefined, reason: string): void {
    const prior = this.current
    if (prior === undefined) return
    const sha = fileSha256(configPath)
    if (sha !== prior.file_sha256) this.drifted(prior, sha, reason)
  }

  /** The file on disk (`sha`) is not the running policy's (`prior`), for `reason`: kept until a file loads. */
  private drifted(prior: ConfigState, sha: string, reason: string): void {
    this.driftState = {file_sha256: sha, running_file_sha256: prior.file_sha256, reason, since: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z')}
    this.save(prior)
  }

  /**
   * A reload refused (downgrade from strict, forward proxy enabled by reload…): the running policy
   * stays, apart from the file. The entry lists the changes the refused file asked for (`refused`:
   * its config), so the trail shows what was turned down, not only why.
   */
  rejected(trigger: 'sighup' | 'file_watch', configPath: string | undefined, reason: string, refused?: Pick<LoadedConfig, 'config'>): void {
    const prior = this.current
    if (prior === undefined) return
    const sha = fileSha256(configPath)
    const next = {...prior, file_sha256: sha}
    const asked = refused !== undefined ? diffPolicyViews(prior.effective, policyView(refused.config)) : {changes: [], truncated: false, total: 0, sha256: changesSha256([]), paths: []}
    this.write(trigger, 'rejected', configPath, prior, next, asked, {reject_reason: reason, ...this.takePending(sha)})
    if (sha !== prior.file_sha256) this.drifted(prior, sha, reason)
  }
}
