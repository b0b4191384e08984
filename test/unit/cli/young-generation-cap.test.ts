/**
 * src/cli/v8-flags.ts (releaseYoungGenerationUpTo, scavengeOnMainThread): once `run` listens, V8's young generation may grow again, but
 * only up to a semi-space cap (issue 16: a scavenge of a 16 MiB semi-space in a burst of
 * intercepted tunnels copied up to 8 MiB; without interception the cap is V8's own maximum). In a fresh node (real V8, its own heuristics): start-up's hold as bin/run.js
 * sets it, then a workload whose objects survive a few scavenges — which grows an uncapped young
 * generation past the cap — run in event-loop turns (the cap is re-decided after each GC).
 * Asserted: the largest semi-space seen reaches the cap (a doubling to it is allowed) and does not
 * pass it; without the cap, or with the operator's own flag, the same workload passes it.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {releaseYoungGenerationUpTo, runSemiSpaceCap, scavengeOnMainThread} from '../../../src/cli/v8-flags.js'
import {repoPath} from '../../helpers/vectors.js'

const MiB = 1024 * 1024

/** The largest semi-space seen while the workload ran, after `release` (an expression of cap, young, hold). */
function largestSemiSpace(release: string, nodeArgs: string[] = []): {semi: number; applied: boolean} {
  const url = (f: string): string => JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'cli', f)).href)
  const script = `
    const young = await import(${url('v8-flags.js')})
    const cap = await import(${url('v8-flags.js')})
    young.holdYoungGeneration(process.execArgv, undefined)
    const applied = ${release}
    let semi = 0
    let keep = []
    for (let turn = 0; turn < 400; turn++) {
      for (let i = 0; i < 4000; i++) {
        keep.push({i, a: [i, i + 1], s: 'k' + i})
        if (keep.length > 120000) keep = keep.slice(60000)
      }
      semi = Math.max(semi, cap.semiSpaceBytes())
      await new Promise((r) => setImmediate(r))
    }
    console.log(JSON.stringify({semi, applied}))`
  const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '')
  return JSON.parse(r.stdout) as {semi: number; applied: boolean}
}

describe('run: the young generation grows after listening, up to a cap', () => {
  it('stands back when the operator sized the young generation (node flags or NODE_OPTIONS)', () => {
    assert.equal(releaseYoungGenerationUpTo(['--max-semi-space-size=16'], undefined), null)
    assert.equal(releaseYoungGenerationUpTo([], '--semi-space-growth-factor=4'), null)
  })

  it('caps at 2 MiB while intercepting TLS, at V8\'s own 16 MiB otherwise', () => {
    assert.equal(runSemiSpaceCap(true), 2 * MiB)
    assert.equal(runSemiSpaceCap(false), 16 * MiB)
  })

  it('grows to the cap and no further; uncapped, the same workload grows past it', () => {
    const capped = largestSemiSpace('cap.releaseYoungGenerationUpTo(process.execArgv, undefined, cap.runSemiSpaceCap(true)) !== null')
    assert.ok(capped.applied)
    assert.ok(capped.semi > 1 * MiB && capped.semi <= 2 * MiB, `semi-space ${capped.semi}`)
    // A cap given as a function (run reads the config's interception switch at every GC) holds the same way.
    const read = largestSemiSpace(`cap.releaseYoungGenerationUpTo(process.execArgv, undefined, () => ${2 * MiB}) !== null`)
    assert.ok(read.semi > 1 * MiB && read.semi <= 2 * MiB, `semi-space ${read.semi}`)
    const at8 = largestSemiSpace(`cap.releaseYoungGenerationUpTo(process.execArgv, undefined, ${8 * MiB}) !== null`)
    assert.ok(at8.semi > 4 * MiB && at8.semi <= 8 * MiB, `semi-space ${at8.semi}`)
    // The release without a cap (V8's default growth factor, what run did before): V8 grows it past 4 MiB.
    const uncapped = largestSemiSpace("((await import('node:v8')).setFlagsFromString('--semi-space-growth-factor=2'), true)")
    assert.ok(uncapped.semi > 4 * MiB, `semi-space ${uncapped.semi}`)
  })

  it("an operator's young-generation flag turns the cap off", () => {
    const r = largestSemiSpace('cap.releaseYoungGenerationUpTo(process.execArgv, undefined, cap.runSemiSpaceCap(true)) !== null', ['--max-semi-space-size=16'])
    assert.equal(r.applied, false)
    assert.ok(r.semi > 4 * MiB, `semi-space ${r.semi}`)
  })
})

/**
 * The helper threads' share of every scavenge (V8's `--trace-gc-nvp` field
 * `background.scavenge.parallel`, summed) while a workload whose objects survive scavenges runs
 * in a fresh node with a 16 MiB young generation (large enough for V8 to split a scavenge), after
 * `apply` (an expression of cap).
 */
function helperScavengeMs(apply: string): {ms: number; scavenges: number} {
  const url = JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'cli', 'v8-flags.js')).href)
  const script = `
    const cap = await import(${url})
    ${apply}
    let keep = []
    for (let turn = 0; turn < 300; turn++) {
      for (let i = 0; i < 4000; i++) {
        keep.push({i, a: [i, i + 1], s: 'k' + i})
        if (keep.length > 200000) keep = keep.slice(100000)
      }
      await new Promise((r) => setImmediate(r))
    }`
  const r = spawnSync(process.execPath, ['--max-semi-space-size=16', '--trace-gc-nvp', '--input-type=module', '-e', script], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  let ms = 0
  let scavenges = 0
  for (const line of r.stdout.split('\n')) {
    if (!/\bgc=s\b/.test(line)) continue
    scavenges++
    ms += Number(/background\.scavenge\.parallel=([\d.]+)/.exec(line)?.[1] ?? 'NaN')
  }
  return {ms, scavenges}
}

describe('run: scavenges on the main thread alone once listening', () => {
  it("stands back when the operator set a scavenger or GC-threading flag (node flags or NODE_OPTIONS)", () => {
    assert.equal(scavengeOnMainThread(['--parallel-scavenge'], undefined), false)
    assert.equal(scavengeOnMainThread(['--no-parallel-scavenge'], undefined), false)
    assert.equal(scavengeOnMainThread([], '--trace-warnings --single-threaded-gc'), false)
    assert.equal(scavengeOnMainThread([], '--single_threaded'), false)
  })

  it('takes effect at run time: no helper thread works on a scavenge after it, where helpers did before', () => {
    const parallel = helperScavengeMs('')
    assert.ok(parallel.scavenges >= 5 && parallel.ms > 0, `helpers ${parallel.ms} ms over ${parallel.scavenges} scavenges`)
    const alone = helperScavengeMs('if (!cap.scavengeOnMainThread([], undefined)) throw new Error("not applied")')
    assert.ok(alone.scavenges >= 5, `${alone.scavenges} scavenges`)
    assert.equal(alone.ms, 0)
  })
})
