import {fixedClock, parseJson, type JsonValue} from '../canonical/index.js'
import type {CaptureFinding} from '../capture/index.js'
import {createScanner, createUrlScanner, defaultScannerSettings, RateLimiter, scanUrl, type ScannerSettings, type UrlScanContext} from '../scanner/index.js'
import {GenerationMemo} from './generation-memo.js'
import {ScanWorker} from './shadow-scan-thread.js'

/** The scanner half of a replayed URL event: its verdict and (for blocks) its findings. */
export interface ScannerReplayResult {
  verdict: string
  findings: CaptureFinding[]
}

/**
 * The scanner half of replay: the call scans one URL; `many` gives the verdicts of a batch of
 * URLs in order (what `shadowReplay` asks, a read chunk at a time), so a scanner may look them
 * up in its memo and scan the rest elsewhere (`createScannerReplay` with a worker thread).
 */
export interface ScannerReplay {
  (url: string): Promise<ScannerReplayResult>
  many?: (urls: readonly string[]) => Promise<readonly ScannerReplayResult[]>
  /** Ends the scanner's worker thread, if it started one. */
  close?: () => Promise<void>
  /** URLs scanned so far (memo misses, inline or on the worker): what the memo and `many` saved shows here. */
  scanned?: () => number
}

/**
 * The candidate config's MCP tool policy re-run on a captured tool call (learn-lifecycle §3.2
 * `tool_policy`): its verdict (`allow`, `warn`, `block`, `redirect`) and the matching rules.
 */
export type ToolPolicyReplay = (toolName: string, argsJson: string) => ScannerReplayResult

/** Rate limits depend on live timing, not on the request: replay never counts them. */
class NoRateLimit extends RateLimiter {
  override checkAndRecord(): boolean {
    return true
  }
}

/** The settings a replay scans with (§3.1 step 2: no internal-network list, no env-var DLP). */
export function replayScannerSettings(base: ScannerSettings): ScannerSettings {
  return {...base, internal: [], dlp: {...base.dlp, scanEnv: false}}
}

// Results are shared between records (callers only read them); the common ones are constants.
const ALLOW: ScannerReplayResult = Object.freeze({verdict: 'allow', findings: Object.freeze([]) as unknown as CaptureFinding[]})
const WARN: ScannerReplayResult = Object.freeze({verdict: 'warn', findings: Object.freeze([]) as unknown as CaptureFinding[]})

/** A result as kept in the memo: the shared constant when it has no findings. */
export function sharedResult(r: ScannerReplayResult): ScannerReplayResult {
  if (r.findings.length > 0) return r
  return r.verdict === 'allow' ? ALLOW : r.verdict === 'warn' ? WARN : r
}

/**
 * One URL scan with the replay settings (already passed through `replayScannerSettings`). No DNS
 * is ever asked: with no rate limit, no resolver and no environment, the result is a pure
 * function of the URL — which is what lets replay memoise it and scan on another thread.
 */
export function replayUrlScan(settings: ScannerSettings): (url: string) => Promise<ScannerReplayResult> {
  const ctx: UrlScanContext = {
    scanner: createUrlScanner(settings),
    resolver: async () => [],
    rateLimiter: new NoRateLimit(fixedClock('2026-01-01T00:00:00Z')),
  }
  return async (url) => {
    const r = await scanUrl(url, ctx)
    if (r.allowed) return r.warnings.length > 0 ? WARN : ALLOW
    const verdict = settings.enforce ? 'block' : 'warn'
    return {verdict, findings: [{kind: r.scanner, action: verdict, ...(r.reason === null ? {} : {pattern_name: r.reason})}]}
  }
}

/** The scan results of URLs already scanned (see `GenerationMemo`; ≈ 100 B an entry plus the URL). */
export class ScanMemo extends GenerationMemo<ScannerReplayResult> {}

/** What `learn shadow` passes as `workerAfter`: small replays never start a thread. */
export const SCAN_WORKER_AFTER = 4096

export interface ScannerReplayOptions {
  /**
   * Scan the memo misses of `many` on a worker thread once this many URLs were scanned inline
   * (the replay's other work — reading, decoding and verifying the capture, evaluating — stays on
   * the calling thread, so a 2-core machine runs both at once). Absent: never.
   */
  workerAfter?: number
  /** Memo generation size (see `ScanMemo`). */
  memoGeneration?: number
}

/**
 * §3.1 step 2: replay scanning with the internal-network (SSRF) list emptied and env-var DLP off,
 * so a replay does not depend on the replaying host's DNS or environment. No DNS is ever asked.
 * Results are memoised (`ScanMemo`); with `workerAfter` the misses of a batch are scanned on a
 * worker thread (shadow-scan-worker.ts) with the same settings — the same pure function, so the
 * same results, in the same order.
 */
