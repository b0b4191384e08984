import {test} from 'node:test'
import assert from 'node:assert/strict'
import type {Decision} from '../../../src/plugins/proxy/decision.js'
import {readFileSync} from 'node:fs'
import {interceptBlockLabel, InterceptMetrics, TLS_REQUEST_BLOCK_REASONS, TLS_RESPONSE_BLOCK_REASONS} from '../../../src/plugins/proxy/intercept/metrics.js'
import {repoPath} from '../../helpers/vectors.js'

function d(over: Partial<Decision>): Decision {
  return {
    requestId: 'req-1', transport: 'intercept', method: 'GET', target: 'https://a.example:443/', agent: 'a', clientIp: '127.0.0.1', sessionKey: 'a|127.0.0.1',
    verdict: 'block', stage: 'url_scan', layer: 'dlp', reason: 'dlp_match', severity: null, retry: null, class: null, detail: 'x', status: 403, warnings: [], bytes: 0, durationMs: 1,
    ...over,
  }
}

// transports §2.13: every inner-request block has a reason label from a fixed set.
test('intercept block labels: request side, response side, and what is not counted', () => {
  const cases: Array<[Partial<Decision>, string | null]> = [
    [{stage: 'authority', layer: 'tls_authority_mismatch'}, 'request:authority_mismatch'],
    [{stage: 'session', layer: 'airlock'}, 'request:airlock'],
    [{stage: 'session', layer: 'session_deny'}, 'request:session_deny'],
    [{stage: 'session', layer: 'session_profiling'}, 'request:session_deny'],
    [{stage: 'body_scan', layer: 'address_protection'}, 'request:address_protection'],
    [{stage: 'body_scan', layer: 'something_new'}, 'request:body_dlp'],
    [{stage: 'header_dlp', layer: 'header_dlp'}, 'request:header_dlp'],
    [{stage: 'cross_request', layer: 'cross_request_entropy'}, 'request:cross_request'],
    [{stage: 'contract', layer: 'contract'}, 'request:contract'],
    [{stage: 'response', layer: 'tls_response_blocked', reason: 'data_budget'}, 'response:oversized'],
    [{stage: 'response', layer: 'response_scan', reason: 'compressed_response'}, 'response:compressed'],
    [{stage: 'response', layer: 'media_policy', reason: 'media_policy'}, 'response:media_policy'],
    [{stage: 'response', layer: 'response_scan', reason: 'prompt_injection', detail: 'SSE stream terminated by response scanning', status: 200}, 'response:sse_stream'],
    [{stage: 'response', layer: 'response_scan', reason: 'prompt_injection'}, 'response:injection'],
    [{stage: 'kill_switch', layer: 'kill_switch'}, null],
    [{method: 'WS', stage: 'ws_frame', layer: 'ws_protocol'}, null],
    [{transport: 'forward'}, null],
    [{verdict: 'would_block'}, null],
    [{verdict: 'allow', stage: 'none'}, null],
    // A2A and Browser Shield blocks carry their own labels.
    [{stage: 'body_scan', layer: 'a2a_scan'}, 'request:a2a_scan'],
    [{stage: 'header_dlp', layer: 'a2a_header'}, 'request:a2a_scan'],
    [{stage: 'response', layer: 'a2a_response', reason: 'prompt_injection'}, 'response:a2a_scan'],
    [{stage: 'response', layer: 'shield_oversize', reason: 'browser_shield_oversize'}, 'response:shield_oversize'],
    // Mediation envelopes: an inbound verification failure and an outbound signing failure.
    [{stage: 'envelope', layer: 'mediation_envelope', reason: 'envelope_verify_failed'}, 'request:mediation_envelope'],
    [{stage: 'envelope', layer: 'mediation_envelope', reason: 'outbound_envelope_failed'}, 'request:mediation_envelope'],
  ]
  for (const [over, want] of cases) {
    const l = interceptBlockLabel(d(over))
    assert.equal(l === null ? null : `${l.side}:${l.reason}`, want, JSON.stringify(over))
  }
})

test('InterceptMetrics renders every reason of the fixed sets, counted or not', () => {
  const m = new InterceptMetrics()
  m.record(d({stage: 'contract', layer: 'contract'}))
  m.record(d({stage: 'contract', layer: 'contract'}))
  m.record(d({stage: 'kill_switch', layer: 'kill_switch'}))
  const out: string[] = []
  m.render(out, 3)
  assert.ok(out.includes('pipelock_tls_request_blocked_total{reason="contract"} 2'))
  assert.ok(out.includes('pipelock_tls_request_blocked_total{reason="airlock"} 0'))
  assert.ok(out.includes('pipelock_tls_response_blocked_total{reason="oversized"} 0'))
  assert.ok(out.includes('pipelock_tls_cert_cache_size 3'))
  assert.equal(out.filter((l) => l.startsWith('pipelock_tls_request_blocked_total{')).length, 18)
})

test('docs/tls.md names every reason label of the two blocked-total families, in the code\'s order', () => {
  const doc = readFileSync(repoPath('docs/tls.md'), 'utf8')
  const row = (family: string): string[] => {
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${family}\``))
    assert.ok(line !== undefined, `no metrics row for ${family}`)
    return [...line.split('|')[2]!.matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1]!).filter((x) => x !== 'reason')
  }
  assert.deepEqual(row('pipelock_tls_request_blocked_total'), [...TLS_REQUEST_BLOCK_REASONS])
  assert.deepEqual(row('pipelock_tls_response_blocked_total'), [...TLS_RESPONSE_BLOCK_REASONS])
})
