/**
 * Webhook sink (operations.md §3.4): one `POST <url>` per event, JSON body, no batching, no
 * retry; `timeout_seconds` covers the whole exchange.
 */
import {eventJson} from './render.js'
import {SinkHttpClient, transportError} from './http-post.js'
import type {SendOutcome, SinkTransport} from './queue.js'
import type {EmitEvent} from './event.js'
import type {RateLimitedLog} from './stats.js'

/** A serialised event over this size is dropped as `too_large` (§3.8 item 2, [beyond]). */
export const MAX_EVENT_BYTES = 64 * 1024

export interface WebhookOptions {
  readonly url: string
  readonly authToken: string
  readonly timeoutSeconds: number
  readonly version: string
  readonly log: RateLimitedLog
}

export function webhookTransport(o: WebhookOptions): SinkTransport {
  const http = new SinkHttpClient(o.url, o.timeoutSeconds * 1000)
  const headers: Record<string, string> = {'content-type': 'application/json', 'user-agent': `pipelock/${o.version}`}
  if (o.authToken !== '') headers.authorization = `Bearer ${o.authToken}`
  return {
    async send(e: EmitEvent): Promise<SendOutcome> {
      const body = eventJson(e)
      if (Buffer.byteLength(body) > MAX_EVENT_BYTES) return 'too_large'
      try {
        const r = await http.post(headers, body)
        if (r.status >= 300) {
          o.log.line('webhook:status', `emit: webhook returned HTTP ${r.status} for event ${e.type}`)
          return 'send_failed'
        }
        return 'sent'
      } catch (err) {
        o.log.line('webhook:error', `emit: webhook send error: ${transportError(err)}`)
        return 'send_failed'
      }
    },
    dispose: () => http.close(),
  }
}
