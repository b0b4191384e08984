import {test} from 'node:test'
import assert from 'node:assert/strict'
import {resolveConfig} from '../../../src/plugins/config/index.js'

// transports §2.1: `passthrough_domains` absent or null → ["*.googlevideo.com"]; a list the
// operator writes (even an empty one) replaces the default whole; sizes <= 0 take the defaults.
test('tls_interception defaults: passthrough list, cache size and response cap', () => {
  const absent = resolveConfig({}).config.tls_interception
  assert.deepEqual(absent.passthrough_domains, ['*.googlevideo.com'])
  assert.equal(absent.cert_cache_size, 10_000)
  assert.equal(absent.max_response_bytes, 5_242_880)
  assert.equal(absent.cert_ttl, '24h')

  assert.deepEqual(resolveConfig({tls_interception: {passthrough_domains: null}}).config.tls_interception.passthrough_domains, ['*.googlevideo.com'])
  assert.deepEqual(resolveConfig({tls_interception: {passthrough_domains: []}}).config.tls_interception.passthrough_domains, [])
  assert.deepEqual(resolveConfig({tls_interception: {passthrough_domains: ['registry.npmjs.org']}}).config.tls_interception.passthrough_domains, ['registry.npmjs.org'])

  const zero = resolveConfig({tls_interception: {cert_cache_size: 0, max_response_bytes: -5}}).config.tls_interception
  assert.equal(zero.cert_cache_size, 10_000)
  assert.equal(zero.max_response_bytes, 5_242_880)
  assert.equal(resolveConfig({tls_interception: {cert_cache_size: 7, max_response_bytes: 1024}}).config.tls_interception.cert_cache_size, 7)
})
