/**
 * Response stage `media_policy` (media-policy.ts): real media is sniffed whatever its declared
 * type; a refused type or size is a `media_policy` block; allowed images lose their metadata.
 * Two forms: the agent-egress one (/fetch, forward, intercept) counts and may log the exposure;
 * the reverse proxy's runs only when the policy is enabled, and its real media is relayed
 * without the injection scan (stages/reverse-response-scan.ts reads `mediaType`).
 */
import {applyMediaPolicy, mediaSettingsFromConfig} from '../../../media-policy.js'
import {hostOfUrl} from '../../../session-gate.js'
import type {ResponseStage} from '../context.js'

export const mediaPolicyStage: ResponseStage = {
  id: 'media_policy',
  run(ctx) {
    const cfg = ctx.snap.config
    const m = applyMediaPolicy(mediaSettingsFromConfig(cfg.media_policy), ctx.contentType, ctx.body)
    if (m.kind === 'block') {
      ctx.block({stage: 'response', layer: 'media_policy', detail: m.detail, status: 403, reason: 'media_policy'})
      return true
    }
    ctx.mediaType = m.mediaType
    if (m.exposure) {
      ctx.exposure = 'media'
      const t = ctx.rec.session
      if (ctx.mediaExposureAtOnce === true && t !== null) ctx.snap.sessions!.exposure(t, ctx.shown, hostOfUrl(ctx.url), 'media')
      if (cfg.media_policy.log_media_exposure) {
        ctx.ports.audit.event('info', 'media_exposure', 'media passed to agent', {url: ctx.shown, media_type: m.mediaType, size_bytes: m.body.length, request_id: ctx.b.requestId, agent: ctx.b.agent})
      }
    }
    ctx.body = m.body
    return false
  },
}

export const reverseMediaPolicyStage: ResponseStage = {
  id: 'media_policy',
  run(ctx) {
    const media = mediaSettingsFromConfig(ctx.snap.config.media_policy)
    if (!media.enabled) return false
    const m = applyMediaPolicy(media, ctx.contentType, ctx.body)
    if (m.kind === 'block') {
      ctx.block({stage: 'response', layer: 'media_policy', detail: m.detail, status: 403, reason: 'media_policy'})
      return true
    }
    if (m.body !== ctx.body) {
      ctx.rewritten = true
      ctx.body = m.body
    }
    ctx.mediaType = m.mediaType
    return false
  },
}
