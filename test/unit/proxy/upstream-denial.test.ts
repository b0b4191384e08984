// One mapping from a policy-denied upstream outcome to a block (relay/upstream-denial.ts), shared
// by the forward exchange and /fetch: a contract-denied redirect hop, a refused hop, an envelope
// that could not be signed on the first hop or on a redirect; a response or an error is not a denial.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {systemClock} from '../../../src/plugins/canonical/index.js'
import {defaultConfig} from '../../../src/plugins/config/index.js'
import type {Block, BlockAnswer} from '../../../src/plugins/proxy/request-gate.js'
import {answerUpstreamDenial} from '../../../src/plugins/proxy/relay/upstream-denial.js'
import {upstreamCause} from '../../../src/plugins/proxy/upstream-cause.js'
import {buildSnapshot} from '../../../src/plugins/proxy/state.js'
import type {UpstreamOutcome} from '../../../src/plugins/proxy/upstream.js'
import type {UrlScanResult} from '../../../src/plugins/scanner/index.js'

const snap = buildSnapshot(defaultConfig(), 'sha256:test', {}, systemClock)

function answered(outcome: UpstreamOutcome): Block | false {
  let got: Block | undefined
  const block: BlockAnswer = (a) => void (got = a)
  const r = answerUpstreamDenial(snap, outcome, block)
  assert.equal(r, got !== undefined, 'answers exactly when it says so')
  return r ? got! : false
}

test('a contract-denied redirect hop is a contract block naming the hop as displayed', () => {
  // The hop passed its URL scan first (hopVerdict), so it carries no secret; it is shown decoded.
  const got = answered({kind: 'contract_blocked', url: 'http://example.com/next%20page', denied: {kind: 'contract', code: 'contract_default_deny', detail: 'no rule allows it'}})
  assert.deepEqual(got, {stage: 'contract', layer: 'contract', detail: 'redirect to http://example.com/next page: no rule allows it', status: 403, reason: 'contract_default_deny'})
})

test('a contract-denied redirect hop keeps the hint of its denial (a capture-only rule to enforce)', () => {
  const got = answered({kind: 'contract_blocked', url: 'http://example.com/v1/checkout', denied: {kind: 'contract', code: 'contract_enforce_default', detail: 'd', hint: 'Capture-only rule r-1 matches this request'}})
  assert.deepEqual(got, {stage: 'contract', layer: 'contract', detail: 'redirect to http://example.com/v1/checkout: d', status: 403, reason: 'contract_enforce_default', hint: 'Capture-only rule r-1 matches this request'})
})

test('a redirect hop the URL scan refuses is redirect_scan_denied with the scanner layer', () => {
  const scan = {allowed: false, layer: 'blocklist', detail: 'domain blocked'} as unknown as UrlScanResult
  assert.deepEqual(answered({kind: 'redirect_blocked', url: 'http://evil.example/', scan}), {stage: 'redirect', layer: 'blocklist', detail: 'redirect blocked: domain blocked', status: 403, reason: 'redirect_scan_denied'})
})

test('an envelope that could not be signed: outbound_envelope_failed on the first hop, a redirect block after', () => {
  assert.deepEqual(answered({kind: 'envelope_failed', hop: 0, url: 'http://example.com/'}), {stage: 'envelope', layer: 'mediation_envelope', detail: 'mediation envelope signing failed', status: 403, reason: 'outbound_envelope_failed'})
  assert.deepEqual(answered({kind: 'envelope_failed', hop: 1, url: 'http://example.com/b'}), {stage: 'redirect', layer: 'mediation_envelope', detail: 'redirect blocked: mediation envelope signing failed', status: 403, reason: 'redirect_scan_denied'})
})

test('a response or an upstream error is left to the transport', () => {
  assert.equal(answered({kind: 'error', cause: upstreamCause(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}))}), false)
})
