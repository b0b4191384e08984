import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {commandSnapshot} from '../../../src/cli/command-snapshot.js'
import {repoPath} from '../../helpers/vectors.js'

test('the CLI surface matches test/snapshots/commands.json (regenerate deliberately: node scripts/gen-command-snapshot.mjs)', async () => {
  const now = await commandSnapshot(repoPath())
  const pinned = JSON.parse(readFileSync(repoPath('test', 'snapshots', 'commands.json'), 'utf8'))
  assert.deepEqual(now, pinned)
})

// help, version and autocomplete come from the oclif plugins (package.json oclif.plugins).
const PLUGIN_COMMANDS = new Set(['autocomplete', 'help', 'version'])

test('every command has a summary and at least one example', async () => {
  for (const [id, c] of Object.entries(await commandSnapshot(repoPath()))) {
    if (PLUGIN_COMMANDS.has(id)) continue
    assert.ok(c.summary.length > 0, `${id} has no summary`)
    assert.ok(c.examples > 0, `${id} has no example`)
  }
})
