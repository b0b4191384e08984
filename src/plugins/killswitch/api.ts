/**
 * Kill-switch HTTP API (§11.3): `POST /api/v1/killswitch` and `GET /api/v1/killswitch/status`.
 * Bearer token compared in constant time; toggles rate limited to 10 per fixed 60 s window;
 * body ≤ 1024 bytes holding exactly one JSON object `{"active":bool}`.
 */
import {timingSafeEqual, createHash} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {KillSwitchController} from './controller.js'

export interface KillSwitchApiOptions {
  readonly controller: KillSwitchController
  /** Current token (env `PIPELOCK_KILLSWITCH_API_TOKEN` wins over config; '' = API off). */
  readonly token: () => string
  /** Monotonic milliseconds, injected for the toggle window. */
  readonly nowMs: () => number
  /** Called after every successful toggle (audit). */
  readonly onToggle?: (active: boolean, clientIp: string) => void
}

const MAX_BODY = 1024
const WINDOW_MS = 60_000
const MAX_TOGGLES = 10

/**
 * The token of an `Authorization: Bearer <token>` header, or null when the header is missing or
 * not `Bearer` and at least one byte. The scheme is matched case-insensitively (RFC 9110 §11.1:
 * `bearer x` is the same credential; the reference's admin API compared it case-sensitively, its
 * scan API did not); the token is the rest verbatim (`Bearer  x` → ` x`). Every API pipelock serves
 * reads its tokens with this one parser.
 */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined || header.length < 8) return null
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return null
  return header.slice(7)
}

/** Constant-time token check: hashing both sides first removes the length side channel too. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (token === '') return false
  const presented = bearerToken(header)
  const a = createHash('sha256').update(presented ?? '').digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b) && presented !== null
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n'
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers})
  res.end(text)
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = text + '\n'
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body), ...headers,
  })
  res.end(body)
}

export class KillSwitchApi {
  private windowStart = -Infinity
  private toggles = 0
  constructor(private readonly opts: KillSwitchApiOptions) {}

  /** Routes the two API paths; returns false when the path is not one of them. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, clientIp: string): boolean {
    if (path === '/api/v1/killswitch') {
      this.toggle(req, res, clientIp)
      return true
    }
    if (path === '/api/v1/killswitch/status') {
      this.status(req, res)
      return true
    }
    return false
  }

  private authorised(req: IncomingMessage, res: ServerResponse): boolean {
    const token = this.opts.token()
    if (token === '') {
      sendText(res, 503, 'kill switch API not configured (no api_token)')
      return false
    }
    if (!bearerMatches(req.headers.authorization, token)) {
      sendText(res, 401, 'unauthorized', {'WWW-Authenticate': 'Bearer realm="pipelock"'})
      return false
    }
    return true
  }

  private status(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET') {
      req.resume()
      sendText(res, 405, 'method not allowed', {Allow: 'GET'})
      return
    }
    if (!this.authorised(req, res)) return
    const st = this.opts.controller.status()
    sendJson(res, 200, {active: st.active, sources: st.sources, ...(st.active ? {message: st.message} : {})})
  }

  private toggle(req: IncomingMessage, res: ServerResponse, clientIp: string): void {
    if (req.method !== 'POST') {
      req.resume()
      sendText(res, 405, 'method not allowed', {Allow: 'POST'})
      return
    }
    if (!this.authorised(req, res)) {
      req.resume()
      return
    }
    const now = this.opts.nowMs()
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now
      this.toggles = 0
    }
    if (this.toggles >= MAX_TOGGLES) {
      req.resume()
      sendText(res, 429, 'rate limit exceeded', {'Retry-After': '60'})
      return
    }
    readLimitedBody(req, MAX_BODY).then(
      (text) => {
        if (text === null) return sendText(res, 400, 'request body too large')
        const active = parseToggleBody(text)
        if (active === null) return sendText(res, 400, 'invalid request body: want exactly {"active":true|false}')
        this.toggles++
        this.opts.controller.setApi(active)
        this.opts.onToggle?.(active, clientIp)
        sendJson(res, 200, {active, source: 'api', ...(active ? {message: this.opts.controller.message} : {})})
      },
      () => undefined,
    )
  }
}

/**
 * An API request body as UTF-8 text, or null when it is longer than `max` bytes. The body is
 * read to its end either way (only `max` bytes are kept), so the connection can still carry the
 * 400 answer. Rejects when the request errors.
 */
export function readLimitedBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= max) chunks.push(c)
    })
    req.on('error', reject)
    req.on('end', () => resolve(size > max ? null : Buffer.concat(chunks).toString('utf8')))
  })
}

/** Exactly one JSON object with exactly the boolean field `active`; anything else → null. */
export function parseToggleBody(text: string): boolean | null {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null
  const keys = Object.keys(v)
  if (keys.length !== 1 || keys[0] !== 'active') return null
  const a = (v as {active: unknown}).active
  return typeof a === 'boolean' ? a : null
}
