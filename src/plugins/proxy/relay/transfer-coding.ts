/**
 * A response whose `Transfer-Encoding` names a coding besides `chunked` (`gzip, chunked`): the
 * upstream client removes the chunked framing only, so the body it yields is still compressed —
 * unscannable, and relayed it would reach the agent as bytes no header describes. Every transport
 * that buffers an answer refuses it as a compressed one (`compressed_response`).
 */
import {hasTransferCoding} from '../../scanner/index.js'

/** The block detail of such a response. */
export const TRANSFER_CODED_DETAIL = 'response with a transfer coding other than chunked cannot be scanned'

/** Whether the upstream's headers name a transfer coding besides chunked (the field may come more than once). */
export function transferCoded(h: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const v = h['transfer-encoding']
  return hasTransferCoding(Array.isArray(v) ? v.join(', ') : v)
}
