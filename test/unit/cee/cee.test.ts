import assert from 'node:assert/strict'
import {test} from 'node:test'
import {CrossRequestDetector, EntropyBudget, extractPayload, FragmentBuffer, LruMap, payloadBits, type CeeSettings, type TextDlp} from '../../../src/plugins/cee/index.js'
import {createScanner, defaultScannerSettings, shannonEntropy} from '../../../src/plugins/scanner/index.js'

/** The joined streams of a payload (its per-field values are tested in field-tails.test). */
const streams = (p: {readonly values: string; readonly keys: string}) => ({values: p.values, keys: p.keys})

// Built at run time: not a literal credential in the repository.
const AWS = ['AKIA', 'IOSFODNN7', 'REALKEY'].join('')
const scanner = createScanner(defaultScannerSettings())
const dlp: TextDlp = (t) => scanner.scanTextForDlp(t)

function settings(over: Partial<CeeSettings> = {}): CeeSettings {
  return {
    enabled: true,
    action: 'block',
    entropy: {enabled: true, bitsPerWindow: 4096, windowMs: 5 * 60_000, action: 'warn', exemptDomains: []},
    fragments: {enabled: true, maxBufferBytes: 65536, windowMs: 5 * 60_000},
    ...over,
  }
}

test('payload: query values in wire order, split on & only, decoded; bare items whole; keys stream; body appended; path never', () => {
  assert.deepEqual(streams(extractPayload('http://h/secret/path?a=AKIA&a=IOSF%2B+x')), {values: 'AKIAIOSF+ x', keys: 'aa'})
  assert.deepEqual(streams(extractPayload('http://h/p?tok&k%41=v;w=1&&x=%zz')), {values: 'tokv;w=1%zz', keys: 'kAx'})
  assert.deepEqual(streams(extractPayload('http://h/p?q=1#frag=2')), {values: '1', keys: 'q'})
  assert.deepEqual(streams(extractPayload('http://h/only/path')), {values: '', keys: ''})
  const body = Buffer.alloc(70 * 1024, 'z')
  const p = extractPayload('http://h/?a=b', body)
  assert.equal(p.values.length, 1 + 64 * 1024, 'the body contributes its first 64 KiB')
})

test('bits = Shannon entropy over code points × UTF-8 byte length (mixed units, replicated)', () => {
  assert.equal(payloadBits(''), 0)
  assert.equal(payloadBits('aaaa'), 0)
  assert.equal(payloadBits('abcd'), 8)
  const s = 'é1'
  assert.equal(payloadBits(s), shannonEntropy(s) * 3)
})

test('entropy budget: sliding window sum reaches the budget (≥), entries age out after the window', () => {
  const b = new EntropyBudget(16, 1000, 10)
  assert.deepEqual(b.record('k', ['abcd'], 0), {exceeded: false, usage: 8})
  assert.deepEqual(b.record('k', ['abcd'], 500), {exceeded: true, usage: 16})
  assert.equal(b.exceeded('k', 999), true)
  assert.equal(b.exceeded('k', 1000), false, 'the first entry left (now − window, now]')
  assert.equal(b.record('k', ['abcd'], 1400).usage, 16)
  assert.equal(b.exceeded('other', 0), false)
})

test('LRU caps: creating a key beyond the cap evicts the least recently used one', () => {
  const evicted: number[] = []
  const m = new LruMap<number>(2, (v) => evicted.push(v))
  m.touch('a', () => 1)
  m.touch('b', () => 2)
  m.touch('a', () => 9) // a is now most recent
  m.touch('c', () => 3)
  assert.deepEqual([...m.entries()].map(([k]) => k), ['a', 'c'])
  assert.deepEqual(evicted, [2])
  const d = new CrossRequestDetector(settings(), undefined, 3)
  for (let i = 0; i < 10; i++) d.admit(`k${i}`, 'h', {values: 'abcdefgh', keys: ''}, dlp, 0, true)
  assert.equal(d.stats().entropy_tracker_active, 3)
  assert.equal(d.stats().fragment_buffer_active, 3)
})

test('fragment buffer: oldest fragments leave past max_buffer_bytes (one always kept, as its last bytes); the byte gauge follows', () => {
  const f = new FragmentBuffer(10, 60_000, 100)
  f.append('k', Buffer.from('aaaa'), 0)
  f.append('k', Buffer.from('bbbb'), 1)
  assert.equal(f.totalBytes, 8)
  f.append('k', Buffer.from('cccc'), 2)
  assert.equal(f.totalBytes, 8, 'the first fragment left')
  f.append('k', Buffer.from('0123456789XY'), 3)
  assert.equal(f.totalBytes, 10, 'a single oversized fragment keeps its last 10 bytes')
  f.append('j', Buffer.from('zz'), 3)
  assert.equal(f.totalBytes, 12)
  f.sweep(60_004)
  assert.equal(f.totalBytes, 0)
  assert.equal(f.activeKeys, 0)
})

