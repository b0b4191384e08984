import assert from 'node:assert/strict'
import {test} from 'node:test'
import {clientHostOf} from '../../../src/plugins/sessions/index.js'

test('clientHostOf: every loopback address (127.0.0.0/8, ::1, IPv4-mapped) is one host; others stand for themselves', () => {
  for (const ip of ['127.0.0.1', '127.0.0.2', '127.1.2.3', '127.255.255.254', '::1', '::ffff:127.0.0.1', '::ffff:127.9.9.9']) {
    assert.equal(clientHostOf(ip), '127.0.0.1', ip)
  }
  assert.equal(clientHostOf('10.0.0.5'), '10.0.0.5')
  assert.equal(clientHostOf('::ffff:10.0.0.5'), '10.0.0.5', 'an IPv4-mapped spelling is its IPv4 address')
  assert.equal(clientHostOf('128.0.0.1'), '128.0.0.1')
  assert.equal(clientHostOf('1127.0.0.1'), '1127.0.0.1', 'anchored: not a prefix match')
  assert.equal(clientHostOf('fe80::1'), 'fe80::1')
  assert.equal(clientHostOf('::2'), '::2')
  assert.equal(clientHostOf(''), '', 'no address (an invocation session) stays none')
})
