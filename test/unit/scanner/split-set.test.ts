/**
 * A pattern list too large for one RE2::Set (RE2 refuses a program over its memory limit) is
 * compiled as sets over halves of the list that answer together as one set would
 * (pattern-set.ts `SplitSet`): with 1,000 configured DLP patterns the engine ran every pattern
 * on every text, ≈ 15 times slower.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import RE2 from 're2'
import {compileSet} from '../../../src/plugins/scanner/pattern-set.js'
import {createScanner, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'
import {alnum} from './fixtures.js'

const SOURCES = Array.from({length: 1000}, (_, i) => `corp${i}_[A-Za-z0-9]{24}`)
const token = (i: number): string => `corp${i}_${alnum(24, i)}`

test('a list RE2 cannot compile as one set answers as one set, from sets over its halves', () => {
  assert.throws(() => new RE2.Set([...SOURCES, ...SOURCES.map((s) => `(?i)x${s}`)], 'u'), 'the list is over RE2’s limit for one set')
  const sources = [...SOURCES, ...SOURCES.map((s) => `(?i)x${s}`)]
  const set = compileSet(sources)
  assert.ok(set !== null)
  assert.deepEqual(set.sources, sources.map((s) => new RE2(s, 'u').source))
  const texts = [
    'nothing here', token(0), `a ${token(17)} b ${token(999)} c`, `x${token(500)}`.toUpperCase(), `${token(3)}\n${'X' + token(998)}`,
    `${token(1999)}`, Buffer.from(`${token(250)} and ${token(750)}`).toString(),
  ]
  let hits = 0
  for (const t of texts) {
    const want = sources.flatMap((s, i) => (new RE2(s, 'u').test(t) ? [i] : []))
    assert.deepEqual(set.match(t), want, t)
    assert.deepEqual(set.match(Buffer.from(t)), want, t)
    hits += want.length
  }
  assert.ok(hits >= 8, `hits ${hits}`)
  // A source that does not compile even alone still leaves no set.
  assert.equal(compileSet([...sources.slice(0, 1500), 'a(b', ...sources.slice(1500)]), null)
})

test('a DLP engine with 1,000 configured patterns keeps its set and finds each pattern', () => {
  const s = defaultScannerSettings()
  s.dlp.patterns = SOURCES.map((regex, i) => ({name: `Corp ${i}`, severity: 'high' as const, regex}))
  const sc = createScanner(s)
  assert.ok(sc.dlp.allSet !== null, 'the engine has a set')
  for (const i of [0, 421, 999]) assert.deepEqual([...new Set(sc.scanTextForDlp(`deploy ${token(i)} now`).matches.map((m) => m.pattern))], [`Corp ${i}`])
  assert.equal(sc.scanTextForDlp('deploy corp5_short now').matches.length, 0)
})
