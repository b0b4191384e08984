/**
 * Per-field tails of cross-request detection: a value is scanned joined to its own field's
 * recent values, so other fields of the request do not stand between two pieces of a key; the
 * state is bounded (fields per session, characters per tail, the window) and so is the work.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  COUNTER_STEP, CrossRequestDetector, extractPayload, FIELD_FRAGMENT_CHARS, isCounterStep, FIELD_NAME_CHARS, FIELD_TAIL_CHARS, FieldTails, jsonStreams, jsonTextFields, MAX_FIELD_TAILS,
  type CeeSettings, type TextDlp,
} from '../../../src/plugins/cee/index.js'
import {fromPlain, parseJson} from '../../../src/plugins/canonical/index.js'
import {createScanner, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'

const scanner = createScanner(defaultScannerSettings())
/** Counts its calls: the work bound is part of what is tested. */
function countingDlp(): TextDlp & {calls: number} {
  const f = Object.assign((t: string) => {
    f.calls++
    return scanner.scanTextForDlp(t)
  }, {calls: 0})
  return f
}
// Built at run time: not a literal credential in the repository.
const HALF1 = ['AKIA', 'Z7QW3E'].join('')
const HALF2 = ['RT5Y', 'UI6OPL'].join('')
const WINDOW = 5 * 60_000

function settings(): CeeSettings {
  return {
    enabled: true,
    action: 'block',
    entropy: {enabled: false, bitsPerWindow: 4096, windowMs: WINDOW, action: 'warn', exemptDomains: []},
    fragments: {enabled: true, maxBufferBytes: 65536, windowMs: WINDOW},
  }
}

test('query: unrelated values before each half do not keep them apart; the block reads like the joined streams\'', () => {
  const d = new CrossRequestDetector(settings())
  const dlp = countingDlp()
  assert.equal(d.admit('s', 'h', extractPayload(`http://h/c?x=alpha&q=${HALF1}`), dlp, 0, true).findings.length, 0)
  const r = d.admit('s', 'h', extractPayload(`http://h/c?x=beta&q=${HALF2}`), dlp, 1, true)
  assert.equal(r.block?.reason, 'cross-request secret detected: AWS Access ID')
  assert.equal(r.block?.detail, 'fragment reassembly DLP match: AWS Access ID')
  assert.equal(d.counters.dlpMatches, 1)
})

test('JSON bodies, form bodies and MCP arguments: each value joins its own member path\'s tail', () => {
  const json = (o: unknown) => extractPayload('http://h/p', Buffer.from(JSON.stringify(o)), 'application/json')
  const d = new CrossRequestDetector(settings())
  const dlp = countingDlp()
  assert.equal(d.admit('j', 'h', json({id: 'req-1', a: {t: HALF1}}), dlp, 0, true).block, null)
  assert.equal(d.admit('j', 'h', json({id: 'req-2', a: {t: HALF2}}), dlp, 1, true).block?.pattern, 'AWS Access ID')
  const form = (s: string) => extractPayload('http://h/p', Buffer.from(s), 'application/x-www-form-urlencoded')
  assert.equal(d.admit('f', 'h', form(`id=one&t=${HALF1}`), dlp, 0, true).block, null)
  assert.equal(d.admit('f', 'h', form(`id=two&t=${HALF2}`), dlp, 1, true).block?.pattern, 'AWS Access ID')
  const args = (o: unknown) => jsonStreams(fromPlain(o as never))
  const m1 = args({path: '/tmp/a', text: HALF1})
  assert.equal(d.admitMessage('m', 'msg', m1.values, dlp, 0, m1.keys, m1.fields).block, null)
  const m2 = args({path: '/tmp/b', text: HALF2})
  assert.equal(d.admitMessage('m', 'msg', m2.values, dlp, 1, m2.keys, m2.fields).block?.pattern, 'AWS Access ID')
})

