// docs/architecture.md's "Layers" table and its list of import rules are the rules
// .dependency-cruiser.cjs enforces: a plugin added to a layer there, or a rule added, is named
// on the page too.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {test} from 'node:test'
import {repoPath} from '../../helpers/vectors.js'

const require = createRequire(import.meta.url)

function layersSection(): string {
  const doc = readFileSync(repoPath('docs/architecture.md'), 'utf8')
  const start = doc.indexOf('## Layers')
  const end = doc.indexOf('## The gate')
  assert.ok(start >= 0 && end > start, 'architecture.md has "## Layers" before "## The gate"')
  return doc.slice(start, end)
}

test('docs/architecture.md places every plugin in the layer .dependency-cruiser.cjs gives it', () => {
  const source = readFileSync(repoPath('.dependency-cruiser.cjs'), 'utf8')
  const block = /const LAYERS = \[([\s\S]*?)\n\]/.exec(source)
  assert.ok(block !== null, 'LAYERS in .dependency-cruiser.cjs')
  const layers = [...block[1]!.matchAll(/\[([^\]]*)\]/g)].map((m) => [...m[1]!.matchAll(/'([^']+)'/g)].map((n) => n[1]!).sort())
  const rows = [...layersSection().matchAll(/^\| (\d+) [a-zA-Z ]+ \| ([^|]+) \|/gm)]
  const documented = rows.map((r) => [...r[2]!.matchAll(/`([a-z0-9-]+)`/g)].map((n) => n[1]!).sort())
  assert.deepEqual(rows.map((r) => Number(r[1])), layers.map((_, i) => i))
  assert.deepEqual(documented, layers)
})

test('docs/architecture.md names every import rule of .dependency-cruiser.cjs', () => {
  const config = require(repoPath('.dependency-cruiser.cjs')) as {forbidden: {name: string}[]}
  const general = (name: string): string => name.replace(/^layer-\d+-points-down$/, 'layer-N-points-down').replace(/^transport-.*-imports-no-transport$/, 'transport-*-imports-no-transport')
  const names = [...new Set(config.forbidden.map((r) => general(r.name)))].sort()
  const section = layersSection()
  for (const n of names) assert.ok(section.includes(`\`${n}\``), `architecture.md "Layers" does not name the rule ${n}`)
})
