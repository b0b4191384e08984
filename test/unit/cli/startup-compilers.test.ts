/**
 * src/cli/v8-flags.ts (deferCompilers, raiseWasmTieringBudget): `pipelock run` starts on V8's interpreter alone and gives the
 * baseline and optimizing compilers back once it listens (issue 18). Checked in a child with V8's
 * own view of a hot function (`%GetOptimizationStatus`, natives syntax): no Sparkplug or TurboFan
 * code while deferred; TurboFan code again after the resume, so traffic runs optimized as before.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {deferCompilers, raiseWasmTieringBudget} from '../../../src/cli/v8-flags.js'
import {repoPath} from '../../helpers/vectors.js'

// V8's OptimizationStatus bits (src/runtime/runtime.h).
const TURBOFANNED = 1 << 6
const BASELINE = 1 << 15

describe('start-up compilers', () => {
  it('deferred until resumed: interpreted while starting, optimized after', () => {
    const mod = pathToFileURL(repoPath('dist', 'src', 'cli', 'v8-flags.js')).href
    const script = `
      const {deferCompilers, resumeCompilers} = await import(${JSON.stringify(mod)})
      const hot = new Function('n', 'let s = 0; for (let i = 0; i < n; i++) s += i * 3; return s')
      const status = () => new Function('f', 'return %GetOptimizationStatus(f)')(hot)
      const applied = deferCompilers([], undefined)
      for (let i = 0; i < 50000; i++) hot(50)
      const deferred = status()
      resumeCompilers([], undefined)
      for (let i = 0; i < 50000; i++) hot(50)
      console.log(JSON.stringify({applied, deferred, resumed: status()}))`
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', '--input-type=module', '-e', script], {encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    const got = JSON.parse(r.stdout) as {applied: boolean; deferred: number; resumed: number}
    assert.equal(got.applied, true)
    assert.equal(got.deferred & (TURBOFANNED | BASELINE), 0, `deferred status ${got.deferred.toString(2)}`)
    assert.notEqual(got.resumed & TURBOFANNED, 0, `resumed status ${got.resumed.toString(2)}`)
  })

  it('leaves the compilers alone when the operator set a compiler flag', () => {
    assert.equal(deferCompilers(['--no-opt'], undefined), false)
    assert.equal(deferCompilers([], '--max-old-space-size=512 --turbofan'), false)
    assert.equal(deferCompilers(['--jitless'], undefined), false)
  })

  it('WebAssembly: a hot function stays on Liftoff longer with the raised budget, and reaches TurboFan by default', () => {
    const mod = pathToFileURL(repoPath('dist', 'src', 'cli', 'v8-flags.js')).href
    // (func (export "f") (param i32) (result i32) (local i32): sums n, n-1, …, 1 in a loop)
    const wasm = [0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 127, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0,
      10, 29, 1, 27, 1, 1, 127, 3, 64, 32, 1, 32, 0, 106, 33, 1, 32, 0, 65, 1, 107, 33, 0, 32, 0, 13, 0, 11, 32, 1, 11]
    const run = (raise: boolean): {applied: boolean; sum: number; turbofan: boolean} => {
      const script = `
        const {raiseWasmTieringBudget} = await import(${JSON.stringify(mod)})
        const applied = ${raise} ? raiseWasmTieringBudget([], undefined) : false
        const {instance} = await WebAssembly.instantiate(new Uint8Array(${JSON.stringify(wasm)}))
        const f = instance.exports.f
        const turbofan = () => new Function('f', 'return %IsTurboFanFunction(f)')(f)
        for (let i = 0; i < 200; i++) f(1000)
        // Tier-up runs on a background thread: wait for it (bounded).
        for (let i = 0; i < 50 && !turbofan(); i++) await new Promise((r) => setTimeout(r, 20))
        console.log(JSON.stringify({applied, sum: f(10), turbofan: turbofan()}))`
      const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], {encoding: 'utf8'})
      assert.equal(r.status, 0, r.stderr)
      return JSON.parse(r.stdout) as {applied: boolean; sum: number; turbofan: boolean}
    }
    assert.deepEqual(run(false), {applied: false, sum: 55, turbofan: true})
    assert.deepEqual(run(true), {applied: true, sum: 55, turbofan: false})
    assert.equal(raiseWasmTieringBudget(['--wasm-tiering-budget=1000'], undefined), false)
    assert.equal(raiseWasmTieringBudget([], '--liftoff-only'), false)
  })
})
