/**
 * src/cli/v8-flags.ts (sizeCompileHeap): `learn compile` lets V8's old generation grow by 30 % over the live
 * size after each mark-compact (issue 36), unless the operator gave `--heap-growing-percent`
 * themselves. V8's heap sizing is a heuristic under load, so the memory effect is measured by
 * `npm run bench -- compile`, not asserted here; this pins when the flag is set, that this
 * Node's V8 knows it, and that the command applies it.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {sizeCompileHeap} from '../../../src/cli/v8-flags.js'
import {repoPath} from '../../helpers/vectors.js'

describe('learn compile heap sizing', () => {
  it('stands back when the operator gave --heap-growing-percent (node flags or NODE_OPTIONS)', () => {
    assert.equal(sizeCompileHeap(['--heap-growing-percent=50'], undefined), false)
    assert.equal(sizeCompileHeap([], '--heap_growing_percent=80'), false)
  })

  it('applies in a fresh process after start-up, and V8 recognises the flag', () => {
    const mod = pathToFileURL(repoPath('dist', 'src', 'cli', 'v8-flags.js')).href
    const script = `
      const {sizeCompileHeap} = await import(${JSON.stringify(mod)})
      const applied = sizeCompileHeap([], undefined)
      let garbage = 0
      for (let i = 0; i < 200000; i++) garbage += [i, 'x' + i].length
      console.log(JSON.stringify({applied, garbage}))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stderr, '')
    assert.deepEqual(JSON.parse(r.stdout), {applied: true, garbage: 400000})
  })

  it('the learn compile command applies it', () => {
    assert.match(readFileSync(repoPath('dist', 'src', 'commands', 'learn', 'compile.js'), 'utf8'), /sizeCompileHeap\(process\.execArgv, process\.env\.NODE_OPTIONS\)/)
  })
})
