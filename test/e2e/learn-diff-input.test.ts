import {test} from 'node:test'
import assert from 'node:assert/strict'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// learn diff compares two shadow reports; any other JSON file is refused by name, saying what it
// looks like, instead of printing a diff of zeros and empty hashes.

test('learn diff refuses a compile manifest given in place of a shadow report', () => {
  const manifest = repoPath('goldens', 'multi-session', 'contract.manifest.json')
  const shadow = repoPath('goldens', 'multi-session', 'shadow.json')
  const r = runCli(['learn', 'diff', manifest, shadow])
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(
    r.stderr.split('\n')[0],
    `learn diff: ${manifest} is not a shadow report: it looks like a compile manifest (learn compile writes it next to the candidate) [SHADOW_INPUT_INVALID]; hint: give two reports that learn shadow --out-json wrote`,
  )
  const second = runCli(['learn', 'diff', shadow, manifest])
  assert.equal(second.status, 1)
  assert.match(second.stderr, new RegExp(`^learn diff: ${manifest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a shadow report`))
})
