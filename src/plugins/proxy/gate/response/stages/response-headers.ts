/**
 * Response head stage `response_headers` (forward, intercept, reverse): the injection scan of an
 * upstream's headers. The scanner decides the header lines as it decides a body
 * (`Scanner.decideResponseHeaders`, `response_scanning` policy and action) and the body's
 * settlement answers it (relay/response-scan.ts): a block is the transport's block answer
 * (recorded, with the block-reason headers); a strip drops the headers that hold the finding; a
 * warn is upgraded at the session's escalation level or logged.
 */
import {settleResponseScan} from '../../../relay/response-scan.js'
import type {ResponseHeadContext, ResponseHeadStage} from '../head-context.js'

export const responseHeadersStage: ResponseHeadStage = {
  id: 'response_headers',
  run(ctx) {
    const headers = ctx.headers
    const d = ctx.snap.scanner.decideResponseHeaders(headers, {host: ctx.upstreamHost, ...(ctx.suppress ? {suppress: ctx.suppress} : {})})
    if (d.action === 'allow') return false
    if (settleResponseScan(ctx, d) === null) return true
    if (d.action === 'strip') dropHeaders(ctx, d.drop, [...new Set(d.matches.map((m) => m.pattern))])
    return false
  },
}

/** Drops the stripped headers from what the transport relays. */
function dropHeaders(ctx: ResponseHeadContext, drop: readonly string[], patterns: readonly string[]): void {
  const kept: Record<string, string | string[] | undefined> = {...ctx.headers}
  for (const name of drop) delete kept[name]
  ctx.headers = kept
  ctx.ports.audit.event('warn', 'response_scan', 'response headers with injection dropped (strip)', {url: ctx.shown, headers: drop, patterns, request_id: ctx.b.requestId, agent: ctx.b.agent})
}
