import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fixedClock} from '../../../src/plugins/canonical/index.js'
import {decodeEntry, entryHash, GENESIS} from '../../../src/plugins/capture/index.js'
import {buildInfoUnavailableDigests, loadContract} from '../../../src/plugins/contracts/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {compileContract, type CompileConfig} from '../../../src/plugins/learn/index.js'
import {keyPairFromSeed, sha256} from '../../../src/plugins/signing/index.js'

// Compile behaviour on hand-built chains (every line correctly hashed and linked).

interface Rec {
  type?: string
  ts?: string
  session?: string
  detail: unknown
}

function chain(recs: Rec[]): Buffer {
  let prev = GENESIS
  const lines = recs.map((r, i) => {
    const type = r.type ?? 'capture'
    const body = {v: 2, seq: i, ts: r.ts ?? `2026-05-01T10:00:${String(i % 60).padStart(2, '0')}Z`, session_id: r.session ?? 's1', type, event_kind: type === 'capture' ? 'url' : type, transport: 'forward', summary: 'x', detail: r.detail, prev_hash: prev, hash: ''}
    const e = decodeEntry(JSON.stringify(body))
    body.hash = entryHash({...e, prevHash: prev})
    prev = body.hash
    return JSON.stringify(body)
  })
  return Buffer.from(lines.join('\n') + '\n')
}

function cap(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {capture_schema_version: 1, agent: 'a1', action_class: 'read', request: {method: 'GET', url}, effective_action: 'allow', ...extra}
}

const CONFIG: CompileConfig = {
  agent: 'a1',
  floors: {min_sessions: 1, min_events: 1, min_windows: 1},
  compileConfigHash: 'sha256:t',
  pipelockVersion: 't',
  pipelockBuildSha: 't',
  goVersion: 't',
  moduleDigestRoot: 'sha256:t',
}

async function compile(bytes: Buffer, config: Partial<CompileConfig> = {}) {
  return compileContract([{name: 'mem.jsonl', bytes}], {...CONFIG, ...config}, {
    clock: fixedClock('2026-05-02T00:00:00Z'),
    signer: {keyPair: keyPairFromSeed(sha256('unit')), keyId: 'unit'},
    moduleDigests: buildInfoUnavailableDigests(),
  })
}

test('malformed vs skipped: URL/path failures count, bad summaries (Q7) and checkpoints do not', async () => {
  const r = await compile(
    chain([
      {detail: cap('https://a.example/v1/users/')}, // Q5 not reproduced: an event, same path as /v1/users
      {detail: cap('https://a.example/v1/users')},
      {detail: cap('https://a.example/')},
      {detail: cap('ftp://a.example/x')}, // malformed
      {detail: cap('https://a.example/a//b')}, // malformed
      {detail: cap('https://a.example/%E2%80%A8')}, // line separator: malformed, not a compile failure
      {detail: {...cap('https://a.example/x'), capture_schema_version: 2}}, // ingest error, not counted
      {type: 'checkpoint', detail: {entry_count: 1}},
      {type: 'capture_drop', detail: {count: 7, reason: 'backpressure'}},
      {type: 'capture_drop', detail: {count: 'many'}}, // malformed
    ]),
  )
  assert.equal(r.stats.eventsIngested, 3)
  assert.equal(r.stats.malformed, 4)
  assert.equal(r.stats.dropped, 7)
  assert.equal(r.stats.ingestErrors, 1)
  const env = loadContract(r.yaml, 'c.yaml')
  const paths = (env.body.get('rules') as Map<string, unknown>[]).map((x) => ((x.get('selector') as Map<string, unknown>).get('paths') as Map<string, string>[] | undefined)?.[0]?.get('value'))
  assert.ok(paths.includes('/v1/users'))
  assert.ok(!paths.some((p) => p?.endsWith('/') && p !== '/'))
})

test('windows: hour buckets since Go zero time; window range and per-rule windows', async () => {
  const r = await compile(
    chain([
      {ts: '2026-05-01T09:59:59.999Z', detail: cap('https://a.example/x')},
      {ts: '2026-05-01T10:00:00+01:00', detail: cap('https://a.example/x')}, // = 09:00Z
      {ts: '2026-05-01T12:30:00Z', detail: cap('https://a.example/y')},
    ]),
  )
  assert.match(r.yaml, /end: "2026-05-01T13:00:00Z"/)
  assert.match(r.yaml, /start: "2026-05-01T09:00:00Z"/)
  assert.match(r.review, /Observation window: 2026-05-01T09:00:00Z to 2026-05-01T13:00:00Z/)
})

test('accept_tail lifts the promotion block; the cap drops overflow families from the rules', async () => {
  const recs: Rec[] = []
  for (const [p, n] of [['a', 6], ['b', 5], ['c', 4], ['d', 3]] as const) for (let i = 0; i < n; i++) recs.push({detail: cap(`https://w.example/${p}`)})
  const base = {normalization: {min_distinct_values: 1000}, cardinalityCapPerHost: 2}
  const blocked = await compile(chain(recs), base)
  assert.match(blocked.review, /- w\.example: promotion blocked; tail 38\.89% \(7\/18\)\. Re-run with accept_tail or split high-traffic patterns\./)
  assert.ok(!blocked.yaml.includes('value: /c'))
  const accepted = await compile(chain(recs), {...base, acceptTail: true})
  assert.match(accepted.review, /^- w\.example: tail 38\.89% \(7\/18\)$/m)
})

test('no events: COMPILE_NO_EVENTS naming the last entry read', async () => {
  await assert.rejects(
    compile(chain([{detail: cap('ftp://x/')}, {type: 'checkpoint', detail: {}}])),
    (e: unknown) => e instanceof PipelockError && e.code === 'COMPILE_NO_EVENTS' && e.location?.file === 'mem.jsonl' && e.location.line === 2,
  )
})

test('no events in an empty file: COMPILE_NO_EVENTS names the file, not a line 0', async () => {
  await assert.rejects(compile(Buffer.alloc(0)), (e: unknown) => e instanceof PipelockError && e.code === 'COMPILE_NO_EVENTS' && e.location?.file === 'mem.jsonl' && e.location.line === undefined)
})

test('an absent ts hashes as Go zero time', () => {
  const body = {v: 2, seq: 0, session_id: 's', type: 'capture', transport: '', summary: '', detail: null, prev_hash: GENESIS, hash: ''}
  const e = decodeEntry(JSON.stringify(body))
  assert.equal(e.ts, '0001-01-01T00:00:00Z')
})

test('rule ids hash the key bytes: an ASCII key as text, a key with bytes above 0x7f as those bytes (§8)', async () => {
  const {ruleId} = await import('../../../src/plugins/learn/rules.js')
  const {createHash} = await import('node:crypto')
  // Byte strings: `\xc3\xbc` is the UTF-8 of ü, one byte per character.
  for (const key of ['host=api.example.com;path=/v1/items', 'host=xn--bcher-kva.example;path=/\xc3\xbcber;method=GET', 'host=x.example;path=/%3B']) {
    assert.equal(ruleId(key), 'r-' + createHash('sha256').update(Buffer.from(key, 'latin1')).digest('hex').slice(0, 20))
  }
  assert.equal(ruleId('host=api.example.com'), 'r-' + createHash('sha256').update('host=api.example.com').digest('hex').slice(0, 20))
})
