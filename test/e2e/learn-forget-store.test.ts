import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {generateAgentKeys, generateKeyPair, keyPairFromGoPrivateKey} from '../../src/plugins/signing/index.js'
import {cli, entry, makeLab, promoteArgs, snapshot, writeCandidate, writeRoster} from './learn-promote-harness.js'

// learn forget --store files a tombstone that promote and rollback will verify against the store's
// roster; a signer the roster does not authorise is refused before anything is written. The
// activation key is given in the forms learn promote accepts.

describe('learn forget --store checks the activation key against the store roster first', () => {
  const lab = makeLab()
  const c = writeCandidate(lab, 'c', 0)
  const rule = /rule_id: "?([^"\n]+)"?/.exec(readFileSync(c.file, 'utf8'))?.[1] ?? ''
  generateAgentKeys(lab.ks, 'ops-forget', {keyPair: generateKeyPair()})
  const forget = (key: string, extra: string[]) =>
    cli(['learn', 'forget', '--candidate', c.file, '--rule-id', rule, '--reason', 'pii', '--keystore', lab.ks, '--activation-key', key, ...extra])
  const storeFlags = () => ['--store', lab.store, '--roster', lab.roster, '--roster-root-fingerprint', lab.fp]

  it('refuses a key the roster does not hold, writing nothing', () => {
    assert.equal(cli(promoteArgs(lab, c.file, ['--environment-id', 'prod'])).code, 0)
    const before = snapshot(lab.dir)
    const r = forget('ops-forget', storeFlags())
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^learn forget: activation key "ops-forget" cannot sign a tombstone for this store: .*key_id not in roster: "ops-forget" \[KEY_NOT_AUTHORIZED\]/)
    assert.deepEqual(snapshot(lab.dir), before)
  })

  it('refuses --store without the roster', () => {
    const r = forget('ops-alice', ['--store', lab.store])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^learn forget: --store needs --roster and --roster-root-fingerprint \[USAGE\]/)
    assert.equal(existsSync(path.join(lab.store, 'tombstones')), false)
  })

  it('accepts a key file from signing key generate by its path, and files the tombstone', () => {
    const file = path.join(lab.dir, 'activation.json')
    assert.equal(cli(['signing', 'key', 'generate', '--purpose', 'contract-activation-signing', '--out', file, '--id', 'activation-primary']).code, 0)
    const kp = keyPairFromGoPrivateKey(Buffer.from((JSON.parse(readFileSync(file, 'utf8')) as {private: string}).private, 'hex'))
    lab.fp = writeRoster(lab.roster, lab.keys.get('roster-root')!, [...lab.rosterKeys, entry('activation-primary', 'contract-activation-signing', kp, {principal: 'operator'})])
    const r = forget(file, storeFlags())
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /"signer_key_id":"activation-primary"/)
    assert.ok(existsSync(path.join(lab.store, 'tombstones', `sha256-${c.hash.slice(7)}.json`)))
    // The forgotten contract is the store's active one: forget names the consequence and the way on.
    const dest = path.join(path.dirname(c.file), `${path.basename(c.file, path.extname(c.file))}.forgotten.yaml`)
    assert.ok(r.stderr.split('\n').includes(
      `WARNING: learn forget: contract ${c.hash} is active in ${lab.store} (generation 1: agent shop-agent); ` +
        'a pipelock run started on this store refuses to start (contract store: prior contract is tombstoned), and a running one keeps enforcing it until replaced; ' +
        `promote ${dest} (learn promote) or roll back to a generation without it (learn rollback) to replace it`,
    ), r.stderr)
    // A proxy started on the store refuses the tombstoned active contract, and says how to move on.
    const cfg = path.join(lab.dir, 'run.yaml')
    writeFileSync(cfg, ['learn_lock:', '  enabled: true', '  mode: live', `  store_dir: ${JSON.stringify(lab.store)}`, `  roster_path: ${JSON.stringify(lab.roster)}`,
      '  environment: {id: prod, tenant: "", deployment_id: ""}', `  pinned_root_fingerprint: ${lab.fp}`, ''].join('\n'))
    const run = cli(['run', '--config', cfg, '--listen', '127.0.0.1:0'])
    assert.notEqual(run.code, 0)
    assert.match(run.stderr, /^contract loader init: contract runtime: store reload: contract store: prior contract is tombstoned .*\[CONTRACT_RUNTIME_FAILED\]; hint: the active generation holds a contract learn forget tombstoned: promote the reduced contract forget wrote \(learn promote\), or roll back to a generation without it \(learn rollback\)\n/)
    // The tombstone is enforceable: re-promoting the forgotten contract is refused as tombstoned.
    const again = cli(promoteArgs(lab, c.file))
    assert.equal(again.code, 1)
    assert.match(again.stderr, /tombstoned/)
  })
})
