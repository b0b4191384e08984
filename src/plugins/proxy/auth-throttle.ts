/**
 * Failed bearer tokens on the admin APIs (kill switch §11.3, session API §12) are throttled per
 * client IP (issue 10 item 12): after `maxFailures` 401s within the window, every API request
 * from that client is answered `429` with `Retry-After` until the oldest failure ages out. Each
 * failure and each throttled request is audited and counted by the caller. A successful request
 * does not clear the record: guessing interleaved with one known-good call is still guessing.
 *
 * Issue 37 item 7: an agent that shares the operator's address must not lock the operator out. A
 * request that carries the right token passes a throttled address when the token is strong
 * (`STRONG_TOKEN_MIN` characters or more): guessing such a token is hopeless, so letting its
 * holder through gives a guesser nothing, while every wrong guess is still refused and counted.
 * A weak token keeps the strict lockout (and `pipelock run` warns at start).
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {bearerMatches} from '../killswitch/index.js'
import {sendTextError} from './block.js'

export interface AuthThrottleSettings {
  readonly maxFailures: number
  readonly windowMs: number
}

/** Characters from which a bearer token counts as strong (24 hex characters carry 96 bits). */
export const STRONG_TOKEN_MIN = 24

/** True when `req` carries `token` and the token is strong: the holder passes a throttled address. */
export function holdsStrongToken(req: IncomingMessage, token: string): boolean {
  const auth = req.headers.authorization
  return token.length >= STRONG_TOKEN_MIN && bearerMatches(Array.isArray(auth) ? auth[0] : auth, token)
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleSettings = Object.freeze({maxFailures: 10, windowMs: 60_000})
/** Clients remembered at once; beyond it, clients with no failure inside the window are forgotten. */
const MAX_CLIENTS = 10_000

export class AuthThrottle {
  private readonly failures = new Map<string, number[]>()

  constructor(private readonly nowMs: () => number, private readonly s: AuthThrottleSettings = DEFAULT_AUTH_THROTTLE) {}

  /** Seconds until `client` may try again, or 0 when it is not throttled. */
  retryAfterSeconds(client: string): number {
    const list = this.live(client)
    if (list.length < this.s.maxFailures) return 0
    return Math.max(1, Math.ceil((list[list.length - this.s.maxFailures]! + this.s.windowMs - this.nowMs()) / 1000))
  }

  recordFailure(client: string): void {
    if (!this.failures.has(client) && this.failures.size >= MAX_CLIENTS) this.prune()
    const list = this.live(client)
    list.push(this.nowMs())
    // Only the newest maxFailures matter for the verdict.
    if (list.length > this.s.maxFailures) list.splice(0, list.length - this.s.maxFailures)
    this.failures.set(client, list)
  }

  private live(client: string): number[] {
    const cutoff = this.nowMs() - this.s.windowMs
    const list = (this.failures.get(client) ?? []).filter((t) => t > cutoff)
    if (list.length === 0) this.failures.delete(client)
    else this.failures.set(client, list)
    return list
  }

  private prune(): void {
    for (const k of [...this.failures.keys()]) this.live(k)
    if (this.failures.size >= MAX_CLIENTS) this.failures.clear()
  }
}

export interface AuthThrottleHooks {
  onFailure(client: string, path: string): void
  onThrottled(client: string, path: string, retryAfter: number): void
}

/**
 * Runs before an API handler: answers 429 for a throttled client (true) — unless `operator` says
 * the request holds the right strong token — else watches the answer and records a 401 as a
 * failed token (false: the handler goes on).
 */
export function guardApiRequest(
  t: AuthThrottle, req: IncomingMessage, res: ServerResponse, client: string, path: string, hooks: AuthThrottleHooks,
  operator: (req: IncomingMessage) => boolean = () => false,
): boolean {
  const wait = t.retryAfterSeconds(client)
  if (wait > 0 && !operator(req)) {
    req.resume()
    hooks.onThrottled(client, path, wait)
    sendTextError(res, 429, 'too many failed authentication attempts', {'Retry-After': String(wait)})
    return true
  }
  res.once('finish', () => {
    if (res.statusCode !== 401) return
    t.recordFailure(client)
    hooks.onFailure(client, path)
  })
  return false
}
