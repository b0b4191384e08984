import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {repoPath} from '../../helpers/vectors.js'

// Every metric the operator docs name is one the code writes: a renamed or mistyped family in a
// doc would send an operator's alert rule to a series that never exists. A name is "written" when
// it is a string literal in src/ (the metric registries and their renderers name each family once);
// a family prefix (`pipelock_tls_*`) is written when some literal starts with it.

const OPERATOR_DOCS = ['run.md', 'config.md', 'operations.md', 'agents.md', 'airlock.md', 'ask.md', 'cross-request.md', 'taint.md', 'dns-overrides.md']

function sourceLiterals(): Set<string> {
  const out = new Set<string>()
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/['"`](pipelock_[a-z0-9_]+)/g)) out.add(m[1]!)
    }
  }
  walk(repoPath('src'))
  return out
}

test('every pipelock_* metric the operator docs name is a family the code writes', () => {
  const written = sourceLiterals()
  const missing: string[] = []
  let named = 0
  for (const doc of OPERATOR_DOCS) {
    const text = readFileSync(repoPath('docs', doc), 'utf8')
    for (const m of text.matchAll(/\b(pipelock_[a-z0-9_]+)/g)) {
      const name = m[1]!
      named++
      const ok = name.endsWith('_') ? [...written].some((w) => w.startsWith(name)) : written.has(name)
      if (!ok) missing.push(`${doc}: ${name}`)
    }
  }
  assert.ok(named > 50, `found ${named} metric names`)
  assert.deepEqual(missing, [])
})
