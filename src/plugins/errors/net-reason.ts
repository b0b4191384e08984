/**
 * Why a network request failed, in words an agent or operator can act on, with the stable code
 * after it for grepping: `connection refused (ECONNREFUSED)` instead of a bare `ECONNREFUSED`.
 * Codes not listed here (nor OpenSSL's `ERR_SSL_…`) are returned as they are.
 */
const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'connection closed by peer',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'DNS name not found',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  EAI_FAIL: 'DNS lookup failed',
  ETIMEOUT: 'DNS lookup timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the response body',
  UND_ERR_SOCKET: 'connection closed by the upstream',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_ABORTED: 'request aborted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'upstream TLS certificate not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'upstream TLS certificate not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'upstream TLS certificate not trusted (self-signed in chain)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'upstream TLS certificate not trusted (self-signed)',
  CERT_HAS_EXPIRED: 'upstream TLS certificate expired',
  CERT_NOT_YET_VALID: 'upstream TLS certificate not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'upstream TLS certificate does not match the host name',
  EPROTO: 'TLS handshake failed',
}

export function networkErrorReason(code: string): string {
  // OpenSSL's own codes (ERR_SSL_WRONG_VERSION_NUMBER, …): the code says which step failed.
  const words = REASONS[code] ?? (code.startsWith('ERR_SSL_') ? 'TLS handshake failed' : undefined)
  return words === undefined ? code : `${words} (${code})`
}

/**
 * The error of a network step pipelock itself timed out (a connect, an opening handshake): coded
 * `ETIMEDOUT`, as the kernel codes its own connect timeout, so that every reader (the 502 hint,
 * the audit line) names it as a timeout rather than as an error without a code.
 */
export function timedOutError(step: string): Error & {code: 'ETIMEDOUT'} {
  return Object.assign(new Error(`${step} timed out`), {code: 'ETIMEDOUT' as const})
}
