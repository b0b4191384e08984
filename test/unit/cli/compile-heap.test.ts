/**
 * src/cli/v8-flags.ts (sizeCompileHeap): `learn compile` lets V8's old generation grow by 30 %
 * over the live size after each mark-compact, the verifier's setting, unless the operator gave
 * `--heap-growing-percent`. The memory effect is measured by `npm run bench -- compile`.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import {sizeCompileHeap, sizeVerifierHeap} from '../../../src/cli/v8-flags.js'
import {repoPath} from '../../helpers/vectors.js'

describe('learn compile heap sizing', () => {
  it('is the verifier\'s setting (test/unit/cli/verifier-heap.test.ts pins when it applies)', () => {
    assert.equal(sizeCompileHeap, sizeVerifierHeap)
  })

  it('the learn compile command applies it', () => {
    assert.match(readFileSync(repoPath('dist', 'src', 'commands', 'learn', 'compile.js'), 'utf8'), /sizeCompileHeap\(process\.execArgv, process\.env\.NODE_OPTIONS\)/)
  })
})
