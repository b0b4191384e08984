import {
  createUrlScanner, defaultScannerSettings, RateLimiter, DataBudget, scanUrl,
  type ScannerSettings, type UrlScanContext, type UrlScanResult,
} from '../../../src/plugins/scanner/index.js'

export interface ManualClock {
  nowNanos(): bigint
  advanceSeconds(s: number): void
}

export function manualClock(): ManualClock {
  let t = 1_700_000_000_000_000_000n
  return {nowNanos: () => t, advanceSeconds: (s) => (t += BigInt(s) * 1_000_000_000n)}
}

export interface Harness {
  scan(url: string, extra?: Partial<UrlScanContext>): Promise<UrlScanResult>
  lookups: string[]
  clock: ManualClock
  budget: DataBudget
}

/** A scanner with a table-driven fake resolver that records every lookup. */
export function harness(dns: Record<string, string[] | Error> = {}, mut?: (s: ScannerSettings) => void): Harness {
  const s = defaultScannerSettings()
  s.maxRequestsPerMinute = 100000
  mut?.(s)
  const scanner = createUrlScanner(s)
  const clock = manualClock()
  const rateLimiter = new RateLimiter(clock)
  const budget = new DataBudget(clock)
  const lookups: string[] = []
  const resolver = async (host: string): Promise<string[]> => {
    lookups.push(host)
    const v = dns[host]
    if (v instanceof Error) throw v
    if (v === undefined) return ['93.184.216.34']
    return v
  }
  return {
    lookups,
    clock,
    budget,
    scan: (url, extra) => scanUrl(url, {scanner, resolver, rateLimiter, dataBudget: budget, ...extra}),
  }
}

export function dnsError(code: string): Error {
  return Object.assign(new Error(code), {code})
}
