import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {canonicalBytes, systemClock} from '../../../src/plugins/canonical/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {loadRoster} from '../../../src/plugins/signing/index.js'
import {reloadStore, runPromote, type LifecycleRequest} from '../../../src/plugins/store/index.js'
import type {DecodeCache} from '../../../src/plugins/store/validate.js'
import {makeLab, writeCandidate, type Lab} from '../../e2e/learn-promote-harness.js'

// One store operation reads the same contract several times (a reload: the active manifest, then
// every accepted manifest and the latest again for the anti-rollback floor). It is decoded once
// per operation; bytes that differ from the decoded ones are decoded (and checked) again.

function req(lab: Lab): LifecycleRequest {
  return {storeDir: lab.store, rosterPath: lab.roster, rosterRootFingerprint: lab.fp, activationKey: 'ops-alice', keystore: lab.ks, clock: systemClock, newId: () => `id-${Math.random().toString(16).slice(2)}`}
}

describe('a reload decodes each contract once', () => {
  const lab = makeLab()
  const cand = writeCandidate(lab, 'a', 0)
  runPromote({...req(lab), environmentId: 'prod', candidate: cand.file, selector: 'shop-agent', allowUnenforced: true})
  const g2 = runPromote({...req(lab), candidate: cand.file, selector: 'shop-agent', allowUnenforced: true})
  const opts = () => ({roster: loadRoster(lab.roster, lab.fp), clock: systemClock})

  it('the active manifest and both accepted generations share one decoded contract', () => {
    const decoded: DecodeCache = new Map()
    const v = reloadStore(lab.store, {...opts(), decoded}, {readOnly: true})
    assert.equal(v.generation, 2n)
    assert.equal(v.hash, g2.manifestHash)
    assert.deepEqual([...decoded.keys()], [cand.hash])
    // the contract validateDecoded returned for the active manifest is the very object every
    // later load of the floor (three of them) found again: decoded once
    assert.equal([...v.contracts.values()][0], decoded.get(cand.hash)?.contract)
    // and so are the bytes its signature covers
    const entry = decoded.get(cand.hash)
    assert.ok(entry?.signed !== undefined && entry.signed.equals(canonicalBytes(entry.contract.body)))
  })

  it('changed bytes under the same name are decoded again and refused, never taken from the cache', () => {
    const decoded: DecodeCache = new Map()
    reloadStore(lab.store, {...opts(), decoded}, {readOnly: true})
    const file = path.join(lab.store, 'history', `sha256-${cand.hash.slice(7)}.yaml`)
    const saved = readFileSync(file)
    writeFileSync(file, saved.toString('utf8').replace('Observed', 'Observer'))
    try {
      assert.throws(() => reloadStore(lab.store, {...opts(), decoded}, {readOnly: true}), (e: unknown) => e instanceof PipelockError && e.code === 'STORE_HISTORY_INVALID' && /body has/.test(e.message))
    } finally {
      writeFileSync(file, saved)
    }
  })
})
