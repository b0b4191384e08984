import assert from 'node:assert/strict'
import {test} from 'node:test'
import {defaultConfig} from '../../../src/plugins/config/index.js'
import {scoreConfig} from '../../../src/plugins/preflight/index.js'
import {load} from '../config/helpers.js'

// git_protection.blocked_commands is validated and inert (containment §4.2): audit score gave it a
// point and start-up said nothing, so a file could believe commands were gated.

function gitScore(blocked: string[]): number {
  const c = defaultConfig()
  c.git_protection = {...c.git_protection, enabled: true, pre_push_scan: true, blocked_commands: blocked}
  return scoreConfig(c).categories.find((x) => x.name === 'Git Protection')!.score
}

test('audit score gives blocked_commands no point: it blocks nothing', () => {
  assert.equal(gitScore([]), 4)
  assert.equal(gitScore(['push --force']), 4)
})

test('a file that sets blocked_commands is told at start that nothing is blocked', () => {
  const msg = 'is accepted but has no effect in this version: no git command is blocked (the pre-push hook and allowed_branches are what git protection enforces)'
  for (const enabled of [true, false]) {
    const r = load(`git_protection:\n  enabled: ${enabled}\n  blocked_commands: ["push --force"]\n`)
    assert.deepEqual(r.warnings.map((w) => `${w.field}: ${w.message}`), [`git_protection.blocked_commands: ${msg}`])
  }
  assert.deepEqual(load('git_protection:\n  enabled: true\n').warnings, [])
})
