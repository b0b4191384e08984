import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseHttpUrl, systemClock} from '../../../src/plugins/canonical/index.js'
import {resolveSalt, saltedHmac} from '../../../src/plugins/capture/index.js'
import {defaultConfig} from '../../../src/plugins/config/index.js'
import {CAPTURE_QUEUE_MAX, openCaptureSink} from '../../../src/plugins/proxy/capture-sink.js'
import type {Decision} from '../../../src/plugins/proxy/decision.js'
import {buildSnapshot} from '../../../src/plugins/proxy/state.js'

// Capture for learn-and-lock (runtime §21.3, learn-compile §2, §16): one record per decision,
// redacted unless --capture-raw, internal values salted or left out, a bounded queue whose
// overflow is counted with the drop sentinel.

const SECRET = 'AKIAQYLPMN5HHHFPZAM2'
const snap = buildSnapshot(defaultConfig(), 'sha256:test', {}, systemClock)

function decision(over: Partial<Decision>): Decision {
  return {
    requestId: 'req-1', transport: 'forward', method: 'GET', target: '', agent: 'shop', clientIp: '127.0.0.1', sessionKey: 'shop|127.0.0.1',
    verdict: 'allow', stage: 'none', layer: 'all', reason: null, severity: null, retry: null, class: null, detail: 'allowed', status: 200,
    warnings: [], bytes: 0, durationMs: 1, ...over,
  }
}

async function captureOf(decisions: Decision[], opts: {raw?: boolean; salt?: string} = {}): Promise<{dir: string; records: Array<Record<string, any>>; text: string; metrics: string}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-capsink-'))
  const sink = openCaptureSink({dir, clock: systemClock, snapshot: () => snap, build: {version: '0.1.0', sha: 'abc'}, raw: opts.raw === true, salt: opts.salt})
  for (const d of decisions) sink.record(d)
  await new Promise((r) => setImmediate(r))
  const out: string[] = []
  sink.renderMetrics(out)
  sink.close()
  const sdir = path.join(dir, 'shop|127.0.0.1')
  const text = readdirSync(sdir).map((f) => readFileSync(path.join(sdir, f), 'utf8')).join('')
  const records = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).filter((e) => e.type === 'capture')
  return {dir, records, text, metrics: out.join('\n')}
}

const workload = (): Decision[] => [
  decision({url: 'http://api.example.com/v1/users?page=2&token=opaque-session-value'}),
  decision({url: 'http://api.example.com/v1/orders', method: 'POST'}),
  decision({url: `http://api.example.com/v1/users?key=${SECRET}`, verdict: 'block', stage: 'url_scan', layer: 'dlp', reason: 'dlp_match', severity: 'critical', status: 403}),
  decision({url: `http://api.example.com/keys/${SECRET}/x`, verdict: 'block', stage: 'url_scan', layer: 'dlp', reason: 'dlp_match', severity: 'critical', status: 403}),
]

