import {test} from 'node:test'
import assert from 'node:assert/strict'
import {assertRefused, load} from './helpers.js'

// ssrf.ip_allowlist: a /0 is refused; entries that together cover a whole family were accepted,
// and an IPv4-mapped IPv6 range loaded though the check reads mapped addresses as IPv4.

const list = (...e: string[]): string => `ssrf:\n  ip_allowlist: [${e.map((x) => JSON.stringify(x)).join(', ')}]\n`

test('entries whose union is all of IPv4 or all of IPv6 are refused like /0', () => {
  const msg = (f: string): RegExp => new RegExp(`ssrf\\.ip_allowlist: its entries together cover every ${f} address, which would exempt every address as a /0 would`)
  assertRefused(list('0.0.0.0/1', '128.0.0.0/1'), msg('IPv4'), 2)
  assertRefused(list('128.0.0.0/2', '0.0.0.0/1', '192.0.0.0/2', '10.0.0.0/8'), msg('IPv4'))
  assertRefused(list('::/1', '8000::/1'), msg('IPv6'))
  assert.deepEqual(load(list('0.0.0.0/1', '128.0.0.0/2', '::/1')).config.ssrf.ip_allowlist, ['0.0.0.0/1', '128.0.0.0/2', '::/1'])
})

test('an IPv4-mapped range is refused with its IPv4 form', () => {
  assertRefused(list('::ffff:10.0.0.0/104'), /ssrf\.ip_allowlist\[0\]: "::ffff:10\.0\.0\.0\/104" is an IPv4-mapped range: addresses are checked in their IPv4 form, so it would match nothing; write "10\.0\.0\.0\/8"/, 2)
  assertRefused(list('::ffff:0:0/96'), /"::ffff:0:0\/96" is an IPv4-mapped range: .* as IPv4 it is 0\.0\.0\.0\/0, every address, which is refused/)
  assert.deepEqual(load(list('10.0.0.0/8', 'fd00::/8')).config.ssrf.ip_allowlist, ['10.0.0.0/8', 'fd00::/8'])
})
