import type {IndexedContract, ResolvedContract} from '../enforcement/index.js'
import {contractRuleIds} from './shadow-analyze.js'
import {opportunityHost} from './shadow-opportunity.js'
import {judgeUrl, type CapturedEvent, type UrlOutcome} from './shadow-replay.js'
import type {ScannerReplayResult} from './shadow-scanner.js'
import {GenerationMemo} from './generation-memo.js'

// Issue 18: what a replay remembers of each URL it judged. Captures repeat URLs (the 1M-event
// bench corpus: 935k URL records, 213k distinct URLs), and everything a URL record needs beyond
// the record itself is a pure function of its URL — the replayed scan (no DNS, no rate limit, no
// environment: shadow-scanner.ts), the host its opportunity is counted under — or of the URL, the
// method and the effective action — the evaluator's outcome (`judgeUrl`) and the rule ids the
// analysis counts it under. So a repeated record is judged from here: no scan, no URL parse, no
// evaluation. The outcomes are shared between records, which only read them.

/** One (method, effective action) of a URL, judged. */
interface JudgedCase {
  readonly method: string
  readonly action: string
  readonly outcome: UrlOutcome
  readonly ruleIds: readonly string[]
}

/**
 * A URL's cases are few (a route's method and the capture's action); past this many a record of
 * another case is judged without being remembered, so an entry stays small whatever the capture.
 */
const MAX_CASES = 8

const NO_RULE_IDS: readonly string[] = Object.freeze([])

/**
 * What the replay knows of one URL. Up to 262,144 of these are live at once, so it is kept
 * small (≈ 100 B beside the URL itself): the first case inline, more only when a URL has them.
 */
export class KnownUrl {
  private first: JudgedCase | undefined
  private more: JudgedCase[] | undefined

  constructor(
    readonly scan: ScannerReplayResult,
    /** `opportunityHost(url)`. */
    readonly host: string | undefined,
  ) {}

  /** The outcome of `ev` (a record of this URL) and its rule ids: remembered, or judged now. */
  judge(ev: CapturedEvent, contract: ResolvedContract | IndexedContract): {readonly outcome: UrlOutcome; readonly ruleIds: readonly string[]} {
    // A record with method overrides (rare) is judged on them each time, never remembered under its method alone.
    if (ev.methodOverrides !== undefined) {
      const outcome = judgeUrl(ev, contract, this.scan)
      const ids = contractRuleIds(outcome.findings)
      return {outcome, ruleIds: ids.length === 0 ? NO_RULE_IDS : ids}
    }
    const f = this.first
    if (f !== undefined && f.method === ev.method && f.action === ev.effectiveAction) return f
    if (this.more !== undefined) for (const c of this.more) if (c.method === ev.method && c.action === ev.effectiveAction) return c
    const outcome = judgeUrl(ev, contract, this.scan)
    const ids = contractRuleIds(outcome.findings)
    const c: JudgedCase = {method: ev.method, action: ev.effectiveAction, outcome, ruleIds: ids.length === 0 ? NO_RULE_IDS : ids}
    if (f === undefined) this.first = c
    else if (this.more === undefined) this.more = [c]
    else if (this.more.length < MAX_CASES - 1) this.more.push(c)
    return c
  }
}

/** The URLs a replay knows, in a bounded two-generation memo (`GenerationMemo`). */
export class UrlMemo {
  private readonly memo: GenerationMemo<KnownUrl>
  /** One copy of each host (URLs of a host share it); as many as the opportunity map holds. */
  private readonly hosts = new Map<string, string>()

  constructor(generation?: number) {
    this.memo = new GenerationMemo(generation)
  }

  get(url: string): KnownUrl | undefined {
    return this.memo.get(url)
  }

  /** Remembers `url` with its scan; returns what is known of it. */
  learn(url: string, scan: ScannerReplayResult): KnownUrl {
    let host = opportunityHost(url)
    if (host !== undefined) {
      const seen = this.hosts.get(host)
      if (seen === undefined) this.hosts.set(host, host)
      else host = seen
    }
    const k = new KnownUrl(scan, host)
    this.memo.set(url, k)
    return k
  }
}
