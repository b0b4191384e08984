import type {Agent as UndiciAgent, Dispatcher} from 'undici'
import type {z} from 'zod'
import {Agent, requestUrl} from '../dispatch/index.js'
import {PipelockError} from '../errors/index.js'
import {printable} from './text-format.js'

// The HTTP side of the admin CLI (runtime §12/§13): one request per call, Bearer token, a 10 s
// budget for the whole exchange, and the mapping of every non-2xx answer to a registry code
// whose exit status §13 fixes (401/400 → 2; 404, 429, 5xx, network → 1).

export const DEFAULT_TIMEOUT_MS = 10_000
/** No §12 answer comes near this; a larger body is not an admin API answer. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024

export interface AdminClientOptions {
  readonly baseUrl: string
  readonly token: string
  readonly timeoutMs?: number
}

/** A decoded answer: `data` typed for the renderers, `json` exactly the server's JSON value (for `--json`). */
export interface AdminResponse<T> {
  readonly data: T
  readonly json: T
}

export interface RequestContext {
  /** The session key the request is about: turns a 404 `session not found` into a message naming it. */
  readonly key?: string
  /** The exception the request is about: turns a 404 `exception not found` into EXCEPTION_NOT_FOUND. */
  readonly exceptionId?: string
}

export class AdminClient {
  readonly baseUrl: string
  private readonly token: string
  private readonly timeoutMs: number
  private readonly dispatcher: UndiciAgent

  constructor(options: AdminClientOptions) {
    this.baseUrl = options.baseUrl
    this.token = options.token
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    // A private pool, closed after use, so a finished command never waits on a keep-alive socket.
    this.dispatcher = new Agent({connections: 1})
  }

  async get<S extends z.ZodType>(path: string, schema: S, ctx: RequestContext = {}): Promise<AdminResponse<z.infer<S>>> {
    return await this.send('GET', path, undefined, schema, ctx)
  }

  async post<S extends z.ZodType>(path: string, body: unknown, schema: S, ctx: RequestContext = {}): Promise<AdminResponse<z.infer<S>>> {
    return await this.send('POST', path, body, schema, ctx)
  }

  async close(): Promise<void> {
    await this.dispatcher.close()
  }

  private async send<S extends z.ZodType>(method: 'GET' | 'POST', path: string, body: unknown, schema: S, ctx: RequestContext): Promise<AdminResponse<z.infer<S>>> {
    const headers: Record<string, string> = {authorization: `Bearer ${this.token}`, accept: 'application/json'}
    const payload = body === undefined ? undefined : JSON.stringify(body)
    if (payload !== undefined) headers['content-type'] = 'application/json'
    const signal = AbortSignal.timeout(this.timeoutMs)
    let status: number
    let retryAfter: string | undefined
    let text: string
    try {
      // Not undici's top-level `request`: its index (fetch, WebSocket, …) was ≈ a sixth of an
      // admin command's CPU (src/plugins/dispatch).
      const res = await requestUrl(this.dispatcher, this.baseUrl + path, {method, headers, body: payload, signal})
      status = res.statusCode
      const ra = res.headers['retry-after']
      retryAfter = Array.isArray(ra) ? ra[0] : ra
      text = await readCapped(res.body, MAX_RESPONSE_BYTES)
    } catch (err) {
      if (err instanceof PipelockError) throw err
      throw this.networkError(err, signal)
    }
    if (status >= 200 && status < 300) return decode(text, schema, `${method} ${path}`)
    throw statusError(this.baseUrl, status, text, retryAfter, method, path, ctx)
  }

  private networkError(err: unknown, signal: AbortSignal): PipelockError {
    if (signal.aborted) {
      return new PipelockError('ADMIN_API_UNREACHABLE', `admin API at ${this.baseUrl} did not answer within ${formatTimeout(this.timeoutMs)}`)
    }
    const e = err as {code?: string; cause?: {code?: string; message?: string}; message?: string}
    const why = e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err)
    return new PipelockError('ADMIN_API_UNREACHABLE', `cannot reach the admin API at ${this.baseUrl}: ${why}`, {
      hint: 'is pipelock run up, and does --api-url (or PIPELOCK_API_URL, kill_switch.api_listen) name its API listener?',
    })
  }
}

