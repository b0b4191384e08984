/**
 * One URL through the full URL pipeline of a config, outside a running proxy (`pipelock check
 * --url`, operations.md §7.3): real DNS for the SSRF stage, a fresh rate limiter, and this
 * machine's own addresses counted as `pipelock run` on it counts them (host-addresses.ts).
 */
import {systemClock} from '../canonical/index.js'
import type {PipelockConfig} from '../config/index.js'
import {createScanner, RateLimiter, type UrlScanResult} from '../scanner/index.js'
import {scannerSettingsFromConfig} from './settings-from-config.js'
import {systemLookupAll} from './ssrf-dialer.js'
import {hostAddressCidrs} from './host-addresses.js'

export async function checkUrl(config: PipelockConfig, env: Readonly<Record<string, string | undefined>>, url: string): Promise<UrlScanResult> {
  const scanner = createScanner(scannerSettingsFromConfig(config, {env, hostAddresses: hostAddressCidrs()}))
  return await scanner.scanUrl(url, {resolver: (host) => systemLookupAll(host), rateLimiter: new RateLimiter(systemClock)})
}
