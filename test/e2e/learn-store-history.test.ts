import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {baseArgs, cli, makeLab, promoteArgs, writeCandidate} from './learn-promote-harness.js'

// Issue 34: `learn store history` lists a store's generations from manifests/ and the journal,
// so nobody has to read .activation_journal.jsonl with sed.

const ENV = ['--environment-id', 'prod', '--tenant', 'acme', '--deployment-id', 'eu-1']
const T = '2026-04-30T12:00:00Z'

describe('learn store history', () => {
  const lab = makeLab()
  const c1 = writeCandidate(lab, 'c1', 0)
  const c2 = writeCandidate(lab, 'c2', 1)
  const hashes: string[] = []

  it('set-up: promote, promote under dual control, roll back to generation 1', () => {
    for (const args of [
      promoteArgs(lab, c1.file, [...ENV, '--deterministic', '--json']),
      promoteArgs(lab, c2.file, ['--dual-control-from', 'ops-bob', '--deterministic', '--json']),
      ['learn', 'rollback', ...baseArgs(lab, 'ops-carol'), '--to', '', '--deterministic', '--json', '--allow-unenforced'],
    ]) {
      if (args.includes('rollback')) args[args.indexOf('--to') + 1] = hashes[0] as string
      const r = cli(args)
      assert.equal(r.code, 0, r.stderr)
      hashes.push(JSON.parse(r.stdout).manifestHash)
    }
  })

  it('prints every generation, oldest first: hashes, promote or rollback, signers, selectors, the active one', () => {
    const [g1, g2, g3] = hashes as [string, string, string]
    const r = cli(['learn', 'store', 'history', '--store', lab.store])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    assert.equal(
      r.stdout,
      [
        `contract store ${lab.store}: 3 accepted manifests, 0 rejected, active generation 3`,
        '',
        'generation 1: promote',
        `  manifest  ${g1}`,
        '  prior     sha256:genesis',
        `  signed    ${T} by ops-alice (alice)`,
        `  accepted  ${T}`,
        '  env       prod tenant=acme deployment=eu-1',
        `  selector  agent shop-agent -> contract ${c1.hash}`,
        '',
        'generation 2: promote',
        `  manifest  ${g2}`,
        `  prior     ${g1}`,
        `  signed    ${T} by ops-alice (alice), ops-bob (bob)`,
        `  accepted  ${T}`,
        '  env       prod tenant=acme deployment=eu-1',
        `  selector  agent shop-agent -> contract ${c2.hash}`,
        '',
        'generation 3 (active): rollback to generation 1',
        `  manifest  ${g3}`,
        `  prior     ${g2}`,
        `  target    ${g1}`,
        `  signed    ${T} by ops-carol (carol)`,
        `  accepted  ${T}`,
        '  env       prod tenant=acme deployment=eu-1',
        `  selector  agent shop-agent -> contract ${c1.hash}`,
        '',
      ].join('\n'),
    )
    // --contract-store is accepted too (the flag name of promote and rollback)
    assert.equal(cli(['learn', 'store', 'history', '--contract-store', lab.store]).stdout, r.stdout)
    // --config: the store of learn_lock.store_dir
    const cfg = path.join(lab.dir, 'history.yaml')
    writeFileSync(cfg, `learn_lock:\n  store_dir: ${lab.store}\n`)
    assert.equal(cli(['learn', 'store', 'history', '--config', cfg]).stdout, r.stdout)
    writeFileSync(cfg, 'mode: balanced\n')
    const none = cli(['learn', 'store', 'history', '--config', cfg])
    assert.equal(none.code, 2)
    assert.equal(none.stderr, `learn store history: ${cfg} sets no learn_lock.store_dir [USAGE]; hint: pass --store DIR\n`)
  })

  it('--json: the same as an object', () => {
    const [g1, g2, g3] = hashes as [string, string, string]
    const r = cli(['learn', 'store', 'history', '--store', lab.store, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.store, lab.store)
    assert.equal(out.active_manifest_hash, g3)
    assert.deepEqual(out.rejected, [])
    assert.deepEqual(out.problems, [])
    assert.deepEqual(
      out.generations.map((g: Record<string, unknown>) => [g.generation, g.manifest_hash, g.prior_manifest_hash, g.kind, g.rollback_target, g.rollback_target_generation, g.active]),
      [
        [1, g1, 'sha256:genesis', 'promote', null, null, false],
        [2, g2, g1, 'promote', null, null, false],
        [3, g3, g2, 'rollback', g1, 1, true],
      ],
    )
    const g = out.generations[1]
    assert.equal(g.signed_at, T)
    assert.equal(g.accepted_at, T)
    assert.deepEqual(g.signers, [{key_id: 'ops-alice', principal: 'alice'}, {key_id: 'ops-bob', principal: 'bob'}])
    assert.deepEqual(g.environment, {id: 'prod', tenant: 'acme', deployment_id: 'eu-1'})
    assert.equal(g.selectors.length, 1)
    assert.deepEqual({...g.selectors[0], selector_id: undefined}, {selector_id: undefined, agent: 'shop-agent', agent_glob: null, default: false, contract_hash: c2.hash})
    assert.match(g.selectors[0].selector_id, /^sha256:[0-9a-f]{64}$/)
  })

  it('a rejected swap and a journal that disagrees with manifests/ are shown, not hidden', () => {
    const journal = path.join(lab.store, '.activation_journal.jsonl')
    writeFileSync(journal, `{"ts":"${T}","outcome":"rejected","reason":"contract store: contract is tombstoned"}\n`, {flag: 'a'})
    writeFileSync(journal, `{"ts":"${T}","outcome":"accepted","manifest_hash":"sha256:${'e'.repeat(64)}","generation":9}\n`, {flag: 'a'})
    const r = cli(['learn', 'store', 'history', '--store', lab.store])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(r.stdout.startsWith(`contract store ${lab.store}: 3 accepted manifests, 1 rejected, active generation 3\n`))
    assert.ok(
      r.stdout.endsWith(
        `\nrejected\n  ${T}: contract store: contract is tombstoned\n\nproblems\n  the journal accepted manifest sha256:${'e'.repeat(64)} (generation 9), which is not in manifests/\n`,
      ),
      r.stdout,
    )
  })

  it('journal lines that are no entry are each named, never a crash (a line `null` was an internal error)', () => {
    const journal = path.join(lab.store, '.activation_journal.jsonl')
    const before = readFileSync(journal, 'utf8')
    const first = before.split('\n').length
    writeFileSync(journal, ['null', '[]', '7', '{}', '{"outcome":"maybe"}', 'not json', ''].join('\n'), {flag: 'a'})
    try {
      const r = cli(['learn', 'store', 'history', '--store', lab.store, '--json'])
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(JSON.parse(r.stdout).problems.slice(0, 6), [
        `journal line ${first} is not a JSON object`, `journal line ${first + 1} is not a JSON object`, `journal line ${first + 2} is not a JSON object`,
        `journal line ${first + 3} has no outcome`, `journal line ${first + 4} has outcome "maybe"`, `journal line ${first + 5} is not JSON`,
      ])
      const t = cli(['learn', 'store', 'history', '--store', lab.store])
      assert.equal(t.code, 0, t.stderr)
      assert.ok(t.stdout.includes(`\nproblems\n  journal line ${first} is not a JSON object\n`), t.stdout)
    } finally {
      writeFileSync(journal, before)
    }
  })

  it('a damaged file under manifests/ is named by its path, not called the active manifest', () => {
    const file = path.join(lab.store, 'manifests', `${(hashes[1] as string).replace(':', '-')}.json`)
    const before = readFileSync(file)
    writeFileSync(file, '{')
    try {
      const r = cli(['learn', 'store', 'history', '--store', lab.store])
      assert.equal(r.code, 1)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr, `contract store: decode failed: accepted manifest ${file}: unexpected end of JSON input at line 1, column 2 [STORE_INVALID]\n`)
      writeFileSync(file, '{"body":{},"signatures":[]}')
      const j = cli(['learn', 'store', 'history', '--store', lab.store, '--json'])
      assert.equal(j.code, 1)
      assert.match((JSON.parse(j.stdout) as {error: {message: string}}).error.message, new RegExp(`^contract store: (decode|structural validation) failed: accepted manifest ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `))
    } finally {
      writeFileSync(file, before)
    }
  })

  it('an empty store, a missing store and no --store: one line each', () => {
    const empty = path.join(lab.dir, 'empty-store')
    mkdirSync(empty)
    const e = cli(['learn', 'store', 'history', '--store', empty])
    assert.equal(e.code, 0, e.stderr)
    assert.equal(e.stdout, `contract store ${empty}: 0 accepted manifests, 0 rejected, none active\n`)
    const missing = cli(['learn', 'store', 'history', '--store', path.join(lab.dir, 'nope')])
    assert.equal(missing.code, 1)
    assert.equal(missing.stdout, '')
    assert.equal(missing.stderr, `contract store: ${path.join(lab.dir, 'nope')} does not exist or is not a directory [STORE_INVALID]; hint: pass the --contract-store of learn promote\n`)
    const none = cli(['learn', 'store', 'history'])
    assert.equal(none.code, 2)
    assert.equal(none.stderr, 'learn store history: --store DIR is required (or --config with learn_lock.store_dir) [USAGE]\n')
  })
})

describe('learn store history of a store whose active.json was deleted', () => {
  const lab = makeLab()
  const c1 = writeCandidate(lab, 'c1', 0)

  it('names the problem as pipelock run does, in text and in --json', () => {
    const p = cli(promoteArgs(lab, c1.file, [...ENV, '--deterministic', '--json']))
    assert.equal(p.code, 0, p.stderr)
    const g1 = JSON.parse(p.stdout).manifestHash as string
    rmSync(path.join(lab.store, 'active.json'))
    const problem = `active manifest ${path.join(lab.store, 'active.json')} is missing but the store has accepted generation 1 (${g1}): restore it from manifests/${g1.replace(':', '-')}.json or promote a new generation`
    const r = cli(['learn', 'store', 'history', '--store', lab.store])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(r.stdout.startsWith(`contract store ${lab.store}: 1 accepted manifest, 0 rejected, none active\n`), r.stdout)
    assert.ok(r.stdout.endsWith(`\nproblems\n  ${problem}\n`), r.stdout)
    const j = cli(['learn', 'store', 'history', '--store', lab.store, '--json'])
    assert.deepEqual(JSON.parse(j.stdout).problems, [problem])
  })
})
