// operations.md §2.9: fixed window (reset only when elapsed > window, never at 0), exact messages,
// the byte check at admission (quirk fixed), one tracker per session.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {BudgetBook, BudgetTracker, budgetLimits} from '../../../src/plugins/proxy/agent-budget.js'

test('request, domain and byte denials with their exact messages', () => {
  let now = 0
  const t = new BudgetTracker({maxRequests: 2, maxBytes: 0, maxDomains: 0, windowMinutes: 0}, () => now)
  assert.equal(t.admit('a'), null)
  assert.equal(t.admit('a'), null)
  assert.deepEqual(t.admit('a'), {kind: 'requests', message: 'request budget exceeded: 2/2 requests'})
  now = 10 ** 12
  assert.notEqual(t.admit('a'), null, 'window 0 never resets')
  const d = new BudgetTracker({maxRequests: 0, maxBytes: 0, maxDomains: 1, windowMinutes: 0}, () => 0)
  assert.equal(d.admit('A.example'), null)
  assert.equal(d.admit('a.example'), null, 'hosts are lower-cased')
  assert.deepEqual(d.admit('b.example'), {kind: 'domains', message: 'domain budget exceeded: 2/1 unique domains'})
  const b = new BudgetTracker({maxRequests: 0, maxBytes: 100, maxDomains: 0, windowMinutes: 0}, () => 0)
  assert.equal(b.remainingBytes(), 100)
  b.recordBytes(60)
  assert.equal(b.remainingBytes(), 40)
  assert.equal(b.admit('x'), null)
  b.recordBytes(50)
  assert.equal(b.remainingBytes(), 0)
  assert.deepEqual(b.admit('x'), {kind: 'bytes', message: 'byte budget exceeded: 110/100 bytes'})
  assert.equal(new BudgetTracker({maxRequests: 1, maxBytes: 0, maxDomains: 0, windowMinutes: 0}, () => 0).remainingBytes(), -1)
})

test('window resets only when elapsed is strictly greater than window_minutes', () => {
  let now = 0
  const t = new BudgetTracker({maxRequests: 1, maxBytes: 0, maxDomains: 0, windowMinutes: 1}, () => now)
  assert.equal(t.admit('a'), null)
  now = 60_000
  assert.notEqual(t.admit('a'), null, 'exactly one window: no reset')
  now = 60_001
  assert.equal(t.admit('a'), null)
})

test('one tracker per session key; no tracker without a positive limit', () => {
  const book = new BudgetBook({maxRequests: 1, maxBytes: 0, maxDomains: 0, windowMinutes: 0}, () => 0, 2)
  assert.equal(book.tracker('a|1').admit('h'), null)
  assert.notEqual(book.tracker('a|1').admit('h'), null)
  assert.equal(book.tracker('b|1').admit('h'), null, 'another session has its own budget')
  assert.equal(budgetLimits({budget: {window_minutes: 5}}), null)
  assert.equal(budgetLimits({}), null)
  assert.deepEqual(budgetLimits({budget: {max_bytes_per_session: 9}}), {maxRequests: 0, maxBytes: 9, maxDomains: 0, windowMinutes: 0})
})

test('a denial says when the window resets (retryAfter), and nothing when it never does', () => {
  let now = 0
  const t = new BudgetTracker({maxRequests: 1, maxBytes: 0, maxDomains: 0, windowMinutes: 2}, () => now)
  assert.equal(t.admit('a'), null)
  now = 30_500
  // Resets once more than 120 s passed: at 120.001 s, 90 s after 30.5 s rounded up.
  assert.deepEqual(t.admit('a'), {kind: 'requests', message: 'request budget exceeded: 1/1 requests', retryAfter: 90})
  now = 120_000
  assert.equal(t.admit('a')?.retryAfter, 1)
  const never = new BudgetTracker({maxRequests: 1, maxBytes: 0, maxDomains: 0, windowMinutes: 0}, () => 0)
  assert.equal(never.admit('a'), null)
  assert.deepEqual(never.admit('a'), {kind: 'requests', message: 'request budget exceeded: 1/1 requests'})
})
