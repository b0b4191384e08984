/**
 * Response stage `transform`: Browser Shield (hidden traps, tracking, extension probes) and the
 * A2A response and Agent Card checks (relay/response-transforms.ts), before anything reads the body.
 * With both off (the common config) the stage goes on at once; it awaits only an A2A check.
 */
import {responseTransformsOn, transformResponse, type ResponseTransformOutcome} from '../../../relay/response-transforms.js'
import type {ResponseGateContext, ResponseStage} from '../context.js'

function apply(ctx: ResponseGateContext, tr: ResponseTransformOutcome): boolean {
  if (tr.kind === 'block') {
    ctx.block({stage: 'response', layer: tr.layer, detail: tr.detail, status: tr.status, reason: tr.reason})
    return true
  }
  ctx.body = tr.body
  ctx.transformed = tr.changed
  return false
}

export const transformStage: ResponseStage = {
  id: 'transform',
  run(ctx) {
    if (!responseTransformsOn(ctx.snap.config)) return false
    const tr = transformResponse({
      ports: ctx.ports, snap: ctx.snap, b: ctx.b, transport: ctx.shieldTransport, url: ctx.url, host: ctx.host, shown: ctx.shown,
      responseHeaders: ctx.responseHeaders, body: ctx.body, ...(ctx.request === undefined ? {} : {request: ctx.request}),
    })
    return tr instanceof Promise ? tr.then((t) => apply(ctx, t)) : apply(ctx, tr)
  },
}
