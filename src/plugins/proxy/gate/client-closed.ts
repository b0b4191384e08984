/**
 * A request whose client hung up while its body was read: the stage that read it ends the
 * request here. Recorded as what it is (an `error` Decision on layer `client`, audit event
 * `client_closed`), not as a block: a cancelled upload is no finding and must not score.
 */
import {clientClosedDecision} from '../core.js'
import {CLIENT_CLOSED_DETAIL} from '../request-body.js'
import type {RequestGateContext} from './context.js'

/** Records the request's outcome; true (the request is over: nothing is forwarded or answered). */
export function endClientClosed(ctx: RequestGateContext): true {
  // Before the URL scan (the envelope stage) the URL is shown only if DLP finds nothing in it.
  ctx.rec.record(clientClosedDecision(ctx.ports, ctx.b, ctx.shown !== '' ? ctx.shown : ctx.shownAs('client'), CLIENT_CLOSED_DETAIL))
  return true
}
