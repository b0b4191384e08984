/**
 * The WebSocket relay (transports §3.4–§3.9): two open `ws` sockets, one to the client and one to
 * the upstream, and the frame policy between them. This is the one relay of the project: `/ws`
 * uses it after its handshake admission, and an intercepted `wss://` upgrade (TLS interception)
 * plugs into it with its own `DecisionBase` (transport `intercept`) and `record` step.
 *
 * Client → upstream: body scan (R§6.2), text DLP over the rolling 4096-byte tail plus the
 * labelled-halves check (binary messages read as text), then the per-frame hook (cross-request
 * detection), then forward. Upstream → client: media policy, then response (injection) scanning
 * of binary messages read as text; text messages scanned alone and behind the tail of the ones before
 * (a JSON message joins that tail as its string values); ping and pong payloads and the close reason
 * scanned the same way before they reach the client.
 * Every policy close carries the block-reason JSON (§3.8 fix) and is recorded before it is sent;
 * lifetime and idle are timers (§3.7 fix: enforced on time, idle = both directions silent); the
 * kill switch closes live relays at once through `trackTunnel`.
 *
 * A message over 64 KiB has its redaction, body scan and tail's text DLP (client → upstream) or its
 * response decision, text or binary (upstream → client), run on the snapshot's scan pool, off the
 * event loop (docs/scanner.md, "Large bodies"). Each side's events (messages, pings, pongs, its
 * close) are then handled in the order they arrived: while one waits for its scan, the later ones
 * wait behind it and that side's socket is paused, so nothing piles up and nothing overtakes.
 */
import {redactOutboundMessage, type MessageRedaction} from '../relay/redact-message.js'
import {sessionCutCause} from '../relay/live-cut.js'
import type WebSocket from 'ws'
import {jsonMessageParts, junctionWindow, StreamTail, strippedBody, type JsonParts, unsuppressed, type ContentScanResult, type DlpFinding, type ReasonCode, type ResponseDecision, type Suppressor} from '../../scanner/index.js'
import {allowDecision, blockDecision, enforcing, snapshotFor, type DecisionBase} from '../core.js'
import type {AuditTrail, Clock, MetricsPort, SnapshotSource, TunnelRegistry} from '../ports.js'
import type {Decision, DecisionStage} from '../decision.js'
import {applyMediaPolicy, mediaSettingsFromConfig} from '../media-policy.js'
import type {ProxySessions, RequestSession} from '../session-gate.js'
import type {ProxySnapshot} from '../state.js'
import {claimsBlockReason, CLOSE, closeJson, closeText, forwardableCloseCode} from './close.js'
import type {WsRelayMetrics} from './metrics.js'
import {KILL_SWITCH_BLOCK} from '../gate/stages/kill-switch.js'
import {JsonTokenReading, lastBytes, ReaderJoin, TAIL_BYTES} from './reader-join.js'

export type WsDirection = 'client_to_server' | 'server_to_client'

/** One complete (reassembled) message, as the per-frame hook sees it. */
export interface WsFrame {
  readonly direction: WsDirection
  readonly data: Buffer
  readonly isBinary: boolean
  /**
   * A text message read as one JSON document (its string values, fields by member path); null
   * when it is not JSON or binary. Read on demand (only cross-request fragment reassembly, when
   * on, reads it, as MCP's does), and once: the reading at step 2 is handed on.
   */
  json(): JsonParts | null
}

/**
 * Seams for other detectors. `frame` runs on every complete client message after DLP and
 * before forwarding (cross-request detection, OPS§5); a non-null answer closes the relay with
 * `1008` JSON(`cross_request_deny`, `cross_request`).
 */
export interface WsRelayHooks {
  /** `base`/`host`: the connection the message belongs to (its session key and upstream host). */
  frame?(f: WsFrame, ctx: {readonly base: DecisionBase; readonly host: string}): {readonly detail: string} | null
}

/** What a frame relay uses: the snapshot, the clock, the audit trail and metrics, the live-relay registry (the kill switch cuts relays). */
export type WsRelayPorts = SnapshotSource & Clock & AuditTrail & MetricsPort & TunnelRegistry

export interface WsRelayOptions {
  readonly ports: WsRelayPorts
  /** Identity of the connection; its `transport` labels every decision (`websocket`, `intercept`). */
  readonly base: DecisionBase
  /** The target as safe to log (the ws(s) URL as given, redacted when needed). */
  readonly target: string
  /** Upstream host (response-scanning exempt domains, session signals). */
  readonly host: string
  /** The record step of the connection (flight recorder, audit, metrics, session). */
  readonly record: (d: Decision) => string | undefined
  readonly session: RequestSession | null
  /** The session layer, to register the connection as live work (airlock hard/drain, reset and terminate cut it). */
  readonly sessions?: ProxySessions | null
  readonly hooks?: WsRelayHooks
  /** Frame, byte and scan-hit counts (transports §3.9). */
  readonly metrics?: WsRelayMetrics
  /** The DLP finding names `suppress` entries remove from the client's messages and control frames (operations.md §4.3). */
  readonly suppress?: Suppressor
  /**
   * The connection's `max_message_bytes`, taken at its handshake (a reload does not change it for
   * an open connection). Its sockets refuse a bigger message themselves; the relay checks what it
   * forwards against the same limit and refuses it the same way (1009 `message too large`).
   */
  readonly maxMessageBytes: number
}

