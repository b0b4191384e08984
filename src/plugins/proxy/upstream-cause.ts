/**
 * Why an upstream could not be reached, classified once for every transport (forward proxy,
 * `/fetch`, CONNECT, `/ws`, the reverse proxy, intercepted requests). The 502 texts stay the
 * pinned ones (`forward proxy fetch failed`, `tunnel dial failed`, …); the cause goes to the audit
 * line's `detail` (after the transport's prefix) and, with `explain_blocks`, to the
 * `X-Pipelock-Hint` of the 502 — the same words in both. The words come from the error's code
 * (net / TLS / undici / getaddrinfo) or the upgrade's status, never from its message: a message
 * may quote a URL (and its query), which a hint must not echo. Only the audit line falls back to
 * the message of an error with no code.
 */
import {networkErrorReason} from '../errors/index.js'
import type {UpstreamFailure} from './core.js'

/** The cause classes, each with its own advice in the hint. */
export type UpstreamCauseClass = 'dial_blocked' | 'dns' | 'refused' | 'timeout' | 'unreachable' | 'closed' | 'tls_certificate' | 'tls_handshake' | 'upgrade_status' | 'redirect' | 'other'

export interface UpstreamCause {
  readonly cls: UpstreamCauseClass
  /** The cause in words, code last (`connection refused (ECONNREFUSED)`): what the audit line's detail says after its prefix. */
  readonly text: string
  /** Whether `text` is safe for a response header (built from a code or a status, not an error's message). */
  readonly fixed: boolean
  /** The error's code, when it had one. */
  readonly code?: string
}

/**
 * An upstream that answered a WebSocket upgrade with something other than `101 Switching
 * Protocols`: the status is the cause (the `ws` client reports it only as an event).
 */
export class UpgradeRefusedError extends Error {
  constructor(readonly status: number) {
    super(`upstream answered ${status} to the WebSocket upgrade`)
    this.name = 'UpgradeRefusedError'
  }
}

const CLASS_OF_CODE: Readonly<Record<string, UpstreamCauseClass>> = {
  ENOTFOUND: 'dns', EAI_AGAIN: 'dns', EAI_FAIL: 'dns', EAI_NODATA: 'dns', EAI_NONAME: 'dns', ENODATA: 'dns', ETIMEOUT: 'dns',
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timeout', UND_ERR_CONNECT_TIMEOUT: 'timeout', UND_ERR_HEADERS_TIMEOUT: 'timeout', UND_ERR_BODY_TIMEOUT: 'timeout',
  EHOSTUNREACH: 'unreachable', ENETUNREACH: 'unreachable', EADDRNOTAVAIL: 'unreachable',
  ECONNRESET: 'closed', EPIPE: 'closed', UND_ERR_SOCKET: 'closed', UND_ERR_CLOSED: 'closed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls_certificate', UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls_certificate', UNABLE_TO_GET_ISSUER_CERT: 'tls_certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls_certificate', DEPTH_ZERO_SELF_SIGNED_CERT: 'tls_certificate', CERT_HAS_EXPIRED: 'tls_certificate',
  CERT_NOT_YET_VALID: 'tls_certificate', ERR_TLS_CERT_ALTNAME_INVALID: 'tls_certificate', CERT_REVOKED: 'tls_certificate',
  CERT_UNTRUSTED: 'tls_certificate', CERT_REJECTED: 'tls_certificate', CERT_SIGNATURE_FAILURE: 'tls_certificate',
  EPROTO: 'tls_handshake', ERR_SSL_WRONG_VERSION_NUMBER: 'tls_handshake',
}

/** The class of an error code; TLS library codes (`ERR_SSL_…`) are handshake failures. */
function classOf(code: string): UpstreamCauseClass {
  return CLASS_OF_CODE[code] ?? (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') ? 'tls_handshake' : 'other')
}

/** The code of ssrf-dialer.ts's `DialBlockedError`. */
const DIAL_BLOCKED = 'PIPELOCK_DIAL_BLOCKED'

/** A code as it may appear in a header: Node's and undici's codes are upper-case words. */
const PLAIN_CODE = /^[A-Z][A-Z0-9_]{1,63}$/

/** The cause of an upstream error (a dial's, the upstream client's, a WebSocket upgrade's). */
export function upstreamCause(err: unknown): UpstreamCause {
  if (err instanceof UpgradeRefusedError) return {cls: 'upgrade_status', text: err.message, fixed: true}
  const e = err as {code?: unknown; message?: unknown; cause?: {code?: unknown}} | null | undefined
  // fetch()-style wrappers keep the socket's error as `cause`.
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined
  // The SSRF-safe dialer's refusal: its message names the host and the internal address it resolves to.
  if (code === DIAL_BLOCKED && typeof e?.message === 'string') return {cls: 'dial_blocked', text: e.message, fixed: false, code}
  if (code !== undefined && PLAIN_CODE.test(code)) return {cls: classOf(code), text: networkErrorReason(code), fixed: true, code}
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : 'upstream error'
  return {cls: 'other', text: message, fixed: false}
}

/** A cause the proxy itself names (a redirect it will not follow): fixed text, no code. */
export function namedCause(cls: UpstreamCauseClass, text: string): UpstreamCause {
  return {cls, text, fixed: true}
}

const ADVICE: Readonly<Record<UpstreamCauseClass, string>> = {
  dial_blocked: 'SSRF protection refused the address the host resolves to.',
  dns: 'The host name does not resolve from the proxy: check its spelling, and the DNS the proxy uses.',
  refused: 'Nothing accepts connections on that host and port: check the port, and that the server is running.',
  timeout: 'The upstream did not answer in time (fetch_proxy.timeout_seconds bounds a response): the host may be down, or a firewall may drop the traffic.',
  unreachable: 'The proxy has no route to that host.',
  closed: 'The upstream closed the connection before it answered.',
  tls_certificate: 'The TLS certificate of the upstream was not accepted (not trusted, expired, or for another name). If the server is yours, give it a certificate from a CA the proxy trusts.',
  tls_handshake: 'The TLS handshake with the upstream failed: it may not speak TLS on that port, or share no protocol version or cipher with the proxy.',
  upgrade_status: 'The upstream refused the WebSocket upgrade (it did not answer 101): check the path of the ws:// or wss:// URL, and that the server accepts WebSocket there.',
  redirect: 'The upstream redirected in a way the proxy does not follow.',
  other: 'The audit log line of this request has the detail.',
}

/** The `X-Pipelock-Hint` of a 502 with this cause: its words (codes and statuses only) and the class's advice. */
export function upstreamCauseHint(c: UpstreamCause): string {
  return c.fixed ? `Upstream failed: ${c.text}. ${ADVICE[c.cls]}` : `Upstream failed. ${ADVICE.other}`
}

/**
 * The failure to record for a cause: `prefix: words` as the audit detail, the hint, and whether it
 * was the SSRF-safe dialer's refusal (then a block on layer `ssrf`, whose own hint applies).
 */
export function causedFailure(prefix: string, c: UpstreamCause): UpstreamFailure {
  return {detail: `${prefix}: ${c.text}`, dialBlocked: c.cls === 'dial_blocked', hint: upstreamCauseHint(c)}
}
