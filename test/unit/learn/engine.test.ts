import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  canonicalizePath,
  emitSignedYaml,
  formatFixed,
  fromPlain,
  goToUpper,
  goTrimSpace,
  JsonNumber,
  parseGoDuration,
  parseHttpUrl,
} from '../../../src/plugins/canonical/index.js'
import {
  budgetStats,
  capPerHost,
  displayName,
  entropyBits,
  normalizeHostPaths,
  DEFAULT_NORMALIZATION,
  ruleId,
  wilsonLower,
} from '../../../src/plugins/learn/index.js'

test('Wilson lower bound goldens (§7.1) with %.6f', () => {
  const cases: [number, number, string][] = [
    [23, 33, '0.526619'], [2, 23, '0.024180'], [2, 2, '0.342380'], [10, 13, '0.497436'], [10, 10, '0.722467'],
    [6, 6, '0.609666'], [3, 3, '0.438503'], [1, 1, '0.206549'], [4, 33, '0.048162'], [0, 7, '0.000000'],
  ]
  for (const [k, n, want] of cases) assert.equal(formatFixed(wilsonLower(k, n), 6), want, `W(${k},${n})`)
  assert.equal(wilsonLower(1, 0), 0)
  assert.equal(wilsonLower(3, 2), 0)
})

test('Go %.Nf rounds exact ties to even (§7.4)', () => {
  assert.equal(formatFixed(4.5, 0), '4')
  assert.equal(formatFixed(2.5, 0), '2')
  assert.equal(formatFixed(1.5, 0), '2')
  assert.equal(formatFixed(0.125, 2), '0.12')
  assert.equal(formatFixed(0.375, 2), '0.38')
  assert.equal(formatFixed(45, 0), '45')
  assert.equal(formatFixed(0.1, 2), '0.10')
  assert.equal(formatFixed(43.478260869565, 2), '43.48')
})

test('Go %.Nf of integers: the digits and d zeros, at every size up to and past 2^53', () => {
  const cases: [number, number, string][] = [
    [0, 0, '0'], [7, 0, '7'], [-7, 0, '-7'], [45, 2, '45.00'], [-3, 1, '-3.0'], [1_500_000, 0, '1500000'],
    [2 ** 53, 0, '9007199254740992'], [2 ** 53 + 2, 0, '9007199254740994'], [1e20, 0, '100000000000000000000'], [123456789, 6, '123456789.000000'],
  ]
  for (const [x, d, want] of cases) assert.equal(formatFixed(x, d), want, `${x} %.${d}f`)
})

test('budgets: nearest rank and 1.5× headroom (§7.5 examples)', () => {
  const b = budgetStats(new Map([[10, 1], [20, 1], [30, 1]]))
  assert.deepEqual([b.p99, b.p95, b.median, b.max, formatFixed(b.enforced, 0)], [30, 30, 20, 30, '45'])
  assert.equal(formatFixed(budgetStats(new Map([[3, 1]])).enforced, 0), '4')
  assert.equal(budgetStats(new Map([[0, 33]])).sampleCount, 33)
})

test('rule ids and display names (§8)', () => {
  assert.equal(ruleId('host=api.example.com'), 'r-cccd1d2707b0f9d1031e')
  assert.equal(displayName({host: 'api.example.com', path: '/v1/repos', method: 'POST', action: 'warn'}), 'api_example_com_v1_repos_POST_warn')
  assert.equal(displayName({host: 'a.com', path: '/'}), 'a_com_root')
  // §8's steps one by one (trim '/', map . / - = to '_', trim '_'): the same names on paths
  // with separators, underscores and '=' at either end or alone.
  const stepByStep = (c: string): string => c.replace(/^\/+|\/+$/g, '').replace(/[./\-=]/g, '_').replace(/^_+|_+$/g, '') || 'root'
  const parts = ['/', '//', '_', '/_/', '/a/', '__a__', '/-x-/', '=', '/v1/x.y-z=w/', '/_a_/b_/', 'a.b', '..', '/.well-known/', '']
  for (const path of parts) {
    assert.equal(displayName({host: 'h.example', path, method: 'GET'}), ['h_example', stepByStep(path), 'GET'].join('_'), JSON.stringify(path))
  }
})

