// The RFC 8941 subset, SPIFFE actors, the inbound strip and the replay cache (spec §3, §5, §6.5, §7).
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {formatActor, parseActor, parseDictionary, ReplayCache, serializeDictionary, stripSignatureHeader} from '../../../src/plugins/envelope/index.js'

test('SF: Integer and Decimal stay distinct, 16 digits and unpadded base64 fail, trailing comma fails, upper-case key fails', () => {
  const d = parseDictionary('a=1, b=1.0, c=?1, d;x')
  assert.deepEqual(d.map(([k, m]) => [k, m.kind === 'item' ? m.value.t : 'list']), [['a', 'int'], ['b', 'dec'], ['c', 'bool'], ['d', 'bool']])
  assert.equal(serializeDictionary(d), 'a=1, b=1.0, c, d;x')
  for (const bad of ['a=1234567890123456', 'a=:AQI:', 'a=1,', 'A=1', 'a="é"']) assert.throws(() => parseDictionary(bad), bad)
  assert.equal(serializeDictionary(parseDictionary('a=1,\tb=2')), 'a=1, b=2')
  // Duplicate key: first position, last value.
  assert.equal(serializeDictionary(parseDictionary('a=1, b=2, a=3')), 'a=3, b=2')
  assert.equal(serializeDictionary(parseDictionary('s="q\\"\\\\"')), 's="q\\"\\\\"')
})

test('SPIFFE: formatting (spec §7.1, E14 fixed) and the strict grammar (spec §7.2, E13 fixed)', () => {
  assert.equal(formatActor('claude', 'spiffe', 'pipelock.local'), 'spiffe://pipelock.local/agent/claude')
  assert.equal(formatActor('Alpha Agent', 'spiffe', 'Example.Test'), 'spiffe://example.test/agent/Alpha-Agent')
  assert.equal(formatActor(' / ', 'spiffe', 'pipelock.local'), 'spiffe://pipelock.local/agent/anonymous')
  assert.equal(formatActor('..', 'spiffe', 'pipelock.local'), 'spiffe://pipelock.local/agent/anonymous')
  assert.equal(formatActor('x y', 'legacy', 'pipelock.local'), 'x y')
  const ok = parseActor('spiffe://Example.Test/agent/alpha', true)
  assert.ok(ok.spiffe && ok.trustDomain === 'example.test')
  assert.ok(parseActor('SPIFFE://t/agent/x', true).spiffe)
  for (const bad of ['spiffe://user:pass@t/agent/x', 'spiffe://t:8443/agent/x', 'spiffe://t:/agent/x', 'spiffe://t/agent/../admin', 'spiffe://t/agent//x',
    'spiffe://t/./agent/x', 'spiffe://t/agent/x/', 'spiffe://192.0.2.1/agent/x', 'spiffe://[2001:db8::1]/agent/x', 'spiffe:///missing-domain', 'plain']) {
    assert.throws(() => parseActor(bad, true), bad)
  }
})

test('strip (spec §5, E23 fixed): a comma inside a quoted parameter does not split a member; pipelock members go in any spelling', () => {
  assert.equal(stripSignatureHeader(['pipelock1=("@method");tag="a,b", sig1=("@method");tag="web-bot-auth"']), 'sig1=("@method");tag="web-bot-auth"')
  assert.equal(stripSignatureHeader(['sig1=:bGVnaXQ=:']), 'sig1=:bGVnaXQ=:')
  assert.equal(stripSignatureHeader(['pipelock1=:bGVnaXQ=:']), undefined)
  // Unparseable: dropped when it mentions pipelock anywhere, else kept as sent.
  assert.equal(stripSignatureHeader(['sig1=x,\tPipelock1=("@method")']), undefined)
  assert.equal(stripSignatureHeader(['PIPELOCK1=("@method")']), undefined)
  assert.equal(stripSignatureHeader(['keyId="a",algorithm="rsa"']), 'keyId="a",algorithm="rsa"')
})

test('replay cache: duplicate rejected, expired entries swept, capacity evicts the soonest-expiring and counts it', () => {
  const c = new ReplayCache(2)
  assert.equal(c.admit('a', 100, 0), true)
  assert.equal(c.admit('a', 100, 50), false)
  assert.equal(c.admit('a', 200, 100), true, 'swept at storedUntil')
  assert.equal(c.admit('b', 150, 100), true)
  assert.equal(c.admit('c', 300, 100), true)
  assert.equal(c.liveEvictions, 1)
  assert.equal(c.admit('a', 300, 100), false, 'a (200) outlived b (150)')
  assert.equal(c.admit('b', 300, 100), true, 'b was the one evicted')
})