test('jsonStreams: string values joined, member names as a stream of their own, fields (strings and numbers as sent) by path without indexes', () => {
  const s = jsonStreams(parseJson('{"b":"x","n":41111111,"a":[{"c":"y"},"z",1e3],"t":true,"k":null}'))
  // Numbers join their own field's tail only: in the joined stream a paging loop's ids would read as one digit run.
  assert.equal(s.values, 'xyz')
  assert.equal(s.keys, 'bnactk')
  assert.deepEqual(s.fields, [['b', 'x'], ['n', '41111111'], ['a.c', 'y'], ['a', 'z'], ['a', '1e3']])
  assert.deepEqual(jsonStreams(undefined), {values: '', keys: '', fields: []})
  assert.deepEqual(jsonTextFields('{"t":"a","m":{"u":["b","c"]},"n":-1.5,"f":false}'), [['t', 'a'], ['m.u', 'b'], ['m.u', 'c'], ['n', '-1.5']])
  assert.equal(jsonTextFields('plain text'), undefined)
  assert.equal(jsonTextFields('{"broken"'), undefined)
})

test('repeating fields of ordinary traffic are not a finding: pagination, ids, a session token that stays the same', () => {
  const d = new CrossRequestDetector(settings())
  const dlp = countingDlp()
  for (let i = 1; i <= 40; i++) {
    assert.equal(d.admit('s', 'h', extractPayload(`http://h/list?page=${i}&sort=name&id=${1000 + i}`), dlp, i, true).findings.length, 0, `page ${i}`)
  }
})

test('bounds: a tail keeps its last FIELD_TAIL_CHARS characters; at most MAX_FIELD_TAILS fields per session, the least recently written dropped', () => {
  const t = new FieldTails(WINDOW, 10)
  const dlp = countingDlp()
  t.admit('s', [['a', 'x'.repeat(FIELD_TAIL_CHARS + 50)]], 0, dlp)
  assert.equal(t.totalChars, FIELD_TAIL_CHARS)
  const many = Array.from({length: MAX_FIELD_TAILS + 10}, (_, i) => [`f${i}`, 'v'] as const)
  t.admit('s', many, 1, dlp)
  assert.equal(t.fieldsOf('s'), MAX_FIELD_TAILS)
  assert.equal(t.totalChars, MAX_FIELD_TAILS, 'the long tail of `a` was the oldest and went first')
  // A dropped field has no tail any more: its next value is not joined to anything.
  const t2 = new FieldTails(WINDOW, 10)
  t2.admit('s', [['q', HALF1]], 0, dlp)
  t2.admit('s', Array.from({length: MAX_FIELD_TAILS}, (_, i) => [`f${i}`, 'v'] as const), 1, dlp)
  assert.equal(t2.admit('s', [['q', HALF2]], 2, dlp), null)
  // Names are cut to FIELD_NAME_CHARS: a longer name shares its prefix's tail.
  const t3 = new FieldTails(WINDOW, 10)
  t3.admit('s', [['n'.repeat(FIELD_NAME_CHARS) + 'x', HALF1]], 0, dlp)
  assert.equal(t3.admit('s', [['n'.repeat(FIELD_NAME_CHARS) + 'y', HALF2]], 1, dlp), 'AWS Access ID')
})

test('bounds: one DLP scan per field that has a live tail and a short new value; none for new fields or long values', () => {
  const t = new FieldTails(WINDOW, 10)
  const dlp = countingDlp()
  // Letters, not integers: integers a few apart are a counter's steps, which are never joined.
  t.admit('s', [['a', 'p'], ['b', 'q'], ['a', 'r']], 0, dlp)
  assert.equal(dlp.calls, 0, 'no tail yet: nothing to join')
  t.admit('s', [['a', 's'], ['b', 'z'.repeat(FIELD_FRAGMENT_CHARS + 1)], ['c', 't']], 1, dlp)
  assert.equal(dlp.calls, 1, 'a (its values of one request joined) is scanned once; b is too long to be a fragment; c is new')
  // The long value still moved b's tail on: a short value after it is joined to its end.
  t.admit('s', [['b', 'y']], 2, dlp)
  assert.equal(dlp.calls, 2)
})