export function createScannerReplay(base: ScannerSettings = defaultScannerSettings(), options: ScannerReplayOptions = {}): ScannerReplay {
  const settings = replayScannerSettings(base)
  const scan = replayUrlScan(settings)
  const memo = new ScanMemo(options.memoGeneration)
  let inline = 0
  let scannedUrls = 0
  let worker: ScanWorker | undefined
  const one = async (url: string): Promise<ScannerReplayResult> => {
    let r = memo.get(url)
    if (r === undefined) {
      scannedUrls++
      r = await scan(url)
      inline++
      memo.set(url, r)
    }
    return r
  }
  // URLs of a `many` whose scans are still running: a later `many` (the replay keeps several
  // batches in flight) waits for those results instead of scanning the URL again.
  const inflight = new Map<string, {results: Promise<readonly ScannerReplayResult[]>; k: number}>()
  const many = async (urls: readonly string[]): Promise<readonly ScannerReplayResult[]> => {
    const out: (ScannerReplayResult | undefined)[] = new Array(urls.length)
    const misses: string[] = []
    const missAt = new Map<string, number[]>()
    const asked: {i: number; results: Promise<readonly ScannerReplayResult[]>; k: number}[] = []
    for (let i = 0; i < urls.length; i++) {
      const url = urls[i] as string
      const r = memo.get(url)
      if (r !== undefined) {
        out[i] = r
        continue
      }
      const at = missAt.get(url)
      if (at !== undefined) {
        at.push(i)
        continue
      }
      const running = inflight.get(url)
      if (running !== undefined) {
        asked.push({i, results: running.results, k: running.k})
        continue
      }
      missAt.set(url, [i])
      misses.push(url)
    }
    if (misses.length > 0) {
      const useWorker = options.workerAfter !== undefined && inline >= options.workerAfter
      const mine = (async (): Promise<readonly ScannerReplayResult[]> => {
        let results: readonly ScannerReplayResult[]
        scannedUrls += misses.length
        if (useWorker) results = await (worker ??= new ScanWorker(settings)).scan(misses)
        else {
          const rs: ScannerReplayResult[] = []
          for (const url of misses) rs.push(await scan(url))
          inline += misses.length
          results = rs
        }
        return misses.map((url, k) => {
          const r = sharedResult(results[k] as ScannerReplayResult)
          memo.set(url, r)
          return r
        })
      })()
      misses.forEach((url, k) => inflight.set(url, {results: mine, k}))
      const settled = (): void => {
        for (const url of misses) if (inflight.get(url)?.results === mine) inflight.delete(url)
      }
      mine.then(settled, settled)
      const results = await mine
      misses.forEach((url, k) => {
        for (const i of missAt.get(url) as number[]) out[i] = results[k]
      })
    }
    for (const a of asked) out[a.i] = (await a.results)[a.k]
    return out as ScannerReplayResult[]
  }
  const close = async (): Promise<void> => {
    const w = worker
    worker = undefined
    await w?.close()
  }
  return Object.assign(one, {many, close, scanned: () => scannedUrls})
}

/** What a tool policy answers for one call (the MCP plugin's ToolPolicy has this shape). */
export interface ToolPolicyCheck {
  check(toolName: string, args: JsonValue | undefined): {readonly rules: readonly string[]; readonly action: string}
}

/**
 * A ToolPolicyReplay over a compiled tool policy: no matching rule → `allow`; otherwise the
 * winning action (`warn`, `block`, `redirect`) with one `tool_policy` finding naming the rules.
 * Arguments that are not JSON are checked as absent, as the live policy treats a call without them.
 */
export function createToolPolicyReplay(policy: ToolPolicyCheck): ToolPolicyReplay {
  return (toolName, argsJson) => {
    let args: JsonValue | undefined
    try {
      args = argsJson === '' ? undefined : parseJson(argsJson)
    } catch {
      args = undefined
    }
    const v = policy.check(toolName, args === null ? undefined : args)
    if (v.action === '') return {verdict: 'allow', findings: []}
    return {verdict: v.action, findings: [{kind: 'tool_policy', action: v.action, policy_rule: v.rules.join(','), tool_name: toolName}]}
  }
}

/**
 * learn-lifecycle §3.2 `response`/`dlp` with an escrowed sidecar: the decrypted payload rescanned
 * by the candidate config's scanner — the request body scan (DLP and injection) for `dlp`, the
 * response decision for `response`. Synchronous; verdicts as the URL replay spells them.
 */
export type PayloadReplay = (surface: string, payload: Uint8Array) => ScannerReplayResult

/** A PayloadReplay with the replay settings (`replayScannerSettings`): no DNS, no environment. */
export function createPayloadReplay(base: ScannerSettings = defaultScannerSettings()): PayloadReplay {
  const settings = replayScannerSettings(base)
  const scanner = createScanner(settings)
  // An unenforced block is the `warn` the live proxy records for it (capture effective_action).
  const blockVerdict = settings.enforce ? 'block' : 'warn'
  return (surface, payload) => {
    if (surface === 'dlp') {
      const r = scanner.scanRequestBody({body: payload})
      if (r.action === 'allow') return ALLOW
      const verdict = r.action === 'block' ? blockVerdict : 'warn'
      const findings: CaptureFinding[] = [
        ...(r.action === 'block' ? r.dlp : r.dlpWarnings).map((f) => ({kind: 'dlp', action: verdict, pattern_name: f.pattern})),
        ...r.injection.map((m) => ({kind: 'injection', action: verdict, pattern_name: m.pattern})),
      ]
      return {verdict, findings}
    }
    const d = scanner.decideResponseBody(payload)
    if (d.action === 'allow') return ALLOW
    // `ask` without an operator is a block; a strip forwards the cleaned body, as a warn does.
    const verdict = d.action === 'block' || d.action === 'ask' ? blockVerdict : 'warn'
    return {verdict, findings: d.matches.map((m) => ({kind: 'injection', action: verdict, pattern_name: m.pattern}))}
  }
}
