// README.md's commands table names commands that exist (as commands, aliases or the help, version
// and autocomplete plugins) and links docs that exist, with the headings its anchors name.
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {test} from 'node:test'
import {repoPath} from '../../helpers/vectors.js'

const readme = readFileSync(repoPath('README.md'), 'utf8')
const table = readme.slice(readme.indexOf('## Commands'), readme.indexOf('## Layout'))
const rows = table.split('\n').filter((l) => l.startsWith('| `'))
/** A row's cells: split on `|` not escaped as `\|`. */
const cells = (row: string): string[] => row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim())

/** The command ids a code span names: `pipelock a b\|c ARG` → `a:b`, `a:c`. */
function commandIds(span: string): string[] {
  const words = span.replace(/^pipelock /, '').split(' ')
  const taken: string[] = []
  for (const w of words) {
    if (!/^[a-z][a-z0-9-]*(\\\|[a-z][a-z0-9-]*)*$/.test(w)) break
    taken.push(w)
  }
  if (taken.length === 0) return []
  const last = taken.pop()!.split('\\|')
  return last.map((alt) => [...taken, alt].join(':'))
}

test('README.md\'s commands table names only commands the CLI has', () => {
  const manifest = JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as {commands: Record<string, {aliases?: string[]}>}
  const plugins = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {oclif: {plugins: string[]}}).oclif.plugins.map((p) => p.replace(/^@oclif\/plugin-/, ''))
  const known = new Set([...Object.keys(manifest.commands), ...Object.values(manifest.commands).flatMap((c) => c.aliases ?? []), ...plugins])
  assert.ok(rows.length >= 30, `${rows.length} rows`)
  const named: string[] = []
  for (const row of rows) {
    for (const span of cells(row)[0]!.matchAll(/`([^`]+)`/g)) named.push(...commandIds(span[1]!))
  }
  assert.ok(named.length >= 60, named.join(' '))
  for (const id of named) assert.ok(known.has(id), `README.md names "${id.replaceAll(':', ' ')}", which is no command`)
})

test('README.md links docs that exist, and the headings its anchors name', () => {
  const slug = (h: string): string => h.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replaceAll(' ', '-')
  const links = [...readme.matchAll(/\]\((docs\/[^)#]+)(?:#([^)]+))?\)/g)]
  assert.ok(links.length > 20)
  for (const [, file, anchor] of links) {
    assert.ok(existsSync(repoPath(file!)), `README.md links ${file}, which does not exist`)
    if (anchor === undefined) continue
    const headings = [...readFileSync(repoPath(file!), 'utf8').matchAll(/^#+ (.+)$/gm)].map((h) => slug(h[1]!))
    assert.ok(headings.includes(anchor), `README.md links ${file}#${anchor}: no such heading`)
  }
})
