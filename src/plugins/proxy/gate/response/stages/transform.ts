/**
 * Response stage `transform`: Browser Shield (hidden traps, tracking, extension probes) and the
 * A2A response and Agent Card checks (relay/response-transforms.ts), before anything reads the body.
 */
import {transformResponse} from '../../../relay/response-transforms.js'
import type {ResponseStage} from '../context.js'

export const transformStage: ResponseStage = {
  id: 'transform',
  async run(ctx) {
    const tr = await transformResponse({
      ports: ctx.ports, snap: ctx.snap, b: ctx.b, transport: ctx.shieldTransport, url: ctx.url, host: ctx.host, shown: ctx.shown,
      responseHeaders: ctx.responseHeaders, body: ctx.body, ...(ctx.request === undefined ? {} : {request: ctx.request}),
    })
    if (tr.kind === 'block') {
      ctx.block({stage: 'response', layer: tr.layer, detail: tr.detail, status: tr.status, reason: tr.reason})
      return true
    }
    ctx.body = tr.body
    ctx.transformed = tr.changed
    return false
  },
}
