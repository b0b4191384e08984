/**
 * Where the proxy's heavy per-content work runs (runtime.md §22.2; the MCP side's rule, mcp.md
 * §18.4): the scan of a request body, the decision on a response, a WebSocket message's text DLP
 * and decision, `/fetch`'s reading of a page's text and its hidden-content check, a body's
 * redaction and a scan API field's scans.
 * On the event loop for content up to OFFLOAD_THRESHOLD_BYTES, on a pool of worker threads above
 * it (a request body by what its scan reads: a gzip body, or a few KiB of JSON whose many values
 * make thousands of split-secret pairs, goes too; and a git push's pack check, whatever its
 * size). A 1 MiB chat-completion body is about 90 ms of scanning; on the event loop every other
 * agent's requests, tunnels, WebSocket frames, `/health` and the admin API would wait for it. The
 * work is the same function either way (scan-offload/jobs.ts), so the gate decides on the same
 * result. While the pool is full it runs on the event loop (`room`); work the pool cannot run (a
 * thread died) refuses the content, which is never forwarded unscanned.
 *
 * One per snapshot (state.ts): its threads compile the snapshot's scanners, a reload retires it
 * (threads end once idle) and the new snapshot brings its own.
 */
import {LazyWorkerPool, OFFLOAD_THRESHOLD_BYTES, offloadedBytes, WorkerPool, type WorkerPoolStats} from '../../workers/index.js'
import {checkReceivePack, type PackCheck} from '../../git/index.js'
import {requestBodyScanBytes, type BodyScanInput, type ContentScanResult, type ResponseDecision, type ResponseDecisionOptions, type ResponseScanResult, type Scanner, type Suppressor, type TextDlpResult} from '../../scanner/index.js'
import {asBuffer, type BodyScanInit, type BodyScanJob, type BodyScanReply, type ResponseScanOptions, type SuppressionScope} from './jobs.js'
import type {OffloadCounters, OffloadOutcome, OffloadSurface} from './counters.js'
import {suppressionScopeOf} from './suppression-scope.js'
import {decideHiddenContent, extractHtmlText, type ExtractedPage} from '../text-extract.js'
import type {Redactor, RedactionOutcome, RedactionTarget} from '../../redaction/index.js'

export interface BodyScansOptions {
  /** The snapshot's redactor (read when the pool first starts; absent or null: `redaction` off). */
  readonly redactor?: () => Redactor | null
  /** Never use the pool (the differential test's inline oracle). */
  readonly inline?: boolean
  /** Pool threads; default cores − 1 (1..4). */
  readonly workers?: number
  readonly maxInFlightBytes?: number
  /** The worker module (default body-scans-worker.js beside this file). */
  readonly workerUrl?: URL
  /** Where the pool's scans are counted (`/metrics`); none in tests. */
  readonly counters?: OffloadCounters
}

/** Where a scan goes: inline (null), or the pool with the scanner's index, its bytes and the suppressor as data. */
interface Placement {
  readonly scanner: number
  readonly bytes: number
  readonly suppression: SuppressionScope | null
}

export class BodyScans {
  private readonly pool: LazyWorkerPool<BodyScanJob, BodyScanReply, BodyScanInit>
  private indexes: Map<Scanner, number> | null = null

  /** `scanners`: the snapshot's scanners, base view first (read when the pool first starts). */
  constructor(private readonly scanners: () => readonly Scanner[], private readonly o: BodyScansOptions = {}) {
    this.pool = new LazyWorkerPool(() => new WorkerPool({
      init: {scanners: this.scanners().map((s) => s.settings), redaction: o.redactor?.()?.source ?? null}, label: 'scan', workerUrl: o.workerUrl ?? new URL('./body-scans-worker.js', import.meta.url),
      ...(o.workers === undefined ? {} : {workers: o.workers}),
      ...(o.maxInFlightBytes === undefined ? {} : {maxInFlightBytes: o.maxInFlightBytes}),
    }))
  }