function formatTimeout(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > limit) {
      body.destroy()
      throw new PipelockError('ADMIN_API_RESPONSE_INVALID', `admin API response is larger than ${limit} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function decode<S extends z.ZodType>(text: string, schema: S, what: string): AdminResponse<z.infer<S>> {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new PipelockError('ADMIN_API_RESPONSE_INVALID', `admin API answer to ${what} is not JSON: ${snippet(text)}`)
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const at = issue.path.length === 0 ? 'the body' : issue.path.join('.')
    throw new PipelockError('ADMIN_API_RESPONSE_INVALID', `admin API answer to ${what} has an unexpected shape at ${at}: ${issue.message}`, {
      hint: 'the CLI and the proxy may be different versions',
    })
  }
  // `data` is zod's typed copy; `json` keeps the server's key order and any newer fields.
  return {data: parsed.data as z.infer<S>, json: json as z.infer<S>}
}

/** Plain-text or `{"error":"…"}` body → one printable line of at most 200 characters. */
function snippet(text: string): string {
  let t = text.trim()
  try {
    const j = JSON.parse(t) as unknown
    if (j !== null && typeof j === 'object' && typeof (j as {error?: unknown}).error === 'string') t = (j as {error: string}).error
  } catch {
    // not JSON: the plain-text error bodies of §12
  }
  t = printable(t.split('\n')[0] ?? '')
  return t.length > 200 ? t.slice(0, 200) + '…' : t === '' ? '(empty body)' : t
}

/** No session with that key: the server's 404 `session not found`, or a key the session list lacks. */
export function sessionNotFound(key: string): PipelockError {
  return new PipelockError('SESSION_NOT_FOUND', `session not found: ${printable(key)}`, {
    hint: 'identity keys are agent|client-ip (quote them); a terminated or idle-evicted session is gone; list the live ones with: pipelock session list',
  })
}

function statusError(baseUrl: string, status: number, text: string, retryAfter: string | undefined, method: string, path: string, ctx: RequestContext): PipelockError {
  const body = snippet(text)
  switch (status) {
    case 401:
      return new PipelockError('ADMIN_API_UNAUTHORIZED', 'admin API rejected the token (HTTP 401 unauthorized)', {
        hint: 'check --api-token, PIPELOCK_KILLSWITCH_API_TOKEN or kill_switch.api_token against the running proxy',
      })
    case 400:
      return new PipelockError('ADMIN_API_BAD_REQUEST', `admin API refused ${method} ${path} (HTTP 400): ${body}`)
    case 404:
      if (ctx.exceptionId !== undefined && text.trim() === 'exception not found') {
        return new PipelockError('EXCEPTION_NOT_FOUND', `exception not found: ${printable(ctx.exceptionId)}`, {hint: 'list the exceptions in force with: pipelock exception list'})
      }
      // §12 answers a missing session with the plain text `session not found`; any other 404
      // means the path itself is unknown: no token at start-up (API not mounted), or a wrong URL.
      if (ctx.key !== undefined && text.trim() === 'session not found') return sessionNotFound(ctx.key)
      if (text.trim() === 'approval not found') return new PipelockError('APPROVAL_NOT_FOUND', `approval not found (${method} ${path})`, {hint: 'list the held requests with: pipelock ask list (answered ones: --all)'})
      return new PipelockError('ADMIN_API_NOT_ENABLED', `the admin API is not enabled on the proxy at ${baseUrl} (${method} ${path} answered HTTP 404: ${body})`, {
        hint: 'pipelock run mounts it only when kill_switch.api_token (or PIPELOCK_KILLSWITCH_API_TOKEN) is set at start-up: set it and restart the proxy; if it is set, check that --api-url names its API listener (kill_switch.api_listen)',
      })
    case 429: {
      const seconds = retryAfter !== undefined && /^\d+$/.test(retryAfter.trim()) ? retryAfter.trim() : undefined
      // Name the call that was limited (recover reads the session and its explanation first).
      return new PipelockError('ADMIN_API_RATE_LIMITED', seconds === undefined ? 'rate limited; retry later' : `rate limited; retry after ${seconds} seconds`, {
        hint: `the proxy limits each admin action per minute; the limited call was ${method} ${path}`,
      })
    }
    default:
      return new PipelockError('ADMIN_API_HTTP_ERROR', `admin API error on ${method} ${path} (HTTP ${status}): ${body}`)
  }
}
