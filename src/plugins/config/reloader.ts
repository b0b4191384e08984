import {EventEmitter} from 'node:events'
import {createHash} from 'node:crypto'
import path from 'node:path'
import {formatError, isPipelockError, PipelockError} from '../errors/index.js'
import {watchFile, type FileWatch} from './file-watch.js'
import {configHash} from './hash.js'
import {loadConfig, type LoadedConfig} from './load.js'
import {documentSetsNothing} from './loaded.js'
import {formatWarning} from './problems.js'
import {redactionReloadWarnings} from './redaction-config.js'
import {holdRestartOnly, reloadDowngrades, reloadRejection, type DowngradeScope} from './reload-policy.js'
import {envelopeReloadWarnings} from './envelope-reload.js'

export type ReloadTrigger = 'watch' | 'signal'

/** A reload that took effect. */
export interface ReloadApplied {
  readonly trigger: ReloadTrigger
  readonly config: LoadedConfig
  readonly previous: LoadedConfig
  /** Restart-only fields that changed in the file; their running values were kept. */
  readonly restartOnly: readonly string[]
  /** Downgrade warnings (`<field>: <old> -> <new>`), logged; the reload still applied. */
  readonly downgrades: readonly string[]
}

/** A reload that did not take effect; the running config stays in force. */
export interface ReloadRejected {
  readonly trigger: ReloadTrigger
  readonly error: Error
  /** One line for stderr: `pipelock: config reload failed: <err>`. */
  readonly message: string
  /** The file's config when it loaded and was refused by the reload policy (absent when it did not load). */
  readonly refused?: LoadedConfig
}

export interface ReloadIgnored {
  readonly trigger: ReloadTrigger
  readonly reason: string
}

/** Injectable timer functions (tests pass fakes; defaults are the globals). */
export interface ReloadTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface ConfigReloaderOptions {
  /** The `--config` file. */
  readonly path: string
  /** The config the process started with (and is running). */
  readonly initial: LoadedConfig
  /** Full load + validate; defaults to `loadConfig`. */
  readonly load?: (file: string) => LoadedConfig
  /** Debounce after the last file event (§20.6: 100 ms). */
  readonly debounceMs?: number
  /** A new config with the same content as the last applied one within this window is ignored (2 s). */
  readonly dedupWindowMs?: number
  readonly now?: () => number
  readonly timers?: ReloadTimers
  /** True when an operator's note is bound to the file as it is now: a strict-mode downgrade then applies (issue 34). */
  readonly downgradeAttested?: (file: string) => boolean
  /**
   * What this run reads (default: everything, MCP sections auto-enabled as an MCP listener runs
   * them). A loosening of a part no transport of the run reads (`unused`) protects nothing less on
   * this run, so it never refuses a reload: it is applied with a warning that says so and `why`.
   */
  readonly runScope?: DowngradeScope & {readonly why: string}
}

export interface ConfigReloaderEvents {
  applied: [ReloadApplied]
  rejected: [ReloadRejected]
  ignored: [ReloadIgnored]
  /** Human lines such as `WARNING: config reload: metrics_listen requires restart, ignoring`. */
  warning: [string]
}

/**
 * Hot reload (§20.6). Watches the config file itself (editors that write a temp file and rename
 * it over the original are still seen) and reacts to add/change events with a debounce that
 * restarts on every event; `reloadNow()` is the SIGHUP path
 * (immediate). A reload is a full load + validate; any failure keeps the running config and is
 * reported on `rejected`. Events are emitted synchronously from the reload.
 */
export class ConfigReloader extends EventEmitter<ConfigReloaderEvents> {
  private running: LoadedConfig
  private readonly startup: LoadedConfig
  private readonly file: string
  private readonly load: (file: string) => LoadedConfig
  private readonly debounceMs: number
  private readonly dedupWindowMs: number
  private readonly now: () => number
  private readonly timers: ReloadTimers
  private readonly downgradeAttested: (file: string) => boolean
  private readonly runScope: (DowngradeScope & {readonly why: string}) | undefined
  private pending: unknown = undefined
  private watcher: FileWatch | undefined
  private lastAppliedContent: string
  private lastAppliedAt: number