describe('capture sink', () => {
  it('writes one record per decision with the surface, outcome and effective action of the Decision', async () => {
    const {records} = await captureOf(workload())
    assert.equal(records.length, 4)
    const d = records.map((r) => r.detail)
    assert.deepEqual(d.map((x) => [x.surface, x.subsurface, x.effective_action, x.outcome]), [
      ['url', 'forward', 'allow', 'clean'],
      ['url', 'forward', 'allow', 'clean'],
      ['url', 'forward', 'block', 'blocked'],
      ['url', 'forward', 'block', 'blocked'],
    ])
    assert.equal(d[0].agent, 'shop')
    assert.equal(d[0].capture_schema_version, 1)
  })

  it('never writes a secret: path segments become their pattern label, query and samples are left out without a salt', async () => {
    const {records, text} = await captureOf(workload())
    assert.ok(!text.includes(SECRET))
    assert.ok(!text.includes('opaque-session-value'), 'query values are internal data: no salt, not written')
    assert.equal(records[0]!.detail.request.url, 'http://api.example.com/v1/users')
    assert.equal(records[0]!.detail.scanner_sample, undefined)
    assert.match(records[3]!.detail.request.url, /^http:\/\/api\.example\.com\/keys\/redacted-[a-z0-9-]+\/x$/)
  })

  it('with a salt, internal values are HMAC-SHA256 hex (§16)', async () => {
    const {records, text} = await captureOf(workload(), {salt: 'pepper'})
    const raw = 'http://api.example.com/v1/users?page=2&token=opaque-session-value'
    assert.equal(records[0]!.detail.scanner_sample, saltedHmac('pepper', raw))
    assert.equal(records[0]!.detail.request.url, `http://api.example.com/v1/users?h=${saltedHmac('pepper', 'page=2&token=opaque-session-value')}`)
    assert.ok(!text.includes(SECRET))
  })

  it('--capture-raw writes the request as sent', async () => {
    const {records} = await captureOf(workload(), {raw: true})
    assert.equal(records[2]!.detail.request.url, `http://api.example.com/v1/users?key=${SECRET}`)
  })

  it('what compile reads (host, canonical path, method, action) is the same redacted or raw, unless a secret sat in the path', async () => {
    const key = (r: Record<string, any>): string => {
      const u = parseHttpUrl(r.detail.request.url)!
      return `${u.hostname} ${u.escapedPath} ${r.detail.request.method} ${r.detail.effective_action}`
    }
    const red = (await captureOf(workload())).records.map(key)
    const raw = (await captureOf(workload(), {raw: true})).records.map(key)
    assert.deepEqual(red.slice(0, 3), raw.slice(0, 3))
    assert.notEqual(red[3], raw[3])
  })

  it('a full queue drops, counts and writes the capture_drop sentinel; nothing blocks', async () => {
    const many = Array.from({length: CAPTURE_QUEUE_MAX + 10}, (_, i) => decision({url: `http://api.example.com/v1/items/${i}`, requestId: `req-${i}`}))
    const {dir, records, metrics} = await captureOf(many)
    assert.equal(records.length, CAPTURE_QUEUE_MAX)
    assert.match(metrics, /^pipelock_learn_capture_dropped_total 10$/m)
    assert.match(metrics, /^pipelock_capture_dropped_total 10$/m)
    assert.match(metrics, new RegExp(`^pipelock_learn_capture_records_total ${CAPTURE_QUEUE_MAX}$`, 'm'))
    const meta = readdirSync(path.join(dir, 'capture-meta')).map((f) => readFileSync(path.join(dir, 'capture-meta', f), 'utf8')).join('')
    assert.match(meta, /"type":"capture_drop"/)
    assert.match(meta, /"count":10,"reason":"backpressure"/)
  })
})

describe('learn.privacy.salt_source (§16)', () => {
  it('resolves unset, ${ENV}, file: and literal sources, failing closed on bad ones', () => {
    assert.equal(resolveSalt('', {}), undefined)
    assert.equal(resolveSalt('${PL_SALT}', {PL_SALT: 's1'}), 's1')
    assert.throws(() => resolveSalt('${PL_SALT}', {}), /environment variable PL_SALT is unset or empty/)
    assert.throws(() => resolveSalt('${ PL_SALT}', {}), /name must be non-empty without surrounding whitespace/)
    const dir = mkdtempSync(path.join(tmpdir(), 'pl-salt-'))
    const f = path.join(dir, 'salt')
    writeFileSync(f, 'file-salt\n', {mode: 0o600})
    assert.equal(resolveSalt(`file:${f}`, {}), 'file-salt')
    writeFileSync(path.join(dir, 'open'), 'x', {mode: 0o644})
    assert.throws(() => resolveSalt(`file:${path.join(dir, 'open')}`, {}), /must not be readable by group or others/)
    assert.throws(() => resolveSalt('file:relative/salt', {}), /must be absolute and clean/)
    assert.equal(resolveSalt('literal', {}), 'literal')
    assert.equal(resolveSalt('a/b', {}), 'a/b', 'a slash inside a literal is still a literal')
    // A path without file: would key every capture with the path's own text.
    assert.throws(() => resolveSalt(f, {}), {message: `learn.privacy.salt_source: ${JSON.stringify(f)} looks like a file path, which would be used as the salt's own text; write file:${f} to read the salt from that file, or \${VAR} to read it from an environment variable`})
    for (const p of ['./salt', '../salt', '~/salt']) assert.throws(() => resolveSalt(p, {}), /looks like a file path.*write file:\/absolute\/path/)
  })
})
