import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {baseArgs, cli, makeLab, snapshot, writeCandidate} from './learn-promote-harness.js'

/** The refusal of an unenforced contract, exactly: exit 1, nothing on stdout, one line on stderr. */
function assertRefused(r: {code: number | null; stdout: string; stderr: string}, command: 'promote' | 'rollback', hash: string): void {
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, `learn ${command}: refusing to activate an unenforced contract: contract ${hash} enforces 0 of its 3 rules (none is ratified to enforce): the agent is not locked (any host the scanner allows stays reachable) [LIFECYCLE_REFUSED]; hint: ratify its rules first (pipelock learn ratify), or pass --allow-unenforced to activate it for observation only\n`)
}

// A contract whose rules are all capture_only (compiled, never ratified) locks nothing at run
// time. Promote refuses it unless --allow-unenforced is given, and then warns on stderr and in --json.

const ENV = ['--environment-id', 'prod']

describe('learn promote of a contract that enforces no rule', () => {
  const lab = makeLab()
  const unratified = writeCandidate(lab, 'unratified', 0)
  const ratified = writeCandidate(lab, 'ratified', 1, 'ci-compile', 'enforce')
  const promote = (file: string, extra: string[] = []) => cli(['learn', 'promote', ...baseArgs(lab), '--candidate', file, '--selector', 'shop-agent', ...ENV, ...extra])

  it('is refused by default, naming the rule count, and the store is left as it was', () => {
    const before = snapshot(lab.store)
    const r = promote(unratified.file)
    assertRefused(r, 'promote', unratified.hash)
    assert.deepEqual(snapshot(lab.store), before)
  })

  it('with --allow-unenforced it is activated, and --json carries the count and the warning', () => {
    const r = promote(unratified.file, ['--allow-unenforced', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as {enforcedRules: number; totalRules: number; warnings: string[]}
    assert.equal(out.enforcedRules, 0)
    assert.equal(out.totalRules, 3)
    const warning = `learn promote: contract ${unratified.hash} enforces 0 of its 3 rules (none is ratified to enforce): the agent is not locked (any host the scanner allows stays reachable)`
    assert.deepEqual(out.warnings, [warning])
    assert.ok(r.stderr.endsWith(`WARNING: ${warning}\n`), r.stderr)
  })

  it('a contract with enforce rules is promoted without the flag and without a warning', () => {
    const r = promote(ratified.file, ['--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as {enforcedRules: number; totalRules: number; warnings: string[]}
    assert.deepEqual([out.enforcedRules, out.totalRules, out.warnings], [4, 4, []])
    assert.doesNotMatch(r.stderr, /WARNING/)
  })
})

describe('learn rollback to a generation whose contract enforces no rule', () => {
  const lab = makeLab()
  const unratified = writeCandidate(lab, 'unratified', 0)
  const ratified = writeCandidate(lab, 'ratified', 1, 'ci-compile', 'enforce')
  const promote = (file: string, extra: string[] = []) => cli(['learn', 'promote', ...baseArgs(lab), '--candidate', file, '--selector', 'shop-agent', ...extra])
  let g1 = ''

  it('is refused by default before anything is written, and accepted with --allow-unenforced, which warns', () => {
    const p1 = promote(unratified.file, [...ENV, '--allow-unenforced', '--json'])
    assert.equal(p1.code, 0, p1.stderr)
    g1 = JSON.parse(p1.stdout).manifestHash as string
    assert.equal(promote(ratified.file).code, 0)
    const before = snapshot(lab.store)
    const r = cli(['learn', 'rollback', ...baseArgs(lab), '--to', g1])
    assertRefused(r, 'rollback', unratified.hash)
    assert.deepEqual(snapshot(lab.store), before)
    const ok = cli(['learn', 'rollback', ...baseArgs(lab), '--to', g1, '--allow-unenforced', '--json'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.deepEqual(JSON.parse(ok.stdout).warnings, [`learn rollback: contract ${unratified.hash} enforces 0 of its 3 rules (none is ratified to enforce): the agent is not locked (any host the scanner allows stays reachable)`])
  })
})
