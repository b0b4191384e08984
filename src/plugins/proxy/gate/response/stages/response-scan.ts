/**
 * Response stage `response_scan` on agent egress (/fetch, forward, intercept): the injection scan
 * of the buffered body — /fetch's page title and text, both of which it answers with — decided
 * and, for `ask`, held for an operator (relay/response-ask.ts), then settled
 * (relay/response-scan.ts): a block answered, a strip forwarded and counted, a warn upgraded at
 * the session's escalation level or logged.
 */
import {decideHeldResponse, type SettledResponseDecision} from '../../../relay/response-ask.js'
import {settleResponseScan} from '../../../relay/response-scan.js'
import type {ResponseGateContext, ResponseStage} from '../context.js'

export const responseScanStage: ResponseStage = {
  id: 'response_scan',
  run(ctx) {
    const {ports, snap, rec, b, shown, res, page} = ctx
    // /fetch answers with the page's title as well as its text: both are read, the title first.
    const subject = page === undefined ? ctx.body : Buffer.from(page.title === '' ? page.content : titled(page.title, page.content), 'utf8')
    // /fetch scans the page text it answers with (UTF-8); a relayed body is read in its declared charset too.
    const d = decideHeldResponse(ports, {snap, rec, b, shown, res}, subject, {host: ctx.host, suppress: ctx.suppress, ...(page === undefined ? {contentType: ctx.contentType} : {})})
    return d instanceof Promise ? d.then((decision) => settle(ctx, decision)) : settle(ctx, d)
  },
}

/** The stage's answer to the scan's decision (true: the response was answered). */
function settle(ctx: ResponseGateContext, decision: SettledResponseDecision): boolean {
  const {ports, snap, rec, b, shown, page} = ctx
  // A held response the operator denied (or that timed out) is answered with the reason, not the injection text.
  if (decision.held === true && decision.action === 'block') {
    ctx.block({stage: 'response', layer: 'response_scan', detail: decision.detail, status: 403, reason: 'prompt_injection'})
    return true
  }
  const settled = settleResponseScan({ports, b, sessions: snap.sessions, session: rec.session, host: ctx.sessionHost, shown, block: ctx.block}, decision)
  if (settled === null) return true
  if (settled.stripped !== undefined) {
    if (page === undefined) ctx.body = Buffer.from(settled.stripped, 'utf8')
    else if (page.title === '') page.content = settled.stripped
    else {
      // The title kept when the strip left it as it was; else the stripped title stays in the text.
      const head = titled(page.title, '')
      if (settled.stripped.startsWith(head)) page.content = settled.stripped.slice(head.length)
      else [page.title, page.content] = ['', settled.stripped]
    }
    ctx.rewritten = true
  }
  if (settled.finding || decision.held === true) ctx.exposure = 'prompt_injection'
  return false
}

/** The text /fetch's response scan reads: the page's title, a blank line, its text. */
function titled(title: string, content: string): string {
  return `${title}\n\n${content}`
}
