/**
 * Airlock (per-session quarantine, runtime spec §15 with operations §6): tiers, what each tier
 * lets through per transport, the trigger table, the de-escalation timers and the counters the
 * metrics read. Pure functions and plain data; the SessionManager owns the state changes.
 */

export type AirlockTier = 'none' | 'soft' | 'hard' | 'drain'
export const AIRLOCK_TIERS: readonly AirlockTier[] = ['none', 'soft', 'hard', 'drain']

/** What moved a session between tiers (metric label `trigger`; `reload` = airlock disabled by a reload). */
export type AirlockTrigger = 'adaptive' | 'api' | 'timer' | 'reload'

/**
 * The transports the airlock judges; `intercepted` = an inner request of an intercepted CONNECT;
 * `reverse` = a request to the reverse proxy (judged as a forward one, named as itself); `mcp` = a client→server MCP message on any MCP transport, whose "method" is the action type
 * receipts give it (recorder `classifyMcp`: `read`, `write`, `delegate`, `unclassified`).
 */
export type AirlockTransport = 'fetch' | 'forward' | 'connect' | 'intercepted' | 'reverse' | 'websocket' | 'mcp'

export interface AirlockSettings {
  readonly enabled: boolean
  readonly onElevated: AirlockTier
  readonly onHigh: AirlockTier
  readonly onCritical: AirlockTier
  /** Time in a tier before it steps down one tier; 0 = manual release only. */
  readonly softMs: number
  readonly hardMs: number
  readonly drainMs: number
}

export const AIRLOCK_SWEEP_MS = 30_000

export function tierRank(t: AirlockTier): number {
  return AIRLOCK_TIERS.indexOf(t)
}

export function isAirlockTier(s: string): s is AirlockTier {
  return (AIRLOCK_TIERS as readonly string[]).includes(s)
}

/**
 * OP §6 item 1: drain → hard after `drain_minutes` if only that is > 0, `drain_timeout_seconds`
 * if only that is > 0, the smaller when both are; 0 (manual only) when both are 0.
 */
export function drainDurationMs(drainMinutes: number, drainTimeoutSeconds: number): number {
  const a = drainMinutes > 0 ? drainMinutes * 60_000 : 0
  const b = drainTimeoutSeconds > 0 ? drainTimeoutSeconds * 1000 : 0
  if (a > 0 && b > 0) return Math.min(a, b)
  return a > 0 ? a : b
}

/** The tier a trigger asks for on an escalation edge into `level` (1 elevated, 2 high, ≥3 critical). */
export function triggerTier(a: AirlockSettings, level: number): {tier: AirlockTier; trigger: string} {
  if (level >= 3) return {tier: a.onCritical, trigger: 'on_critical'}
  if (level === 2) return {tier: a.onHigh, trigger: 'on_high'}
  if (level === 1) return {tier: a.onElevated, trigger: 'on_elevated'}
  return {tier: 'none', trigger: ''}
}

/** One tier down, the way the timers step. */
export function stepDown(t: AirlockTier): AirlockTier {
  return t === 'drain' ? 'hard' : t === 'hard' ? 'soft' : 'none'
}

/** How long a tier lasts before the timer steps it down (0 = manual only). */
export function tierDurationMs(a: AirlockSettings, t: AirlockTier): number {
  return t === 'soft' ? a.softMs : t === 'hard' ? a.hardMs : t === 'drain' ? a.drainMs : 0
}

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * OP §6 item 3: soft lets everything through; hard lets fetch through, forward, intercepted
 * and reverse-proxy requests only as GET/HEAD/OPTIONS without a body (`carriesBody`: a read that
 * sends data is a write; the method is the one a method override names, when one does), and
 * denies new CONNECT tunnels and WebSockets; drain denies everything. An MCP message at hard passes only when receipts classify it as a `read`
 * (the list methods, `resources/read`, `prompts/get`, a `tools/call` of a read-named tool).
 */
export function airlockPermits(tier: AirlockTier, transport: AirlockTransport, method: string, carriesBody = false): boolean {
  if (tier === 'none' || tier === 'soft') return true
  if (tier === 'drain') return false
  if (transport === 'fetch') return true
  if (transport === 'forward' || transport === 'intercepted' || transport === 'reverse') return !carriesBody && READ_METHODS.has(method.toUpperCase())
  if (transport === 'mcp') return method === 'read'
  return false
}

/** Metric label `action_class` of a denial (OP §6 item 3). */
export function airlockActionClass(transport: AirlockTransport, method: string): string {
  if (transport === 'fetch') return 'read'
  if (transport === 'connect') return 'CONNECT'
  if (transport === 'websocket') return 'GET'
  // An MCP message's class is its receipt action type (lower case, as receipts write it).
  if (transport === 'mcp') return method
  return method.toUpperCase()
}

/** Counters of §9 (`pipelock_airlock_*`); the per-tier gauge is computed from the sessions at scrape time. */
export interface AirlockCounters {
  /** `from|to|trigger` → count. */
  readonly transitions: Map<string, number>
  /** `tier|transport|action_class` → count. */
  readonly denials: Map<string, number>
  drainCompleted: number
  drainTimeout: number
}

export function newAirlockCounters(): AirlockCounters {
  return {transitions: new Map(), denials: new Map(), drainCompleted: 0, drainTimeout: 0}
}

export function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1)
}

export const AIRLOCK_OFF: AirlockSettings = {enabled: false, onElevated: 'none', onHigh: 'soft', onCritical: 'hard', softMs: 0, hardMs: 0, drainMs: 0}
