/**
 * The build's table of `regexCore` for the built-in DLP patterns (src/plugins/scanner/
 * regex-core-table.ts, written by scripts/gen-regex-core-table.mjs; issue 18, start-up) must be
 * exactly what the analysis computes now: the junction screen trusts it to prove URLs clean.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import {CORE_DLP_PATTERNS, DEFAULT_DLP_PATTERNS} from '../../../src/plugins/scanner/catalogue.js'
import {compileDlp} from '../../../src/plugins/scanner/regex.js'
import {regexCore} from '../../../src/plugins/scanner/regex-core.js'
import {builtinRegexCores, readRegexCoreTable, regexCoreLookup} from '../../../src/plugins/scanner/regex-core-table.js'
import {JUNCTION_CORE_CAP} from '../../../src/plugins/scanner/subsequence.js'
import {repoPath} from '../../helpers/vectors.js'

describe('regex core table (built-in DLP patterns)', () => {
  it('the built table is the analysis of every built-in pattern, computed now', () => {
    const built = readRegexCoreTable()
    assert.ok(built !== null, 'npm run build writes dist/src/plugins/scanner/regex-core-table.json')
    assert.deepEqual(built, builtinRegexCores(JUNCTION_CORE_CAP))
    const sources = [...CORE_DLP_PATTERNS, ...DEFAULT_DLP_PATTERNS].map((p) => compileDlp(p.regex).source)
    assert.deepEqual(Object.keys(built.cores).sort(), [...new Set(sources)].sort())
    // Most built-in patterns have a core (else the screen would be off and the table pointless).
    assert.ok(Object.values(built.cores).every((c) => c !== null), 'every built-in pattern has a core')
  })

  it('is tied to the analysis module that computed it', () => {
    const built = readRegexCoreTable()!
    const sha = createHash('sha256').update(readFileSync(repoPath('dist', 'src', 'plugins', 'scanner', 'regex-core.js'))).digest('hex')
    assert.equal(built.analysis, sha)
  })

  it('the lookup answers from the table for its cap and computes everything else', () => {
    const source = compileDlp(DEFAULT_DLP_PATTERNS[0]!.regex).source
    const fake = {analysis: 'x', cap: JUNCTION_CORE_CAP, cores: {[source]: {source: 'TABLE', maxLen: 1}}}
    const lookup = regexCoreLookup(fake)
    assert.deepEqual(lookup(source, JUNCTION_CORE_CAP), {source: 'TABLE', maxLen: 1})
    assert.deepEqual(lookup(source, 10), regexCore(source, 10))
    assert.deepEqual(lookup('sk-[a-z0-9]{30,}', JUNCTION_CORE_CAP), regexCore('sk-[a-z0-9]{30,}', JUNCTION_CORE_CAP))
    assert.deepEqual(regexCoreLookup(null)(source, JUNCTION_CORE_CAP), regexCore(source, JUNCTION_CORE_CAP))
  })
})
