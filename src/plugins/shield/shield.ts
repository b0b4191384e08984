/**
 * One response through Browser Shield (scanners-extra §3.3 steps 3–5, the transport-independent
 * part): pipeline detection, the size limit and the rewrite. Exemptions, answers, metrics and
 * audit events belong to the caller (the proxy's response transforms).
 */
import type RE2 from 're2'
import {detectPipeline, type ShieldPipeline} from './pipeline.js'
import {rewrite, type ShieldCounts} from './rewrite.js'
import type {ShieldSettings} from './settings.js'

export type ShieldOutcome =
  | {readonly kind: 'untouched'; readonly reason: 'non_shieldable_content'}
  /** Over `max_shield_bytes` with `oversize_action` block or warn: the caller answers or logs. */
  | {readonly kind: 'oversize'; readonly action: 'block' | 'warn'; readonly bytes: number}
  | {
      readonly kind: 'shielded'
      readonly pipeline: ShieldPipeline
      readonly body: Buffer
      readonly changed: boolean
      readonly counts: ShieldCounts
      /** scan_head: only the first `max_shield_bytes` were rewritten. */
      readonly partial: boolean
    }

export function shieldBody(body: Buffer, contentType: string, csp: string, s: ShieldSettings, trackingDomains: RE2 | null): ShieldOutcome {
  const pipeline = detectPipeline(contentType, body)
  if (pipeline === null) return {kind: 'untouched', reason: 'non_shieldable_content'}
  let head = body
  let tail: Buffer | null = null
  if (body.length > s.maxShieldBytes) {
    if (s.oversizeAction !== 'scan_head') return {kind: 'oversize', action: s.oversizeAction, bytes: body.length}
    // A construct straddling the cut escapes the rewrite (documented).
    head = body.subarray(0, s.maxShieldBytes)
    tail = body.subarray(s.maxShieldBytes)
  }
  const src = head.toString('latin1')
  const r = rewrite(src, pipeline, s, csp, trackingDomains)
  const changed = r.text !== src
  const out = changed ? Buffer.from(r.text, 'latin1') : head
  return {kind: 'shielded', pipeline, body: tail === null ? out : Buffer.concat([out, tail]), changed, counts: r.counts, partial: tail !== null}
}