  /**
   * §6.2 scan of a request body read whole; a promise only when it ran on the pool. Placed by the
   * bytes the scan reads (`requestBodyScanBytes`): a body it inflates (gzip) goes to the pool
   * whatever its size, so does a JSON or form body of a few KiB whose many values make thousands
   * of split-secret pairs to scan; any body stays here while request-body scanning is off.
   */
  scanRequestBody(scanner: Scanner, input: BodyScanInput): ContentScanResult | Promise<ContentScanResult> {
    const at = this.placement('request_body', scanner, input.body.byteLength, input.suppress, requestBodyScanBytes(scanner.settings, input, OFFLOAD_THRESHOLD_BYTES))
    if (at === null) return scanner.scanRequestBody(input)
    const {suppress, ...rest} = input
    return this.run('request_body', {kind: 'request', scanner: at.scanner, input: {...rest, body: cloneable(input.body)}, suppression: at.suppression}, at.bytes).then(
      (r) => r.kind === 'request' ? replayed(r.suppressed, suppress, r.result) : unscannedRequest('wrong scan kind'),
      (e: Error) => unscannedRequest(e.message),
    )
  }

  /** §7 decision of a buffered response body; a promise only when it ran on the pool. */
  decideResponseBody(scanner: Scanner, body: Uint8Array, opts: ResponseDecisionOptions): ResponseDecision | Promise<ResponseDecision> {
    const at = this.placement('response_body', scanner, body.byteLength, opts.suppress, body.byteLength)
    if (at === null) return scanner.decideResponseBody(body, opts)
    const {suppress, ...rest} = opts
    return this.run('response_body', {kind: 'response', scanner: at.scanner, body: cloneable(body), opts: rest, suppression: at.suppression}, at.bytes).then(
      (r) => r.kind === 'response' ? replayed(r.suppressed, suppress, r.decision) : unscannedResponse('wrong scan kind'),
      (e: Error) => unscannedResponse(e.message),
    )
  }

  /**
   * A git push's pack check (`checkReceivePack`): on the pool for every push that has a body, small
   * or not (a pack is compressed: a few KiB can inflate to megabytes of content to scan). A check
   * the pool cannot run answers a pack that could not be read: the push is refused.
   */
  checkPush(scanner: Scanner, body: Buffer): PackCheck | Promise<PackCheck> {
    const index = this.o.inline === true || body.length === 0 ? undefined : this.indexOf(scanner)
    if (index === undefined || !this.room('git_push', body.length)) return checkReceivePack(scanner, body)
    return this.run('git_push', {kind: 'git_push', scanner: index, body: cloneable(body)}, body.length).then(
      (r) => (r.kind === 'git_push' ? r.check : {updates: [], error: 'wrong scan kind', found: []}),
      (e: Error) => ({updates: [], error: e.message, found: []}),
    )
  }

  /**
   * Text DLP (§6.1) of a text: on the pool when its UTF-8 is over OFFLOAD_THRESHOLD_BYTES — a scan
   * API field (`dlp`, a tool call's joined arguments; 512 KiB by default) or a WebSocket client
   * message behind the tail of the ones before — so the proxy's agents are not kept waiting (and
   * the scan API's deadline fires on time). Rejects with `ScanUnavailable` when the pool cannot
   * run it: the caller answers without a verdict (503) or closes the relay, never passes the text.
   */
  scanText(scanner: Scanner, text: string, surface: OffloadSurface): TextDlpResult | Promise<TextDlpResult> {
    const at = this.textPlacement(surface, scanner, text)
    if (at === null) return scanner.scanTextForDlp(text)
    return this.textScan(surface, {kind: 'text_dlp', scanner: at.scanner, text}, at.bytes, (r) => (r.kind === 'text_dlp' ? r.result : undefined))
  }

  /** The scan API's injection scan (`prompt_injection`, and a tool call's joined arguments), placed as `scanText`. */
  scanInjection(scanner: Scanner, content: string): ResponseScanResult | Promise<ResponseScanResult> {
    const at = this.textPlacement('scan_api', scanner, content)
    if (at === null) return scanner.scanResponse(content)
    return this.textScan('scan_api', {kind: 'injection', scanner: at.scanner, content}, at.bytes, (r) => (r.kind === 'injection' ? r.result : undefined))
  }

