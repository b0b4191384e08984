/**
 * Capture for learn-and-lock (runtime §21.3, learn-compile §2): every Decision of every transport
 * — clean ones included — becomes one capture record that `learn compile` reads. It is the
 * capture sink of the one fan-out, like the audit log and the recorder: it reads the one
 * Decision, never re-derives. Both subjects: a URL request is a `url`/`dlp`/`response` record; a
 * `tools/call` (when the sink is told the MCP server, `toolCalls`) is a `tool_policy` /
 * `mcp_tool_call` record ([ext, mcp.md §15.6.1], so `learn compile --include-mcp` can propose
 * `mcp_tool_call` rules) whose arguments are written as a shape (`capture.argsShape`): keys kept,
 * values HMAC'd with the salt or replaced by their type, a DLP hit anywhere → `[REDACTED]`. Tool
 * calls go to the session directory `<agent>|mcp-<stdio|http|ws>-<n>`: discoverable as an
 * agent's sibling (learn-compile §2.6), one per invocation.
 *
 * Non-blocking: records wait in a bounded queue (4096) and are written in one batch per event-loop
 * turn; a full queue drops the record, counted, with the `capture_drop` sentinel of §2.4.
 *
 * One record per decision (the reference writes one per scan hook, so compile counted a clean
 * forward request two or three times); surface = the stage that decided. See
 * docs/compatibility.md, "Capture".
 *
 * Better than the reference, which writes samples in clear: unless `--capture-raw`, nothing a
 * DLP pattern recognises is written (a path segment or host label that holds one is replaced by
 * its pattern label), the query string and samples are `internal` data (§16): HMAC'd with
 * `learn.privacy.salt_source` when a salt is set, left out when not. Host, path and method —
 * what a contract is made of — are `public` and kept, so a redacted capture compiles to the
 * same contract as the raw one unless a secret sat in a path.
 */
import {GoUrlError, parseGoUrl} from '../canonical/index.js'
import {argsShape, cutSample, openCaptureWriter, REDACTED_PATH, redactionLabel, proxySessionId, saltedHmac, type CaptureFinding, type CaptureSummary, type CaptureWriter} from '../capture/index.js'
import type {Clock} from '../canonical/index.js'
import {isToolCall, type Decision, type DecisionSink, type McpTransport, type RequestDecision, type ToolCallDecision} from '../decision/index.js'
import {CAPTURED_OVERRIDE_HEADER} from '../enforcement/index.js'
import {classifyMcp} from '../recorder/index.js'
import type {Scanner} from '../scanner/index.js'
import {renderFamily} from './metrics.js'

export const CAPTURE_QUEUE_MAX = 4096

export interface CaptureSinkOptions {
  readonly dir: string
  readonly clock: Clock
  /** The config hash and the scanner in force (the run's snapshot; a wrap's fixed config). */
  readonly snapshot: () => {readonly hash: string; readonly scanner: Scanner; readonly agentNames?: {isBoundProfile(name: string): boolean}}
  readonly build: {readonly version: string; readonly sha: string}
  /** Write samples and query strings as sent (the banner and docs warn). */
  readonly raw: boolean
  /** `learn.privacy.salt_source` resolved; undefined = no salt (internal values are left out). */
  readonly salt: string | undefined
  /**
   * `run --capture-escrow-public-key` (32 bytes): a `dlp` or `response` record whose Decision
   * carries the scanned bytes gets them in a sealed-box sidecar (learn-compile §2.1), so `learn
   * shadow --escrow-private-key` can rescan them. Absent: no sidecars, summary-only replay.
   */
  readonly escrowPublicKey?: Uint8Array
  /** Set where tool calls are recorded: whose calls, to which MCP server, in which invocation. */
  readonly toolCalls?: ToolCallCapture
  /**
   * Told once per agent and client address when a request claimed (header, query) an agent that
   * is bound to its own listener or source CIDR: it is not captured, so the claim cannot feed the
   * bound agent's capture (and so its contract).
   */
  readonly onClaimRefused?: (agent: string, clientIp: string) => void
}

/** Distinct (agent, client) claims reported; past it they are still refused and counted, not reported. */
const CLAIMS_REPORTED_MAX = 1024

export interface ToolCallCapture {
  /** Contract agent (mcp.md §1.2): names the session directory and every record. */
  readonly agent: string
  /** Server identity (§1.2), the `mcp_server` of every record. */
  readonly server: string
  /** Invocation number `<n>` of the session directory. */
  readonly invocation: number
}

