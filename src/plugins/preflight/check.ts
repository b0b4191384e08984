/**
 * `pipelock check` (operations.md §7.3): validate a config the way `pipelock run` loads it and
 * report what it turns on — and, beyond the reference, which enabled features this build refuses
 * (the ones `pipelock run` would refuse to start with). The report goes to stdout; the reference
 * wrote everything to stderr (a fix, docs/compatibility.md).
 */
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import {formatFixed} from '../canonical/index.js'
import {checkCaptureDir, resolveSalt} from '../capture/index.js'
import {enabledFeatures, type LoadedConfig} from '../config/index.js'
import {isPipelockError, PipelockError} from '../errors/index.js'
import {assertRunnable, configFileModeWarnings, killSwitchOnWarning, loadPrivateKeyFile, loopbackBindingWarning, RUN_ACCEPTED_FEATURES, weakApiTokenWarning, readConfigState} from '../proxy/index.js'
import {writerLockHolder} from '../recorder/index.js'
import {directoryProblem} from '../signing/index.js'
import {loadConfiguredCa} from '../tls/index.js'

export interface CheckReport {
  readonly valid: true
  readonly config_file?: string
  readonly mode: string
  readonly listen: string
  readonly api_allowlist: number
  readonly blocklist: number
  readonly dlp_patterns: number
  readonly entropy_threshold: number
  readonly max_url_length: number
  /** Feature sections the config turns on, in check order. */
  readonly enabled: string[]
  /** Of those, the ones this build does not implement (run refuses them). */
  readonly refused: string[]
  /** Why `pipelock run` would refuse this config, when it would. */
  readonly refusal?: string
  readonly warnings: string[]
  /**
   * Whether the running proxy's policy is this file's (issue 34), from the state the proxy keeps
   * in `<flight_recorder.dir>/config-state.json`; absent without one for this file.
   */
  readonly running_policy?: RunningPolicy
}

export interface RunningPolicy {
  /**
   * Whether a proxy is running on this state now: a live process holds the flight recorder's
   * writer lock in the same directory. False: the state is what the last run left behind.
   */
  readonly running: boolean
  /** The running proxy's pid (with `running`). */
  readonly pid?: number
  /** The file is the one the (last) proxy's policy came from. */
  readonly in_sync: boolean
  readonly file_sha256: string
  readonly running_file_sha256: string
  /** Why the last reload refused this file, when it did. */
  readonly refused?: string
  /**
   * Fields of this file the running proxy keeps at their start-up value until a restart (a reload
   * held them: restart-only); only while a proxy runs on this very file.
   */
  readonly restart_pending?: readonly string[]
}

/**
 * The running proxy's view of this config file: the state `pipelock run` saves after every
 * applied change (and marks when a reload refuses the file). Undefined without a flight-recorder
 * directory, a state file, or when the state belongs to another config file.
 */
export function runningPolicy(loaded: LoadedConfig): RunningPolicy | undefined {
  const fr = loaded.config.flight_recorder
  if (loaded.path === undefined || !fr.enabled || fr.dir === '') return undefined
  // A damaged state (another shape, not JSON) says nothing of the running policy: as none.
  const read = readConfigState(path.join(fr.dir, 'config-state.json'))
  if (read.kind !== 'state') return undefined
  const state = read.state
  if (state.config_path !== undefined && state.config_path !== path.resolve(loaded.path)) return undefined
  let sha: string
  try {
    sha = createHash('sha256').update(readFileSync(loaded.path)).digest('hex')
  } catch {
    return undefined
  }
  const refused = state.drift !== undefined && state.drift.file_sha256 === sha ? state.drift.reason : undefined
  // config-state.json outlives the proxy: only a live recorder writer makes it the running policy
  const pid = writerLockHolder(fr.dir, 'proxy')
  // A restart applies held fields: they matter only to the proxy running on this file.
  const held = pid !== undefined && sha === state.file_sha256 ? (state.restart_pending ?? []) : []
  return {
    running: pid !== undefined,
    ...(pid !== undefined ? {pid} : {}),
    in_sync: sha === state.file_sha256 && held.length === 0,
    file_sha256: sha,
    running_file_sha256: state.file_sha256,
    ...(refused !== undefined ? {refused} : {}),
    ...(held.length > 0 ? {restart_pending: held} : {}),
  }
}

/**
 * Throws a `CONFIG_INVALID` PipelockError for a value pipelock run refuses as an invalid config.
 * `env`: where `PIPELOCK_KILLSWITCH_API_TOKEN` is read, as `pipelock run` reads it (an `ask` needs
 * the admin API).
 */