test('bounds: tails expire with the window, in the sweep and when read; clear drops a session\'s tails', () => {
  const t = new FieldTails(1000, 10)
  const dlp = countingDlp()
  t.admit('s', [['q', HALF1]], 0, dlp)
  assert.equal(t.admit('s', [['q', HALF2]], 1001, dlp), null, 'the first half left the window')
  t.sweep(2002)
  assert.equal(t.activeKeys, 0)
  assert.equal(t.totalChars, 0)
  t.admit('s', [['q', HALF1]], 0, dlp)
  assert.equal(t.clear('s'), true)
  assert.equal(t.admit('s', [['q', HALF2]], 1, dlp), null)
  // The detector's reset clears them too.
  const d = new CrossRequestDetector(settings())
  d.admit('k', 'h', extractPayload(`http://h/?x=1&q=${HALF1}`), dlp, 0, true)
  assert.equal(d.clear('k'), true)
  assert.equal(d.admit('k', 'h', extractPayload(`http://h/?x=2&q=${HALF2}`), dlp, 1, true).block, null)
})

test('a secret wholly inside one value is the per-request scanners\' job, not a cross-request finding', () => {
  const t = new FieldTails(WINDOW, 10)
  const dlp = countingDlp()
  t.admit('s', [['q', 'hello']], 0, dlp)
  assert.equal(t.admit('s', [['q', HALF1 + HALF2]], 1, dlp), null)
})

test('a refused request is not recorded in the tails: the same half sent again is refused again', () => {
  const d = new CrossRequestDetector(settings())
  const dlp = countingDlp()
  d.admit('s', 'h', extractPayload(`http://h/c?x=alpha&q=${HALF1}`), dlp, 0, true)
  assert.equal(d.admit('s', 'h', extractPayload(`http://h/c?x=beta&q=${HALF2}`), dlp, 1, true).block?.pattern, 'AWS Access ID')
  assert.equal(d.admit('s', 'h', extractPayload(`http://h/c?x=gamma&q=${HALF2}`), dlp, 2, true).block?.pattern, 'AWS Access ID')
  // A warning lets the request through: then it is recorded.
  const w = new FieldTails(WINDOW, 10)
  w.admit('s', [['q', HALF1]], 0, dlp)
  assert.equal(w.admit('s', [['q', HALF2]], 1, dlp), 'AWS Access ID')
  assert.equal(w.totalChars, HALF1.length + HALF2.length)
})

test('a counter is not a split number: ids and pages counting up or down never join, a split card number still does', () => {
  // Every sequence of 8 ids from 4000 to 4999 (as an agent paging through records): before the
  // counter rule about one in five of them ended in a card-number finding (issuer 4, Luhn valid).
  const dlp = countingDlp()
  for (let start = 4000; start < 5000; start += 7) {
    const t = new FieldTails(WINDOW, 100)
    for (let id = start; id < start + 8; id++) {
      for (const [name, value] of [['id', String(id)], ['page', String(start + 8 - id)]] as const) {
        assert.equal(t.admit('k', [[name, value]], id, dlp), null, `${name} ${value} after ${start}`)
      }
    }
  }
  // The halves of a card number are far apart: they still join, in JSON numbers and in query values.
  const t = new FieldTails(WINDOW, 100)
  assert.equal(t.admit('k', [['n', '41111111']], 0, dlp), null)
  assert.equal(t.admit('k', [['n', '11111111']], 1, dlp), 'Credit Card Number')
  assert.ok(isCounterStep('4028', '4029') && isCounterStep('10', '9') && isCounterStep('7', String(7 + COUNTER_STEP)))
  assert.ok(!isCounterStep('41111111', '11111111') && !isCounterStep('7', String(8 + COUNTER_STEP)) && !isCounterStep('a1', 'a2') && !isCounterStep('1.5', '2.5'))
})

test('after a counter step the tail restarts at it: the digits of a paging loop do not pile up before the next value', () => {
  const dlp = countingDlp()
  const t = new FieldTails(WINDOW, 100)
  for (let id = 4028; id < 4032; id++) t.admit('k', [['id', String(id)]], id, dlp)
  // Not a step: joined to the tail, which holds only the last id, not 4028402940304031.
  dlp.calls = 0
  assert.equal(t.admit('k', [['id', 'x']], 5000, dlp), null)
  assert.equal(dlp.calls, 1)
})
