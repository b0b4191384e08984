// operations.md §8.2 item 3: the structural diff of two effective policies.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {changesSha256, diffPolicies, diffPolicyViews, MAX_CHANGES} from '../../../src/plugins/config/index.js'
import {load} from './helpers.js'

test('scalar lists diff per element; scalars set; nested maps by key; secrets masked', () => {
  const a = load('api_allowlist: [a.example, b.example]\nkill_switch:\n  api_token: s3cret-token-1\n').config
  const b = load('api_allowlist: [b.example, c.example]\nmode: audit\nkill_switch:\n  api_token: s3cret-token-2\n').config
  const d = diffPolicies(a, b)
  assert.deepEqual(d.changes, [
    {path: 'api_allowlist', op: 'add', new: 'c.example'},
    {path: 'api_allowlist', op: 'remove', old: 'a.example'},
    {path: 'mode', op: 'set', old: 'balanced', new: 'audit'},
  ])
  assert.equal(d.truncated, false)
  assert.ok(!JSON.stringify(d).includes('s3cret'))
  assert.match(changesSha256(d.changes), /^[0-9a-f]{64}$/)
})

test('lists of objects diff by index; added and removed keys; at most 200 entries', () => {
  assert.deepEqual(diffPolicyViews({p: [{n: 1}, {n: 2}]}, {p: [{n: 1}, {n: 3}], q: true}).changes, [
    {path: 'p[1].n', op: 'set', old: 2, new: 3},
    {path: 'q', op: 'add', new: true},
  ])
  const big = Object.fromEntries(Array.from({length: 250}, (_, i) => [`k${String(i).padStart(3, '0')}`, i]))
  const d = diffPolicyViews({}, big)
  assert.equal(d.changes.length, MAX_CHANGES)
  assert.equal(d.truncated, true)
  assert.equal(d.total, 250)
})