export function checkConfig(loaded: LoadedConfig, env: Readonly<Record<string, string | undefined>> = process.env): CheckReport {
  const c = loaded.config
  const enabled = enabledFeatures(c)
  let refusal: string | undefined
  let addressWarnings: string[] = []
  try {
    // The very function pipelock run refuses with (base config, every merged agent profile, recorder,
    // address allowlist, the ask channel).
    addressWarnings = assertRunnable(c, env)
    // The recorder's signing key is read when pipelock run opens the recorder, by this same function:
    // a key it cannot load (missing, readable by others, not a key) refuses the start.
    if (c.flight_recorder.enabled && c.flight_recorder.signing_key_path !== '') loadPrivateKeyFile(c.flight_recorder.signing_key_path)
    // The capture salt, resolved by the function capture uses at start (pipelock run with
    // learn.enabled, learn observe, MCP capture): a missing file or one others can read is a
    // config error there, so it is one here whenever a salt source is set.
    resolveSalt(c.learn.privacy.salt_source, env)
    // The interception CA, read as pipelock run reads it before it listens: a missing, damaged,
    // mismatched or too-open file refuses the start.
    if (c.tls_interception.enabled) loadConfiguredCa(c.tls_interception, env, env.HOME ?? homedir())
    // The directories run creates and writes at start (the recorder's, capture's): one that cannot
    // be created or written refuses the start. Nothing is created here.
    if (c.learn.enabled && c.learn.capture_dir !== '') checkCaptureDir(c.learn.capture_dir)
    const recorderDir = c.flight_recorder.enabled ? c.flight_recorder.dir : ''
    const recorderWhy = recorderDir === '' ? undefined : directoryProblem(recorderDir)
    if (recorderWhy !== undefined) throw new PipelockError('WRITE_FAILED', `flight recorder: directory ${recorderDir}: ${recorderWhy}`)
  } catch (err) {
    // A value pipelock run reads as an invalid config (an address no enabled chain accepts) is
    // one here too: the caller reports it as a config that did not load, not as a valid config
    // that run refuses.
    if (isPipelockError(err) && err.code === 'CONFIG_INVALID') throw err
    refusal = (err as Error).message
  }
  return {
    valid: true,
    ...(loaded.path !== undefined ? {config_file: loaded.path} : {}),
    mode: c.mode,
    listen: c.fetch_proxy.listen,
    api_allowlist: c.api_allowlist.length,
    blocklist: c.fetch_proxy.monitoring.blocklist.length,
    dlp_patterns: c.dlp.patterns.length,
    entropy_threshold: c.fetch_proxy.monitoring.entropy_threshold,
    max_url_length: c.fetch_proxy.monitoring.max_url_length,
    enabled,
    refused: enabled.filter((f) => !RUN_ACCEPTED_FEATURES.has(f)),
    ...(refusal !== undefined ? {refusal} : {}),
    warnings: [
      ...loaded.warnings.map((w) => `${w.field}: ${w.message}`),
      ...addressWarnings.map((w) => w.replace(/^WARNING: /, '')),
      // What pipelock run prints at start about a config it runs (start-warnings.ts).
      ...[...configFileModeWarnings(loaded), killSwitchOnWarning(c), loopbackBindingWarning(c), weakApiTokenWarning(c, env)].flatMap((w) => (w === null ? [] : [w.replace(/^WARNING: /, '')])),
    ],
  }
}

/** The `Running:` line of the text report, when the proxy's state for this file is known. */
export function renderRunningPolicy(r: RunningPolicy): string {
  const hashes = `sha256 ${r.running_file_sha256.slice(0, 12)}…, file ${r.file_sha256.slice(0, 12)}…`
  if (!r.running) {
    if (r.in_sync) return '  Running:        no proxy is running (the last run used this file)\n'
    return `  Running:        no proxy is running (the last run used another version of this file: ${hashes}${r.refused !== undefined ? `; a reload refused this one: ${r.refused}` : ''})\n`
  }
  if (r.in_sync) return '  Running:        the running proxy\'s policy is this file\n'
  if (r.restart_pending !== undefined && r.running_file_sha256 === r.file_sha256) {
    return `  Running:        DIFFERS from this file: a reload kept the running value of ${r.restart_pending.join(', ')} (restart-only); restart pipelock to apply ${r.restart_pending.length === 1 ? 'it' : 'them'}\n`
  }
  const why = r.refused !== undefined ? `a reload refused it: ${r.refused}` : 'not loaded yet (or edited since the last reload)'
  return `  Running:        DIFFERS from this file (running ${hashes}): ${why}\n`
}

/** The text report (stdout). */
export function renderCheck(r: CheckReport): string {
  const lines = [
    // Valid as written; when run would refuse it, the first line says so (the Refused line says why).
    r.refused.length > 0 || r.refusal !== undefined ? 'Config validation: OK as written, but pipelock run refuses to start with it (see Refused)' : 'Config validation: OK',
    `  Mode:           ${r.mode}`,
    `  Listen:         ${r.listen}`,
    `  API allowlist:  ${r.api_allowlist} domains`,
    `  Blocklist:      ${r.blocklist} patterns`,
    `  DLP patterns:   ${r.dlp_patterns} rules`,
    `  Entropy thresh: ${formatFixed(r.entropy_threshold, 1)} bits`, // Go %.1f: 3.25 → 3.2,
    `  Max URL length: ${r.max_url_length} chars`,
    `  Enabled:        ${r.enabled.length === 0 ? '(none)' : r.enabled.join(', ')}`,
    `  Refused:        ${r.refused.length > 0 ? `${r.refused.join(', ')} (not implemented in this build; pipelock run refuses to start)` : r.refusal !== undefined ? 'a setting inside an enabled section (pipelock run refuses to start; the reason is on stderr)' : '(none)'}`,
  ]
  return lines.join('\n') + '\n'
}

export interface UrlCheckReport {
  readonly url: string
  readonly allowed: boolean
  readonly scanner?: string
  readonly reason?: string
}

export function renderUrlCheck(r: UrlCheckReport): string {
  const lines = ['', `Scanning URL: ${r.url}`]
  if (r.allowed) lines.push('  Result:  ALLOWED')
  else lines.push('  Result:  BLOCKED', `  Scanner: ${r.scanner ?? ''}`, `  Reason:  ${r.reason ?? ''}`)
  return lines.join('\n') + '\n'
}