test('a secret split across two requests is reported; one wholly inside a single request is not; warn patterns never count', () => {
  const d = new CrossRequestDetector(settings({entropy: {...settings().entropy, enabled: false}}))
  assert.equal(d.admit('s', 'h', extractPayload('http://h/?a=AKIAIOSF'), dlp, 0, true).block, null)
  const r = d.admit('s', 'h', extractPayload('http://h/?a=ODNN7REALKEY'), dlp, 1, true)
  assert.deepEqual(r.block, {kind: 'fragment', action: 'block', reason: 'cross-request secret detected: AWS Access ID', detail: 'fragment reassembly DLP match: AWS Access ID', pattern: 'AWS Access ID'})
  assert.equal(d.counters.dlpMatches, 1)
  const whole = new CrossRequestDetector(settings({entropy: {...settings().entropy, enabled: false}}))
  whole.admit('s', 'h', extractPayload('http://h/?a=hello'), dlp, 0, true)
  assert.equal(whole.admit('s', 'h', extractPayload(`http://h/?a=${AWS}`), dlp, 1, true).findings.length, 0, 'the per-request scanners own a secret inside one request')
  const warnOnly: TextDlp = (t) => ({matches: [], warnings: dlp(t).matches})
  const w = new CrossRequestDetector(settings({entropy: {...settings().entropy, enabled: false}}))
  w.admit('s', 'h', extractPayload('http://h/?a=AKIAIOSF'), warnOnly, 0, true)
  assert.equal(w.admit('s', 'h', extractPayload('http://h/?a=ODNN7REALKEY'), warnOnly, 1, true).findings.length, 0)
})

test('fragments outside the window do not reassemble', () => {
  const d = new CrossRequestDetector(settings({entropy: {...settings().entropy, enabled: false}, fragments: {enabled: true, maxBufferBytes: 65536, windowMs: 1000}}))
  d.admit('s', 'h', extractPayload('http://h/?a=AKIAIOSF'), dlp, 0, true)
  assert.equal(d.admit('s', 'h', extractPayload('http://h/?a=ODNN7REALKEY'), dlp, 1001, true).findings.length, 0)
})

test('decision order: entropy first (block returns), warn continues to fragments; enforce:false forces warn; exempt hosts skip entropy', () => {
  const tight = (action: 'block' | 'warn') => settings({entropy: {enabled: true, bitsPerWindow: 20, windowMs: 60_000, action, exemptDomains: ['*.exempt.example']}})
  const b = new CrossRequestDetector(tight('block'))
  const r = b.admit('s', 'h', extractPayload('http://h/?a=AKIAIOSF'), dlp, 0, true)
  assert.equal(r.block?.kind, 'entropy')
  assert.match(r.block!.detail, /^entropy budget exceeded: \d+\/20 bits$/)
  assert.equal(r.block!.reason, 'cross-request entropy budget exceeded')
  const w = new CrossRequestDetector(tight('warn'))
  w.admit('s', 'h', extractPayload('http://h/?a=AKIAIOSF'), dlp, 0, true)
  const r2 = w.admit('s', 'h', extractPayload('http://h/?a=ODNN7REALKEY'), dlp, 1, true)
  assert.deepEqual(r2.findings.map((f) => `${f.kind}:${f.action}`), ['entropy:warn', 'fragment:block'])
  const audit = new CrossRequestDetector(tight('block'))
  audit.admit('s', 'h', extractPayload('http://h/?a=AKIAIOSF'), dlp, 0, false)
  const r3 = audit.admit('s', 'h', extractPayload('http://h/?a=ODNN7REALKEY'), dlp, 1, false)
  assert.equal(r3.block, null)
  assert.deepEqual(r3.findings.map((f) => f.action), ['warn', 'warn'])
  const ex = new CrossRequestDetector(tight('block'))
  assert.equal(ex.admit('s', 'api.exempt.example', extractPayload('http://h/?a=AKIAIOSFxyzw'), dlp, 0, true).entropyExceeded, false)
  assert.equal(ex.connectExceeded('s', 'x', 0), false)
})

test('CONNECT records nothing but sees an exceeded budget; reset clears a key (values and keys streams)', () => {
  const d = new CrossRequestDetector(settings({entropy: {enabled: true, bitsPerWindow: 20, windowMs: 60_000, action: 'warn', exemptDomains: []}}))
  assert.equal(d.connectExceeded('s', 'h', 0), false)
  d.admit('s', 'h', extractPayload('http://h/?key=AKIAIOSFxyzw'), dlp, 0, true)
  assert.equal(d.connectExceeded('s', 'h', 1), true)
  assert.equal(d.clear('s'), true)
  assert.equal(d.connectExceeded('s', 'h', 1), false)
  assert.equal(d.stats().fragment_buffer_active, 0, 'both streams of the key are gone')
})

test('WebSocket frames: entropy over the whole message; text messages reassemble, binary ones do not', () => {
  const d = new CrossRequestDetector(settings({entropy: {...settings().entropy, enabled: false}}))
  d.admitFrame('s', 'h', 'AKIAIOSF', true, dlp, 0, true)
  assert.equal(d.admitFrame('s', 'h', 'ODNN7REALKEY', true, dlp, 1, true).block?.kind, 'fragment')
  const bin = new CrossRequestDetector(settings({entropy: {...settings().entropy, enabled: false}}))
  bin.admitFrame('s', 'h', Buffer.from('AKIAIOSF'), false, dlp, 0, true)
  assert.equal(bin.admitFrame('s', 'h', Buffer.from('ODNN7REALKEY'), false, dlp, 1, true).findings.length, 0)
})

test('WebSocket frames: a JSON text message reassembles as its string values, not its raw quotes and braces', () => {
  const off = settings({entropy: {...settings().entropy, enabled: false}})
  const raw = new CrossRequestDetector(off)
  raw.admitFrame('s', 'h', '{"t":"AKIAIOSF"}', true, dlp, 0, true)
  assert.equal(raw.admitFrame('s', 'h', '{"t":"ODNN7REALKEY"}', true, dlp, 1, true).findings.length, 0, 'the raw messages keep the key apart')
  const d = new CrossRequestDetector(off)
  d.admitFrame('s', 'h', '{"t":"AKIAIOSF"}', true, dlp, 0, true, 'AKIAIOSF')
  assert.equal(d.admitFrame('s', 'h', '{"t":"ODNN7REALKEY"}', true, dlp, 1, true, 'ODNN7REALKEY').block?.kind, 'fragment')
})
