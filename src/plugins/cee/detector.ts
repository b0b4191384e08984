/**
 * Cross-request exfiltration detection (operations §5): the process-wide entropy budget and
 * fragment buffer, keyed by session key, each capped at 10 000 keys (LRU), swept every
 * clamp(window, 1 s, 60 s). `admit` is the one entry point of the HTTP transports; `admitFrame`
 * is the WebSocket transport's (one client message); `connectExceeded` is CONNECT's (records
 * nothing, §5.4).
 */
import {matchesAnyDomain} from '../scanner/index.js'
import {EntropyBudget} from './entropy-budget.js'
import {FieldTails} from './field-tails.js'
import {FragmentBuffer, type TextDlp} from './fragment-buffer.js'
import type {CeeField, CeePayload} from './payload.js'

export const CEE_MAX_KEYS = 10_000

/**
 * Keys per slice of the periodic sweep: a slice is tens of µs (≈ 0.25 µs a key, measured), the
 * whole 10,000-key sweep in one go was 2.5–30 ms of event-loop stall (bench: cee).
 */
export const SWEEP_SLICE = 256

export interface CeeSettings {
  readonly enabled: boolean
  /** Fragment-match action. */
  readonly action: 'block' | 'warn'
  readonly entropy: {readonly enabled: boolean; readonly bitsPerWindow: number; readonly windowMs: number; readonly action: 'block' | 'warn'; readonly exemptDomains: readonly string[]}
  readonly fragments: {readonly enabled: boolean; readonly maxBufferBytes: number; readonly windowMs: number}
}

/** Counters kept across reloads (metrics `pipelock_cross_request_*`). */
export interface CeeCounters {
  entropyExceeded: number
  dlpMatches: number
}

export function newCeeCounters(): CeeCounters {
  return {entropyExceeded: 0, dlpMatches: 0}
}

export interface CeeFinding {
  readonly kind: 'entropy' | 'fragment'
  readonly action: 'block' | 'warn'
  /** The result reason (fetch `block_reason`, forward body): `cross-request …`. */
  readonly reason: string
  /** The audit detail: `entropy budget exceeded: <usage>/<budget> bits` or `fragment reassembly DLP match: <pattern>`. */
  readonly detail: string
  /** Fragment findings: the DLP pattern that matched the reassembled window. */
  readonly pattern?: string
}

export interface CeeResult {
  readonly findings: readonly CeeFinding[]
  /** The finding that blocks (the first with action block), if any. */
  readonly block: CeeFinding | null
  readonly entropyExceeded: boolean
  readonly fragmentMatched: boolean
}

const CLEAN: CeeResult = Object.freeze({findings: [], block: null, entropyExceeded: false, fragmentMatched: false})

export class CrossRequestDetector {
  readonly entropy: EntropyBudget | null
  readonly fragments: FragmentBuffer | null
  /** Per-field tails (`field-tails.ts`), part of fragment reassembly: on and off with it, on its window. */
  readonly fieldTails: FieldTails | null
  private timer: NodeJS.Timeout | undefined
  /** The next slice of the sweep pass in progress, if any. */
  private sweeping: NodeJS.Immediate | undefined

  constructor(readonly settings: CeeSettings, readonly counters: CeeCounters = newCeeCounters(), cap = CEE_MAX_KEYS) {
    const e = settings.entropy
    const f = settings.fragments
    this.entropy = settings.enabled && e.enabled ? new EntropyBudget(e.bitsPerWindow, e.windowMs, cap) : null
    this.fragments = settings.enabled && f.enabled ? new FragmentBuffer(f.maxBufferBytes, f.windowMs, cap) : null
    this.fieldTails = this.fragments !== null ? new FieldTails(f.windowMs, cap) : null
  }

  /** An HTTP request's payload (fetch, forward, intercepted). `enforce: false` turns every action into warn. */
  admit(key: string, host: string, payload: CeePayload, dlp: TextDlp, nowMs: number, enforce: boolean): CeeResult {
    return this.run(key, host, [payload.values, payload.keys], [[key, payload.values], [`${key}|keys`, payload.keys]], dlp, nowMs, enforce, payload.fields)
  }

  /**
   * One WebSocket client→server message: entropy over the whole message, fragments for text
   * messages only; `fields`, a JSON text message's string values by member path.
   */
  admitFrame(key: string, host: string, data: string | Buffer, isText: boolean, dlp: TextDlp, nowMs: number, enforce: boolean, jsonValues: string | null = null, fields?: readonly CeeField[]): CeeResult {
    const text = typeof data === 'string' ? data : data.toString(isText ? 'utf8' : 'latin1')
    // A JSON text message's fragments are its string values joined (as `admitMessage`'s): the raw
    // quotes and braces of each message would stand between the pieces of a split secret.
    const fragment = jsonValues ?? text
    return this.run(key, host, [text], isText ? [[key, fragment]] : [], dlp, nowMs, enforce, isText ? fields : undefined)
  }

  /**
   * One MCP client message: entropy over the whole JSON-RPC message (mcp.md §10.2); fragments over
   * its values (strings and numbers as sent) joined, and over its member names joined in the keys
   * stream HTTP query keys share, so a secret split across tool calls reassembles without the
   * JSON syntax of each message in between (the whole-message bytes never could); `fields`, its
   * string values by argument path.
   */
  admitMessage(key: string, message: string, values: string, dlp: TextDlp, nowMs: number, keys = '', fields?: readonly CeeField[]): CeeResult {
    const streams: Array<readonly [string, string]> = []
    if (values !== '') streams.push([key, values])
    if (keys !== '') streams.push([`${key}|keys`, keys])
    return this.run(key, '', [message], streams, dlp, nowMs, true, fields)
  }