/** A policy close of the relay: the Decision's stage, layer, reason and detail, the side it came from, the close reason sent upstream, the audit's scanner. */
interface PolicyClose {
  readonly stage: DecisionStage
  readonly layer: string
  readonly reason: ReasonCode
  readonly detail: string
  readonly direction: WsDirection
  readonly upstreamReason: string
  readonly scanner: string
}

export interface WsRelayResult {
  /** The proxy ended the relay with a close of its own (policy, limit, protocol, timer). */
  readonly proxyClosed: boolean
  readonly clientToServerBytes: number
  readonly serverToClientBytes: number
  readonly textFrames: number
  readonly binaryFrames: number
}

type Findings = readonly DlpFinding[]

/** Sends queued toward one side before the other side is paused (backpressure). */
const MAX_PENDING_SENDS = 64
/** `<label>: <suffix>` labelled halves (§3.5 step 2). */
const LABELLED = /^([a-z0-9_ -]{1,32}):(.*)$/s
const LABEL_WORDS = ['part', 'chunk', 'fragment', 'segment', 'piece']

function labelledSuffix(s: string): string | null {
  const m = LABELLED.exec(s)
  if (m === null) return null
  const label = m[1]!
  if (!LABEL_WORDS.some((w) => label.includes(w))) return null
  const suffix = m[2]!.trim()
  return suffix.length >= 6 ? suffix : null
}

/** A control payload or a binary message as text: UTF-8 when valid, else its printable ASCII runs one per line. */
function payloadText(b: Buffer): string {
  const t = b.toString('utf8')
  if (!t.includes('\ufffd')) return t
  let out = ''
  let gap = false
  for (const c of b) {
    const printable = (c >= 0x20 && c < 0x7f) || c === 0x09
    if (printable) {
      if (gap && out !== '') out += '\n'
      out += String.fromCharCode(c)
    }
    gap = !printable
  }
  return out
}

/** `ws` library errors → the close the proxy sends on to the other side (§3.4 codes and reasons). */
function libraryClose(err: Error & {code?: string}): {code: number; reason: string; decision: ReasonCode} {
  switch (err.code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
      return {code: CLOSE.tooBig, reason: 'message too large', decision: 'data_budget'}
    case 'WS_ERR_INVALID_UTF8':
      return {code: CLOSE.invalidData, reason: 'invalid UTF-8', decision: 'parse_error'}
    case 'WS_ERR_UNEXPECTED_RSV_1':
      return {code: CLOSE.protocol, reason: 'compressed frames not supported', decision: 'parse_error'}
    case 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH':
      return {code: CLOSE.protocol, reason: 'control frame too large', decision: 'parse_error'}
    case 'WS_ERR_INVALID_CONTINUATION_FRAME':
      return {code: CLOSE.protocol, reason: 'unexpected continuation frame', decision: 'parse_error'}
    default:
      return {code: CLOSE.protocol, reason: 'protocol error', decision: 'parse_error'}
  }
}