  /**
   * §7 decision on an upstream WebSocket text message (`decideResponse`), placed as `scanText`; a
   * decision the pool cannot make refuses the message, as a response body's does.
   */
  decideResponseText(scanner: Scanner, text: string, opts: ResponseScanOptions): ResponseDecision | Promise<ResponseDecision> {
    const at = this.textPlacement('response_body', scanner, text)
    if (at === null) return scanner.decideResponse(text, opts)
    return this.run('response_body', {kind: 'decide_text', scanner: at.scanner, text, opts}, at.bytes).then(
      (r) => (r.kind === 'decide_text' ? r.decision : unscannedResponse('wrong scan kind')),
      (e: Error) => unscannedResponse(e.message),
    )
  }

  /**
   * `/fetch`'s hidden-content check of a page (`decideHiddenContent`: the comments, scripts,
   * styles and hidden elements extracted, then decided): null when the page hides nothing. A page
   * over OFFLOAD_THRESHOLD_BYTES goes to the pool, extraction included (about 25 MB/s of regex
   * work: 1.7 MB of markup was about 45 ms on the event loop); a check the pool cannot run refuses
   * the page.
   */
  decideHidden(scanner: Scanner, markup: string, opts: ResponseDecisionOptions): ResponseDecision | null | Promise<ResponseDecision | null> {
    const at = this.textPlacement('response_body', scanner, markup, opts.suppress)
    if (at === null) return decideHiddenContent(scanner, markup, opts)
    const {suppress, ...rest} = opts
    return this.run('response_body', {kind: 'hidden', scanner: at.scanner, markup, opts: rest, suppression: at.suppression}, at.bytes).then(
      (r) => (r.kind === 'hidden' ? replayed(r.suppressed, suppress, r.decision) : unscannedResponse('wrong scan kind')),
      (e: Error) => unscannedResponse(e.message),
    )
  }

  /**
   * `/fetch`'s page text (`extractHtmlText`: the title and the visible text the agent is answered
   * with): on the pool for markup over OFFLOAD_THRESHOLD_BYTES (a 1.7 MB page is 3–13 ms of
   * reading). Not a verdict, so a reading the pool cannot run is made here (counted `inline`), and
   * the scans that follow decide on the same text either way.
   */
  pageText(markup: string): ExtractedPage | Promise<ExtractedPage> {
    const bytes = offloadedBytes(markup)
    if (this.o.inline === true || bytes === 0 || !this.room('response_body', bytes)) return extractHtmlText(markup)
    const here = (): ExtractedPage => extractHtmlText(markup)
    return this.run('response_body', {kind: 'page_text', markup}, bytes, 'inline').then((r) => (r.kind === 'page_text' ? r.page : here()), here)
  }

  /**
   * Class-preserving redaction of a request body (envelope-redaction §16) with the snapshot's
   * redactor: on the pool over OFFLOAD_THRESHOLD_BYTES (a 1 MiB chat body is tens of milliseconds
   * of matching and re-encoding). A redaction the pool cannot run blocks the body (`internal_error`,
   * the reason §19 gives a redaction that failed), never forwards it unredacted.
   */
  redactBody(redactor: Redactor, target: RedactionTarget, body: Buffer): RedactionOutcome | Promise<RedactionOutcome> {
    const onPool = this.o.inline !== true && body.length > OFFLOAD_THRESHOLD_BYTES && redactor === this.o.redactor?.() && this.room('request_body', body.length)
    if (!onPool) return redactor.redactBody(target, body)
    return this.run('request_body', {kind: 'redact', target, body: cloneable(body)}, body.length).then(
      (r): RedactionOutcome => {
        if (r.kind !== 'redact') return {kind: 'blocked', reason: 'internal_error'}
        const o = r.outcome
        // The rewritten body crossed as a Uint8Array: the gate forwards a Buffer.
        return o.kind === 'rewritten' ? {...o, body: asBuffer(o.body)} : o
      },
      (): RedactionOutcome => ({kind: 'blocked', reason: 'internal_error'}),
    )
  }

  /** The pool's counters (null until the first large body started it). */
  stats(): WorkerPoolStats | null {
    return this.pool.stats()
  }

  /** A reload replaced this snapshot: the pool's threads end once the scans still running are answered. */
  retire(): void {
    this.pool.retire()
  }

  async close(): Promise<void> {
    await this.pool.close()
  }

