// operations.md §4.2 / §10.1: each matching step, :443/:80 stripping in pattern and target,
// backslashes, case-insensitive rules, the directory short-circuit, basename of `https://h/`.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {suppressedBy} from '../../../src/plugins/scanner/index.js'

const one = (path: string, target: string, rule = 'Jailbreak Attempt', asked = 'Jailbreak Attempt'): boolean => suppressedBy([{rule, path}], asked, target) === 0

const rows: Array<[string, string, string, boolean]> = [
  ['empty target never matches', '*', '', false],
  ['step 2 directory prefix', 'https://docs.example.com/guides/', 'https://docs.example.com/guides/a/b', true],
  ['step 2 short-circuit: no later step for a directory entry', 'guides/', 'https://x/guides/', false],
  ['step 3 exact', 'https://example.com/robots.txt', 'https://example.com/robots.txt', true],
  ['step 1 :443 dropped from the target', 'https://example.com/robots.txt', 'https://example.com:443/robots.txt', true],
  ['step 1 :80 dropped from the pattern', 'http://example.com:80/a', 'http://example.com/a', true],
  ['step 1 other ports kept', 'https://example.com/a', 'https://example.com:8443/a', false],
  ['step 4 path.Match; * does not cross /', 'docs/*.md', 'docs/a.md', true],
  ['step 4 no cross', 'docs/*.md', 'docs/x/a.md', false],
  ['step 5 basename', '*.txt', 'https://example.com/robots.txt', true],
  ['step 5 basename of https://h/ is h', 'example.com', 'https://example.com/', true],
  ['step 6 ordered substrings (pattern with .)', '*/robots.txt', 'https://example.com/robots.txt', true],
  ['step 6 anchored prefix', 'https://a.example/*/x', 'https://a.example/p/q/x', true],
  ['step 6 order matters', 'https://*b*a', 'https://xaxb', false],
  ['step 7 URL suffix', 'robots.txt', 'https://example.com/robots.txt', true],
  ['step 7 needs a path boundary', 'bots.txt', 'https://example.com/robots.txt', false],
  ['backslashes are slashes', 'docs\\*.md', 'docs\\a.md', true],
]
for (const [name, path, target, want] of rows) {
  test(`§4.2 ${name}`, () => assert.equal(one(path, target), want))
}

test('§4.2 rules compare case-insensitively; other rules never match; first entry wins', () => {
  assert.equal(one('robots.txt', 'https://e.com/robots.txt', 'jailbreak attempt', 'JAILBREAK ATTEMPT'), true)
  assert.equal(one('robots.txt', 'https://e.com/robots.txt', 'Other Rule'), false)
  assert.equal(suppressedBy([{rule: 'r', path: 'nope'}, {rule: 'R', path: '*.txt'}, {rule: 'r', path: 'robots.txt'}], 'r', 'https://e.com/robots.txt'), 1)
})
