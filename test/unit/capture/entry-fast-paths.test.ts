import {test} from 'node:test'
import assert from 'node:assert/strict'
import {formatGoTime, parseGoTime, toEpochNanos, toUtc} from '../../../src/plugins/canonical/index.js'
import {decodeEntry} from '../../../src/plugins/capture/index.js'

// decodeEntry's fast paths (issue 18: `learn shadow` decodes every capture line): the writer-form
// `ts` read character by character, the writer's line layout compared in place, and `seq`'s
// 2^64 bound checked only from 20 digits. Each must give what the general path gives.

const HASH = 'a'.repeat(64)

function line(ts: string, seq = '1'): string {
  return `{"v":2,"seq":${seq},"ts":${JSON.stringify(ts)},"session_id":"s","type":"capture","event_kind":"url","transport":"forward","summary":"x","detail":{"a":1},"prev_hash":"genesis","hash":"${HASH}"}`
}

/** The general reading of a `ts`: Go's RFC 3339 parse, in UTC. */
function oracleTime(ts: string): {ts: string; epochSeconds: number; nanos: number} | 'refused' {
  try {
    const t = toUtc(parseGoTime(ts))
    const ns = toEpochNanos(t)
    const floor = ns - (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n)
    return {ts: formatGoTime(t), epochSeconds: Number(floor / 1_000_000_000n), nanos: t.nanos}
  } catch {
    return 'refused'
  }
}

test('decodeEntry: writer-form timestamps read as the RFC 3339 parser reads them', () => {
  const cases = [
    '2026-05-01T00:00:18.8158Z', '2026-05-01T00:00:18Z', '2026-05-01T23:59:59.123456789Z', '2026-05-01T00:00:00.1Z',
    '2024-02-29T12:00:00Z', '2000-02-29T00:00:00.5Z', '1970-01-01T00:00:00Z', '0100-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z',
    '1969-12-31T23:59:59.5Z', '1969-12-31T23:59:59.50Z', '1969-12-31T21:59:59.5-02:00',
    // the slow path's: trailing fraction zeros, offsets, a ten-digit fraction
    '2026-05-01T00:00:18.810Z', '2026-05-01T00:00:18.000000000Z', '2026-05-01T02:00:18.5+02:00', '2026-05-01T00:00:18.1234567891Z',
    // refused (by both)
    '2023-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-04-31T00:00:00Z', '2026-05-01T24:00:00Z', '2026-05-01T00:60:00Z',
    '2026-05-01T00:00:60Z', '2026-05-01T00:00:18.Z', '2026-05-01t00:00:18Z', '2026-05-01T00:00:18z', '2026-5-01T00:00:18Z',
    '2026-05-01T00:00:1aZ', '20260501T000018Z', '',
  ]
  for (const ts of cases) {
    const want = oracleTime(ts)
    if (want === 'refused') {
      assert.throws(() => decodeEntry(line(ts)), /ts: cannot parse/, ts)
      continue
    }
    const e = decodeEntry(line(ts))
    assert.deepEqual({ts: e.ts, epochSeconds: e.epochSeconds, nanos: e.nanos}, want, ts)
  }
  // years before 100: the fast path declines (Date.UTC would map them to 19xx), the slow one reads them
  const early = decodeEntry(line('0099-06-01T00:00:00Z'))
  assert.deepEqual({ts: early.ts, epochSeconds: early.epochSeconds, nanos: early.nanos}, oracleTime('0099-06-01T00:00:00Z'))
})

test('decodeEntry: seq is an unsigned 64-bit integer at every length', () => {
  for (const seq of ['0', '7', '9999999999999999999', '10000000000000000000', '18446744073709551615']) assert.equal(decodeEntry(line('2026-05-01T00:00:00Z', seq)).seq, seq)
  for (const seq of ['18446744073709551616', '99999999999999999999', '-1', '1.5']) {
    assert.throws(() => decodeEntry(line('2026-05-01T00:00:00Z', seq)), /seq: expected unsigned integer/, seq)
  }
})

test("decodeEntry: the writer's layout, compared in place, reads the members the full scan reads", () => {
  const detail = '{"surface":"url","request":{"url":"https://a.example/x?q=<b>&c"},"n":[1, 2]}'
  const writer = `{"v":2,"seq":5,"ts":"2026-05-01T00:00:00Z","session_id":"s","type":"capture","event_kind":"url","transport":"forward","summary":"x","detail":${detail},"prev_hash":"genesis","hash":"${HASH}"}`
  // The same members in forms the fast path declines: a space after `{`, upper-case hex in the
  // hash (not the writer's), a trailing space.
  const variants = [writer.replace('{"v"', '{ "v"'), writer + ' ']
  const want = decodeEntry(writer)
  assert.equal(want.detailJson, '{"surface":"url","request":{"url":"https://a.example/x?q=\\u003cb\\u003e\\u0026c"},"n":[1,2]}')
  for (const v of variants) assert.deepEqual(decodeEntry(v), want, v)
  const upper = writer.replace(HASH, 'A'.repeat(64))
  assert.deepEqual(decodeEntry(upper), {...want, hash: 'A'.repeat(64)})
  // A `,"detail":` inside the detail, a duplicate member, a tail that only looks like the writer's.
  const nested = writer.replace('"n":[1, 2]', '"n":",\\"detail\\":"')
  assert.equal(decodeEntry(nested).detailJson, '{"surface":"url","request":{"url":"https://a.example/x?q=\\u003cb\\u003e\\u0026c"},"n":",\\"detail\\":"}')
  const dup = writer.replace('"seq":5,', '"seq":5,"seq":6,')
  assert.equal(decodeEntry(dup).seq, '6')
  const shortHash = writer.replace(`"hash":"${HASH}"`, '"hash":"ab"')
  assert.equal(decodeEntry(shortHash).detailJson, want.detailJson)
})
