import {test} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {listenersCollide} from '../../../src/plugins/config/index.js'
import {assertRefused, load, tempDir} from './helpers.js'

// check said OK to configs run then refused: a second listener on an address pipelock itself had
// bound (EADDRINUSE against itself), a log file that is a directory (EISDIR) or under a file
// (ENOTDIR).

const REVERSE = (listen: string): string => `reverse_proxy:\n  enabled: true\n  listen: "${listen}"\n  upstream: "http://127.0.0.1:9"\n`
const SCAN = (listen: string): string => `scan_api:\n  listen: "${listen}"\n  auth:\n    bearer_tokens: ["t0123456789abcdef0123456789abcdef"]\n`

test('the reverse proxy and the scan API may not bind an address another listener binds', () => {
  assertRefused(`fetch_proxy:\n  listen: "127.0.0.1:8888"\n${REVERSE('127.0.0.1:8888')}`, /reverse_proxy\.listen: "127\.0\.0\.1:8888" collides with fetch_proxy\.listen \("127\.0\.0\.1:8888"\): pipelock opens both, and the second bind would fail \(address in use\); use a different port/, 5)
  assertRefused(`metrics_listen: "127.0.0.1:9090"\n${REVERSE('127.0.0.1:9090')}`, /reverse_proxy\.listen: "127\.0\.0\.1:9090" collides with metrics_listen/)
  assertRefused(`kill_switch:\n  api_listen: "127.0.0.1:9091"\n  api_token: "tok-0123456789abcdef"\n${REVERSE(':9091')}`, /reverse_proxy\.listen: ":9091" collides with kill_switch\.api_listen/)
  assertRefused(`${REVERSE('127.0.0.1:8890')}${SCAN('localhost:8890')}`, /scan_api\.listen: "localhost:8890" collides with reverse_proxy\.listen/)
  assertRefused(`fetch_proxy:\n  listen: "0.0.0.0:8888"\n${SCAN('127.0.0.1:8888')}`, /scan_api\.listen: "127\.0\.0\.1:8888" collides with fetch_proxy\.listen \("0\.0\.0\.0:8888"\)/)
  assertRefused(`${SCAN('127.0.0.1:8888')}`, /scan_api\.listen: "127\.0\.0\.1:8888" collides with fetch_proxy\.listen/) // the default listen
  // An agent listener on the reverse proxy's address.
  assertRefused(`${REVERSE('127.0.0.1:8890')}agents:\n  a1:\n    listeners: ["127.0.0.1:8890"]\n`, /agent "a1": listener "127\.0\.0\.1:8890" collides with reverse_proxy\.listen/)
  // Other ports, other addresses on one port, a disabled reverse proxy, port 0: all fine.
  assert.equal(load(`${REVERSE('127.0.0.1:8890')}${SCAN('127.0.0.1:8891')}`).config.reverse_proxy.listen, '127.0.0.1:8890')
  assert.equal(load(`fetch_proxy:\n  listen: "127.0.0.1:8888"\n${REVERSE('127.0.0.2:8888')}`).config.reverse_proxy.enabled, true)
  assert.equal(load('reverse_proxy:\n  enabled: false\n  listen: "127.0.0.1:8888"\n').config.reverse_proxy.enabled, false)
  assert.equal(load(`fetch_proxy:\n  listen: "127.0.0.1:0"\n${REVERSE('127.0.0.1:0')}`).config.reverse_proxy.enabled, true)
})

test('listenersCollide: same port on the same address, or on any address under a wildcard', () => {
  assert.equal(listenersCollide('127.0.0.1:80', '127.0.0.1:80'), true)
  assert.equal(listenersCollide(':80', '127.0.0.1:80'), true)
  assert.equal(listenersCollide('[::]:80', '0.0.0.0:80'), true)
  assert.equal(listenersCollide('localhost:80', '127.0.0.1:80'), true)
  assert.equal(listenersCollide('127.0.0.1:80', '127.0.0.1:81'), false)
  assert.equal(listenersCollide('127.0.0.1:80', '[::1]:80'), false)
  assert.equal(listenersCollide('127.0.0.1:0', '127.0.0.1:0'), false)
})

test('logging.file that is a directory is refused when the log is written to a file', () => {
  const t = tempDir()
  try {
    assertRefused(`logging:\n  output: file\n  file: ${t.dir}\n`, new RegExp(`logging\\.file: ${t.dir} is a directory; name the log file itself \\(e\\.g\\. ${t.dir}/audit\\.log\\)`), 3)
    assertRefused(`logging:\n  output: both\n  file: ${t.dir}\n`, /is a directory/)
    assert.equal(load(`logging:\n  output: file\n  file: ${t.dir}/audit.log\n`).config.logging.file, `${t.dir}/audit.log`)
  } finally {
    t.cleanup()
  }
})

test('logging.file under a path that is a file is refused; in a directory that does not exist yet, a warning that run creates it', () => {
  const t = tempDir()
  try {
    writeFileSync(`${t.dir}/afile`, '')
    assertRefused(`logging:\n  output: file\n  file: ${t.dir}/afile/x/audit.log\n`, new RegExp(`logging\\.file: ${t.dir}/afile is not a directory, so ${t.dir}/afile/x/audit\\.log cannot be created under it; name a file in a directory`), 3)
    assertRefused(`logging:\n  output: both\n  file: ${t.dir}/afile/audit.log\n`, /afile is not a directory/)
    const missing = load(`logging:\n  output: file\n  file: ${t.dir}/logs/pipelock/audit.log\n`)
    assert.deepEqual(missing.warnings.filter((w) => w.field === 'logging.file'), [
      {field: 'logging.file', message: `its directory ${t.dir}/logs/pipelock does not exist: pipelock run creates it (mode 0750, and any missing directory above it) when it opens the log`},
    ])
    // an existing directory, or a log that is not written to a file: nothing to say
    assert.deepEqual(load(`logging:\n  output: file\n  file: ${t.dir}/audit.log\n`).warnings.filter((w) => w.field === 'logging.file'), [])
    assert.deepEqual(load(`logging:\n  output: stdout\n  file: ${t.dir}/afile/x/audit.log\n`).warnings.filter((w) => /not a directory|does not exist/.test(w.message)), [])
  } finally {
    t.cleanup()
  }
})
