/**
 * Mediation envelope (spec §1, §2): after every check passed, the envelope this request will carry
 * is built from local facts (never from an inbound envelope) and admitted with the signer in force
 * now; relay/mediation.ts injects and signs it as the request is forwarded. A value RFC 8941
 * cannot carry (a non-ASCII agent or task) blocks: nothing is forwarded without its envelope.
 */
import {randomBytes} from 'node:crypto'
import {uuidv7} from '../../../canonical/index.js'
import {formatActor, policyHashBytes, serializeEnvelope, type Envelope} from '../../../envelope/index.js'
import {ENVELOPE_FAILED} from '../../relay/mediation.js'
import type {Stage} from '../context.js'

export const envelopeStage: Stage = {
  id: 'envelope',
  applies: (snap) => snap.mediation !== null && snap.mediation.settings.enabled,
  run(ctx) {
    const m = ctx.snap.mediation
    if (m === null || !m.settings.enabled) return false
    const s = m.settings
    const ws = ctx.b.transport === 'websocket'
    const read = ctx.b.transport === 'fetch'
    try {
      const envelope: Envelope = {
        v: 1,
        act: ws ? 'delegate' : read ? 'read' : 'unclassified',
        vd: 'allow',
        se: ws ? 'external_write' : read ? 'external_read' : 'none',
        actor: formatActor(ctx.b.agent === 'anonymous' ? '' : ctx.b.agent, s.actorFormat, s.trustDomain),
        aa: ctx.b.auth ?? 'self-declared',
        ph: policyHashBytes(ctx.snap.hash),
        rid: uuidv7(BigInt(Date.now()) * 1_000_000n, randomBytes),
        ts: Math.floor(Date.now() / 1000),
        // E1 (replicated): with no taint in force the clean snapshot is still sent.
        taint: 'trusted',
        auth: 'user_broad',
      }
      serializeEnvelope(envelope)
      ctx.mediation = {envelope, signer: m.signer, fixedAction: ws || read}
      // The request's receipt takes this id as its action_id, so `rid` names it (spec §2.1, §20).
      ctx.rec.actionId = envelope.rid
      return false
    } catch {
      ctx.block({stage: 'envelope', layer: 'mediation_envelope', detail: ENVELOPE_FAILED, status: 403, reason: 'outbound_envelope_failed'})
      return true
    }
  },
}
