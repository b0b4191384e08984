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

/** What the replay knows of one URL. */
export class KnownUrl {
  private readonly cases: JudgedCase[] = []
  private hostRead = false
  private hostValue: string | undefined

  constructor(
    readonly url: string,
    readonly scan: ScannerReplayResult,
  ) {}

  /** `opportunityHost(url)`, read once. */
  get host(): string | undefined {
    if (!this.hostRead) {
      this.hostValue = opportunityHost(this.url)
      this.hostRead = true
    }
    return this.hostValue
  }

  /** The outcome of `ev` (a record of this URL) and its rule ids: remembered, or judged now. */
  judge(ev: CapturedEvent, contract: ResolvedContract | IndexedContract): {readonly outcome: UrlOutcome; readonly ruleIds: readonly string[]} {
    for (const c of this.cases) if (c.method === ev.method && c.action === ev.effectiveAction) return c
    const outcome = judgeUrl(ev, contract, this.scan)
    const c: JudgedCase = {method: ev.method, action: ev.effectiveAction, outcome, ruleIds: contractRuleIds(outcome.findings)}
    if (this.cases.length < MAX_CASES) this.cases.push(c)
    return c
  }
}

/** The URLs a replay knows, in a bounded two-generation memo (`GenerationMemo`). */
export class UrlMemo {
  private readonly memo: GenerationMemo<KnownUrl>

  constructor(generation?: number) {
    this.memo = new GenerationMemo(generation)
  }

  get(url: string): KnownUrl | undefined {
    return this.memo.get(url)
  }

  /** Remembers `url` with its scan; returns what is known of it. */
  learn(url: string, scan: ScannerReplayResult): KnownUrl {
    const k = new KnownUrl(url, scan)
    this.memo.set(url, k)
    return k
  }
}
