/**
 * The oclif bundle compares command ids of lowercase letters, `:` and `-` by code unit instead of
 * `localeCompare` (scripts/bundle-run.mjs, idOrder: the first `localeCompare` of a process sets up
 * ICU's collator at every command start). That is exact only because ICU's root collation orders
 * those characters as their code units do; this holds the claim on every command id and on
 * strings built to probe it, and holds the loaded config's order to oclif's own.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {prng} from '../../helpers/prng.js'
import {repoPath} from '../../helpers/vectors.js'

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const byLocale = (a: string, b: string): number => a.localeCompare(b)

describe('command id order without the collator', () => {
  it('on every command id of the manifest and of oclif’s plugins, code-unit order is localeCompare’s', () => {
    // In a node of its own: loading the bundle registers it as @oclif/core in that process.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', [
      `const {loadOclif} = await import(${JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'cli', 'oclif-bundle.js')).href)})`,
      'const {Config} = await loadOclif()',
      `const config = await Config.load(${JSON.stringify(repoPath('bin', 'run.js'))})`,
      'console.log(JSON.stringify([...config.plugins.values()].map((p) => [p.name, p.commands.map((c) => c.id)])))',
    ].join('\n')], {env: {...process.env, NODE_OPTIONS: '', OCLIF_DISABLE_ENGINE_WARNING: '1'}, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    const plugins = JSON.parse(r.stdout) as Array<[string, string[]]>
    const ids = plugins.flatMap(([, own]) => own)
    assert.ok(ids.length > 75, `${ids.length} commands`)
    for (const id of ids) assert.match(id, /^[a-z:-]*$/, id)
    assert.deepEqual([...ids].sort(byCodeUnit), [...ids].sort(byLocale))
    // Each plugin's commands as the bundled oclif ordered them: localeCompare's order.
    for (const [name, own] of plugins) assert.deepEqual(own, [...own].sort(byLocale), name)
  })

  it('on random strings of those characters, prefixes and neighbours included', () => {
    const next = prng(20261202)
    const alphabet = 'abcxyz:-'
    const words: string[] = ['', 'a', 'a-', 'a:', 'a-b', 'a:b', 'ab', 'a--', 'a::', '-', ':', '-a', ':a', 'z', 'learn', 'learn:compile', 'learn-compile']
    for (let i = 0; i < 400; i++) {
      let w = ''
      for (let n = Math.floor(next() * 8); n > 0; n--) w += alphabet[Math.floor(next() * alphabet.length)]
      words.push(w)
    }
    for (const a of words) for (const b of words) assert.equal(Math.sign(byCodeUnit(a, b)), Math.sign(byLocale(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
  })

  it('the bundle carries the rewrite (the build fails when oclif’s line changes)', () => {
    const bundle = readFileSync(repoPath('dist', 'run', 'oclif.cjs'), 'utf8')
    assert.ok(!bundle.includes('.sort((a,b)=>a.id.localeCompare(b.id))'), 'no bare localeCompare sort is left')
    assert.ok(bundle.includes('/^[a-z:-]*$/.test(a.id)&&/^[a-z:-]*$/.test(b.id)?a.id<b.id?-1:a.id>b.id?1:0:a.id.localeCompare(b.id)'))
  })
})