  /**
   * Null (scan inline) when the scan reads at most OFFLOAD_THRESHOLD_BYTES (`reads`), for a scanner
   * this snapshot did not build, or for a suppressor not described as data. The pool's byte cap
   * counts the body as sent.
   */
  private placement(surface: OffloadSurface, scanner: Scanner, bytes: number, suppress: Suppressor | undefined, reads: number): Placement | null {
    if (this.o.inline === true || reads <= OFFLOAD_THRESHOLD_BYTES) return null
    const index = this.indexOf(scanner)
    if (index === undefined) return null
    const scope = suppress === undefined ? null : suppressionScopeOf(suppress)
    if (scope === undefined || !this.room(surface, bytes)) return null
    return {scanner: index, bytes, suppression: scope}
  }

  /** `placement` of a text, by its UTF-8 length (0, so inline, for one of at most OFFLOAD_THRESHOLD_BYTES). */
  private textPlacement(surface: OffloadSurface, scanner: Scanner, text: string, suppress?: Suppressor): Placement | null {
    const bytes = offloadedBytes(text)
    return this.placement(surface, scanner, bytes, suppress, bytes)
  }

  /**
   * Whether the pool takes `bytes` more now. When it is full (64 MiB of bodies queued or being
   * scanned) the scan runs here instead, counted as `inline`: the same verdict, later, where a
   * refusal would have blocked a clean body as if the scan had found something.
   */
  private room(surface: OffloadSurface, bytes: number): boolean {
    if (this.pool.hasRoom(bytes)) return true
    this.o.counters?.record(surface, 'inline')
    return false
  }

  /** A text's job on the pool: its answer (`pick`), or `ScanUnavailable` for one the pool could not run. */
  private textScan<T>(surface: OffloadSurface, job: BodyScanJob, bytes: number, pick: (r: BodyScanReply) => T | undefined): Promise<T> {
    return this.run(surface, job, bytes).then(
      (r) => {
        const v = pick(r)
        if (v === undefined) throw new ScanUnavailable('wrong scan kind')
        return v
      },
      (e: Error) => {
        throw new ScanUnavailable(e.message)
      },
    )
  }

  private indexOf(scanner: Scanner): number | undefined {
    this.indexes ??= new Map(this.scanners().map((s, i) => [s, i]))
    return this.indexes.get(scanner)
  }

  /**
   * A job on the pool, counted `scanned` once answered; one the pool could not run is counted
   * `onFailure`: `failed` (its caller refuses the content) or `inline` (its caller does the work here).
   */
  private run(surface: OffloadSurface, job: BodyScanJob, bytes: number, onFailure: OffloadOutcome = 'failed'): Promise<BodyScanReply> {
    const p = this.pool.run(job, bytes)
    const counters = this.o.counters
    if (counters !== undefined) p.then(() => counters.record(surface, 'scanned'), () => counters.record(surface, onFailure))
    return p
  }
}

/** A scan the pool could not run (a thread died, the pool closed): the caller refuses to answer with a verdict. */
export class ScanUnavailable extends Error {
  constructor(why: string) {
    super(`scan could not be run: ${why}`)
    this.name = 'ScanUnavailable'
  }
}

/**
 * A body as it crosses to a thread: structured clone copies a view's whole ArrayBuffer, so a view
 * into a larger one (a Buffer slice) is copied to its own bytes first.
 */
function cloneable(body: Uint8Array): Uint8Array {
  return body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : new Uint8Array(body)
}

/** The thread's result, once the names it suppressed went through the event loop's own suppressor (its counters and audit). */
function replayed<T>(names: readonly string[], suppress: Suppressor | undefined, result: T): T {
  if (suppress !== undefined) for (const n of names) suppress(n)
  return result
}

/** A request body the pool could not scan: refused in every mode, as any body that cannot be scanned is (§6.2). */
function unscannedRequest(why: string): ContentScanResult {
  return {action: 'block', layer: 'body_dlp', reason: 'dlp_match', detail: `request body could not be scanned: ${why}`, dlp: [], dlpWarnings: [], injection: []}
}

/** A response the pool could not scan: not forwarded (the scanner's own fail-closed answer). */
function unscannedResponse(why: string): ResponseDecision {
  return {action: 'block', matches: [], reason: 'prompt_injection', layer: 'response_scan', detail: `response could not be scanned: ${why}`}
}
