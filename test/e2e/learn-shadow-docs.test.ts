import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'

// docs/learn-and-lock.md promises that its shadow walk-through is runnable: run that block with
// bash (`pipelock` = the built CLI) from the repository root and check what it printed.

test('docs/learn-and-lock.md shadow walk-through runs as written', () => {
  const doc = readFileSync(repoPath('docs', 'learn-and-lock.md'), 'utf8')
  const script = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((b) => b.startsWith('# shadow walk-through:'))
  assert.ok(script, 'shadow walk-through block present')
  const home = mkdtempSync(path.join(tmpdir(), 'pl-shadow-docs-'))
  try {
    const prelude = `set -euo pipefail\npipelock() { node ${JSON.stringify(repoPath('bin', 'run.js'))} "$@"; }\n`
    const r = spawnSync('bash', ['-c', prelude + script], {cwd: repoPath(), encoding: 'utf8', env: {...process.env, HOME: home, NO_COLOR: '1'}})
    assert.equal(r.status, 0, r.stderr)
    const out = r.stdout
    assert.match(out, /^# Shadow Report\n\n- contract_hash: `sha256:[0-9a-f]{64}`\n- generated_at: `[^`]+`\n- records: 240 total, 217 replayed, 5 changed\n- deltas: 0 new blocks, 5 new allows, 0 batches\n/)
    assert.match(out, /\nratify: (\d+) rules ratified \(\1 enforce, 0 capture-only\), 0 rejected, written to \/.*\/ratified\.yaml\n/)
    assert.match(out, /\n# Shadow Diff\n\n- first_contract_hash: `sha256:[0-9a-f]{64}`\n- second_contract_hash: `sha256:[0-9a-f]{64}`\n- records_delta: \+0\n- new_blocks_delta: \+0\n- quarantine_delta: \+0\n\n\| rule \| evals_delta/)
    const audit = r.stderr.split('\n').find((l) => l.startsWith('{"event":"learn_shadow"'))
    assert.ok(audit, r.stderr)
    assert.equal(JSON.parse(audit).receipts_emitted, 5)
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
})
