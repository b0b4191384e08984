import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {emitSignedYaml, systemClock, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {contractHash, loadContract, signCanonical} from '../../../src/plugins/contracts/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {loadRoster, type Ed25519KeyPair} from '../../../src/plugins/signing/index.js'
import {checkSwap, runPromote, storedForm, storedFormLength, swapActive, type LifecycleRequest} from '../../../src/plugins/store/index.js'
import {repoPath} from '../../helpers/vectors.js'
import {makeLab, snapshot, writeCandidate, type Lab} from '../../e2e/learn-promote-harness.js'

// The store reads a contract back only up to 16 MiB (`pipelock run` decodes every active contract
// whole), so it must never accept one larger: promote refuses such a candidate before decoding it
// (a 158,778-rule candidate, 213 MB, once took 67 s and 3.4 GB, was staged, and left active.json
// naming a manifest the store never accepted), the pre-flight refuses a staged one, and a swap
// whose reload fails after the write puts the store back as it was.

const CAP = 16 * 1024 * 1024

function req(lab: Lab, extra: Partial<LifecycleRequest> = {}): LifecycleRequest {
  return {storeDir: lab.store, rosterPath: lab.roster, rosterRootFingerprint: lab.fp, activationKey: 'ops-alice', keystore: lab.ks, clock: systemClock, newId: () => `id-${Math.random().toString(16).slice(2)}`, ...extra}
}

/** A valid signed candidate over the cap: the first rule's rationale summary padded to `bytes`. */
function oversized(lab: Lab, bytes: number): string {
  const small = writeCandidate(lab, 'small', 0)
  const c = loadContract(readFileSync(small.file, 'utf8'), 'small.yaml')
  const body: JsonObject = new Map(c.body)
  const rules = [...(body.get('rules') as JsonObject[])]
  const first = new Map(rules[0] as JsonObject)
  first.set('rationale', new Map(first.get('rationale') as JsonObject).set('summary', 'x'.repeat(bytes)))
  rules[0] = first
  body.set('rules', rules)
  body.set('contract_hash', contractHash(body))
  const file = path.join(lab.dir, 'oversized.yaml')
  writeFileSync(file, emitSignedYaml(new Map<string, JsonValue>([['body', body], ['signature', signCanonical(body, lab.keys.get('ci-compile') as Ed25519KeyPair)]])))
  return file
}

describe('a contract over the store cap is never accepted', () => {
  it('learn promote refuses the candidate before decoding it, naming its size and the cap; the store is untouched', () => {
    const lab = makeLab()
    const file = oversized(lab, CAP)
    const before = snapshot(lab.store)
    assert.throws(
      () => runPromote({...req(lab, {environmentId: 'prod'}), candidate: file, selector: 'shop-agent', allowUnenforced: true}),
      (e: unknown) =>
        e instanceof PipelockError &&
        e.code === 'LIFECYCLE_REFUSED' &&
        new RegExp(`^learn promote: --candidate ${file} is \\d+ bytes as the store would hold it, over the ${CAP}-byte \\(16 MiB\\) cap of a contract in the store: `).test(e.message) &&
        /the contract store was not touched/.test(e.hint ?? ''),
    )
    assert.deepEqual(snapshot(lab.store), before)
  })

  it('a candidate just under the cap is promoted (the cap is on the bytes history/ holds)', () => {
    const lab = makeLab()
    const small = readFileSync(writeCandidate(lab, 'probe', 0).file).length
    // pad the summary so the stored file lands a little under the cap
    const file = oversized(lab, CAP - small - 4096)
    assert.ok(readFileSync(file).length <= CAP)
    const r = runPromote({...req(lab, {environmentId: 'prod'}), candidate: file, selector: 'shop-agent', allowUnenforced: true})
    assert.equal(r.generation, 1)
  })

  it('the swap pre-flight refuses a staged contract over the cap, and the swap writes nothing', () => {
    const lab = makeLab()
    const g1 = runPromote({...req(lab, {environmentId: 'prod'}), candidate: writeCandidate(lab, 'a', 0).file, selector: 'shop-agent', allowUnenforced: true})
    const raw = readFileSync(path.join(lab.store, 'active.json'))
    const hist = path.join(lab.store, 'history', `sha256-${g1.contractHash.slice(7)}.yaml`)
    const stored = readFileSync(hist)
    rmSync(lab.store, {recursive: true, force: true})
    const opts = {roster: loadRoster(lab.roster, lab.fp), clock: systemClock}
    const big = Buffer.concat([stored, Buffer.alloc(CAP, 0x20)])
    const swap = {raw, previousHash: '', previousGeneration: 0n, staged: new Map([[g1.contractHash, big]])}
    const refused = (e: unknown): boolean => e instanceof PipelockError && e.code === 'STORE_HISTORY_INVALID' && e.message === `contract store: contract history invalid: ${g1.contractHash} is ${big.length} bytes, over the ${CAP}-byte cap of a stored contract`
    assert.throws(() => checkSwap(lab.store, opts, swap), refused)
    assert.throws(() => swapActive(lab.store, opts, swap), refused)
    assert.equal(existsSync(path.join(lab.store, 'active.json')), false)
    assert.equal(existsSync(path.join(lab.store, 'history')), false)
  })

  it('a reload that fails after the write (the staged bytes changed under it) restores active.json and removes what the swap staged', () => {
    const lab = makeLab()
    const g1 = runPromote({...req(lab, {environmentId: 'prod'}), candidate: writeCandidate(lab, 'a', 0).file, selector: 'shop-agent', allowUnenforced: true})
    const raw = readFileSync(path.join(lab.store, 'active.json'))
    const stored = readFileSync(path.join(lab.store, 'history', `sha256-${g1.contractHash.slice(7)}.yaml`))
    rmSync(lab.store, {recursive: true, force: true})
    // The pre-flight reads the staged contract with get(); the write iterates: a contract that
    // changes between the two stands for any change the reload sees and the pre-flight did not.
    const tampered = Buffer.from(stored.toString('utf8').replace('Observed', 'Observer'), 'utf8')
    class Changing extends Map<string, Buffer> {
      override *[Symbol.iterator](): MapIterator<[string, Buffer]> {
        for (const [k] of super.entries()) yield [k, tampered]
      }
    }
    const staged = new Changing([[g1.contractHash, stored]])
    const opts = {roster: loadRoster(lab.roster, lab.fp), clock: systemClock}
    assert.throws(() => swapActive(lab.store, opts, {raw, previousHash: '', previousGeneration: 0n, staged}), (e: unknown) => e instanceof PipelockError && e.code === 'STORE_HISTORY_INVALID')
    assert.equal(existsSync(path.join(lab.store, 'active.json')), false, 'active.json was not taken back')
    assert.deepEqual(readdirSync(path.join(lab.store, 'history')), [], 'the staged contract was left in history/')
    const journal = readFileSync(path.join(lab.store, '.activation_journal.jsonl'), 'utf8').trim().split('\n')
    assert.equal(journal.length, 1)
    assert.match(journal[0] ?? '', /"outcome":"rejected"/)
    // and the store then takes the genuine swap
    assert.equal(swapActive(lab.store, opts, {raw, previousHash: '', previousGeneration: 0n, staged: new Map([[g1.contractHash, stored]])}).hash, g1.manifestHash)
  })
})

describe('a candidate over the cap is measured without being read whole', () => {
  const measured = (lab: Lab, name: string, bytes: Buffer, chunks: readonly number[]): void => {
    const file = path.join(lab.dir, name)
    writeFileSync(file, bytes)
    const want = storedForm(bytes).length
    for (const chunk of chunks) assert.equal(storedFormLength(file, chunk), want, `${name}, ${chunk}-byte chunks`)
  }

  it('storedFormLength is the length of storedForm, whatever the chunks cut (characters, invalid bytes, white space at either end)', () => {
    const lab = makeLab()
    const chunks = [1, 2, 3, 5, 7, 64, 1 << 20]
    const ends = ['', ' ', '\n\t\r\v\f', '\u00a0', '\ufeff', '\u2028\u2029', '\u3000 \u1680', '\u200b'] // U+200B is not white space
    const middles = ['', 'x', 'body: {rules: []}', 'ü€😀 é', '\ufeff inner \u00a0']
    let n = 0
    for (const head of ends) for (const mid of middles) for (const tail of ends) measured(lab, `text-${n++}.yaml`, Buffer.from(head + mid + tail), chunks)
    // Invalid UTF-8 (each maximal invalid sequence is one U+FFFD, three bytes), alone and beside white space.
    const invalid = [[0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x80, 0x80]]
    for (const bad of invalid) {
      measured(lab, `bad-${n++}.yaml`, Buffer.from([0x20, ...bad, 0x41, ...bad, 0x0a]), chunks)
      measured(lab, `bad-${n++}.yaml`, Buffer.from([...bad, 0x20]), chunks)
      measured(lab, `bad-${n++}.yaml`, Buffer.from([0xc2, 0xa0, ...bad, 0xc2, 0xa0]), chunks)
    }
    // Random bytes: mostly invalid, some characters, white space at random.
    let seed = 7
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16
    const pool = [0x20, 0x0a, 0xc2, 0xa0, 0xe3, 0x80, 0x80, 0xef, 0xbb, 0xbf, 0x41, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xe2, 0x80, 0xa8]
    for (let k = 0; k < 200; k++) {
      const b = Buffer.from(Array.from({length: 1 + (next() % 40)}, () => (next() % 3 === 0 ? next() & 0xff : pool[next() % pool.length]!)))
      measured(lab, `random-${k}.yaml`, b, [1, 3, 8])
    }
  })

  it('learn promote refuses a 64 MiB candidate in a 48 MiB heap, where reading it whole runs out of memory', () => {
    const lab = makeLab()
    const file = path.join(lab.dir, 'huge.yaml')
    const huge = Buffer.alloc(64 * 1024 * 1024, 'x')
    huge.write('  body:', 0)
    writeFileSync(file, huge)
    const want = storedForm(huge).length
    const mod = (p: string): string => JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'plugins', p, 'index.js')).href)
    const child = (script: string): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, ['--max-old-space-size=48', '--input-type=module', '-e', script], {encoding: 'utf8', env: {...process.env, LAB: JSON.stringify({...lab, keys: undefined, rosterKeys: undefined, file})}})
    const promote = child(`
      const {runPromote} = await import(${mod('store')})
      const {systemClock} = await import(${mod('canonical')})
      const lab = JSON.parse(process.env.LAB)
      try {
        runPromote({storeDir: lab.store, rosterPath: lab.roster, rosterRootFingerprint: lab.fp, activationKey: 'ops-alice', keystore: lab.ks, clock: systemClock, newId: () => 'id-1', environmentId: 'prod', candidate: lab.file, selector: 'shop-agent', allowUnenforced: true})
        console.log('promoted')
      } catch (e) {
        console.log(e.code + ' ' + e.message)
      }`)
    assert.equal(promote.status, 0, String(promote.stderr))
    assert.match(String(promote.stdout), new RegExp(`^LIFECYCLE_REFUSED learn promote: --candidate ${file} is ${want} bytes as the store would hold it, over the ${CAP}-byte \\(16 MiB\\) cap`))
    assert.equal(existsSync(path.join(lab.store, 'active.json')), false)
    // The control: the same heap cannot hold the file read whole and trimmed.
    const whole = child(`
      const {storedForm} = await import(${mod('store')})
      const {readFileSync} = await import('node:fs')
      console.log(storedForm(readFileSync(JSON.parse(process.env.LAB).file)).length)`)
    assert.notEqual(whole.status, 0, 'the control read the candidate whole in a 48 MiB heap: the test no longer shows the chunked measure matters')
  })
})

