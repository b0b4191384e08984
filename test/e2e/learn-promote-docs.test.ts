import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'

// docs/learn-and-lock.md promises that its lifecycle walk-through is runnable: run that block
// with bash (`pipelock` = the built CLI), from the repository root, and check what it printed.

test('docs/learn-and-lock.md lifecycle walk-through runs as written', () => {
  const doc = readFileSync(repoPath('docs', 'learn-and-lock.md'), 'utf8')
  const blocks = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] as string)
  const script = blocks.find((b) => b.startsWith('# walk-through:'))
  assert.ok(script, 'walk-through block present')
  const home = mkdtempSync(path.join(tmpdir(), 'pl-docs-home-'))
  const prelude = `set -euo pipefail\npipelock() { node ${JSON.stringify(repoPath('bin', 'run.js'))} "$@"; }\n`
  const r = spawnSync('bash', ['-c', prelude + script], {cwd: repoPath(), encoding: 'utf8', env: {...process.env, HOME: home, NO_COLOR: '1'}})
  assert.equal(r.status, 0, r.stderr)
  const out = r.stdout.split('\n')
  assert.match(r.stdout, /^Built signed roster\n/)
  assert.ok(out.some((l) => /^promote: manifest sha256:[0-9a-f]{64} generation 1 active$/.test(l)), r.stdout)
  assert.ok(out.some((l) => /^promote: manifest sha256:[0-9a-f]{64} generation 2 active$/.test(l)), r.stdout)
  assert.ok(out.some((l) => /^rollback: manifest sha256:[0-9a-f]{64} reactivated as generation 3$/.test(l)), r.stdout)
  // learn store history: three generations, the last a rollback to the first, signers named
  assert.ok(out.some((l) => /^contract store \S+\/store: 3 accepted manifests, 0 rejected, active generation 3$/.test(l)), r.stdout)
  assert.ok(out.includes('generation 3 (active): rollback to generation 1'), r.stdout)
  assert.equal(out.filter((l) => / by ops-alice \(alice\), ops-bob \(bob\)$/.test(l)).length, 1, r.stdout)
  assert.equal(out.filter((l) => / by ops-bob \(bob\), ops-carol \(carol\)$/.test(l)).length, 1, r.stdout)
  assert.ok(out.some((l) => l.startsWith('OK: ') && l.endsWith('intent.json')), r.stdout)
  assert.ok(out.includes('  Payload kind: contract_promote_intent'), r.stdout)
})