  constructor(options: ConfigReloaderOptions) {
    super()
    this.file = path.resolve(options.path)
    this.running = options.initial
    this.startup = options.initial
    this.load = options.load ?? ((f) => loadConfig(f))
    this.debounceMs = options.debounceMs ?? 100
    this.dedupWindowMs = options.dedupWindowMs ?? 2000
    this.now = options.now ?? Date.now
    this.timers = options.timers ?? {setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout)}
    this.downgradeAttested = options.downgradeAttested ?? (() => false)
    this.runScope = options.runScope
    this.lastAppliedContent = contentKey(options.initial.config)
    this.lastAppliedAt = this.now()
  }

  /** The config in force now. Take one snapshot per request and keep it for the whole request. */
  get current(): LoadedConfig {
    return this.running
  }

  /** Starts the file watcher; resolves once it is watching. */
  async start(): Promise<void> {
    if (this.watcher !== undefined) return
    // The file itself, not its directory: a directory watch re-read and stat'ed every sibling
    // on each event, so an audit log beside the config cost a third of the throughput (bench: proxy).
    this.watcher = watchFile(
      this.file,
      () => this.notifyChange(),
      (err) => this.emit('warning', `WARNING: config watcher: ${err.message}`),
    )
  }

  /** A file event: (re)start the debounce timer. */
  notifyChange(): void {
    if (this.pending !== undefined) this.timers.clearTimeout(this.pending)
    this.pending = this.timers.setTimeout(() => {
      this.pending = undefined
      this.reload('watch')
    }, this.debounceMs)
  }

  /** SIGHUP: reload immediately (a pending debounced reload is folded into this one). */
  reloadNow(): void {
    if (this.pending !== undefined) {
      this.timers.clearTimeout(this.pending)
      this.pending = undefined
    }
    this.reload('signal')
  }

  async close(): Promise<void> {
    if (this.pending !== undefined) this.timers.clearTimeout(this.pending)
    this.pending = undefined
    this.watcher?.close()
    this.watcher = undefined
  }

  private reload(trigger: ReloadTrigger): void {
    let next: LoadedConfig
    try {
      next = this.load(this.file)
    } catch (err) {
      this.reject(trigger, err as Error)
      return
    }
    // At start-up such a file runs as the defaults (with a warning); on a running proxy it is
    // most often a write caught half-way (truncated, not yet filled), and applying it would drop
    // the whole policy, so it is refused like an invalid file.
    if (next.document !== undefined && documentSetsNothing(next.document)) {
      this.reject(trigger, new PipelockError('CONFIG_INVALID', 'the file sets nothing (empty, comments only, null or {}): refused, the running config stays; write the file atomically (a temp file, then rename it over this one)', {location: {file: this.file}}))
      return
    }
    const content = contentKey(next.config)
    if (content === this.lastAppliedContent && this.now() - this.lastAppliedAt < this.dedupWindowMs) {
      this.emit('ignored', {trigger, reason: 'unchanged config (same content within the dedup window)'})
      return
    }
    const downgrades = reloadDowngrades(this.running.config, next.config)
    // What loosens the policy this run enforces; the rest loosens parts it does not read.
    const inForce = this.runScope === undefined ? downgrades : reloadDowngrades(this.running.config, next.config, this.runScope)
    const enforced = new Set(inForce)
    const idle = downgrades.filter((d) => !enforced.has(d))
    const attested = inForce.length > 0 && this.running.config.mode === 'strict' && this.downgradeAttested(this.file)
    const refusal = reloadRejection(this.startup.config, this.running.config, next.config, inForce, attested)
    if (refusal !== undefined) {
      this.reject(trigger, new Error(refusal), next)
      return
    }
    const held = holdRestartOnly(this.running.config, next.config)
    // The file's own load warnings (`*` in passthrough_domains, …) are printed at start; a reload
    // that brings a new one says it too, or the edit would pass without a word.
    const known = new Set(this.running.warnings.map(formatWarning))
    for (const w of next.warnings) if (!known.has(formatWarning(w))) this.emit('warning', `WARNING: config reload: ${w.field}: ${w.message}`)
    for (const field of held.changed) this.emit('warning', `WARNING: config reload: ${field} requires restart, ignoring`)
    for (const d of inForce) this.emit('warning', `WARNING: config reload: security downgrade: ${d}`)
    for (const d of idle) this.emit('warning', `WARNING: config reload: security downgrade: ${d} (does not apply to this run: ${this.runScope!.why})`)
    for (const w of envelopeReloadWarnings(this.running.config.mediation_envelope, next.config.mediation_envelope)) this.emit('warning', `WARNING: config reload: ${w}`)
    for (const w of redactionReloadWarnings(this.running.config.redaction, held.config.redaction)) this.emit('warning', `WARNING: config reload: ${w}`)
    const applied: LoadedConfig = {...next, config: held.config, hash: held.changed.length === 0 ? next.hash : configHash(held.config)}
    const previous = this.running
    this.running = applied
    this.lastAppliedContent = content
    this.lastAppliedAt = this.now()
    this.emit('applied', {trigger, config: applied, previous, restartOnly: held.changed, downgrades})
  }

  private reject(trigger: ReloadTrigger, error: Error, refused?: LoadedConfig): void {
    const detail = isPipelockError(error) ? formatError(error) : error.message
    this.emit('rejected', {trigger, error, message: `pipelock: config reload failed: ${detail}`, ...(refused !== undefined ? {refused} : {})})
  }
}

/**
 * What the dedup window compares: the whole effective config, secrets and the sections the policy
 * hash leaves out included (the hash masks the admin token, so a token rotated within 2 s of the
 * last reload would otherwise be dropped as "unchanged"). Kept in memory only, never written.
 */
function contentKey(config: LoadedConfig['config']): string {
  return createHash('sha256').update(JSON.stringify(config, (_k, v: unknown) => (v instanceof Map ? [...v] : typeof v === 'bigint' ? v.toString() : v))).digest('hex')
}
