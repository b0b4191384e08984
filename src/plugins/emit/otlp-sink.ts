/**
 * OTLP/HTTP logs sink (operations.md §3.6): one protobuf `ExportLogsServiceRequest` per event,
 * optional gzip, up to three attempts (retry on transport errors and 429/502/503/504 after 1 s,
 * then 2 s — the reference's schedule). A closing sink makes no further attempts.
 */
import {promisify} from 'node:util'
import {gzip} from 'node:zlib'
import {SinkHttpClient, transportError} from './http-post.js'
import {encodeLogsRequest, otlpLogsUrl} from './otlp-encode.js'
import type {SendOutcome, SinkTransport} from './queue.js'
import type {EmitEvent} from './event.js'
import type {RateLimitedLog} from './stats.js'
import {MAX_EVENT_BYTES} from './webhook-sink.js'

const gzipAsync = promisify(gzip)
const RETRYABLE: ReadonlySet<number> = new Set([429, 502, 503, 504])
const BACKOFF_MS: readonly number[] = [1000, 2000]

export interface OtlpSinkOptions {
  readonly endpoint: string
  readonly headers: Readonly<Record<string, string>>
  readonly timeoutSeconds: number
  readonly gzip: boolean
  readonly threatDetection: boolean
  readonly version: string
  readonly log: RateLimitedLog
}

/** Resolves after `ms`, or at once when `signal` aborts; true when it slept the whole time. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      resolve(false)
    }
    signal.addEventListener('abort', onAbort, {once: true})
  })
}

export function otlpTransport(o: OtlpSinkOptions): SinkTransport {
  const http = new SinkHttpClient(otlpLogsUrl(o.endpoint), o.timeoutSeconds * 1000)
  // Custom headers first; Content-Type / Content-Encoding overwrite any clash (§3.6).
  const headers: Record<string, string> = {'user-agent': `pipelock/${o.version}`}
  for (const [k, v] of Object.entries(o.headers)) {
    const l = k.toLowerCase()
    if (l !== 'content-type' && l !== 'content-encoding') headers[l] = v
  }
  headers['content-type'] = 'application/x-protobuf'
  if (o.gzip) headers['content-encoding'] = 'gzip'
  return {
    async send(e: EmitEvent, signal: AbortSignal): Promise<SendOutcome> {
      const raw = encodeLogsRequest(e, {version: o.version, threatDetection: o.threatDetection})
      if (raw.length > MAX_EVENT_BYTES) return 'too_large'
      const body = o.gzip ? await gzipAsync(raw) : raw
      for (let attempt = 0; ; attempt++) {
        let failure: string
        try {
          const r = await http.post(headers, body)
          if (r.status >= 200 && r.status < 300) return 'sent'
          if (!RETRYABLE.has(r.status)) {
            o.log.line('otlp:status', `emit: otlp HTTP ${r.status} (not retryable)`)
            return 'send_failed'
          }
          failure = `emit: otlp HTTP ${r.status} after 3 retries`
        } catch (err) {
          failure = `emit: otlp send error (final): ${transportError(err)}`
        }
        if (attempt >= BACKOFF_MS.length || !(await sleep(BACKOFF_MS[attempt]!, signal))) {
          o.log.line('otlp:final', failure)
          return 'send_failed'
        }
      }
    },
    dispose: () => http.close(),
  }
}
