import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {learnLockLines} from '../helpers/lock-roster.js'
import {assertRefusesToStart, startProxy} from './proxy-harness.js'
import {cli, makeLab, promoteArgs, writeCandidate} from './learn-promote-harness.js'

// `pipelock run` with learn_lock on a store whose active.json and manifests/ were deleted: the
// journal and the lifecycle receipts still show that contracts were promoted, so the proxy must
// not start contract-free. And the store's JSON is size-capped before the proxy reads it.

const lab = makeLab()
const config = ['forward_proxy: {enabled: true}', ...learnLockLines(lab.store, lab.roster, lab.fp)].join('\n') + '\n'
const active = path.join(lab.store, 'active.json')
const manifests = path.join(lab.store, 'manifests')
const journal = path.join(lab.store, '.activation_journal.jsonl')
const receipts = path.join(lab.store, 'activation-receipts.jsonl')
const backup = path.join(lab.dir, 'store-backup')

function promote(name: string, variant: number, extra: string[] = []): string {
  const r = cli(promoteArgs(lab, writeCandidate(lab, name, variant).file, extra))
  assert.equal(r.code, 0, r.stderr)
  return /manifest (sha256:[0-9a-f]{64})/.exec(r.stdout)![1]!
}

const wiped = (traces: string): string =>
  `contract loader init: contract runtime: active manifest ${active} and the accepted manifests in ${manifests} are missing, but the store shows promoted contracts (${traces}): refusing to run without them; restore active.json and manifests/ from a backup, or promote a new generation with learn promote`

describe('a wiped store does not run contract-free', () => {
  let m1 = ''

  it('setup: generation 1 promoted, the store backed up', () => {
    m1 = promote('c1', 0, ['--environment-id', 'prod'])
    cpSync(lab.store, backup, {recursive: true})
  })

  it('active.json and manifests/ deleted: the journal and the receipts name the promotion', () => {
    rmSync(active)
    rmSync(manifests, {recursive: true})
    assertRefusesToStart(config, wiped(`${journal}: accepted generation 1 (${m1}); ${receipts}: accepted contract_promote_committed receipt for manifest ${m1}`))
  })

  it('the journal deleted too: the lifecycle receipts still refuse the start', () => {
    rmSync(journal)
    assertRefusesToStart(config, wiped(`${receipts}: accepted contract_promote_committed receipt for manifest ${m1}`))
  })

  it('recovery by a new promote: the proxy starts with it', async () => {
    const m = promote('c2', 1, ['--environment-id', 'prod'])
    const p = await startProxy(config)
    try {
      assert.match(p.stderr(), new RegExp(`pipelock: learn_lock: mode=live store=${lab.store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} generation=1 manifest=${m}\n`))
    } finally {
      await p.stop()
    }
  })

  it('a store that only staged contracts in history/ (nothing promoted yet) still starts', async () => {
    for (const f of [active, manifests, journal, receipts]) rmSync(f, {recursive: true, force: true})
    const p = await startProxy(config)
    try {
      assert.match(p.stderr(), /pipelock: learn_lock: mode=live store=.* no contract promoted yet\n/)
    } finally {
      await p.stop()
    }
  })
})

describe('store JSON read at start-up is size-capped', () => {
  it('an active.json over 1 MiB is refused with its size, not read', () => {
    rmSync(lab.store, {recursive: true, force: true})
    cpSync(backup, lab.store, {recursive: true})
    const good = readFileSync(active)
    writeFileSync(active, Buffer.concat([good, Buffer.alloc(1024 * 1024, 0x20)]))
    assertRefusesToStart(
      config,
      `contract loader init: contract runtime: store reload: contract store: active manifest ${active} is ${good.length + 1024 * 1024} bytes, over the 1048576-byte cap: refusing to read it`,
    )
  })
})
