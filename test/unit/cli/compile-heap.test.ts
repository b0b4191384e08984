/**
 * src/cli/v8-flags.ts (sizeCompileHeap): `learn compile` lets V8's old generation grow by 30 %
 * over the live size after each mark-compact, the verifier's setting, unless the operator gave
 * `--heap-growing-percent`. The memory effect is measured by `npm run bench -- compile`.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import {compactHeapNow, sizeCompileHeap, sizeVerifierHeap} from '../../../src/cli/v8-flags.js'
import {repoPath} from '../../helpers/vectors.js'

describe('learn compile heap sizing', () => {
  it('is the verifier\'s setting (test/unit/cli/verifier-heap.test.ts pins when it applies)', () => {
    assert.equal(sizeCompileHeap, sizeVerifierHeap)
  })

  it('the learn compile command applies it', () => {
    assert.match(readFileSync(repoPath('dist', 'src', 'commands', 'learn', 'compile.js'), 'utf8'), /sizeCompileHeap\(process\.execArgv, process\.env\.NODE_OPTIONS\)/)
  })

  it('the learn compile command hands compactHeapNow to the compile (called before a large signed body is written)', () => {
    const js = readFileSync(repoPath('dist', 'src', 'commands', 'learn', 'compile.js'), 'utf8')
    assert.match(js, /compactHeapNow\(process\.execArgv, process\.env\.NODE_OPTIONS\)/)
    assert.equal((js.match(/\bcompactHeap( }|,)/g) ?? []).length, 2, 'both the fixture and the ordinary compile get it')
  })

  it('compactHeapNow collects and leaves no gc function behind; it stands back for the operator\'s own GC flags', () => {
    const before = new Array(1000).fill(0).map((_, i) => ({i}))
    assert.equal(compactHeapNow([], undefined), true)
    assert.equal(before.length, 1000, 'live objects survive the collection')
    assert.equal(typeof (globalThis as {gc?: unknown}).gc, 'undefined')
    assert.equal(compactHeapNow(['--expose-gc'], undefined), false)
    assert.equal(compactHeapNow([], '--no-concurrent-sweeping'), false)
    assert.equal(compactHeapNow([], '--compact_on_every_full_gc'), false)
  })
})
