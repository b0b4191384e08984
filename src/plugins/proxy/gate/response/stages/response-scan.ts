/**
 * Response stage `response_scan` on agent egress (/fetch, forward, intercept): the injection scan
 * of the buffered body — /fetch's Content-Type, page title and text, all of which it answers
 * with — decided and, for `ask`, held for an operator (relay/response-ask.ts), then settled
 * (relay/response-scan.ts): a block answered, a strip forwarded and counted, a warn upgraded at
 * the session's escalation level or logged.
 */
import {decideHeldResponse, type SettledResponseDecision} from '../../../relay/response-ask.js'
import {settleResponseScan} from '../../../relay/response-scan.js'
import {strippedBody} from '../../../../scanner/index.js'
import type {ResponseGateContext, ResponseStage} from '../context.js'

export const responseScanStage: ResponseStage = {
  id: 'response_scan',
  run(ctx) {
    const {ports, snap, rec, b, shown, res, page} = ctx
    // /fetch answers with the upstream's Content-Type and the page's title as well as its text:
    // all three are read, in that order.
    const head = page === undefined ? '' : answerText(ctx.contentType, page.title, '')
    const subject = page === undefined ? ctx.body : Buffer.from(head + page.content, 'utf8')
    // /fetch scans the page text it answers with (UTF-8), whose own text starts after the head; a
    // relayed body is read in its declared charset too.
    const d = decideHeldResponse(ports, {snap, rec, b, shown, res}, subject, {host: ctx.host, suppress: ctx.suppress, ...(page === undefined ? {contentType: ctx.contentType} : {textAt: head.length})})
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
    if (page === undefined) ctx.body = strippedBody(settled.stripped)
    else {
      // A Content-Type the strip changed cannot be answered stripped (it is the upstream's header): blocked.
      const rest = afterHead(settled.stripped.content, ctx.contentType)
      if (rest === null) {
        ctx.block({stage: 'response', layer: 'response_scan', detail: 'response Content-Type contains injection', status: 403, reason: 'prompt_injection'})
        return true
      }
      // The title kept when the strip left it as it was; else the stripped title stays in the text.
      const text = afterHead(rest, page.title)
      if (text !== null) page.content = text
      else [page.title, page.content] = ['', rest]
    }
    ctx.rewritten = true
  }
  if (settled.finding || decision.held === true) ctx.exposure = 'prompt_injection'
  return false
}

/** The text /fetch's response scan reads: the Content-Type, the title and the text, each non-empty head followed by a blank line. */
function answerText(contentType: string, title: string, content: string): string {
  return [contentType, title].filter((h) => h !== '').map((h) => `${h}\n\n`).join('') + content
}

/** `text` after the head `answerText` wrote for `head` (none for an empty one); null when the text does not start with it. */
function afterHead(text: string, head: string): string | null {
  if (head === '') return text
  return text.startsWith(`${head}\n\n`) ? text.slice(head.length + 2) : null
}
