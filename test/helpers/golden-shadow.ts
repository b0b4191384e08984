import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {fixedClock} from '../../src/plugins/canonical/index.js'
import {loadContract} from '../../src/plugins/contracts/index.js'
import {applyDecisions, deterministicKey, LIFECYCLE_DETERMINISTIC_CLOCK, resignContract, type ScannerReplayResult} from '../../src/plugins/learn/index.js'
import {createUrlScanner, defaultScannerSettings, RateLimiter, scanUrl} from '../../src/plugins/scanner/index.js'
import {repoPath} from './vectors.js'

/**
 * A deterministic ratification of a golden candidate. `all`: every rule enforce (what
 * `learn ratify --accept-low-confidence --deterministic` writes). `strict`: host-wide rules (no
 * path constraint) rejected, every other rule enforce — what an operator answering `r` to the
 * host-wide rules gets; traffic that no path rule covers (the `_other` tail of a capped host) is
 * then default-denied and shows up as new blocks. Collapsed `*` segments match any one segment.
 */
export function ratifiedGoldenBody(corpus: string, mode: 'all' | 'strict'): ReturnType<typeof resignContract> {
  const file = repoPath('goldens', corpus, 'contract.yaml')
  const env = loadContract(readFileSync(file, 'utf8'), file)
  const rules = env.body.get('rules') as Map<string, unknown>[]
  const hasPaths = (r: Map<string, unknown>): boolean => (r.get('selector') as Map<string, unknown>).has('paths')
  const applied = applyDecisions(env.body, rules.map((r) => (mode === 'all' || hasPaths(r) ? 'enforce' : 'reject')))
  return resignContract(applied.body, deterministicKey('ratifyCompile'), 'learn ratify')
}

/** Every `.jsonl` file under `root`, in name order (callers sort them into chain order). */
export function listJsonl(root: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(root).sort()) {
    const p = path.join(root, name)
    if (statSync(p).isDirectory()) out.push(...listJsonl(p))
    else if (name.endsWith('.jsonl')) out.push(p)
  }
  return out
}

/** The replay's "now" and look-back window in the shadow differential tests. */
export const SHADOW_NOW = fixedClock(LIFECYCLE_DETERMINISTIC_CLOCK).nowNanos()
export const SHADOW_WEEK_NS = 168n * 3_600_000_000_000n

class NoRateLimit extends RateLimiter {
  override checkAndRecord(): boolean {
    return true
  }
}

/**
 * The oracle of the shadow differential tests: the replay scan of one URL as it was before issue
 * 18 (no memo, no batches, no thread), one URL after another.
 */
export function oracleReplayScan(): (url: string) => Promise<ScannerReplayResult> {
  const base = defaultScannerSettings()
  const settings = {...base, internal: [], dlp: {...base.dlp, scanEnv: false}}
  const ctx = {scanner: createUrlScanner(settings), resolver: async () => [], rateLimiter: new NoRateLimit(fixedClock('2026-01-01T00:00:00Z'))}
  return async (url) => {
    const r = await scanUrl(url, ctx)
    if (r.allowed) return {verdict: r.warnings.length > 0 ? 'warn' : 'allow', findings: []}
    const verdict = settings.enforce ? 'block' : 'warn'
    return {verdict, findings: [{kind: r.scanner, action: verdict, ...(r.reason === null ? {} : {pattern_name: r.reason})}]}
  }
}
