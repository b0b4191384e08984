/**
 * One immutable snapshot of everything a request reads: config, the compiled scanner (URL,
 * DLP, body/header, response), rate-limit and data-budget windows. A reload builds a new
 * snapshot (windows reset, §20.6); a request keeps the snapshot it started with, redirects
 * included (§25.8).
 */
import type {Clock} from '../canonical/index.js'
import type {PipelockConfig} from '../config/index.js'
import {createScanner, DataBudget, RateLimiter, type Scanner} from '../scanner/index.js'
import {scannerSettingsFromConfig} from './settings-from-config.js'

export interface ProxySnapshot {
  readonly config: PipelockConfig
  readonly hash: string
  readonly scanner: Scanner
  readonly rateLimiter: RateLimiter
  readonly dataBudget: DataBudget
}

export function buildSnapshot(config: PipelockConfig, hash: string, env: Readonly<Record<string, string | undefined>>, clock: Clock): ProxySnapshot {
  const scanner = createScanner(scannerSettingsFromConfig(config, {env}))
  return {config, hash, scanner, rateLimiter: new RateLimiter(clock), dataBudget: new DataBudget(clock)}
}
