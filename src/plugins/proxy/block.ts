/**
 * Block responses (§10): the closed reason vocabulary in headers, and the per-transport bodies of
 * §10.3. Every block body carries pattern names and hosts only, never the matched secret (§10.4).
 */
import type {ServerResponse} from 'node:http'
import {uuidToUlid} from '../canonical/index.js'
import {REASON_CODES, validLayer, type ReasonCode, type ReasonRetry, type ReasonSeverity} from '../scanner/index.js'

export const BLOCK_REASON_VERSION = '1'

/** Labels whose findings come from content; URLs echoed for them are redacted (§4.1, §24 #1 fixed for `core_dlp`). */
export const CONTENT_SCANNER_LABELS: ReadonlySet<string> = new Set([
  'dlp', 'core_dlp', 'body_dlp', 'body_prompt_injection', 'header_dlp', 'mcp_input_scanning', 'response_scan',
  'address_protection', 'seed_phrase', 'cross_request_entropy',
  // Operations §5.6 Q-C1 (fixed): cross-request blocks never echo or log the URL in clear.
  'cross_request', 'cross_request_fragment',
])

export interface BlockHeaderOptions {
  /** The `action_id` of the signed receipt that recorded the block (sent as its ULID form). */
  readonly receipt?: string | undefined
  /** A live-lock contract block: severity `critical`, retry `policy` for every contract code (§7.9). */
  readonly contract?: boolean
  /** Seconds until the request may pass again (a rate limit's or budget's window): sent as `Retry-After`. */
  readonly retryAfter?: number | undefined
}

/**
 * A code's severity and retry (§10.2), or, for a live-lock contract block, critical / policy
 * whatever its code (learn-lifecycle §7.9): the one rule the block headers and the Decision (so
 * the receipt, audit line and capture record) both follow.
 */
export function blockGrade(reason: ReasonCode, contract: boolean): {readonly severity: ReasonSeverity; readonly retry: ReasonRetry} {
  if (contract) return {severity: 'critical', retry: 'policy'}
  const meta = REASON_CODES[reason] ?? REASON_CODES.parse_error
  return {severity: meta.severity, retry: meta.retry}
}

/**
 * `Retry-After` of a refusal at a connection cap (CONNECT tunnels, `/ws` connections): a slot
 * frees when some connection closes, which no window predicts, so a short fixed wait — long
 * enough that a client honouring it does not spin on the cap, short enough to take the next slot.
 */
export const CAPACITY_RETRY_AFTER_SECONDS = 5

/** The X-Pipelock-Block-Reason* headers for a code and layer (§10.1), with the receipt when one was signed. */
export function blockHeaders(reason: ReasonCode, layer?: string, opts: BlockHeaderOptions = {}): Record<string, string> {
  const code = REASON_CODES[reason] ? reason : 'parse_error'
  const grade = blockGrade(code, opts.contract === true)
  const h: Record<string, string> = {
    'X-Pipelock-Block-Reason': code,
    'X-Pipelock-Block-Reason-Version': BLOCK_REASON_VERSION,
    'X-Pipelock-Block-Reason-Severity': grade.severity,
    'X-Pipelock-Block-Reason-Retry': grade.retry,
  }
  // Airlock denials carry no layer header (OP §6 item 3); their decision still records layer `airlock`.
  if (layer !== undefined && validLayer(layer) && code !== 'airlock_active') h['X-Pipelock-Block-Reason-Layer'] = layer
  const ulid = opts.receipt === undefined ? undefined : uuidToUlid(opts.receipt)
  if (ulid !== undefined) h['X-Pipelock-Block-Reason-Receipt'] = ulid
  if (opts.retryAfter !== undefined && opts.retryAfter > 0) h['Retry-After'] = String(Math.ceil(opts.retryAfter))
  return h
}

/** Go `http.Error`: text/plain, nosniff, trailing newline. */
export function sendTextError(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = text + '\n'
  res.writeHead(status, {
    ...extra,
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': String(Buffer.byteLength(body)),
  })
  res.end(body)
}

export function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify(value) + '\n'
  res.writeHead(status, {...extra, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body))})
  res.end(body)
}

/**
 * A block answered with a JSON body instead of the transport's usual one (the kill switch's
 * §10.3 form on /fetch, CONNECT and the /ws handshake); a plain string is a text body.
 */
export interface BlockBody {
  readonly json: string
}

/** Answers a block whose body a stage chose (`BlockBody`), with the block headers. */
export function sendBlockBody(res: ServerResponse, status: number, body: BlockBody, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const text = body.json + '\n'
  res.writeHead(status, {...extra, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text))})
  res.end(text)
}

/** Kill-switch JSON body (§10.3). */
export function killSwitchBody(message: string): {error: string; message: string} {
  return {error: 'kill_switch_active', message}
}

/** `scheme://host/[redacted]`, or `[redacted-url]` when even that cannot be recovered (§4.1). */
export function redactUrl(raw: string, hostIsSensitive: boolean): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(raw)
  if (m === null) return '[redacted-url]'
  const authority = m[2]!
  const at = authority.lastIndexOf('@')
  const host = at >= 0 ? authority.slice(at + 1) : authority
  return `${m[1]!.toLowerCase()}://${hostIsSensitive ? '[redacted]' : host}/[redacted]`
}

/** Iterative percent-decoding for display (§4.1 step 3); scanning always uses the raw string. */
export function displayUrl(raw: string): string {
  let cur = raw
  for (let i = 0; i < 8; i++) {
    let next: string
    try {
      next = decodeURIComponent(cur)
    } catch {
      return cur
    }
    if (next === cur) return cur
    cur = next
  }
  return cur
}
