/**
 * Redaction of one complete outbound message (envelope-redaction §12, §19: outbound WebSocket
 * client messages): a JSON text message is rewritten like an HTTP JSON body; any other message
 * (binary, or text that is not one JSON value) fails closed unless the target's host or a route
 * is in the unparseable allowlists. The relay calls this before its DLP, so DLP scans what is
 * forwarded. Whole messages only: the relay forwards a message once it is complete, so there is
 * no partial JSON to rewrite.
 */
import type {RedactionFailure, RedactionOutcome, RedactionSummary} from '../../redaction/index.js'
import type {ProxySnapshot} from '../state.js'

export type MessageRedaction =
  | {readonly kind: 'forward'; readonly data: Buffer; readonly summary: RedactionSummary | null}
  | {readonly kind: 'blocked'; readonly reason: RedactionFailure}

/**
 * The message's redaction, or null with `redaction` off. A text message over 64 KiB is redacted on
 * the snapshot's scan pool (`BodyScans.redactBody`: the body path with a JSON type, which reads it
 * as `redactText` does); the answer is then a promise.
 */
export function redactOutboundMessage(snap: ProxySnapshot, data: Buffer, isBinary: boolean, target: string): MessageRedaction | Promise<MessageRedaction> | null {
  const redactor = snap.redactor
  if (redactor === null) return null
  let host = ''
  let path = '/'
  try {
    const u = new URL(target)
    host = u.host
    path = decodeURIComponent(u.pathname)
  } catch {
    // unparseable target: matches no allowlist and labels `generic-json`
  }
  const t = {host, path, method: 'GET', contentType: isBinary ? 'application/octet-stream' : 'application/json'}
  if (isBinary) return redactor.allowsUnparseable(t) ? {kind: 'forward', data, summary: null} : {kind: 'blocked', reason: 'non_json_body'}
  const finish = (out: RedactionOutcome): MessageRedaction => {
    if (out.kind === 'blocked') {
      // A text message that is not JSON is non-JSON to the allowlists (§18).
      if (out.reason === 'body_unparseable' || out.reason === 'duplicate_object_key') {
        return redactor.allowsUnparseable({...t, contentType: 'text/plain'}) ? {kind: 'forward', data, summary: null} : {kind: 'blocked', reason: out.reason === 'body_unparseable' ? 'non_json_body' : out.reason}
      }
      return {kind: 'blocked', reason: out.reason}
    }
    if (out.kind === 'passthrough') return {kind: 'forward', data, summary: null}
    return {kind: 'forward', data: out.body, summary: out.summary}
  }
  const out = snap.bodyScans.redactBody(redactor, t, data)
  return out instanceof Promise ? out.then(finish) : finish(out)
}
