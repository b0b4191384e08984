/**
 * Where an MCP message's content scan runs (spec mcp.md §4.7 note 4, §18.4): inline on the event
 * loop for a message up to OFFLOAD_THRESHOLD_BYTES, on the scan pool above it — and, on a loop
 * other clients share (`placeByPairs`), a request whose values make more than that in
 * split-secret pairs. Either way the
 * one decision function decides, in its gate order (kill switch → scanners → session → CEE →
 * contract → mode), with the pool's scan result as an input: same verdict, findings, notes and
 * bytes. While the pool is full the scan runs inline. A pool failure (worker died, scan threw)
 * blocks the message with the reason (`content scan failed: …`); it is never forwarded unscanned.
 */
import {decideRequest, decideResponse, requestScanRuns, unscannedContent, type McpContext, type McpDecision, type RequestExtras} from '../mcp/index.js'
import type {McpMediation} from './mediation.js'

/** The envelope builder, loaded on the first forwarded call of a config with envelopes on. */
let mediationApply: typeof import('./mediation-apply.js') | undefined
import {settleRedirect, type RedirectOptions} from './redirect.js'
import {McpScanPool, type ScanJob, type ScanPoolOptions, type ScanPoolStats, type ScanReply, type ScanWorkerInit} from './scan-pool.js'
import {LazyWorkerPool, OFFLOAD_THRESHOLD_BYTES, offloadedBytes} from '../workers/index.js'
import {jsonValuePairBytes} from '../scanner/index.js'

export {OFFLOAD_THRESHOLD_BYTES}

export interface ScanOffloadOptions extends ScanPoolOptions {
  /** Bytes above which a message goes to the pool; default OFFLOAD_THRESHOLD_BYTES. */
  readonly threshold?: number
  /** Never use the pool (the differential test's inline oracle). */
  readonly inline?: boolean
  /** How a `redirect` verdict's handler runs (mcp.md §8.5). */
  readonly redirect?: RedirectOptions
  /** The mediation envelope forwarded `tools/call`s carry (null: `mediation_envelope` off). */
  readonly mediation?: McpMediation | null
  /**
   * Place a request by what its scan reads — its size and the split-secret pairs of its values
   * (`jsonValuePairBytes`: a `tools/call` of 64 hex ids in 2.9 KB is about 40 ms) — not its size
   * alone: for `run --mcp-listen`, whose event loop serves every agent's HTTP traffic too. `mcp
   * proxy` wraps one agent, which waits for its own call either way; there a pool started for
   * small calls would only add a thread's memory.
   */
  readonly placeByPairs?: boolean
}

export class McpScanOffload {
  private readonly pool: LazyWorkerPool<ScanJob, ScanReply, ScanWorkerInit>
  private readonly threshold: number

  constructor(private readonly o: ScanOffloadOptions) {
    this.threshold = o.threshold ?? OFFLOAD_THRESHOLD_BYTES
    this.pool = new LazyWorkerPool(() => new McpScanPool(o))
  }

  /**
   * The request decision of `raw`; a promise only when the scan went to the pool or the tool
   * policy redirected the call (the handler runs here, for every transport: mcp.md §8.5).
   */
  decideRequest(ctx: McpContext, raw: string, extras: RequestExtras = {}): McpDecision | Promise<McpDecision> {
    const d = this.scannedRequest(ctx, raw, extras)
    if (d instanceof Promise) return d.then((x) => (x.redirect === undefined ? this.mediated(x) : settleRedirect(ctx, x, this.o.redirect)))
    return d.redirect === undefined ? this.mediated(d) : settleRedirect(ctx, d, this.o.redirect)
  }

  /** A forwarded `tools/call` gets its mediation envelope here, for every transport (mediation.ts). */
  private mediated(d: McpDecision): McpDecision | Promise<McpDecision> {
    const m = this.o.mediation
    if (m === null || m === undefined) return d
    if (mediationApply !== undefined) return mediationApply.withMediation(d, m)
    return import('./mediation-apply.js').then((mod) => {
      mediationApply = mod
      return mod.withMediation(d, m)
    })
  }

  private scannedRequest(ctx: McpContext, raw: string, extras: RequestExtras): McpDecision | Promise<McpDecision> {
    const bytes = this.offloaded(raw, this.o.placeByPairs === true)
    if (bytes === 0 || !requestScanRuns(ctx.settings, ctx.state.transport)) return decideRequest(ctx, raw, extras)
    return this.pool.run({kind: 'request', raw}, bytes).then(
      (r) => decideRequest(ctx, raw, {...extras, ...('request' in r ? {content: r.request, redaction: r.redaction} : {content: unscannedContent('wrong scan kind')})}),
      (e: Error) => decideRequest(ctx, raw, {...extras, content: unscannedContent(e.message)}),
    )
  }

  /** The response decision of `raw`; a promise only when the scan went to the pool. */
  decideResponse(ctx: McpContext, raw: string): McpDecision | Promise<McpDecision> {
    const bytes = this.offloaded(raw)
    if (bytes === 0) return decideResponse(ctx, raw)
    return this.pool.run({kind: 'response', raw}, bytes).then(
      (r) => decideResponse(ctx, raw, 'response' in r ? r.response : {kind: 'failed', error: 'wrong scan kind'}),
      (e: Error) => decideResponse(ctx, raw, {kind: 'failed', error: e.message}),
    )
  }

  /** Pool counters (null until the first large message started it). */
  stats(): ScanPoolStats | null {
    return this.pool.stats()
  }

  /**
   * A config reload replaced this runtime: the pool's threads end once the scans still running
   * finish (their messages are decided normally), and after any later straggler.
   */
  retire(): void {
    this.pool.retire()
  }

  async close(): Promise<void> {
    await this.pool.close()
  }

  /**
   * The message's byte length when it goes to the pool, else 0: small, or the pool is full (64 MiB
   * of messages queued or being scanned), where it is scanned here rather than blocked as if its
   * scan had failed.
   */
  /** The bytes a message takes on the pool (its UTF-8 length), or 0 when it is scanned here; `byPairs`: `placeByPairs` for a request. */
  private offloaded(raw: string, byPairs = false): number {
    if (this.o.inline === true) return 0
    let bytes = offloadedBytes(raw, this.threshold)
    if (bytes === 0 && byPairs && raw.length + jsonValuePairBytes(raw) > this.threshold) bytes = Buffer.byteLength(raw)
    return bytes > 0 && this.pool.hasRoom(bytes) ? bytes : 0
  }
}
