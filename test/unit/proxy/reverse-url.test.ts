// transports §4.2: reverse-proxy routing (join, clean, re-escape, query merge) and upstream parsing.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {parseReverseUpstream, reverseTarget} from '../../../src/plugins/proxy/reverse/url.js'

test('paths join with one slash, are cleaned (trailing slash kept) and re-escaped', () => {
  const root = parseReverseUpstream('http://127.0.0.1:3000')!
  assert.equal(reverseTarget(root, '/'), 'http://127.0.0.1:3000/')
  assert.equal(reverseTarget(root, '/a/../b'), 'http://127.0.0.1:3000/b')
  assert.equal(reverseTarget(root, '//x'), 'http://127.0.0.1:3000/x')
  assert.equal(reverseTarget(root, '/a%2Fb/'), 'http://127.0.0.1:3000/a/b/')
  assert.equal(reverseTarget(root, '/../../etc/passwd'), 'http://127.0.0.1:3000/etc/passwd')
  assert.equal(reverseTarget(root, '/sp%20ace?x=1'), 'http://127.0.0.1:3000/sp%20ace?x=1')
  assert.equal(reverseTarget(root, '/q%3Fmark'), 'http://127.0.0.1:3000/q%3Fmark')
  const based = parseReverseUpstream('https://api.example.com/v1/?key=k')!
  assert.equal(reverseTarget(based, '/items?page=2'), 'https://api.example.com/v1/items?key=k&page=2')
  assert.equal(reverseTarget(based, '/'), 'https://api.example.com/v1/?key=k')
  assert.equal(reverseTarget(based, '/bad%zz'), null)
  // `..` in the request path, plain or encoded, stops at the upstream's path.
  for (const t of ['/../admin', '/%2e%2e/admin', '/..%2fadmin', '/a/../../admin', '//../admin', '/.%2E/.%2e/admin']) assert.equal(reverseTarget(based, t), 'https://api.example.com/v1/admin?key=k', t)
  assert.equal(reverseTarget(based, '/..'), 'https://api.example.com/v1/?key=k')
  const bare = parseReverseUpstream('http://127.0.0.1:3000/base')!
  assert.equal(reverseTarget(bare, '/../secret/'), 'http://127.0.0.1:3000/base/secret/')
})

test('upstreams must be http(s) with a host; the display form drops userinfo and query', () => {
  assert.equal(parseReverseUpstream('ftp://x'), null)
  assert.equal(parseReverseUpstream('http://'), null)
  assert.equal(parseReverseUpstream('https://u:p@h.example:8443/p?q=1#f')!.display, 'https://h.example:8443/p')
})