test('Go URL parsing and EscapedPath (§5)', () => {
  assert.deepEqual(parseHttpUrl('https://API.example.com:8443/v1/users?x=1#f'), {hostname: 'API.example.com', escapedPath: '/v1/users'})
  assert.deepEqual(parseHttpUrl('https://[::1]:8443/x'), {hostname: '::1', escapedPath: '/x'})
  assert.deepEqual(parseHttpUrl('HTTP://h'), {hostname: 'h', escapedPath: ''})
  assert.deepEqual(parseHttpUrl('https://h/a b/é'), {hostname: 'h', escapedPath: '/a%20b/%C3%A9'})
  assert.deepEqual(parseHttpUrl('https://h/%41bc'), {hostname: 'h', escapedPath: '/%41bc'})
  for (const bad of ['ftp://h/', 'https://user@h/', 'https://@h/', 'https:///x', 'https://h/%zz', 'https://h/\x01', 'https://h:port/', '/relative', 'https://h/#%zz', 'mailto:a@b']) {
    assert.equal(parseHttpUrl(bad), undefined, bad)
  }
})

test('canonical path (§15.1) with the compile-issue decisions', () => {
  assert.equal(canonicalizePath('/'), '/')
  assert.equal(canonicalizePath('/V1/Users'), '/v1/users')
  assert.equal(canonicalizePath('/%41bc'), '/Abc') // Q3: lower-cased before decoding
  assert.equal(canonicalizePath('/a/%2e%2e'), '/a/..') // Q4
  assert.equal(canonicalizePath('/v1/users/'), '/v1/users') // Q5 not reproduced
  for (const bad of ['', '/a//b', '/a/./b', '/a/../b', '/a%2Fb', '/a/%00', 'x', '/' + 'a'.repeat(2048)]) {
    assert.throws(() => canonicalizePath(bad), Error, JSON.stringify(bad))
  }
})

test('Go text helpers: simple case mapping, Unicode TrimSpace, durations', () => {
  assert.equal(goToUpper('ß get'), 'ß GET')
  assert.equal(goTrimSpace('\u00a0 post \ufeff'), 'post \ufeff')
  assert.equal(parseGoDuration('336h0m0s'), 336 * 3_600_000)
  assert.equal(parseGoDuration('1.5h'), 5_400_000)
  assert.throws(() => parseGoDuration('14d'), /invalid duration/)
  // Go's range: an int64 of nanoseconds.
  assert.equal(parseGoDuration('2562047h'), 2562047 * 3_600_000)
  assert.throws(() => parseGoDuration('2562048h'), /invalid duration "2562048h"/)
  assert.throws(() => parseGoDuration('9223372036854775808ns'), /invalid duration/)
})

test('YAML emitter: layout and quoting rules (§11)', () => {
  const doc = fromPlain({
    b: {z: [], y: {}, list: ['x', {k: 'v', a: 1}]},
    a: ['0.50', '2026-04-29T12:00:00Z', '10_0_0_1', 'yes', 'null', '', '- x', 'a: b', 'a #b', '#c', ' lead', "it's", 'tab\there', '.5', '0x1F', '1e3', '+1', 'plain text', '@x', 'é'],
    n: new JsonNumber('23'),
    t: true,
  })
  assert.equal(
    emitSignedYaml(doc),
    [
      'a:',
      '    - "0.50"',
      '    - "2026-04-29T12:00:00Z"',
      '    - "10_0_0_1"',
      '    - yes',
      '    - "null"',
      '    - ""',
      "    - '- x'",
      "    - 'a: b'",
      "    - 'a #b'",
      "    - '#c'",
      "    - ' lead'",
      "    - it's",
      '    - "tab\\there"',
      '    - ".5"',
      '    - "0x1F"',
      '    - "1e3"',
      '    - "+1"',
      '    - plain text',
      "    - '@x'",
      '    - é',
      'b:',
      '    list:',
      '        - x',
      '        - a: 1',
      '          k: v',
      '    y: {}',
      '    z: []',
      'n: 23',
      't: true',
      '',
    ].join('\n'),
  )
  assert.throws(() => emitSignedYaml(fromPlain({a: 'x\ny'})), /line break/)
})

