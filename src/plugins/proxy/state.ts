/**
 * One immutable snapshot of everything a request reads: config, the compiled scanner (URL,
 * DLP, body/header, response), rate-limit and data-budget windows, and the session manager. A
 * reload builds a new snapshot (windows reset, §20.6); a request keeps the snapshot it started
 * with, redirects included (§25.8). Sessions are the exception that survives a reload: the
 * manager (with its sessions and counters) is carried over and only its settings change, as the
 * reference does ("session manager settings updated in place (sessions preserved)").
 */
import type {Clock} from '../canonical/index.js'
import {DEFAULT_PROFILE, mergeProfile, type PipelockConfig} from '../config/index.js'
import {BudgetBook, budgetLimits} from './agent-budget.js'
import {collectEnvSecrets, createScanner, DataBudget, RateLimiter, type Scanner} from '../scanner/index.js'
import {Redactor} from '../redaction/index.js'
import {PipelockError} from '../errors/index.js'
import type {CrossRequestDetector} from '../cee/index.js'
import {AgentNames} from './agent-name.js'
import {buildDetector} from './cee-detector.js'
import type {AuditLog} from './audit-log.js'
import {ProxySessions, sessionSettingsFromConfig, type AirlockChange} from './session-gate.js'
import {buildMediation, type MediationRuntime} from './envelope-runtime.js'
import {scannerSettingsFromConfig} from './settings-from-config.js'
import {BodyScans} from './scan-offload/body-scans.js'
import type {OffloadCounters} from './scan-offload/counters.js'

export interface ProxySnapshot {
  readonly config: PipelockConfig
  readonly hash: string
  readonly scanner: Scanner
  readonly rateLimiter: RateLimiter
  readonly dataBudget: DataBudget
  /** Null while `session_profiling.enabled` is false. */
  readonly sessions: ProxySessions | null
  /** Agent identity resolution (operations.md §2.2) and the refusal of secret-looking names. */
  readonly agentNames: AgentNames
  /** Cross-request detection (operations §5); null while disabled. Emptied on every reload. */
  readonly cee: CrossRequestDetector | null
  /** The profile this view applies (`_default` for the base config and the fallback). */
  readonly profile: string
  /** Per-session budgets of this profile (§2.9); null without limits. */
  readonly budgets: BudgetBook | null
  /** Every configured profile's view (shared by all views of one snapshot). */
  readonly profiles: ReadonlyMap<string, ProxySnapshot>
  /** The view for an unknown profile: `_default` when configured, else the base config with no budget (§2.2). */
  readonly fallback: ProxySnapshot
  /** Mediation envelope signer and inbound verifier (envelope-runtime.ts); null while both are off. */
  readonly mediation: MediationRuntime | null
  /** Class-preserving request redaction (envelope-redaction Part II); null while disabled. Shared by every profile's view. */
  readonly redactor: Redactor | null
  /**
   * Where request and response body scans run: the event loop, or for a body over 64 KiB a pool of
   * threads compiled with this snapshot's scanners (scan-offload/). Shared by every profile's view;
   * a reload retires it.
   */
  readonly bodyScans: BodyScans
}

/** The view of a profile (operations.md §2.2 lookup). */
export function forProfile(snap: ProxySnapshot, profile: string): ProxySnapshot {
  return snap.profiles.get(profile) ?? snap.fallback
}

export interface SnapshotCarry {
  /** The running snapshot on a reload; its session manager is kept. */
  readonly previous?: ProxySnapshot
  /** The audit log session events go to (resolved lazily: the server builds it after the first snapshot). */
  readonly audit: () => AuditLog
  /** Where airlock tier changes go as evidence (the server's sink fan-out). */
  readonly airlockEvidence?: (c: AirlockChange) => void
  /** Where the scan pool's work is counted for `/metrics` (one set for the process). */
  readonly offloadCounters?: OffloadCounters
  /** This machine's interface addresses (host-addresses.ts), taken by the caller at start-up and at each reload. */
  readonly hostAddresses?: readonly string[]
  /**
   * False when a client's address says nothing about which agent it is (the sandbox's embedded
   * proxy, whose every client is the bridge on 127.0.0.1): `source_cidrs` then bind no one.
   */
  readonly addressBinding?: boolean
}

