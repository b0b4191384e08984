import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fromPlain, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {captureOnlyDenied, rejectedButCovered} from '../../../src/plugins/learn/ratify-coverage.js'

// Ratify's warning for a rejected rule that a kept enforce rule still allows, judged as the gate
// judges paths: a collapsed `*` covers a rejected literal at its position (and the warning names
// the segment to pin) — unless that literal is a built-in reserved word, which a collapsed `*`
// never stands for, or a value the broad rule already pins.

const collapsed = (id: string, pins: string[] = []): JsonObject =>
  fromPlain({
    rule_id: id, rule_kind: 'http_destination',
    selector: {host: {value: 'api.example.com'}, paths: [{value: '/v1/users/*', normalization: {collapsed_segments: [{index: 3}], ...(pins.length > 0 ? {pinned_segments: pins.map((value) => ({value, reason: 'operator_pin'}))} : {})}}]},
  }) as JsonObject
const literal = (id: string, p: string): JsonObject => fromPlain({rule_id: id, rule_kind: 'http_destination', selector: {host: {value: 'api.example.com'}, paths: [{value: p}]}}) as JsonObject

test('a collapsed rule kept beside a rejected literal: warned about with the segment to pin, unless reserved or pinned', () => {
  assert.deepEqual(rejectedButCovered([collapsed('r-ids'), literal('r-export', '/v1/users/export')], ['enforce', 'reject']), [
    'learn ratify: rejected rule r-export (any method api.example.com /v1/users/export) is still allowed by enforced rule r-ids (any method api.example.com /v1/users/*); its collapsed segment stands for "export": pin it there (learn pin --rule r-ids --segment export) before ratifying, or reject or capture-only that rule too, to block it',
  ])
  // admin is a built-in reserved segment: the collapse never covers it, so the rejection holds.
  assert.deepEqual(rejectedButCovered([collapsed('r-ids'), literal('r-admin', '/v1/users/admin')], ['enforce', 'reject']), [])
  // export pinned on the collapsed rule: not covered either.
  assert.deepEqual(rejectedButCovered([collapsed('r-ids', ['export']), literal('r-export', '/v1/users/export')], ['enforce', 'reject']), [])
})

test('a capture-only rule whose host has enforce rules: warned about (the host\'s default deny refuses it live), unless an enforced rule covers it', () => {
  const root = literal('r-root', '/')
  const docs = literal('r-docs', '/docs/index.html')
  const other = fromPlain({rule_id: 'r-other', rule_kind: 'http_destination', selector: {host: {value: 'Other.example.com.'}, paths: [{value: '/x'}]}}) as JsonObject
  const mcp = fromPlain({rule_id: 'r-mcp', rule_kind: 'mcp_tool_call', selector: {server: {value: 's'}, tool: {value: 't'}}}) as JsonObject
  assert.deepEqual(captureOnlyDenied([root, docs, other, mcp], ['enforce', 'capture_only', 'capture_only', 'capture_only']), [
    "learn ratify: capture-only rule r-docs (any method api.example.com /docs/index.html) is not enforced, and host api.example.com has enforce rules: under a live contract its requests are denied by the host's default deny (contract_enforce_default); enforce it to keep them reachable",
    // A host no enforce rule names, in a contract that enforces other hosts: the contract's default deny.
    "learn ratify: capture-only rule r-other (any method Other.example.com. /x) is not enforced, and no enforce rule names host other.example.com while the contract enforces other hosts: under a live contract its requests are denied by the contract's default deny (contract_default_deny); enforce it to keep them reachable",
  ])
  // enforced or rejected: nothing to say; a host-wide enforced rule still allows it: nothing either
  assert.deepEqual(captureOnlyDenied([root, docs], ['enforce', 'enforce']), [])
  assert.deepEqual(captureOnlyDenied([root, docs], ['enforce', 'reject']), [])
  assert.deepEqual(captureOnlyDenied([root, docs], ['capture_only', 'capture_only']), [])
  const hostWide = fromPlain({rule_id: 'r-host', rule_kind: 'http_destination', selector: {host: {value: 'API.example.com'}}}) as JsonObject
  assert.deepEqual(captureOnlyDenied([hostWide, docs], ['enforce', 'capture_only']), [])
})
