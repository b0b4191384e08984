import assert from 'node:assert/strict'
import {mkdtempSync, symlinkSync, writeFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {bearerMatches, ipInAnyCidr, isExempt, KillSwitchController, parseToggleBody, type GateSettings} from '../../../src/plugins/killswitch/index.js'

const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-ks-'))
const inputs = (over: Partial<{enabled: boolean; sentinelFile: string}> = {}) => ({enabled: false, sentinelFile: '', message: 'Emergency deny-all active', ...over})

test('sources are OR-ed and reported in priority order config > api > signal > sentinel', () => {
  const sentinel = path.join(dir, 'sentinel-a')
  const ks = new KillSwitchController(inputs({sentinelFile: sentinel}))
  assert.deepEqual(ks.status(), {active: false, source: null, sources: {config: false, api: false, signal: false, sentinel: false}, message: 'Emergency deny-all active'})
  writeFileSync(sentinel, '')
  assert.equal(ks.status().source, 'sentinel')
  assert.equal(ks.toggleSignal(), true)
  assert.equal(ks.status().source, 'signal')
  ks.setApi(true)
  assert.equal(ks.status().source, 'api')
  ks.updateInputs(inputs({enabled: true, sentinelFile: sentinel}))
  assert.equal(ks.status().source, 'config')
  rmSync(sentinel)
})

test('a config reload replaces config/sentinel inputs and keeps api and signal state', () => {
  const ks = new KillSwitchController(inputs({enabled: true}))
  ks.setApi(true)
  ks.toggleSignal()
  ks.updateInputs(inputs())
  assert.deepEqual(ks.status().sources, {config: false, api: true, signal: true, sentinel: false})
})

test('sentinel: missing file is off, a stat error other than not-found is on (fail closed)', () => {
  assert.equal(new KillSwitchController(inputs({sentinelFile: path.join(dir, 'absent')})).sentinelActive(), false)
  const loop = path.join(dir, 'loop')
  symlinkSync(loop, loop)
  assert.equal(new KillSwitchController(inputs({sentinelFile: loop})).sentinelActive(), true)
})

test('activation listeners fire once per off→on edge', () => {
  const ks = new KillSwitchController(inputs())
  const seen: string[] = []
  ks.onActivate((s) => seen.push(s))
  ks.setApi(true)
  ks.toggleSignal()
  ks.setApi(false)
  ks.toggleSignal()
  ks.toggleSignal()
  assert.deepEqual(seen, ['api', 'signal'])
})

test('a listener that polls sees the switch on: no second edge, no recursion', () => {
  const ks = new KillSwitchController(inputs())
  const seen: boolean[] = []
  // A live relay asks whether its client is exempt from inside the activation (relay/live-cut.ts).
  ks.onActivate(() => seen.push(ks.poll().active))
  ks.setApi(true)
  ks.poll()
  assert.deepEqual(seen, [true])
})

test('the sentinel file appearing and going is told to its listeners, once per change', () => {
  const file = path.join(dir, 'sentinel-edges')
  const ks = new KillSwitchController(inputs({sentinelFile: file}))
  const seen: boolean[] = []
  ks.onSentinelChange((present) => seen.push(present))
  ks.poll()
  writeFileSync(file, '')
  ks.poll()
  ks.poll()
  rmSync(file)
  ks.poll()
  assert.deepEqual(seen, [true, false])
})

test('cutIfMissed: work registered while the switch is on is cut on the next turn, unless it ended first; while off, never', async () => {
  const ks = new KillSwitchController(inputs())
  const cuts: string[] = []
  ks.cutIfMissed(() => true, () => cuts.push('off'))
  ks.setApi(true)
  ks.cutIfMissed(() => true, () => cuts.push('live'))
  ks.cutIfMissed(() => false, () => cuts.push('ended'))
  assert.equal(cuts.join(), '', 'not in the registering call itself')
  await Promise.resolve()
  assert.equal(cuts.join(), 'live')
  ks.setApi(false)
  ks.cutIfMissed(() => true, () => cuts.push('after'))
  await Promise.resolve()
  assert.equal(cuts.join(), 'live')
})

const gate: GateSettings = {healthExempt: true, metricsExempt: true, apiExempt: true, apiOnMainListener: true, allowlistIps: []}

test('holdPolling: one timer while anyone holds it; a sentinel file is noticed without a request; released, nothing polls', (t) => {
  t.mock.timers.enable({apis: ['setInterval']})
  const file = path.join(dir, 'sentinel-polled')
  const ks = new KillSwitchController(inputs({sentinelFile: file}))
  let fired = 0
  ks.onActivate(() => fired++)
  const a = ks.holdPolling()
  const b = ks.holdPolling()
  writeFileSync(file, '')
  a()
  a() // releasing twice is one release
  t.mock.timers.tick(250)
  assert.equal(fired, 1, 'still held by b: polled')
  rmSync(file)
  t.mock.timers.tick(250)
  b()
  writeFileSync(file, '')
  t.mock.timers.tick(1000)
  assert.equal(fired, 1, 'released: no poll saw the file')
  assert.equal(ks.poll().active, true)
  assert.equal(fired, 2)
  rmSync(file)
})

test('gate: only origin-form requests to the proxy\'s own endpoints are exempt (§24 #15 fixed)', () => {
  const origin = (p: string, method = 'GET') => isExempt({method, originForm: true, path: p, clientIp: '127.0.0.1'}, gate)
  assert.equal(origin('/health'), true)
  assert.equal(origin('/metrics'), true)
  assert.equal(origin('/stats'), false)
  assert.equal(origin('/fetch'), false)
  assert.equal(origin('/api/v1/killswitch'), true)
  assert.equal(origin('/api/v1/killswitch/status'), true)
  assert.equal(origin('/api/v1/sessions'), true)
  assert.equal(origin('/api/v1/sessions/agent|1.2.3.4'), true)
  assert.equal(origin('/api/v1/sessions/k/terminate'), true)
  assert.equal(origin('/api/v1/sessions/k/unknown'), false)
  // §24 #16 fixed: the adaptive endpoints are operator controls like the session ones.
  assert.equal(origin('/api/v1/adaptive/status'), true)
  assert.equal(origin('/api/v1/adaptive/flush', 'POST'), true)
  assert.equal(origin('/api/v1/adaptive/whoami'), true)
  assert.equal(origin('/api/v1/adaptive/levels'), false)
  // Absolute-URI and CONNECT targets are never exempt, whatever their path.
  assert.equal(isExempt({method: 'GET', originForm: false, path: '/health', clientIp: '127.0.0.1'}, gate), false)
  assert.equal(isExempt({method: 'CONNECT', originForm: false, path: '', clientIp: '127.0.0.1'}, gate), false)
  assert.equal(isExempt({method: 'GET', originForm: true, path: '/health', clientIp: '127.0.0.1'}, {...gate, healthExempt: false}), false)
  assert.equal(isExempt({method: 'GET', originForm: true, path: '/api/v1/killswitch', clientIp: '127.0.0.1'}, {...gate, apiOnMainListener: false}), false)
})

test('gate: allowlist_ips exempts all traffic from those clients (CIDR, IPv4-mapped normalised)', () => {
  const s = {...gate, allowlistIps: ['10.1.0.0/16', 'fd00::/8']}
  assert.equal(isExempt({method: 'CONNECT', originForm: false, path: '', clientIp: '10.1.2.3'}, s), true)
  assert.equal(isExempt({method: 'GET', originForm: false, path: '', clientIp: '::ffff:10.1.2.3'}, s), true)
  assert.equal(isExempt({method: 'GET', originForm: false, path: '', clientIp: '10.2.0.1'}, s), false)
  assert.equal(ipInAnyCidr('fd12::1', ['fd00::/8']), true)
  assert.equal(ipInAnyCidr('fe80::1', ['fd00::/8']), false)
  assert.equal(ipInAnyCidr('not-an-ip', ['0.0.0.0/0']), false)
})

test('API token check: the exact token after a Bearer scheme in any case, empty token never matches', () => {
  assert.equal(bearerMatches('Bearer s3cret', 's3cret'), true)
  assert.equal(bearerMatches('Bearer s3cret ', 's3cret'), false)
  // RFC 9110 §11.1: the scheme is case-insensitive; the token is not.
  assert.equal(bearerMatches('bearer s3cret', 's3cret'), true)
  assert.equal(bearerMatches('BEARER s3cret', 's3cret'), true)
  assert.equal(bearerMatches('Bearer S3CRET', 's3cret'), false)
  assert.equal(bearerMatches('Basic s3cret', 's3cret'), false)
  assert.equal(bearerMatches('Bearers3cret', 's3cret'), false)
  assert.equal(bearerMatches('Bearer  s3cret', 's3cret'), false)
  assert.equal(bearerMatches('Bearer ', ''), false)
  assert.equal(bearerMatches(undefined, 's3cret'), false)
  assert.equal(bearerMatches('Bearer s3cre', 's3cret'), false)
})

test('API body: exactly one object with the boolean field active', () => {
  assert.equal(parseToggleBody('{"active":true}'), true)
  assert.equal(parseToggleBody(' {"active": false} '), false)
  for (const bad of ['', '{}', '{"active":1}', '{"active":true,"x":1}', '[true]', '{"active":true} {}', 'null', '{"active":"true"}']) {
    assert.equal(parseToggleBody(bad), null, bad)
  }
})