export function buildSnapshot(config: PipelockConfig, hash: string, env: Readonly<Record<string, string | undefined>>, clock: Clock, carry?: SnapshotCarry): ProxySnapshot {
  const ctx = {env, ...(carry?.hostAddresses !== undefined ? {hostAddresses: carry.hostAddresses} : {})}
  const scanner = createScanner(scannerSettingsFromConfig(config, ctx))
  const profiles = new Map<string, ProxySnapshot>()
  const nowMs = (): number => Number(clock.nowNanos() / 1_000_000n)
  const base: ProxySnapshot = {
    config, hash, scanner, rateLimiter: new RateLimiter(clock), dataBudget: new DataBudget(clock), sessions: carrySessions(config, clock, carry),
    agentNames: new AgentNames(scanner, config, {addressBinding: carry?.addressBinding !== false}),
    cee: buildDetector(config, carry?.previous?.cee, nowMs),
    profile: DEFAULT_PROFILE, budgets: null, profiles,
    // Built before anything else can fail on the key: a bad key aborts the reload (spec §9.3).
    mediation: buildMediation(config, carry?.previous?.mediation),
    redactor: buildRedactor(config, scanner, env),
    // The base view's scanner first, then each profile's: a thread names them by this order.
    bodyScans: new BodyScans(() => [scanner, ...[...profiles.values()].map((v) => v.scanner)], {redactor: () => base.redactor, ...(carry?.offloadCounters === undefined ? {} : {counters: carry.offloadCounters})}),
    get fallback(): ProxySnapshot {
      return profiles.get(DEFAULT_PROFILE) ?? base
    },
  }
  // §2.4: each profile has its own scanner (own rate-limit and data-budget windows); the session
  // manager and identity resolution are shared. Trackers start empty on every reload (§2.9).
  for (const name of Object.keys(config.agents).sort()) {
    const p = config.agents[name]!
    const merged = mergeProfile(config, p)
    const limits = budgetLimits(p)
    profiles.set(name, {
      ...base, config: merged, scanner: createScanner(scannerSettingsFromConfig(merged, ctx)), rateLimiter: new RateLimiter(clock), dataBudget: new DataBudget(clock),
      profile: name, budgets: limits === null ? null : new BudgetBook(limits, nowMs), get fallback(): ProxySnapshot {
        return base.fallback
      },
    })
  }
  return base
}

/**
 * The redactor of this config (matcher, limits, allowlists, providers live in the snapshot, so a
 * reload swaps them with the rest: the reference's runtime/config mismatch window cannot arise).
 * Known secrets (§14.3) are the scanner's: env secrets when `dlp.scan_env`, `dlp.secrets_file` values.
 */
function buildRedactor(config: PipelockConfig, scanner: Scanner, env: Readonly<Record<string, string | undefined>>): Redactor | null {
  if (!config.redaction.enabled) return null
  const dlp = scanner.settings.dlp
  const envSecrets = dlp.scanEnv ? collectEnvSecrets(env, dlp.minEnvSecretLength) : []
  try {
    return new Redactor(config.redaction, {env: envSecrets, file: dlp.fileSecrets})
  } catch (e) {
    throw new PipelockError('CONFIG_INVALID', `redaction: redact: ${(e as Error).message}`)
  }
}

function carrySessions(config: PipelockConfig, clock: Clock, carry: SnapshotCarry | undefined): ProxySessions | null {
  const old = carry?.previous?.sessions ?? null
  if (!config.session_profiling.enabled || carry === undefined) {
    old?.stop()
    return null
  }
  const settings = sessionSettingsFromConfig(config)
  if (old !== null) {
    old.updateSettings(settings)
    return old
  }
  const fresh = new ProxySessions(settings, clock, carry.audit, undefined, carry.airlockEvidence)
  fresh.start()
  return fresh
}
