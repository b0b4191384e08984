import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {systemClock} from '../../src/plugins/canonical/index.js'
import {ContractRuntime, watchStore, type LearnLockSettings} from '../../src/plugins/gate/index.js'
import {isPipelockError} from '../../src/plugins/errors/index.js'
import {until} from './proxy-harness.js'
import {cli, makeLab, promoteArgs, writeCandidate} from './learn-promote-harness.js'

// The live-lock runtime (learn-lifecycle §7.2–§7.5) against a real store written by
// `pipelock learn promote`: start-up, selection, same-hash reloads, missed-promote recovery,
// a vanished active.json (old set kept, unhealthy), fail-closed start-up, and the store watch.

const lab = makeLab()
const settings: LearnLockSettings = {
  mode: 'live',
  store_dir: lab.store,
  roster_path: lab.roster,
  environment: {id: 'prod', tenant: '', deployment_id: ''},
  pinned_root_fingerprint: lab.fp,
  minimum_signatures: 1,
}
const promote = (n: number): void => {
  const c = writeCandidate(lab, `cand-${n}`, n)
  const r = cli(promoteArgs(lab, c.file, n === 1 ? ['--environment-id', 'prod'] : []))
  assert.equal(r.code, 0, r.stderr)
}

describe('ContractRuntime', () => {
  it('starts on an empty store with nothing promoted (scanner-only), then adopts generation 1', () => {
    const rt = ContractRuntime.open(settings, systemClock)
    assert.deepEqual({g: rt.status().generation, o: rt.status().lastOutcome, h: rt.status().healthy}, {g: 0n, o: 'no_active', h: true})
    assert.equal(rt.resolve('shop-agent'), undefined)
    promote(1)
    assert.deepEqual(rt.reload(), {outcome: 'accepted'})
    const c = rt.resolve('shop-agent')
    assert.ok(c !== undefined)
    assert.equal(c.generation, 1n)
    assert.match(c.activeManifestHash ?? '', /^sha256:[0-9a-f]{64}$/)
    assert.equal(rt.resolve('another-agent'), undefined, 'an exact agent selector matches only that agent')
    assert.deepEqual(rt.reload(), {outcome: 'same_hash'})
  })

  it('adopts a generation whose prior it missed when the accepted history links back (§7.3 recovery)', () => {
    const rt = ContractRuntime.open(settings, systemClock)
    assert.equal(rt.status().generation, 1n)
    promote(2)
    promote(3)
    assert.deepEqual(rt.reload(), {outcome: 'accepted'})
    assert.equal(rt.status().generation, 3n)
  })

  it('a vanished active.json keeps the set in force but makes the runtime unhealthy until it returns', () => {
    const rt = ContractRuntime.open(settings, systemClock)
    const active = path.join(lab.store, 'active.json')
    const aside = path.join(lab.dir, 'active.aside')
    copyFileSync(active, aside)
    renameSync(active, path.join(lab.dir, 'gone.json'))
    const r = rt.reload()
    assert.equal(r.outcome, 'rejected')
    assert.match(r.error ?? '', /active manifest disappeared after generation 3/)
    assert.equal(rt.status().healthy, false)
    assert.equal(rt.resolve('shop-agent')?.generation, 3n, 'the last good set stays in force')
    copyFileSync(aside, active)
    assert.deepEqual(rt.reload(), {outcome: 'same_hash'})
    assert.equal(rt.status().healthy, true)
  })

  it('a store whose active.json was deleted does not start contract-free (manifests/ holds accepted generations)', () => {
    const active = path.join(lab.store, 'active.json')
    const aside = path.join(lab.dir, 'active.deleted')
    renameSync(active, aside)
    try {
      assert.throws(
        () => ContractRuntime.open(settings, systemClock),
        (e: unknown) =>
          isPipelockError(e) &&
          e.code === 'CONTRACT_RUNTIME_FAILED' &&
          /^contract loader init: contract runtime: active manifest .*active\.json is missing but the store has accepted generation 3 \(sha256:[0-9a-f]{64}\): restore it from manifests\/sha256-[0-9a-f]{64}\.json or promote a new generation$/.test(e.message),
      )
    } finally {
      renameSync(aside, active)
    }
    assert.equal(ContractRuntime.open(settings, systemClock).status().generation, 3n)
  })

  it('a tampered active.json is rejected, never adopted', () => {
    const rt = ContractRuntime.open(settings, systemClock)
    const active = path.join(lab.store, 'active.json')
    const aside = path.join(lab.dir, 'active.good')
    copyFileSync(active, aside)
    const doc = JSON.parse(readFileSync(active, 'utf8')) as {body: {generation: number}}
    doc.body.generation = 99
    writeFileSync(active, JSON.stringify(doc))
    const r = rt.reload()
    assert.notEqual(r.outcome, 'accepted')
    assert.equal(rt.status().generation, 3n)
    copyFileSync(aside, active)
  })

  it('refuses to start with a roster that does not match the pinned root', () => {
    assert.throws(
      () => ContractRuntime.open({...settings, pinned_root_fingerprint: 'sha256:' + '0'.repeat(64)}, systemClock),
      (e: unknown) => isPipelockError(e) && e.code === 'CONTRACT_RUNTIME_FAILED' && /^contract loader init: contract runtime: load roster: /.test(e.message),
    )
  })

  it('the store watch reloads after a promote (100 ms debounce)', async () => {
    const rt = ContractRuntime.open(settings, systemClock)
    let reloads = 0
    const w = watchStore({storeDir: lab.store, reload: () => (reloads++, rt.reload()), onError: () => undefined})
    await w.ready
    promote(4)
    assert.ok(await until(async () => rt.status().generation === 4n, 10_000), `generation after promote: ${rt.status().generation}`)
    assert.ok(reloads >= 1)
    await w.close()
  })
})