export async function relayWebSocket(client: WebSocket, upstream: WebSocket, o: WsRelayOptions): Promise<WsRelayResult> {
  const {ports} = o
  const m = o.metrics
  const frameBase: DecisionBase = {...o.base, method: 'WS'}
  const stats = {c2s: 0, s2c: 0, text: 0, binary: 0}
  let proxyClosed = false
  let ended = false
  let tail = ''
  // The same stream as a reader of the messages reads it (JSON values, text without its repeated framing).
  const reading = new ReaderJoin()
  const s2cTail = new StreamTail()
  // The upstream's JSON messages as the agent reads a token stream of them (their changing string values).
  const tokens = new JsonTokenReading()
  let lastActivity = ports.nowMs()
  let pendingToUpstream = 0
  let pendingToClient = 0
  const killers: Array<() => void> = []

  const audit = (event: string, level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void => {
    ports.audit.event(level, event, message, {target: o.target, client_ip: o.base.clientIp, request_id: o.base.requestId, agent: o.base.agent, ...fields})
  }

  const terminateLater = (ws: WebSocket): void => {
    // The reference does not wait for the peer's close reply: flush, then cut (≤ 1 s).
    setTimeout(() => ws.terminate(), 1000).unref()
  }

  const closeBoth = (toClient: {code: number; reason: string}, toUpstream: {code: number; reason: string}): void => {
    if (ended) return
    ended = true
    proxyClosed = true
    for (const [ws, c] of [[client, toClient], [upstream, toUpstream]] as const) {
      if (ws.readyState === ws.OPEN) {
        ws.close(c.code, c.reason)
        terminateLater(ws)
      } else ws.terminate()
    }
  }

  /** A policy close: recorded first (receipt), then JSON(reason, layer) to the client. */
  const policyClose = (c: PolicyClose): void => {
    const {stage, layer, reason, detail, direction, upstreamReason, scanner} = c
    if (ended) return
    const d = blockDecision(ports, frameBase, o.target, {stage, layer, reason, detail, status: 0, enforced: true})
    o.record(d)
    audit('ws_blocked', 'warn', 'WebSocket frame blocked', {direction, scanner, reason: detail})
    closeBoth({code: CLOSE.policy, reason: closeJson(reason, layer)}, {code: CLOSE.policy, reason: upstreamReason})
  }

  // ---- timers (§3.7 fix): lifetime on a timer; idle = no frame in either direction.
  const ws = ports.snapshot().config.websocket_proxy
  const lifetime = setTimeout(() => {
    if (ended) return
    o.record(blockDecision(ports, frameBase, o.target, {stage: 'ws_frame', layer: 'ws_timeout', reason: 'timeout', detail: 'connection timeout (max_connection_seconds)', status: 0, enforced: true}))
    closeBoth({code: CLOSE.goingAway, reason: 'connection timeout'}, {code: CLOSE.goingAway, reason: 'connection timeout'})
  }, ws.max_connection_seconds * 1000)
  const idleMs = ws.idle_timeout_seconds * 1000
  // One timer re-armed at its expiry, not per frame: a frame only stamps `lastActivity`.
  let idle: NodeJS.Timeout
  const armIdle = (delay: number): void => {
    idle = setTimeout(() => {
      if (ended) return
      const quiet = ports.nowMs() - lastActivity
      if (quiet < idleMs) return armIdle(idleMs - quiet)
      o.record(blockDecision(ports, frameBase, o.target, {stage: 'ws_frame', layer: 'ws_timeout', reason: 'timeout', detail: 'idle timeout (idle_timeout_seconds)', status: 0, enforced: true}))
      // Idle is "no frame in either direction" here (§3.7 fix), so neither peer disconnected: both
      // are told the cause, as the audit log records it (the reference's per-direction reads said
      // "upstream disconnected" / "client disconnected").
      closeBoth({code: CLOSE.goingAway, reason: 'idle timeout'}, {code: CLOSE.goingAway, reason: 'idle timeout'})
    }, delay)
  }
  armIdle(idleMs)

  // ---- kill switch: torn down the moment it activates (one receipt per connection).
  const untrack = ports.trackTunnel(() => {
    const k = KILL_SWITCH_BLOCK
    policyClose({stage: k.stage, layer: k.layer, reason: k.reason, detail: k.detail, direction: 'client_to_server', upstreamReason: k.detail, scanner: 'kill_switch'})
  }, o.base.clientIp)
  killers.push(untrack)

  // ---- airlock hard/drain, reset and terminate cut the connection (OP §6 item 4), one receipt.
  // A `wss://` relayed inside an intercepted tunnel is the agent's one connection with its tunnel:
  // the tunnel's registration counts it in `connections_cut`, this one only closes the relay.
  if (o.session !== null && o.sessions) {
    killers.push(
      o.sessions.registerLive(o.session, (cause) => {
        const why = sessionCutCause(cause)
        policyClose({stage: 'session', layer: 'airlock', reason: 'airlock_active', detail: `connection cut: ${why}`, direction: 'client_to_server', upstreamReason: why, scanner: 'airlock'})
      }, false, o.base.transport !== 'intercept'),
    )
  }

  /** `block_all` reached mid-stream (checked per message). */
  const escalated = (): boolean => {
    const t = o.session
    if (t === null || !t.session.blockAll) return false
    policyClose({stage: 'session', layer: 'session_deny', reason: 'escalation_level', detail: 'session escalation', direction: 'client_to_server', upstreamReason: 'session escalation', scanner: 'session'})
    return true
  }

  /** Why each side is paused: sends queued toward the other side, or one of its messages out for a scan. Read again once no reason is left. */
  const holds = new Map<WebSocket, Set<'sends' | 'scan'>>([[client, new Set()], [upstream, new Set()]])
  const hold = (ws: WebSocket, why: 'sends' | 'scan'): void => {
    holds.get(ws)!.add(why)
    if (!ws.isPaused) ws.pause()
  }
  const release = (ws: WebSocket, why: 'sends' | 'scan'): void => {
    const h = holds.get(ws)!
    if (!h.delete(why) || h.size > 0) return
    if (ws.isPaused) ws.resume()
  }

  /**
   * One frame from `source` written to `target` by `write`, counted until the socket took it: at
   * MAX_PENDING_SENDS the source is paused until half have gone. Messages and control frames
   * alike: a peer that stops reading while the other floods it with pings (two bytes each on the
   * wire, far more in a write queue) would otherwise grow the proxy's memory without bound.
   */
  const queued = (target: WebSocket, source: WebSocket, toUpstream: boolean, write: (done: () => void) => void): void => {
    if (target.readyState !== target.OPEN) return
    if (toUpstream) pendingToUpstream++
    else pendingToClient++
    write(() => {
      if (toUpstream) pendingToUpstream--
      else pendingToClient--
      if ((toUpstream ? pendingToUpstream : pendingToClient) < MAX_PENDING_SENDS / 2) release(source, 'sends')
    })
    if ((toUpstream ? pendingToUpstream : pendingToClient) >= MAX_PENDING_SENDS) hold(source, 'sends')
  }
  const sendTo = (target: WebSocket, source: WebSocket, data: Buffer | string, binary: boolean, toUpstream: boolean): void =>
    queued(target, source, toUpstream, (done) => target.send(data, {binary}, done))
  /** A ping or pong from `source` passed on to `target`, under the same count as the messages. */
  const controlTo = (target: WebSocket, source: WebSocket, kind: 'ping' | 'pong', data: Buffer, toUpstream: boolean): void =>
    queued(target, source, toUpstream, (done) => (kind === 'ping' ? target.ping(data, undefined, done) : target.pong(data, undefined, done)))

  /**
   * One side's events in arrival order. A step runs at once unless an earlier one is still waiting
   * for its scan; a step that returns a promise (its scan went to the pool) holds the later ones
   * and pauses `source` until it is done.
   */
  const inOrder = (source: WebSocket): ((step: () => void | Promise<void>) => void) => {
    const waiting: Array<() => void | Promise<void>> = []
    let busy = false
    const drain = (): void => {
      while (waiting.length > 0) {
        const r = waiting.shift()!()
        if (r instanceof Promise) {
          void r.then(drain, drain)
          return
        }
      }
      busy = false
      release(source, 'scan')
    }
    return (step) => {
      if (busy) {
        waiting.push(step)
        return
      }
      const r = step()
      if (!(r instanceof Promise)) return
      busy = true
      hold(source, 'scan')
      void r.then(drain, drain)
    }
  }
  const fromClient = inOrder(client)
  const fromUpstream = inOrder(upstream)

  /**
   * The next step of a message with `v`: at once, or, when its work went to the scan pool (a
   * promise), once that is back, unless the relay ended meanwhile (`failed`: what a rejection does).
   */
  const whenScanned = <T>(v: T | Promise<T>, next: (x: T) => void | Promise<void>, failed?: (e: Error) => void): void | Promise<void> => {
    if (!(v instanceof Promise)) return next(v)
    return v.then((x) => (ended ? undefined : next(x)), failed === undefined ? undefined : (e: Error) => (ended ? undefined : failed(e)))
  }

  /** A frame-rule refusal (size, UTF-8, framing): its receipt and audit, as the library's own are recorded. */
  const protocolRefusal = (c: {reason: string; decision: ReasonCode}, direction: WsDirection): void => {
    o.record(blockDecision(ports, frameBase, o.target, {stage: 'ws_frame', layer: 'ws_protocol', reason: c.decision, detail: c.reason, status: 0, enforced: true}))
    audit('ws_blocked', 'warn', 'WebSocket frame blocked', {direction, scanner: 'ws_protocol', reason: c.reason})
  }

  /** A message over the connection's `max_message_bytes` the relay itself found (its sockets refuse the rest): 1009 to both sides. */
  const refuseTooLarge = (direction: WsDirection): void => {
    if (ended) return
    const c = {code: CLOSE.tooBig, reason: 'message too large', decision: 'data_budget' as const}
    protocolRefusal(c, direction)
    closeBoth({code: c.code, reason: c.reason}, {code: c.code, reason: c.reason})
  }

  /** Binary data while `allow_binary_frames: false`. No fitting reason code (§9 Q3): the close text stays plain, the receipt says ws_protocol. */
  const refuseBinary = (direction: WsDirection): void => {
    o.record(blockDecision(ports, frameBase, o.target, {stage: 'ws_frame', layer: 'ws_protocol', reason: 'bad_request', detail: 'binary frames not allowed', status: 0, enforced: true}))
    audit('ws_blocked', 'warn', 'WebSocket frame blocked', {direction, scanner: 'ws_protocol', reason: 'binary frames not allowed'})
    closeBoth({code: CLOSE.policy, reason: 'binary frames not allowed'}, {code: CLOSE.policy, reason: 'binary frames not allowed'})
  }

  /**
   * The start of a message in either direction: activity stamp, mid-stream escalation, frame
   * counts and the binary-frame policy. The snapshot to judge the message with, or null when the
   * relay is over or the message was refused.
   */
  const beginMessage = (isBinary: boolean, direction: WsDirection): ProxySnapshot | null => {
    if (ended) return null
    lastActivity = ports.nowMs()
    if (escalated()) return null
    const snap = snapshotFor(ports, o.base)
    m?.frame(isBinary ? 'binary' : 'text')
    if (isBinary) {
      stats.binary++
      if (!snap.config.websocket_proxy.allow_binary_frames) {
        refuseBinary(direction)
        return null
      }
    } else stats.text++
    return snap
  }

  // ---- client → upstream
  const onClientMessage = (raw: WebSocket.RawData, isBinary: boolean): void | Promise<void> => {
    const snap = beginMessage(isBinary, 'client_to_server')
    if (snap === null) return
    // 0. Redaction (envelope-redaction §12) before DLP, in every mode: a message it cannot
    // rewrite closes the relay; DLP below scans the rewritten message. Over 64 KiB on the scan
    // pool: the rest runs when it is back, unless the relay ended meanwhile.
    return whenScanned(redactOutboundMessage(snap, raw as Buffer, isBinary, o.target), (red) => afterRedaction(snap, raw as Buffer, isBinary, red))
  }

  /** Steps 0 (the redaction's answer; null: redaction off) to 4 of a client message. */
  const afterRedaction = (snap: ProxySnapshot, raw: Buffer, isBinary: boolean, red: MessageRedaction | null): void | Promise<void> => {
    let data = raw
    const cfg = snap.config
    const scanFrames = cfg.websocket_proxy.scan_text_frames
    if (red !== null) {
      if (red.kind === 'blocked') {
        return policyClose({stage: 'body_scan', layer: 'redaction', reason: 'redaction_failure', detail: `redaction blocked request: ${red.reason}`, direction: 'client_to_server', upstreamReason: 'redaction blocked request', scanner: 'redaction'})
      }
      data = red.data
      if (red.summary !== null) {
        audit('ws_redacted', 'info', 'WebSocket message redacted', {direction: 'client_to_server', profile: red.summary.profile, provider: red.summary.provider, total_redactions: red.summary.total_redactions, by_class: red.summary.by_class})
      }
    }
    // What is forwarded stays within the connection's limit (a rewrite can grow a message): the
    // frame rule's refusal, not a DLP finding. The body-scan limit below is max_body_bytes alone.
    if (data.length > o.maxMessageBytes) return refuseTooLarge('client_to_server')
    // 1. Body scan (R§6.2), every message when body scanning and frame scanning are on.
    if (cfg.request_body_scanning.enabled && scanFrames) {
      let contentType = ''
      if (!isBinary) {
        try {
          JSON.parse(data.toString('utf8'))
          contentType = 'application/json'
        } catch {
          contentType = ''
        }
      }
      const max = snap.scanner.settings.requestBodyScanning.maxBodyBytes
      const r = data.length > max
        ? {action: 'block' as const, layer: 'body_dlp' as const, reason: 'dlp_match' as const, detail: `message exceeds max_body_bytes (${max})`, dlpWarnings: []}
        : snap.bodyScans.scanRequestBody(snap.scanner, {contentType, body: data, host: o.host, ...(o.suppress ? {suppress: o.suppress} : {})})
      return whenScanned(r, (x) => afterBodyScan(snap, data, isBinary, x))
    }
    return afterBodyScan(snap, data, isBinary, null)
  }

  /** Steps 1 (the body scan's answer, when it ran) to 4 of a client message. */
  const afterBodyScan = (snap: ProxySnapshot, data: Buffer, isBinary: boolean, r: Pick<ContentScanResult, 'action' | 'layer' | 'reason' | 'detail'> | null): void | Promise<void> => {
    const scanFrames = snap.config.websocket_proxy.scan_text_frames
    if (r !== null) {
      if (r.action !== 'allow') m?.scanHit(r.layer === 'body_prompt_injection' ? 'injection' : 'dlp')
      if (r.action === 'block') {
        const layer = r.layer === 'body_prompt_injection' ? 'body_prompt_injection' : 'dlp'
        return policyClose({stage: 'body_scan', layer, reason: r.reason ?? 'dlp_match', detail: r.detail, direction: 'client_to_server', upstreamReason: closeJson(r.reason ?? 'dlp_match', layer), scanner: layer === 'dlp' ? 'body_dlp' : layer})
      }
      if (r.action === 'warn') audit('ws_scan', 'warn', 'WebSocket message finding (not blocked)', {direction: 'client_to_server', action: 'audit', detail: r.detail})
    }
    // 2. Text DLP over the rolling tail plus the labelled-halves check (§3.5 step 2); a binary
    // message (allow_binary_frames) is read as its text, so a key split over binary messages is whole.
    if (!scanFrames) return afterTextDlp(snap, data, isBinary, [], undefined)
    const text = isBinary ? payloadText(data) : data.toString('utf8')
    const prevTail = tail
    const input = prevTail + text
    tail = Buffer.byteLength(text) >= TAIL_BYTES ? lastBytes(text, TAIL_BYTES) : lastBytes(input, TAIL_BYTES)
    const read = reading.next(text, junctionWindow(snap.scanner))
    const json = isBinary ? null : read.json
    // A scan the pool could not run closes the relay, as a body it could not scan does.
    return whenScanned(tailDlp(snap, input, prevTail, text, read.junction, read.members), (h) => afterTextDlp(snap, data, isBinary, h, json),
      (e) => policyClose({stage: 'body_scan', layer: 'dlp', reason: 'dlp_match', detail: `message could not be scanned: ${e.message}`, direction: 'client_to_server', upstreamReason: 'DLP violation', scanner: 'dlp'}))
  }

  /**
   * Step 2's findings: text DLP of the tail and the message, then of labelled halves (`part 1: …`)
   * across the two, then of the boundary as a reader reads it (`junction`, see reader-join.ts),
   * then of each JSON member's own boundary (`members`), the first hit ending the reads.
   */
  const tailDlp = (snap: ProxySnapshot, input: string, prevTail: string, text: string, junction: string | null, members: readonly string[]): Findings | Promise<Findings> => {
    const dlp = (s: string): Findings | Promise<Findings> => {
      const r = snap.bodyScans.scanText(snap.scanner, s, 'request_body')
      return r instanceof Promise ? r.then((x) => unsuppressed(x.matches, o.suppress)) : unsuppressed(r.matches, o.suppress)
    }
    const halves = (hit: Findings): Findings | Promise<Findings> => {
      if (hit.length > 0) return hit
      const a = labelledSuffix(prevTail.slice(prevTail.lastIndexOf('\n') + 1))
      const b = labelledSuffix(text)
      return a !== null && b !== null ? dlp(a + b) : hit
    }
    // The reader's junctions in turn, from `at`: the message's, then its members'.
    const junctions = junction === null ? members : [junction, ...members]
    const read = (at: number) => (hit: Findings): Findings | Promise<Findings> => {
      if (hit.length > 0 || at === junctions.length) return hit
      const next = dlp(junctions[at]!)
      return next instanceof Promise ? next.then(read(at + 1)) : read(at + 1)(next)
    }
    const first = dlp(input)
    const second = first instanceof Promise ? first.then(halves) : halves(first)
    return second instanceof Promise ? second.then(read(0)) : read(0)(second)
  }

  /** Steps 2 (its findings `hit` applied) to 4 of a client message; `json` as step 2 read it (undefined: not read). */
  const afterTextDlp = (snap: ProxySnapshot, data: Buffer, isBinary: boolean, hit: Findings, json: JsonParts | null | undefined): void => {
    const enforce = enforcing(snap)
    const scanFrames = snap.config.websocket_proxy.scan_text_frames
    if (hit.length > 0) {
      m?.scanHit('dlp')
      const names = [...new Set(hit.map((m) => m.pattern))].join(', ')
      if (enforce) return policyClose({stage: 'body_scan', layer: 'dlp', reason: 'dlp_match', detail: `DLP match: ${names}`, direction: 'client_to_server', upstreamReason: 'DLP violation', scanner: 'dlp'})
      const t = o.session
      if (t !== null && snap.sessions!.warn(t, `DLP match: ${names}`, o.host, true, o.target) !== null) {
        return policyClose({stage: 'body_scan', layer: 'dlp', reason: 'dlp_match', detail: `DLP match: ${names} (escalated)`, direction: 'client_to_server', upstreamReason: 'DLP violation', scanner: 'dlp'})
      }
      audit('ws_scan', 'warn', 'WebSocket DLP match (not enforced)', {direction: 'client_to_server', action: 'audit', match_count: hit.length, patterns: names.split(', ')})
    }
    // 2b. Address protection (scanners-extra §4): the text message through the very checker the
    // HTTP `address` stage calls, with its verdicts (block closes 1008, warn and audit mode pass).
    const checker = snap.scanner.address
    if (checker !== null && !isBinary && scanFrames) {
      const r = checker.check(data.toString('utf8'))
      if (r.action !== null) {
        for (const f of r.findings) ports.metrics.addressFindings.inc({chain: f.chain, verdict: f.verdict})
        const detail = `address poisoning detected: ${r.findings[0]!.explanation}`
        audit('address_protection', 'warn', r.action === 'block' ? 'address protection finding (blocked)' : 'address protection finding (not blocked)', {
          direction: 'client_to_server', detail, findings: r.findings.map((f) => ({chain: f.chain, verdict: f.verdict, action: f.action, address: f.address})),
        })
        if (r.action === 'block') {
          m?.scanHit('dlp')
          if (enforce) return policyClose({stage: 'body_scan', layer: 'address_protection', reason: 'dlp_match', detail, direction: 'client_to_server', upstreamReason: 'address poisoning detected', scanner: 'address_protection'})
          o.record(blockDecision(ports, frameBase, o.target, {stage: 'body_scan', layer: 'address_protection', reason: 'dlp_match', detail, status: 0, enforced: false}))
        }
      }
    }
    // 3. Cross-request detection seam.
    const read = (): JsonParts | null => (isBinary ? null : json !== undefined ? json : jsonMessageParts(data.toString('utf8')))
    const cee = o.hooks?.frame?.({direction: 'client_to_server', data, isBinary, json: read}, {base: o.base, host: o.host})
    if (cee) m?.scanHit('cross_request')
    if (cee) return policyClose({stage: 'ws_frame', layer: 'cross_request', reason: 'cross_request_deny', detail: cee.detail, direction: 'client_to_server', upstreamReason: 'cross-request exfiltration detected', scanner: 'cross_request'})
    // 4. Forward as one frame.
    stats.c2s += data.length
    m?.bytes('client_to_server', data.length)
    sendTo(upstream, client, data, isBinary, true)
  }

  // ---- upstream → client
  const onUpstreamMessage = (raw: WebSocket.RawData, isBinary: boolean): void | Promise<void> => {
    const snap = beginMessage(isBinary, 'server_to_client')
    if (snap === null) return
    const data = raw as Buffer
    const cfg = snap.config
    const scanText = cfg.websocket_proxy.scan_text_frames && cfg.response_scanning.enabled
    if (isBinary) {
      const media = applyMediaPolicy(mediaSettingsFromConfig(cfg.media_policy), '', data)
      if (media.kind === 'block') {
        m?.scanHit('media_policy')
        return policyClose({stage: 'response', layer: 'media_policy', reason: 'media_policy', detail: media.detail, direction: 'server_to_client', upstreamReason: 'media blocked', scanner: 'media_policy'})
      }
      if (!scanText) return afterResponseScan(snap, media.body, true, null, false)
      // Read as text too, as an HTTP body labelled binary is (issue 36): the agent may decode it as UTF-8.
      return whenScanned(snap.bodyScans.decideResponseBody(snap.scanner, media.body, {host: o.host}), (d) => afterResponseScan(snap, media.body, true, d, false))
    }
    if (!scanText) return afterResponseScan(snap, data, false, null, false)
    // Behind the tail of the messages before: an injection split across messages (a token stream) is
    // whole there. A JSON message joins it as its string values (less the framing it repeats), as
    // the agent reads a token stream (`{"delta":" Ignore"}`, `{"delta":" all"}`, …), and each of its
    // members as that member's own stream (a realtime API's deltas beside a fresh event id each).
    const text = data.toString('utf8')
    const reading = tokens.next(text)
    const r = s2cTail.next<ResponseDecision>(text, (t) => snap.bodyScans.decideResponseText(snap.scanner, t, {host: o.host}), (x) => x.action === 'allow', reading?.values ?? text, reading?.members)
    return whenScanned(r, (x) => {
      if (x.verdict.action !== 'allow') tokens.forget()
      return afterResponseScan(snap, data, false, x.verdict, x.across)
    })
  }

  /**
   * An upstream scan decision judged by `response_scanning.action`: `closed` (block, ask, a strip
   * that cannot apply, a warn that escalates: the relay is closing), `strip` (relay the stripped
   * content) or `pass` (relay as received; a warn is logged). `frame`: the control frame (ping,
   * pong, close reason) the text came from. Its payload is dropped whole under strip (nothing
   * of it reaches the agent, so a hit across messages or an empty transform need not close).
   */
  const judgeResponse = (snap: ProxySnapshot, d: ResponseDecision, across: boolean, frame?: 'ping' | 'pong' | 'close'): {kind: 'closed' | 'pass'} | {kind: 'strip'; body: Buffer} => {
    if (d.action === 'allow') return {kind: 'pass'}
    m?.scanHit('injection')
    const names = [...new Set(d.matches.map((x) => x.pattern))].join(', ')
    const where = frame === undefined ? '' : ` in ${frame} frame`
    const injectionClose = (detail: string): {kind: 'closed'} => {
      policyClose({stage: 'response', layer: 'response_scan', reason: 'prompt_injection', detail, direction: 'server_to_client', upstreamReason: 'injection detected', scanner: 'injection'})
      return {kind: 'closed'}
    }
    const fields = frame === undefined ? {} : {frame}
    // A hit across messages cannot be stripped from a message (its first part has been relayed
    // already), nor one whose stripping leaves nothing.
    if (d.action === 'block' || d.action === 'ask' || (d.action === 'strip' && frame === undefined && (across || d.content === ''))) {
      return injectionClose(`injection detected${where}: ${names}`)
    }
    // What reaches the agent after a finding (stripped or warned) makes its session hostile
    // (docs/taint.md), as a buffered response relayed with one does.
    if (o.session !== null) snap.sessions?.exposure(o.session, o.target, o.host, 'prompt_injection')
    if (d.action === 'strip') {
      audit('ws_scan', 'warn', `WebSocket ${frame ?? 'message'} injection patterns stripped`, {direction: 'server_to_client', action: 'strip', ...fields, patterns: [...d.names]})
      return {kind: 'strip', body: frame === undefined ? strippedBody(d) : Buffer.alloc(0)}
    }
    const t = o.session
    if (t !== null && snap.sessions!.warn(t, `response injection: ${names}`, o.host, false, o.target) !== null) {
      return injectionClose(`injection detected${where}: ${names} (escalated)`)
    }
    audit('ws_scan', 'warn', `WebSocket ${frame ?? 'message'} matched injection patterns (warn)`, {direction: 'server_to_client', action: 'warn', ...fields, patterns: names.split(', ')})
    return {kind: 'pass'}
  }

  /** Whether an upstream message has reached the agent (its taint exposure is recorded once). */
  let exposed = false
  /** An upstream message's scan decision (null: not scanned) applied: closed, stripped, warned or relayed. */
  const afterResponseScan = (snap: ProxySnapshot, scanned: Buffer, isBinary: boolean, d: ResponseDecision | null, across: boolean): void => {
    let data = scanned
    if (d !== null) {
      const j = judgeResponse(snap, d, across)
      if (j.kind === 'closed') return
      if (j.kind === 'strip') data = j.body
    }
    stats.s2c += data.length
    m?.bytes('server_to_client', data.length)
    // The upstream's messages are content the agent reads: the first one relayed raises the
    // session's taint by the upstream's host (docs/taint.md), as a response does.
    if (!exposed && o.session !== null) {
      exposed = true
      snap.sessions?.exposure(o.session, o.target, o.host, 'response')
    }
    sendTo(client, upstream, data, isBinary, false)
  }

  /**
   * An upstream control frame's bytes (ping or pong payload, close reason) on their way to the
   * agent, which may read them as it reads messages (every library hands over the close reason):
   * scanned as a text message is, over the same tail. `pass` gets the payload to relay (emptied
   * when stripped); nothing is relayed when the relay is closing instead.
   */
  const upstreamControl = (kind: 'ping' | 'pong' | 'close', payload: Buffer, pass: (payload: Buffer) => void): void | Promise<void> => {
    if (ended) return
    const snap = snapshotFor(ports, o.base)
    const cfg = snap.config
    const text = payload.length === 0 || !(cfg.websocket_proxy.scan_text_frames && cfg.response_scanning.enabled) ? '' : payloadText(payload)
    if (text === '') return pass(payload)
    const r = s2cTail.next<ResponseDecision>(text, (t) => snap.bodyScans.decideResponseText(snap.scanner, t, {host: o.host}), (x) => x.action === 'allow')
    return whenScanned(r, (x) => {
      const j = judgeResponse(snap, x.verdict, x.across, kind)
      if (j.kind === 'pass') pass(payload)
      else if (j.kind === 'strip') pass(Buffer.alloc(0))
    })
  }

  /**
   * A client control frame's bytes (ping or pong payload, close reason; ≤ 125 bytes each, as often
   * as the client likes) through the same text DLP as a text message, over the same rolling tail
   * (a secret spread over many pings is seen whole). Binary payloads are read as their printable
   * text. True when the frame was refused (the relay is closing); the frame is then not sent.
   */
  const controlRefused = (kind: 'ping' | 'pong' | 'close', payload: Buffer): boolean => {
    if (payload.length === 0 || ended) return false
    const snap = snapshotFor(ports, o.base)
    if (!snap.config.websocket_proxy.scan_text_frames) return false
    const text = payloadText(payload)
    if (text === '') return false
    const prevTail = tail
    const input = prevTail + text
    tail = lastBytes(input, TAIL_BYTES)
    let hit = unsuppressed(snap.scanner.scanTextForDlp(input).matches, o.suppress)
    if (hit.length === 0 && prevTail !== '') hit = unsuppressed(snap.scanner.scanTextForDlp(text).matches, o.suppress)
    if (hit.length === 0) return false
    m?.scanHit('dlp')
    const names = [...new Set(hit.map((x) => x.pattern))].join(', ')
    if (enforcing(snap)) {
      policyClose({stage: 'body_scan', layer: 'dlp', reason: 'dlp_match', detail: `DLP match in ${kind} frame: ${names}`, direction: 'client_to_server', upstreamReason: 'DLP violation', scanner: 'dlp'})
      return true
    }
    audit('ws_scan', 'warn', 'WebSocket DLP match (not enforced)', {direction: 'client_to_server', action: 'audit', frame: kind, match_count: hit.length, patterns: names.split(', ')})
    return false
  }

  // Each side's messages, pings, pongs and close in the order they came (`inOrder`).
  client.on('message', (raw: WebSocket.RawData, isBinary: boolean) => fromClient(() => onClientMessage(raw, isBinary)))
  upstream.on('message', (raw: WebSocket.RawData, isBinary: boolean) => fromUpstream(() => onUpstreamMessage(raw, isBinary)))
  // Ping and pong are forwarded (the proxy answers none itself, `autoPong: false`); the client's
  // payloads are scanned first, like its messages.
  const control = (): void => {
    m?.frame('control')
    lastActivity = ports.nowMs()
  }
  client.on('ping', (d) => {
    control()
    fromClient(() => {
      if (controlRefused('ping', d)) return
      controlTo(upstream, client, 'ping', d, true)
    })
  })
  client.on('pong', (d) => {
    control()
    fromClient(() => {
      if (controlRefused('pong', d)) return
      controlTo(upstream, client, 'pong', d, true)
    })
  })
  upstream.on('ping', (d) => {
    control()
    fromUpstream(() => upstreamControl('ping', d, (p) => controlTo(client, upstream, 'ping', p, false)))
  })
  upstream.on('pong', (d) => {
    control()
    fromUpstream(() => upstreamControl('pong', d, (p) => controlTo(client, upstream, 'pong', p, false)))
  })

  // Library-detected violations (size, UTF-8, RSV1, framing): the library closes the offending
  // side with the code; the proxy tells the other side the same and records it (§6 #27 fix).
  const onError = (side: 'client' | 'upstream') => (err: Error & {code?: string}): void => {
    if (ended) return
    const c = libraryClose(err)
    const direction: WsDirection = side === 'client' ? 'client_to_server' : 'server_to_client'
    protocolRefusal(c, direction)
    ended = true
    proxyClosed = true
    const other = side === 'client' ? upstream : client
    if (other.readyState === other.OPEN) {
      other.close(c.code, closeText(c.reason))
      terminateLater(other)
    }
  }
  client.on('error', onError('client'))
  upstream.on('error', onError('upstream'))

  // A peer's close is passed on with its own code and reason when they may be sent (§6 #19 fix).
  const onPeerClose = (other: WebSocket, fallback: string) => (code: number, reason: Buffer): void | Promise<void> => {
    // 1006: the connection dropped without a close frame; anything else had one to read.
    if (code !== 1006) m?.frame('control')
    if (ended) {
      other.terminate()
      return
    }
    const pass = (r: Buffer): void => {
      ended = true
      if (other.readyState === other.OPEN) {
        // An empty reason here is a stripped one: the neutral fallback stands in for it, as it
        // does for an upstream's reason dressed as the proxy's block-reason JSON (close.ts).
        const text = closeText(r.toString('utf8'))
        const forged = other === client && claimsBlockReason(text)
        if (forwardableCloseCode(code)) other.close(code, (r.length === 0 && reason.length > 0) || forged ? fallback : text)
        else other.close(CLOSE.normal, fallback)
        terminateLater(other)
      }
    }
    // The client's close reason is scanned like its pings (a refused one closes both sides with
    // the policy close instead of passing the reason on); the upstream's like its messages.
    if (other === upstream) {
      if (reason.length > 0 && controlRefused('close', reason)) return
      return pass(reason)
    }
    return upstreamControl('close', reason, pass)
  }
  // A side's close is passed on after the messages it sent before it (`inOrder`).
  const passClient = onPeerClose(upstream, 'client closed')
  const passUpstream = onPeerClose(client, 'upstream closed')
  client.on('close', (code: number, reason: Buffer) => fromClient(() => passClient(code, reason)))
  upstream.on('close', (code: number, reason: Buffer) => fromUpstream(() => passUpstream(code, reason)))

  await Promise.all([client, upstream].map((w) => new Promise<void>((resolve) => (w.readyState === w.CLOSED ? resolve() : w.once('close', () => resolve())))))
  clearTimeout(lifetime)
  clearTimeout(idle!)
  for (const k of killers) k()
  const result: WsRelayResult = {proxyClosed, clientToServerBytes: stats.c2s, serverToClientBytes: stats.s2c, textFrames: stats.text, binaryFrames: stats.binary}
  audit('ws_close', 'info', 'WebSocket connection closed', {
    client_to_server_bytes: stats.c2s, server_to_client_bytes: stats.s2c, text_frames: stats.text, binary_frames: stats.binary,
    duration_ms: Math.round((ports.nowMs() - o.base.startMs) * 1000) / 1000,
  })
  // The session-close record (§3.9): allow unless the proxy ended the relay.
  if (!proxyClosed) o.record({...allowDecision(ports, frameBase, o.target, {status: 0, bytes: stats.c2s + stats.s2c, warnings: []}), detail: 'websocket closed'})
  return result
}