export interface CaptureSink extends DecisionSink {
  readonly description: string
  renderMetrics(out: string[]): void
  /** Flushes the queue, writes final checkpoints and the drop sentinel, closes every file. */
  close(): void
}

/**
 * Intercepted inner requests (transports §1.4, §2.13): envelope transport `connect` (sic, the
 * reference's), subsurface by the stage that decided — `intercept_url`, `dlp_header_intercept`,
 * `dlp_body_intercept`, `response_intercept`.
 */
function captureTransport(d: RequestDecision, surface: string): {transport: string; subsurface: string} {
  if (d.transport !== 'intercept') return {transport: d.transport, subsurface: d.transport}
  const sub = d.stage === 'header_dlp' ? 'dlp_header_intercept' : d.stage === 'body_scan' ? 'dlp_body_intercept' : surface === 'response' ? 'response_intercept' : 'intercept_url'
  return {transport: 'connect', subsurface: sub}
}

/** The surface of the stage that decided (§2.5 `surface`). */
function surfaceOf(d: RequestDecision): {surface: string; transform: string} {
  switch (d.stage) {
    case 'header_dlp':
      return {surface: 'dlp', transform: 'header_value'}
    case 'body_scan':
      return {surface: 'dlp', transform: 'raw'}
    case 'response':
      return {surface: 'response', transform: 'raw'}
    default:
      return {surface: 'url', transform: 'raw'}
  }
}

function effectiveAction(d: RequestDecision): string {
  if (d.verdict === 'block') return 'block'
  if (d.verdict === 'would_block' || d.warnings.length > 0) return 'warn'
  return 'allow'
}

function outcomeOf(d: RequestDecision): string {
  if (d.verdict === 'block') return 'blocked'
  if (d.verdict === 'would_block' || d.warnings.length > 0) return 'warned'
  return 'clean'
}

const SHORT: Record<McpTransport, string> = {mcp_stdio: 'stdio', mcp_http_upstream: 'http', mcp_http_listener: 'http', mcp_ws: 'ws'}

/** A tool call's findings: the deciding gate's, a shadow contract's would-block, DLP warnings. */
function toolCallFindings(d: ToolCallDecision): CaptureFinding[] | null {
  const out: CaptureFinding[] = []
  if (d.verdict !== 'allow') {
    out.push({
      kind: d.stage === 'contract' || d.stage === 'contract_upstream' ? 'contract' : d.layer,
      // A would-block of audit mode is captured as a request's would_block is: a warning.
      action: d.verdict === 'would_block' ? 'warn' : d.verdict,
      ...(d.severity ? {severity: d.severity} : {}),
      ...(d.pattern ? {pattern_name: d.pattern} : {}),
      tool_name: d.tool,
    })
  } else if (d.contract !== undefined && d.contract.reason !== '') {
    // A shadow-mode contract that would have blocked: the finding compile and review can show.
    out.push({kind: 'contract', action: 'warn', pattern_name: d.contract.reason, tool_name: d.tool})
  }
  for (const w of d.dlpWarnings) out.push({kind: 'dlp', action: 'warn', pattern_name: w})
  return out.length === 0 ? null : out
}

/** Receipt classification → capture action class (mcp.md §15.6). */
function toolActionClass(tool: string): string {
  const t = classifyMcp('tools/call', tool).actionType
  return t === 'read' || t === 'write' || t === 'delegate' ? t : 'unclassified'
}

