/**
 * Issue 12 (RSS per MCP wrap): the DLP engine's two alternation pre-filters are compiled on first
 * read, not when the engine is built (≈ 1.4 MiB of RE2 programs that only the URL scan and an
 * undecided set pass read). Built late, they must be exactly what the eager build compiled (the
 * oracle below is that build's expression), and text verdicts that go through them must not move.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {compileAsWritten, createDlpEngine, defaultScannerSettings, scanTextForDlp} from '../../../src/plugins/scanner/index.js'
import type {DlpEngine} from '../../../src/plugins/scanner/index.js'
import {anthropicKey, awsKeyId, githubToken} from './fixtures.js'

/** The pre-filter as the engine compiled it before (at build time, from the same pattern list). */
function eagerPrefilter(patterns: DlpEngine['all']): string {
  return compileAsWritten(patterns.map((p) => `(?:${p.re.source})`).join('|')).source
}

test('the pre-filters are built on first read, once, and are the eager build exactly', () => {
  const settings = defaultScannerSettings()
  settings.dlp.patterns = [{name: 'Anchored', severity: 'high', regex: '^start-[0-9]{6}$'}]
  const engine = createDlpEngine(settings)
  for (const key of ['corePrefilter', 'allPrefilter'] as const) {
    const d = Object.getOwnPropertyDescriptor(engine, key)
    assert.equal(typeof d?.get, 'function', `${key} is read through a getter (built on first read)`)
    assert.equal('value' in d!, false)
  }
  const core = engine.corePrefilter
  const all = engine.allPrefilter
  assert.ok(core !== null && all !== null)
  assert.equal(engine.corePrefilter, core, 'built once')
  assert.equal(engine.allPrefilter, all, 'built once')
  assert.equal(core.source, eagerPrefilter(engine.core))
  assert.equal(all.source, eagerPrefilter(engine.all))
  assert.equal(engine.all.length, engine.core.length + engine.configured.length)
})

test('without the set, text verdicts through the lazy pre-filters equal the per-pattern loop', () => {
  const settings = defaultScannerSettings()
  const engine = createDlpEngine(settings)
  // No set: runEngine reads the alternation (the path a set that cannot decide takes).
  const viaPrefilter: DlpEngine = Object.create(engine, {allSet: {value: null}})
  const loopOnly: DlpEngine = Object.create(engine, {allSet: {value: null}, corePrefilter: {value: null}, allPrefilter: {value: null}})
  let hits = 0
  for (const text of ['hello world', `key ${anthropicKey(1)} end`, `${awsKeyId(2)}\n${githubToken(3)}`, '123-45-6789', 'password=hunter22', '']) {
    const r = scanTextForDlp(viaPrefilter, text)
    assert.deepEqual(r, scanTextForDlp(loopOnly, text), text)
    hits += r.matches.length
  }
  assert.ok(hits >= 3, `secrets found through the pre-filter path (${hits})`)
})
