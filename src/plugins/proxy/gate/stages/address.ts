/**
 * Address-poisoning protection on the request body (scanners-extra §4.4, "where it runs"): the
 * body the body stage read is searched for blockchain addresses and each is compared with
 * `address_protection.allowed_addresses`. A lookalike (same first and last characters, different
 * middle) answers with `action`, an address outside the allowlist with `unknown_action`. Runs after
 * the body stage, so a body DLP block is answered first; the block is a finding an exception may
 * waive and audit mode (`enforce: false`) records as a would-block.
 */
import {safeTarget} from '../../core.js'
import type {Stage} from '../context.js'

export const addressStage: Stage = {
  id: 'address',
  applies: (snap) => snap.scanner.address !== null,
  run(ctx) {
    const checker = ctx.snap.scanner.address
    if (checker === null || ctx.body === null || ctx.body.length === 0) return false
    const r = checker.check(ctx.body.toString('utf8'))
    if (r.action === null) return false
    for (const f of r.findings) ctx.ports.metrics.addressFindings.inc({chain: f.chain, verdict: f.verdict})
    const first = r.findings[0]!
    const detail = `address poisoning detected: ${first.explanation}`
    ctx.ports.audit.event('warn', 'address_protection', r.action === 'block' ? 'address protection finding (blocked)' : 'address protection finding (not blocked)', {
      url: safeTarget(ctx.snap, ctx.target, 'address_protection'), detail, request_id: ctx.b.requestId, agent: ctx.b.agent,
      findings: r.findings.map((f) => ({chain: f.chain, verdict: f.verdict, action: f.action, address: f.address})),
    })
    if (r.action !== 'block') return false
    ctx.finding = {
      block: {stage: 'body_scan', layer: 'address_protection', detail, status: 403, reason: 'dlp_match'},
      waivable: {layer: 'address_protection', reason: 'dlp_match', findings: r.findings.map((f) => ({pattern: `address_${f.verdict}`}))}, mode: 'record',
    }
    return false
  },
}
