/**
 * Escalation levels and `UpgradeAction(base, level)` (runtime spec §14.2, §14.3).
 */

export type LevelLabel = 'normal' | 'elevated' | 'high' | 'critical'

/** 0 normal, 1 elevated, 2 high, ≥3 critical (the level itself is not capped, §14.2). */
export function levelLabel(level: number): LevelLabel {
  if (level <= 0) return 'normal'
  if (level === 1) return 'elevated'
  if (level === 2) return 'high'
  return 'critical'
}

/** What one level does to a decision. */
export interface LevelActions {
  readonly upgradeWarn: boolean
  readonly upgradeAsk: boolean
  readonly blockAll: boolean
}

export interface LevelTable {
  readonly elevated: LevelActions
  readonly high: LevelActions
  readonly critical: LevelActions
}

/** One level as written in `adaptive_enforcement.levels.<name>`; absent fields take the default. */
export interface LevelInput {
  readonly upgrade_warn?: string
  readonly upgrade_ask?: string
  readonly block_all?: boolean
}

export interface LevelsInput {
  readonly elevated?: LevelInput
  readonly high?: LevelInput
  readonly critical?: LevelInput
}

/**
 * §14.3 defaults, used only for a field that is absent: elevated upgrades warn; high upgrades warn
 * and ask; critical upgrades both and blocks all. An explicit `""`/`false` disables that upgrade.
 */
const DEFAULT_LEVELS: Readonly<Record<keyof LevelTable, Required<LevelInput>>> = {
  elevated: {upgrade_warn: 'block', upgrade_ask: '', block_all: false},
  high: {upgrade_warn: 'block', upgrade_ask: 'block', block_all: false},
  critical: {upgrade_warn: 'block', upgrade_ask: 'block', block_all: true},
}

function resolveOne(name: keyof LevelTable, input: LevelInput | undefined): LevelActions {
  const d = DEFAULT_LEVELS[name]
  const warn = input?.upgrade_warn === undefined ? d.upgrade_warn : input.upgrade_warn
  const ask = input?.upgrade_ask === undefined ? d.upgrade_ask : input.upgrade_ask
  const all = input?.block_all === undefined ? d.block_all : input.block_all
  return {upgradeWarn: warn === 'block', upgradeAsk: ask === 'block', blockAll: all}
}

export function resolveLevels(input: LevelsInput = {}): LevelTable {
  return {elevated: resolveOne('elevated', input.elevated), high: resolveOne('high', input.high), critical: resolveOne('critical', input.critical)}
}

/** The actions of a level; null for `normal` (level 0 never changes a decision). */
export function levelActions(table: LevelTable, level: number): LevelActions | null {
  if (level <= 0) return null
  if (level === 1) return table.elevated
  if (level === 2) return table.high
  return table.critical
}

export type BaseAction = 'allow' | 'warn' | 'ask' | 'strip' | 'block'

/**
 * `UpgradeAction(base, level)`: `block_all` → block; else warn → block when the level has
 * `upgrade_warn: block`, ask → block when it has `upgrade_ask: block`; anything else unchanged.
 */
export function upgradeAction(base: BaseAction, level: number, table: LevelTable): BaseAction {
  const a = levelActions(table, level)
  if (a === null) return base
  if (a.blockAll) return 'block'
  if (base === 'warn' && a.upgradeWarn) return 'block'
  if (base === 'ask' && a.upgradeAsk) return 'block'
  return base
}
