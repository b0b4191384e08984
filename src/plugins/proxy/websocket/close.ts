/**
 * WebSocket close payloads (transports §1.3, §3.8): a close reason is at most 123 bytes. Policy
 * closes carry the block-reason JSON of runtime §4.4; optional fields are dropped in a fixed order
 * until it fits, and an unfittable one becomes the `block_reason_overflow` form.
 */
import {REASON_CODES, type ReasonCode} from '../../scanner/index.js'
import {BLOCK_REASON_VERSION} from '../block.js'

export const MAX_CLOSE_REASON_BYTES = 123

/** RFC 6455 §7.4: the close codes the policy uses. */
export const CLOSE = Object.freeze({
  normal: 1000,
  goingAway: 1001,
  protocol: 1002,
  invalidData: 1007,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
})

/** `{"block_reason","version","severity","retry","layer"}` cut to ≤ 123 bytes (drop order: receipt, layer, retry, severity, version). */
export function closeJson(reason: ReasonCode, layer?: string, receipt?: string): string {
  const meta = REASON_CODES[reason]
  const fields: Array<[string, string]> = [['block_reason', reason], ['version', BLOCK_REASON_VERSION], ['severity', meta.severity], ['retry', meta.retry]]
  if (layer !== undefined && layer !== '') fields.push(['layer', layer])
  if (receipt !== undefined && receipt !== '') fields.push(['receipt', receipt])
  const dropOrder = ['receipt', 'layer', 'retry', 'severity', 'version']
  let cur = fields
  for (let i = 0; ; i++) {
    const s = JSON.stringify(Object.fromEntries(cur))
    if (Buffer.byteLength(s) <= MAX_CLOSE_REASON_BYTES) return s
    if (i >= dropOrder.length) break
    cur = cur.filter(([k]) => k !== dropOrder[i])
  }
  return `{"block_reason":"block_reason_overflow","version":"${BLOCK_REASON_VERSION}"}`
}

/** A plain close reason cut back to ≤ 123 bytes on a UTF-8 boundary. */
export function closeText(text: string): string {
  const b = Buffer.from(text, 'utf8')
  if (b.length <= MAX_CLOSE_REASON_BYTES) return text
  let end = MAX_CLOSE_REASON_BYTES
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--
  return b.subarray(0, end).toString('utf8')
}

/** Whether a peer's close code may be sent on (RFC 6455 §7.4.1: 1005/1006/1015 and unassigned ranges may not). */
export function forwardableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)
}

/**
 * Whether a close reason speaks the block-reason vocabulary (`{"block_reason":…}`). Only the
 * proxy's own policy closes may: an upstream's close reason that does is not passed on, so a
 * client that reads the JSON of a `1008` can trust it came from this proxy.
 */
export function claimsBlockReason(text: string): boolean {
  return /block_reason/i.test(text)
}

