/**
 * `Upgrade: websocket` inside an intercepted tunnel (transports.md §2.8, §6 #13). The reference
 * strips the Upgrade header, so the handshake fails upstream. Here the request is handed to one
 * seam, `InterceptorOptions.upgrade`: the server hands it to the WebSocket proxy's admission and
 * relay. With the WebSocket proxy off the upgrade is refused with a clear block — recorded first,
 * answered second — never forwarded half-working.
 */
import type {IncomingMessage} from 'node:http'
import type {Duplex} from 'node:stream'
import {blockAnswerHeaders} from '../hints.js'
import {writeRawResponse} from '../relay/raw-response.js'
import {blockDecision, type DecisionBase} from '../core.js'
import type {Clock} from '../ports.js'
import type {Decision} from '../decision.js'

export interface InterceptUpgrade {
  /** The clock of the refusal's Decision. */
  readonly ports: Clock
  /** The inner request's decision base (transport `intercept`, the CONNECT's agent). */
  readonly base: DecisionBase
  /** `explain_blocks` in force: the refusal carries its hint. */
  readonly explain: boolean
  /** The target URL as scanned and gated: `https://<connect host>:<port><path>` (map to `wss://`). */
  readonly url: string
  readonly req: IncomingMessage
  /** The decrypted client socket, and any bytes after the request head. */
  readonly socket: Duplex
  readonly head: Buffer
  /** The request's one record step (every sink; returns the receipt id). */
  readonly record: (d: Decision) => string | undefined
}

export type InterceptUpgradeHandler = (u: InterceptUpgrade) => void

export const UPGRADE_REFUSED_LAYER = 'intercept_websocket'
export const UPGRADE_REFUSED_DETAIL = 'WebSocket upgrade inside an intercepted tunnel needs websocket_proxy.enabled; enable it, or add the host to tls_interception.passthrough_domains'

/** The handler without the WebSocket proxy: a 403 `not_enabled` block. */
export function refuseInterceptedUpgrade(u: InterceptUpgrade): void {
  const d = blockDecision(u.ports, u.base, u.url, {stage: 'upgrade', layer: UPGRADE_REFUSED_LAYER, reason: 'not_enabled', detail: UPGRADE_REFUSED_DETAIL, status: 403, enforced: true})
  const receipt = u.record(d)
  writeRawResponse(u.socket, 403, 'Forbidden', {'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...blockAnswerHeaders(u.explain, 'not_enabled', UPGRADE_REFUSED_LAYER, {layer: UPGRADE_REFUSED_LAYER, detail: UPGRADE_REFUSED_DETAIL}, {receipt})}, `blocked: ${UPGRADE_REFUSED_DETAIL}\n`)
}
