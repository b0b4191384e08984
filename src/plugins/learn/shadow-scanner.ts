import {fixedClock} from '../canonical/index.js'
import type {CaptureFinding} from '../capture/index.js'
import {createUrlScanner, defaultScannerSettings, RateLimiter, scanUrl, type ScannerSettings, type UrlScanContext} from '../scanner/index.js'

/** The scanner half of a replayed URL event: its verdict and (for blocks) its findings. */
export interface ScannerReplayResult {
  verdict: string
  findings: CaptureFinding[]
}

export type ScannerReplay = (url: string) => Promise<ScannerReplayResult>

/** Rate limits depend on live timing, not on the request: replay never counts them. */
class NoRateLimit extends RateLimiter {
  override checkAndRecord(): boolean {
    return true
  }
}

/**
 * §3.1 step 2: replay scanning with the internal-network (SSRF) list emptied and env-var DLP off,
 * so a replay does not depend on the replaying host's DNS or environment. No DNS is ever asked.
 */
export function createScannerReplay(base: ScannerSettings = defaultScannerSettings()): ScannerReplay {
  const settings: ScannerSettings = {...base, internal: [], dlp: {...base.dlp, scanEnv: false}}
  const ctx: UrlScanContext = {
    scanner: createUrlScanner(settings),
    resolver: async () => [],
    rateLimiter: new NoRateLimit(fixedClock('2026-01-01T00:00:00Z')),
  }
  const scan = async (url: string): Promise<ScannerReplayResult> => {
    const r = await scanUrl(url, ctx)
    if (r.allowed) return {verdict: r.warnings.length > 0 ? 'warn' : 'allow', findings: []}
    const verdict = settings.enforce ? 'block' : 'warn'
    return {verdict, findings: [{kind: r.scanner, action: verdict, ...(r.reason === null ? {} : {pattern_name: r.reason})}]}
  }
  // With no rate limit, no DNS and no environment, a replayed scan is a pure function of the
  // URL, and captures repeat URLs: a bounded memo (cleared when full, so memory stays flat)
  // saves re-scanning them. Results are shared; callers only read them.
  const memo = new Map<string, Promise<ScannerReplayResult>>()
  return (url) => {
    let r = memo.get(url)
    if (r === undefined) {
      if (memo.size >= 20_000) memo.clear()
      memo.set(url, (r = scan(url)))
    }
    return r
  }
}