export function openCaptureSink(o: CaptureSinkOptions): CaptureSink {
  // Batch mode: the lines of one event-loop turn go out in one write.
  const writer: CaptureWriter = openCaptureWriter(o.dir, {clock: o.clock, batch: true, ...(o.escrowPublicKey === undefined ? {} : {escrowPublicKey: o.escrowPublicKey})})
  const queue: Decision[] = []
  let scheduled = false
  let written = 0
  let closed = false
  const sanitized = new Map<string, number>()
  let claimsRefused = 0
  const claimsReported = new Set<string>()

  /** The first DLP pattern in a text, if any (never the text itself). */
  const dlpHit = (text: string): string | undefined => {
    const r = o.snapshot().scanner.scanTextForDlp(text)
    return (r.matches[0] ?? r.warnings[0])?.pattern
  }

  /** `internal` data (§16): as sent with --capture-raw, else HMAC'd with the salt, else left out. */
  const internal = (value: string): string | undefined => {
    if (value === '') return undefined
    if (o.raw) return cutSample(value)
    return o.salt === undefined ? undefined : saltedHmac(o.salt, value)
  }

  /** The URL as capture may write it: scheme, host and path kept, secrets replaced, query internal. */
  const captureUrl = (d: RequestDecision, raw: string): string => {
    if (o.raw) return raw
    let u
    try {
      u = parseGoUrl(raw)
    } catch (e) {
      if (e instanceof GoUrlError) return ''
      throw e
    }
    // An allowed request's URL passed URL DLP already; anything else is screened again here.
    const screen = d.verdict !== 'allow' || d.warnings.length > 0
    let host = u.host
    let path = u.rawPath
    if (screen && dlpHit(`${u.host}${u.rawPath}`) !== undefined) {
      host = host
        .split('.')
        .map((label) => {
          const p = dlpHit(label)
          return p === undefined ? label : redactionLabel(p)
        })
        .join('.')
      const segs = path.split('/').map((seg) => {
        const p = seg === '' ? undefined : dlpHit(seg)
        return p === undefined ? seg : redactionLabel(p)
      })
      path = segs.join('/')
      // A secret split across segments or labels: nothing of the path is kept.
      if (dlpHit(`${host}${path}`) !== undefined) path = REDACTED_PATH
    }
    const q = internal(u.rawQuery)
    return `${u.scheme}://${host}${path}${q !== undefined ? `?h=${q}` : ''}`
  }

  const findings = (d: RequestDecision): CaptureFinding[] | null => {
    const out: CaptureFinding[] = []
    if (d.verdict === 'block' || d.verdict === 'would_block') {
      out.push({kind: d.layer, action: d.verdict === 'block' ? 'block' : 'warn', ...(d.severity ? {severity: d.severity} : {}), ...(d.reason ? {pattern_name: d.reason} : {})})
    }
    for (const w of d.warnings) out.push({kind: 'dlp', action: 'warn', pattern_name: w})
    return out.length === 0 ? null : out
  }

  const build = (d: Decision): void => {
    if (isToolCall(d)) buildToolCall(d)
    else buildRequest(d)
  }

  const buildRequest = (d: RequestDecision): void => {
    const snap = o.snapshot()
    // Identity is bound, not claimed: a claim of a bound agent's name (refused at the identity
    // stage, or let through with exclusive_agent_binding: false) never lands in its capture.
    if (d.bound !== true && snap.agentNames?.isBoundProfile(d.agent) === true) {
      claimsRefused++
      const key = `${d.agent}|${d.clientIp}`
      if (!claimsReported.has(key) && claimsReported.size < CLAIMS_REPORTED_MAX) {
        claimsReported.add(key)
        o.onClaimRefused?.(d.agent, d.clientIp)
      }
      return
    }
    const sid = proxySessionId(d.agent, d.clientIp)
    if (sid.reason !== undefined) sanitized.set(sid.reason, (sanitized.get(sid.reason) ?? 0) + 1)
    const raw = d.url ?? ''
    const {surface, transform} = surfaceOf(d)
    const tr = captureTransport(d, surface)
    const url = raw === '' ? '' : captureUrl(d, raw)
    const sample = internal(raw)
    const found = findings(d) // a decision's raw and effective findings are the same list
    // The scanner input of a payload surface, escrowed (sealed by the writer, never in clear).
    const payload = o.escrowPublicKey !== undefined && surface !== 'url' && d.payload !== undefined ? d.payload : undefined
    const detail: CaptureSummary = {
      capture_schema_version: 1,
      surface,
      subsurface: tr.subsurface,
      config_hash: snap.hash,
      build_version: o.build.version,
      build_sha: o.build.sha,
      ...(d.agent !== '' ? {agent: d.agent} : {}),
      ...(sid.original !== undefined ? {session_id_original: sid.original} : {}),
      payload_complete: payload !== undefined,
      transform_kind: transform,
      ...(raw !== '' ? {scanner_bytes: Buffer.byteLength(raw, 'utf8')} : {}),
      ...(sample !== undefined ? {scanner_sample: sample} : {}),
      // The methods a method override named (header, query or form `_method`), under the header
      // spelling frameworks read: `learn shadow` judges the request by them too (method-override.ts).
      request: {method: d.method, url, ...(d.methodOverrides !== undefined && d.methodOverrides.length > 0 ? {headers: {[CAPTURED_OVERRIDE_HEADER]: [...d.methodOverrides]}} : {})},
      raw_findings: found,
      effective_findings: found,
      effective_action: effectiveAction(d),
      outcome: outcomeOf(d),
    }
    if (writer.append({sessionId: sid.id, traceId: d.requestId, transport: tr.transport, detail, ...(payload === undefined ? {} : {payload})})) written++
  }

  const buildToolCall = (d: ToolCallDecision): void => {
    const t = o.toolCalls!
    const found = toolCallFindings(d)
    const appended = writer.append({
      sessionId: `${t.agent}|mcp-${SHORT[d.transport]}-${t.invocation}`,
      transport: d.transport,
      detail: {
        capture_schema_version: 1,
        surface: 'tool_policy',
        subsurface: 'mcp_tool_call',
        config_hash: o.snapshot().hash,
        build_version: o.build.version,
        build_sha: o.build.sha,
        agent: t.agent,
        action_class: toolActionClass(d.tool),
        payload_complete: false,
        transform_kind: 'raw',
        request: {
          method: '',
          url: '',
          tool_name: d.tool,
          tool_args_json: argsShape(d.args, {raw: o.raw, salt: o.salt, dlpHit: (text) => dlpHit(text) !== undefined}),
          mcp_method: 'tools/call',
          mcp_server: t.server,
        },
        raw_findings: found,
        effective_findings: found,
        effective_action: d.verdict === 'would_block' ? 'warn' : d.verdict,
        outcome: d.verdict === 'block' ? 'blocked' : d.verdict === 'warn' || d.verdict === 'would_block' ? 'warned' : 'clean',
      },
    })
    if (appended) written++
  }

  const flush = (): void => {
    scheduled = false
    const batch = queue.splice(0, queue.length)
    for (const d of batch) build(d)
    writer.flush()
  }

  return {
    description: o.toolCalls !== undefined
      ? `${o.dir} (MCP tool calls; ${o.raw ? 'RAW: argument values as sent, DLP hits redacted' : o.salt !== undefined ? 'argument values HMAC-salted' : 'argument values replaced by their type (no learn.privacy.salt_source)'})`
      : `${o.dir} (${o.escrowPublicKey !== undefined ? 'dlp and response payloads escrowed in sealed sidecars; ' : ''}${o.raw ? 'RAW: samples and query strings as sent, secrets included' : o.salt !== undefined ? 'redacted; internal values HMAC-salted' : 'redacted; internal values left out (no learn.privacy.salt_source)'})`,
    // Its URL records carry them (request.headers), for learn shadow.
    readsMethodOverrides: true,
    record(d: Decision): void {
      if (closed) return
      if (isToolCall(d)) {
        // A tool call is captured as its final request decision (mcp.md §15.6.1).
        if (o.toolCalls === undefined || d.direction !== 'request' || d.method !== 'tools/call') return
      } else if (d.method === 'WS') {
        // WebSocket frame and close decisions (method `WS`) are not captured: the handshake record
        // (method GET, http(s) URL) is what compile learns (transports §3.9).
        return
      }
      if (queue.length >= CAPTURE_QUEUE_MAX) {
        writer.noteDropped()
        return
      }
      queue.push(d)
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    renderMetrics(out: string[]): void {
      renderCaptureCounters(out, {written, dropped: writer.dropped, sanitized, claimsRefused})
    },
    close(): void {
      if (closed) return
      flush()
      closed = true
      writer.close()
    },
  }
}

/**
 * The capture counters. `pipelock run` renders them at zero while capture is off, so an alert on
 * dropped records reads 0 there rather than an absent series.
 */
export function renderCaptureCounters(out: string[], c: {readonly written: number; readonly dropped: number; readonly sanitized: ReadonlyMap<string, number>; readonly claimsRefused: number}): void {
  renderFamily(out, 'pipelock_learn_capture_records_total', 'Capture records written for learn-and-lock.', 'counter', [[{}, c.written]])
  renderFamily(out, 'pipelock_learn_capture_dropped_total', 'Capture records dropped (queue full, unsafe session id, write error).', 'counter', [[{}, c.dropped]])
  renderFamily(out, 'pipelock_capture_dropped_total', 'Capture records dropped (runtime §21.3 name).', 'counter', [[{}, c.dropped]])
  renderFamily(out, 'pipelock_learn_capture_claims_refused_total', 'Requests not captured: they claimed an agent bound to its own listener or source CIDR.', 'counter', [[{}, c.claimsRefused]])
  renderFamily(out, 'pipelock_capture_session_id_sanitized_total', 'Capture session ids replaced by a hash, by reason.', 'counter', (['unsafe_path', 'overlength', 'unknown'] as const).map((r) => [{reason: r}, c.sanitized.get(r) ?? 0] as const))
}
