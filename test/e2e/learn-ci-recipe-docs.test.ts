import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'

// docs/learn-and-lock.md "CI recipe": the job's own lines that set OUT and gate on shadow.json,
// and the one that lists what the contract would block, run as written with bash in a fresh
// workspace. OUT is relative there, as a CI workspace path is: a gate that loaded the report with
// require() resolved "pipelock-artifacts/shadow.json" as a module name and failed every job.

const doc = readFileSync(repoPath('docs', 'learn-and-lock.md'), 'utf8')
const blocks = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] as string)
const recipe = blocks.find((b) => b.startsWith('# CI job (every merge)'))
assert.ok(recipe, 'CI recipe block present')
const lines = recipe.split('\n')
const setOut = lines.filter((l) => /^OUT=|^mkdir -p "\$OUT"$/.test(l))
const gate = lines.filter((l) => l.startsWith('node -e ') && l.endsWith(' "$OUT/shadow.json"'))
const lister = blocks.find((b) => /^node -e .*"new_block".* "\$OUT\/shadow\.json"\n$/.test(b))

/** Runs `script` with bash in a new workspace after writing `report` (when given) to $OUT/shadow.json. */
function runInWorkspace(script: string, report: unknown): {status: number | null; stdout: string; stderr: string; out: string} {
  const ws = mkdtempSync(path.join(tmpdir(), 'pl-ci-recipe-'))
  try {
    const out = (/^OUT=(\S+)/m.exec(setOut.join('\n')) as RegExpExecArray)[1] as string
    if (report !== undefined) {
      mkdirSync(path.join(ws, out), {recursive: true})
      writeFileSync(path.join(ws, out, 'shadow.json'), typeof report === 'string' ? report : JSON.stringify(report))
    }
    const r = spawnSync('bash', ['-c', `set -euo pipefail\n${setOut.join('\n')}\n${script}`], {cwd: ws, encoding: 'utf8'})
    return {status: r.status, stdout: r.stdout, stderr: r.stderr, out}
  } finally {
    rmSync(ws, {recursive: true, force: true})
  }
}

const report = (newBlocks: number, changes: unknown[] = []): Record<string, unknown> => ({report_version: 1, total_records: 10, replayed: 10, changed: newBlocks, new_blocks: newBlocks, new_allows: 0, changes})

test('the CI recipe sets OUT to a workspace-relative directory and has one gate line', () => {
  assert.equal(setOut.length, 2, recipe)
  assert.match(setOut[0] as string, /^OUT=[^/$\s]\S*/)
  assert.equal(gate.length, 1, recipe)
})

test('the gate passes a report without new blocks, with OUT relative', () => {
  const r = runInWorkspace(gate[0] as string, report(0))
  assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', ''])
})

test('the gate fails the job on new blocks, and on a report it cannot read or that has no count', () => {
  assert.equal(runInWorkspace(gate[0] as string, report(2)).status, 1)
  assert.equal(runInWorkspace(gate[0] as string, {report_version: 1}).status, 1)
  assert.equal(runInWorkspace(gate[0] as string, '{"new_blocks": 0').status, 1)
  assert.equal(runInWorkspace(gate[0] as string, undefined).status, 1)
})

test('the line that lists what the contract would block reads the report from a relative OUT', () => {
  assert.ok(lister, 'new_block listing block present')
  const changes = [
    {change: 'new_block', count: 2, surface: 'http', method: 'POST', host: 'uploads.stranger.example', path: '/v2/drop', reason: 'contract_default_deny'},
    {change: 'new_allow', count: 1, surface: 'http', method: 'GET', host: 'api.example.com', path: '/v1/cart', rule_id: 'r-1'},
  ]
  const r = runInWorkspace(lister, report(2, changes))
  assert.deepEqual([r.status, r.stdout, r.stderr], [0, 'POST uploads.stranger.example/v2/drop contract_default_deny\n', ''])
})
