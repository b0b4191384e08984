/**
 * A key cut by a separator the URL scan reads across (joints.ts): a `-` or `_` inside a host label
 * (`akiaiosf-odnn7….example.com`, never resolved), or the end of the path and the query
 * (`/AKIAIOSF?ODNN7…`, `/AKIAIOSFODNN7?…=1`) is core DLP. Ordinary names and words that join into
 * a key's prefix and sixteen letters (`asia-northeast1-docker.pkg.dev`, `/canvas?page=2…`) pass.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createDlpEngine, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'
import {guardedHostJoint, guardedJoint, hostJoint, JOINT_HEAD} from '../../../src/plugins/scanner/joints.js'
import {dlpTargets, ScanMemo} from '../../../src/plugins/scanner/url-targets.js'
import {parseGoUrl} from '../../../src/plugins/canonical/index.js'
import {awsKeyId} from './fixtures.js'
import {harness} from './url-helpers.js'

const AWS = awsKeyId() // AKIA + 16 upper-case letters and digits (not the documented example)
const HIT = 'core DLP match: AWS Access ID (critical)'

test('a key cut by a hyphen or an underscore in a host label is core DLP, before any resolver, and never echoed', async () => {
  const h = harness()
  const lower = AWS.toLowerCase()
  const hosts = [
    `${lower.slice(0, 8)}-${lower.slice(8)}.example.com`,
    `${AWS.slice(0, 8)}_${AWS.slice(8)}.example.com`,
    `${lower.slice(0, 10)}-${lower.slice(10, 15)}_${lower.slice(15)}.exfil.example.net`,
    `${lower.slice(0, 12)}-${lower.slice(12)}`, // the key is the whole name
    `${lower.slice(0, 9)}-${lower.slice(9, 14)}.${lower.slice(14)}.example.com`, // a hyphen and a dot
    `asia-x-${lower.slice(0, 8)}-${lower.slice(8)}.example.com`, // behind a name that is no key
  ]
  for (const host of hosts) {
    const r = await h.scan(`http://${host}/x`)
    assert.deepEqual([r.allowed, r.scanner, r.reason, r.detail], [false, 'core_dlp', 'dlp_match', HIT], host)
    assert.deepEqual(r.findings.map((f) => f.encoding), ['host_joined'], host)
    assert.ok(!JSON.stringify(r).includes(lower.slice(4, 12)) && !JSON.stringify(r).includes(AWS.slice(4, 12)), host)
  }
  assert.deepEqual(h.lookups, [])
  // A stage before DLP that echoes the host (the blocklist) shows it redacted.
  const bl = await h.scan(`https://${lower.slice(0, 8)}-${lower.slice(8)}.pastebin.com/`)
  assert.deepEqual([bl.scanner, bl.detail], ['blocklist', 'domain blocked: [redacted] matches *.pastebin.com'])
})

test('a key cut between the end of the path and the query is core DLP', async () => {
  const h = harness()
  for (const url of [
    `http://h.example/${AWS.slice(0, 8)}?${AWS.slice(8)}`,
    `http://h.example/${AWS.slice(0, 13)}?${AWS.slice(13)}=1`,
    `http://h.example/a/b/${AWS.slice(0, 10)}?${AWS.slice(10, 14)}=${AWS.slice(14)}`,
    `http://h.example/${AWS.slice(0, 8)}/?${AWS.slice(8)}`, // one trailing '/'
    `http://h.example/${AWS.slice(0, 9).toLowerCase()}?${encodeURIComponent(AWS.slice(9).toLowerCase())}&page=2`,
  ]) {
    const r = await h.scan(url)
    assert.deepEqual([r.allowed, r.scanner, r.detail], [false, 'core_dlp', HIT], url)
    assert.deepEqual(r.findings.map((f) => f.encoding), ['path_query'], url)
  }
  assert.deepEqual(h.lookups, [])
})

test('ordinary names and paths that join into a key prefix and sixteen letters still pass', async () => {
  const h = harness()
  const urls = [
    'https://asia-northeast1-docker.pkg.dev/v2/my-project/repo/manifests/latest',
    'https://asia-east2-docker.pkg.dev/',
    'https://asia-southeast1-aiplatform.googleapis.com/v1/projects/p/locations/asia-southeast1/endpoints',
    'https://my-app-default-rtdb.asia-southeast1.firebasedatabase.app/users.json',
    'https://southeastasia-1.in.applicationinsights.azure.com/v2/track',
    'https://asia-northeast1-my-project-123.cloudfunctions.net/hello',
    'https://canvas-lms-prod.example.com/',
    'https://canvas-user-content.com/files/1',
    'https://my_service-2.internal.example.com/',
    'https://shop.example/asia?category=electronics&sort=price',
    'https://shop.example/regions/asia/?include=everything1',
    'https://x.example/api/canvas?page=2&sort=name&per_page=100',
    'https://x.example/v1/canvases?include=everything1',
    'https://x.example/docs/asian?lang=en&format=printable',
    'https://example.com/search?q=hello+world&lang=en&page=10&per_page=50',
  ]
  for (const url of urls) {
    const r = await h.scan(url)
    assert.equal(r.allowed, true, `${url}: ${r.scanner} ${r.detail}`)
  }
})

test('guardedJoint puts back a separator a hit starts fewer than JOINT_HEAD characters before, and nothing else', () => {
  const dlp = createDlpEngine(defaultScannerSettings())
  assert.equal(JOINT_HEAD, 8)
  assert.deepEqual(hostJoint('example.com'), null)
  assert.deepEqual(hostJoint('a-b_c..d'), {text: 'abcd', cuts: [{at: 1, sep: '-'}, {at: 2, sep: '_'}, {at: 3, sep: '..'}]})
  // Words: the prefix ends its piece, or runs three letters into it.
  assert.equal(guardedHostJoint(dlp, 'asia-northeast1-docker.pkg.dev'), 'asia-northeast1dockerpkgdev')
  assert.equal(guardedHostJoint(dlp, 'canvas-lms-prod.example.com'), 'canvas-lmsprodexamplecom')
  // A clean join is answered as it is.
  assert.equal(guardedHostJoint(dlp, 'my-app.example.com'), 'myappexamplecom')
  // A key whose first eight characters stand together is left joined, behind other words too.
  const lower = AWS.toLowerCase()
  assert.equal(guardedHostJoint(dlp, `${lower.slice(0, 8)}-${lower.slice(8)}.example.com`), `${lower}examplecom`)
  assert.equal(guardedHostJoint(dlp, `asia-x-${lower.slice(0, 8)}-${lower.slice(8)}`), `asia-x${lower}`)
  // The cuts of a target are where its texts were joined (the path's last segment, names and values).
  const targets = dlpTargets(parseGoUrl(`http://h.example/p/${AWS.slice(0, 8)}?${AWS.slice(8, 12)}=${AWS.slice(12)}&b=1`), 'h.example', new ScanMemo())
  const pq = targets.find((t) => t.kind === 'path_query')!
  assert.deepEqual([pq.text, pq.cuts], [`${AWS}b1`, [{at: 8, sep: '?'}, {at: 12, sep: '='}, {at: 20, sep: '&'}, {at: 21, sep: '='}]])
  assert.equal(guardedJoint(dlp, pq.text, pq.cuts!), pq.text)
  // No query, or an empty last segment: no path_query target; a host without '-' or '_': no host_joined.
  for (const url of ['http://h.example/abc', 'http://h.example/?a=1']) {
    assert.deepEqual(dlpTargets(parseGoUrl(url), 'h.example', new ScanMemo()).filter((t) => t.kind === 'path_query' || t.kind === 'host_joined'), [], url)
  }
})
