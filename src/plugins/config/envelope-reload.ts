/**
 * Reload warnings of `mediation_envelope` (spec §9.3), logged when a reload applies. E19 fixed:
 * turning inbound verification off warns too.
 */
import {DEFAULT_COMPONENTS, DEFAULT_KEY_ID, DEFAULT_MAX_BODY_BYTES} from '../envelope/index.js'
import type {PipelockConfig} from './schema.js'

type M = PipelockConfig['mediation_envelope']

const comps = (m: M): string[] => (m.signed_components.length === 0 ? [...DEFAULT_COMPONENTS] : m.signed_components.map((c) => c.trim().toLowerCase()))

export function envelopeReloadWarnings(running: M, next: M): string[] {
  const out: string[] = []
  const signing = running.enabled && running.sign
  if (running.enabled && !next.enabled) out.push('mediation_envelope.enabled: true -> false (forwarded requests no longer carry an envelope)')
  if (signing && next.enabled && !next.sign) out.push('mediation_envelope.sign: true -> false (envelopes are no longer signed)')
  if (running.verify_inbound.enabled && !next.verify_inbound.enabled) out.push('mediation_envelope.verify_inbound.enabled: true -> false (inbound envelopes are no longer verified)')
  if (signing && next.enabled && next.sign) {
    const oldId = running.key_id || DEFAULT_KEY_ID
    const newId = next.key_id || DEFAULT_KEY_ID
    if (oldId !== newId) out.push(`mediation_envelope.key_id: ${oldId} -> ${newId} (peers must trust the new key id)`)
    const kept = new Set(comps(next))
    const removed = comps(running).filter((c) => !kept.has(c)).sort()
    if (removed.length > 0) out.push(`mediation_envelope.signed_components: removed ${removed.join(', ')}`)
    const oldMax = running.max_body_bytes || DEFAULT_MAX_BODY_BYTES
    const newMax = next.max_body_bytes || DEFAULT_MAX_BODY_BYTES
    if (newMax < oldMax) out.push(`mediation_envelope.max_body_bytes: ${oldMax} -> ${newMax} (larger bodies are signed without a digest)`)
  }
  return out
}