test('normalisation: ids collapse, a reserved sibling stays literal, low-entropy stays (§15)', () => {
  const fam = new Map<string, number>()
  for (let i = 0; i < 40; i++) fam.set(`/v1/users/u${1000 + i}`, 2)
  fam.set('/v1/users/admin', 9)
  fam.set('/v1/users', 5)
  fam.set('/v1/orgs', 3)
  const n = normalizeHostPaths(fam, DEFAULT_NORMALIZATION)
  assert.equal(n.mapping.get('/v1/users/u1000'), '/v1/users/*')
  assert.equal(n.mapping.get('/v1/users/admin'), '/v1/users/admin')
  assert.equal(n.mapping.get('/v1/users'), '/v1/users')
  assert.equal(n.mapping.get('/v1/orgs'), '/v1/orgs')
  const ev = n.evidence.get('/v1/users/*')
  assert.deepEqual(ev?.collapsed, [{index: 3, distinct_values: 40, event_count: 80, reason: 'high_entropy_identifier_segment'}])
  assert.deepEqual(ev?.retained.map((r) => [r.index, r.value, r.reason]), [
    [1, 'v1', 'low_entropy_literal_segment'],
    [2, 'users', 'reserved_segment'],
  ])
  // Too few events: nothing collapses.
  const few = new Map([['/a/1', 1], ['/a/2', 1], ['/a/3', 1], ['/a/4', 1], ['/a/5', 1]])
  assert.equal(normalizeHostPaths(few, DEFAULT_NORMALIZATION).mapping.get('/a/1'), '/a/1')
  // An extra reserved segment is honoured.
  const extra = new Map([...fam].map(([p, c]) => [p.replace('/users/u', '/things/u'), c] as [string, number]))
  assert.equal(normalizeHostPaths(extra, {...DEFAULT_NORMALIZATION, reservedSegmentsExtra: ['u1000']}).mapping.get('/v1/things/u1000'), '/v1/things/u1000')
  assert.equal(entropyBits([1, 1, 1, 1]), 2)
  assert.equal(entropyBits([]), 0)
})

test('per-host cap and the _other tail (§15.5)', () => {
  const fam = new Map([['/a', 10], ['/b', 5], ['/c', 3], ['/d', 2]])
  const c = capPerHost(fam, 2, 5.0, false)
  assert.deepEqual([...c.kept.keys()], ['/a', '/b'])
  assert.deepEqual([c.overflowed, c.tail, c.hostTotal, formatFixed(c.tailPct, 2), c.promotionBlock], [true, 5, 20, '25.00', true])
  assert.equal(capPerHost(fam, 2, 5.0, true).promotionBlock, false)
  assert.equal(capPerHost(fam, 2, 30, false).promotionBlock, false)
  assert.equal(capPerHost(fam, 4, 5, false).overflowed, false)
})

test('normalisation: a group of one path is decided position by position as any group (reserved stays, others by their own events)', () => {
  // After the ids collapse, one path goes on below a reserved value: its own events decide its
  // next position. (Expected values: the recursive walk before the one-path shortcut.)
  const fam = new Map<string, number>()
  for (let i = 0; i < 40; i++) fam.set(`/v1/blobs/b${i * 7919}/meta`, 3)
  fam.set('/v1/blobs/b1/admin/x', 2)
  const n = normalizeHostPaths(fam, DEFAULT_NORMALIZATION)
  assert.equal(n.mapping.get('/v1/blobs/b7919/meta'), '/v1/blobs/*/meta')
  assert.equal(n.mapping.get('/v1/blobs/b1/admin/x'), '/v1/blobs/*/admin/x')
  const seg = {index: 3, distinct_values: 41, event_count: 122, reason: 'high_entropy_identifier_segment'}
  const literal = (index: number, value: string) => ({index, value, reason: 'low_entropy_literal_segment'})
  assert.deepEqual(n.evidence.get('/v1/blobs/*/meta'), {collapsed: [seg], retained: [literal(1, 'v1'), literal(2, 'blobs'), literal(4, 'meta')]})
  assert.deepEqual(n.evidence.get('/v1/blobs/*/admin/x'), {
    collapsed: [seg],
    retained: [literal(1, 'v1'), literal(2, 'blobs'), {index: 4, value: 'admin', reason: 'reserved_segment'}, {index: 5, value: 'x', reason: 'insufficient_events'}],
  })
  // One path with a threshold that lets a single value collapse: every non-reserved position does.
  const one = normalizeHostPaths(new Map([['/a/users/b', 3]]), {minEvents: 1, minDistinctValues: 1, entropyThresholdBits: -1, reservedSegmentsExtra: []})
  assert.equal(one.mapping.get('/a/users/b'), '/*/users/*')
  assert.deepEqual(one.evidence.get('/*/users/*'), {
    collapsed: [
      {index: 1, distinct_values: 1, event_count: 3, reason: 'high_entropy_identifier_segment'},
      {index: 3, distinct_values: 1, event_count: 3, reason: 'high_entropy_identifier_segment'},
    ],
    retained: [{index: 2, value: 'users', reason: 'reserved_segment'}],
  })
})
