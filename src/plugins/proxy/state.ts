/**
 * One immutable snapshot of everything a request reads: config, the compiled scanner (URL,
 * DLP, body/header, response), rate-limit and data-budget windows, and the session manager. A
 * reload builds a new snapshot (windows reset, §20.6); a request keeps the snapshot it started
 * with, redirects included (§25.8). Sessions are the exception that survives a reload: the
 * manager (with its sessions and counters) is carried over and only its settings change, as the
 * reference does ("session manager settings updated in place (sessions preserved)").
 */
import type {Clock} from '../canonical/index.js'
import type {PipelockConfig} from '../config/index.js'
import {createScanner, DataBudget, RateLimiter, type Scanner} from '../scanner/index.js'
import type {CrossRequestDetector} from '../cee/index.js'
import {AgentNames} from './agent-name.js'
import {buildDetector} from './cee-gate.js'
import type {AuditLog} from './audit-log.js'
import {ProxySessions, sessionSettingsFromConfig, type AirlockChange} from './session-gate.js'
import {scannerSettingsFromConfig} from './settings-from-config.js'

export interface ProxySnapshot {
  readonly config: PipelockConfig
  readonly hash: string
  readonly scanner: Scanner
  readonly rateLimiter: RateLimiter
  readonly dataBudget: DataBudget
  /** Null while `session_profiling.enabled` is false. */
  readonly sessions: ProxySessions | null
  /** Agent-name resolution and bounded metric labels (issue 10 item 7). */
  readonly agentNames: AgentNames
  /** Cross-request detection (operations §5); null while disabled. Emptied on every reload. */
  readonly cee: CrossRequestDetector | null
}

export interface SnapshotCarry {
  /** The running snapshot on a reload; its session manager is kept. */
  readonly previous?: ProxySnapshot
  /** The audit log session events go to (resolved lazily: the server builds it after the first snapshot). */
  readonly audit: () => AuditLog
  /** Where airlock tier changes go as evidence (the server's sink fan-out). */
  readonly airlockEvidence?: (c: AirlockChange) => void
}

export function buildSnapshot(config: PipelockConfig, hash: string, env: Readonly<Record<string, string | undefined>>, clock: Clock, carry?: SnapshotCarry): ProxySnapshot {
  const scanner = createScanner(scannerSettingsFromConfig(config, {env}))
  return {
    config, hash, scanner, rateLimiter: new RateLimiter(clock), dataBudget: new DataBudget(clock), sessions: carrySessions(config, clock, carry),
    agentNames: new AgentNames(scanner, config),
    cee: buildDetector(config, carry?.previous?.cee, () => Number(clock.nowNanos() / 1_000_000n)),
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