  /** CONNECT: nothing is recorded; true when the key's budget is already exceeded (and the host is not exempt). */
  connectExceeded(key: string, host: string, nowMs: number): boolean {
    if (this.entropy === null || this.exempt(host)) return false
    return this.entropy.exceeded(key, nowMs)
  }

  private run(
    key: string, host: string, entropyStreams: readonly string[], fragmentStreams: ReadonlyArray<readonly [string, string]>, dlp: TextDlp, nowMs: number, enforce: boolean,
    fields?: readonly CeeField[],
  ): CeeResult {
    const findings: CeeFinding[] = []
    let entropyExceeded = false
    let fragmentMatched = false
    const act = (a: 'block' | 'warn'): 'block' | 'warn' => (enforce ? a : 'warn')
    if (this.entropy !== null && !this.exempt(host) && entropyStreams.some((s) => s !== '')) {
      const r = this.entropy.record(key, entropyStreams, nowMs)
      if (r.exceeded) {
        entropyExceeded = true
        this.counters.entropyExceeded++
        const f: CeeFinding = {
          kind: 'entropy', action: act(this.settings.entropy.action), reason: 'cross-request entropy budget exceeded',
          detail: `entropy budget exceeded: ${r.usage.toFixed(0)}/${this.entropy.budget.toFixed(0)} bits`,
        }
        findings.push(f)
        if (f.action === 'block') return {findings, block: f, entropyExceeded, fragmentMatched}
      }
    }
    if (this.fragments !== null) {
      const fragment = (pattern: string): CeeFinding => {
        fragmentMatched = true
        this.counters.dlpMatches++
        const f: CeeFinding = {kind: 'fragment', action: act(this.settings.action), reason: `cross-request secret detected: ${pattern}`, detail: `fragment reassembly DLP match: ${pattern}`, pattern}
        findings.push(f)
        return f
      }
      for (const [k, data] of fragmentStreams) {
        if (data === '') continue
        this.fragments.append(k, data, nowMs)
        const pattern = this.fragments.scan(k, nowMs, dlp)
        if (pattern === null) continue
        const f = fragment(pattern)
        if (f.action === 'block') return {findings, block: f, entropyExceeded, fragmentMatched}
      }
      // Per-field tails: a value joined to its own field's recent values, after the joined streams
      // (a request they already reported is not scanned again). A refused request is not recorded
      // in the tails: it never reached the server.
      if (fields !== undefined && fields.length > 0) {
        const t = this.fieldTails!
        const pattern = fragmentMatched ? null : t.scan(key, fields, nowMs, dlp)
        if (pattern !== null) {
          const f = fragment(pattern)
          if (f.action === 'block') return {findings, block: f, entropyExceeded, fragmentMatched}
        }
        t.record(key, fields, nowMs)
      }
    }
    return findings.length === 0 ? CLEAN : {findings, block: null, entropyExceeded, fragmentMatched}
  }

  private exempt(host: string): boolean {
    const ex = this.settings.entropy.exemptDomains
    return ex.length > 0 && host !== '' && matchesAnyDomain(host.toLowerCase(), ex) !== null
  }

  /** Session reset/terminate: the key's state in every structure (values key, `<key>|keys`, field tails). */
  clear(key: string): boolean {
    let any = this.fieldTails?.clear(key) === true
    for (const k of [key, `${key}|keys`]) {
      if (this.entropy?.clear(k)) any = true
      if (this.fragments?.clear(k)) any = true
    }
    return any
  }

  sweep(nowMs: number): void {
    this.entropy?.sweep(nowMs)
    this.fragments?.sweep(nowMs)
    this.fieldTails?.sweep(nowMs)
  }

  /**
   * The same sweep over the keys present now, SWEEP_SLICE keys of each structure per event-loop
   * turn (requests run in between; each key is pruned against the clock of its slice). Nothing
   * when a pass is still running. `done` is called with the number of slices at the end.
   */
  sweepInSlices(nowMs: () => number, done?: (slices: number) => void): void {
    if (this.sweeping !== undefined) return
    const passes = [this.entropy?.sweepPass(), this.fragments?.sweepPass(), this.fieldTails?.sweepPass()]
    let slices = 0
    const slice = (): void => {
      const now = nowMs()
      let finished = true
      for (const p of passes) if (p !== undefined && !p.step(SWEEP_SLICE, now)) finished = false
      slices++
      this.sweeping = finished ? undefined : setImmediate(slice).unref()
      if (finished) done?.(slices)
    }
    slice()
  }

  /** `/stats.cross_request_detection` (§5.6). */
  stats(): {entropy_tracker_active: number; fragment_buffer_active: number; fragment_buffer_bytes: number} {
    return {entropy_tracker_active: this.entropy?.activeKeys ?? 0, fragment_buffer_active: this.fragments?.activeKeys ?? 0, fragment_buffer_bytes: this.fragments?.totalBytes ?? 0}
  }

  /** The cleanup sweep every clamp(window, 1 s, 60 s), in slices (`sweepInSlices`); unref'd. */
  start(nowMs: () => number): void {
    if (this.timer !== undefined || (this.entropy === null && this.fragments === null)) return
    const windows = [this.entropy !== null ? this.settings.entropy.windowMs : Infinity, this.fragments !== null ? this.settings.fragments.windowMs : Infinity]
    const every = Math.min(60_000, Math.max(1000, Math.min(...windows)))
    this.timer = setInterval(() => this.sweepInSlices(nowMs), every)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    clearImmediate(this.sweeping)
    this.timer = undefined
    this.sweeping = undefined
  }
}
