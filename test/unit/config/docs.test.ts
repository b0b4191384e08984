import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {FEATURE_SECTION_NAMES, PRESET_NAMES, RESTART_ONLY_FIELDS, topLevelKeys} from '../../../src/plugins/config/index.js'
import {repoPath} from '../../helpers/vectors.js'

test('docs/config.md documents every top-level key, preset, feature section and restart-only field', () => {
  const doc = readFileSync(repoPath('docs/config.md'), 'utf8')
  for (const k of topLevelKeys()) assert.ok(doc.includes(`| \`${k}\` |`), `top-level key ${k}`)
  for (const p of PRESET_NAMES) assert.ok(doc.includes(`\`${p}\``), `preset ${p}`)
  for (const f of FEATURE_SECTION_NAMES) assert.ok(doc.includes(`\`${f}\``), `feature ${f}`)
  for (const f of RESTART_ONLY_FIELDS) assert.ok(doc.includes(`\`${f}\``), `restart-only ${f}`)
})

test('docs/config.md lists the feature sections in the order check and a refusal name them', () => {
  const doc = readFileSync(repoPath('docs/config.md'), 'utf8')
  const listed = FEATURE_SECTION_NAMES.map((f) => `\`${f}\``).join(', ')
  assert.ok(doc.includes(`\n${listed}\n`), 'the list after "The sections it knows" is FEATURE_SECTION_NAMES in order')
})
