/**
 * The HTTP client both MCP HTTP transports use towards the upstream: undici, no redirects
 * followed, no transparent decompression (a compressed body is refused, never scanned blind).
 */
import type {Readable} from 'node:stream'
import type {Agent as UndiciAgent} from 'undici'
import {Agent, requestUrl} from '../dispatch/index.js'
import {isCompressedEncoding, TRANSFER_CODED_DETAIL, transferCoded} from '../scanner/index.js'

export interface UpstreamResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: Readable
}

export class UpstreamClient {
  private readonly agent: UndiciAgent

  /** `headersTimeoutMs` bounds the wait for response headers only; streams may run for hours (fix Q15). */
  constructor(headersTimeoutMs: number) {
    this.agent = new Agent({headersTimeout: headersTimeoutMs, bodyTimeout: 0})
  }

  async send(url: string, method: 'POST' | 'GET' | 'DELETE', headers: string[], body?: string, signal?: AbortSignal): Promise<UpstreamResponse> {
    const r = await requestUrl(this.agent, url, {method, headers, body, signal})
    return {status: r.statusCode, headers: r.headers, body: r.body}
  }

  close(): Promise<void> {
    return this.agent.close()
  }

  /** Aborts what is still in flight (an endless SSE stream would keep `close` waiting forever). */
  destroy(): Promise<void> {
    return this.agent.destroy()
  }
}

export function header(h: UpstreamResponse['headers'], name: string): string | undefined {
  const v = h[name.toLowerCase()]
  return Array.isArray(v) ? v[0] : v
}

/**
 * Why a body cannot be scanned as it comes, or null: a `Content-Encoding` token other than
 * `identity` (case-insensitive), or a `Transfer-Encoding` coding besides `chunked` (`gzip,
 * chunked`: undici removes the chunked framing only, so the body it yields is still compressed).
 */
export function unscannableCoding(h: UpstreamResponse['headers']): string | null {
  if (isCompressedEncoding(header(h, 'content-encoding'))) return 'compressed response cannot be scanned'
  return transferCoded(h) ? TRANSFER_CODED_DETAIL : null
}

/**
 * Why an answer with this status is refused as a redirect (never followed: spec mcp.md §3.2, §3.3),
 * in the spec's words; null when it is not one.
 */
export function redirectRefusal(status: number): string | null {
  return status >= 300 && status < 400 ? `HTTP ${status}: unexpected redirect (redirects are disabled)` : null
}

export function isEventStream(h: UpstreamResponse['headers']): boolean {
  return (header(h, 'content-type') ?? '').trim().toLowerCase().startsWith('text/event-stream')
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body exceeds maximum size (${limit} bytes)`)
  }
}

/** A body still incomplete when the time allowed for it ran out. */
export class BodyTimeoutError extends Error {
  constructor() {
    super('response body read timed out')
  }
}

/**
 * Reads a whole body up to `limit` bytes. Beyond it the rest is drained and discarded (the
 * connection stays usable for the answer) and BodyTooLargeError is thrown. With `withinMs`, a body
 * not complete by then (stalled, or trickling) is destroyed and BodyTimeoutError thrown.
 */
export function readCapped(body: Readable, limit: number, withinMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let size = 0
    let over = false
    const timer = withinMs === undefined ? undefined : setTimeout(() => {
      over = true
      parts.length = 0
      reject(new BodyTimeoutError())
      body.destroy()
    }, Math.max(0, withinMs))
    const done = (): void => clearTimeout(timer)
    body.once('close', done)
    body.on('data', (c: Buffer | string) => {
      if (over) return
      const b = typeof c === 'string' ? Buffer.from(c) : c
      size += b.length
      if (size > limit) {
        over = true
        parts.length = 0
        done()
        reject(new BodyTooLargeError(limit))
        return
      }
      parts.push(b)
    })
    body.once('end', () => {
      done()
      if (!over) resolve(Buffer.concat(parts).toString('utf8'))
    })
    body.once('error', (err) => {
      done()
      if (!over) reject(err)
    })
  })
}
