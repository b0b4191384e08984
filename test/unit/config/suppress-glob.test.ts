import {test} from 'node:test'
import assert from 'node:assert/strict'
import {suppressedBy} from '../../../src/plugins/scanner/suppress.js'
import {load} from './helpers.js'

// operations §4.2: a suppress glob's `*` does not cross `/`, and only a pattern with "." or "://"
// is tried as a URL substring, so `*/inject` never matches `http://127.0.0.1:18100/inject` (as in
// the reference). Such a glob is named at start, with patterns that do match.

const URL = 'http://127.0.0.1:18100/inject'

test('a glob that can match no URL is named, with two that do', () => {
  const r = load('suppress:\n  - rule: "Jailbreak Attempt"\n    path: "*/inject"\n')
  assert.deepEqual(r.warnings.map((w) => `${w.field}: ${w.message}`), [
    'suppress[0].path: "*/inject" matches no URL: "*" does not cross "/", and a pattern without "." or "://" is not tried as a URL substring; write "*://*/inject" (any host) or "inject" (any URL ending in /inject)',
  ])
  const rule = 'Jailbreak Attempt'
  assert.equal(suppressedBy([{rule, path: '*/inject'}], rule, URL), -1, 'as specified: no match')
  assert.equal(suppressedBy([{rule, path: '*://*/inject'}], rule, URL), 0)
  assert.equal(suppressedBy([{rule, path: 'inject'}], rule, URL), 0)
})

test('globs that can match a URL are not remarked on', () => {
  for (const path of ['*/robots.txt', '*.example.com', 'https://*/x', 'inject', '*', 'a/b/c/*', 'http://h/dir/']) {
    assert.deepEqual(load(`suppress:\n  - rule: "Jailbreak Attempt"\n    path: "${path}"\n`).warnings, [], path)
  }
})
