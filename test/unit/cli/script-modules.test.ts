/**
 * The commands' bundle loads as CommonJS scripts with V8's code cache (src/cli/script-modules.ts,
 * scripts/bundle-run.mjs): a script's imports of the bundle's other files load their scripts once,
 * a dynamic import takes a bundle file or a URL outside it, the scripts keep the semantics of the
 * ES modules they were made from (strict mode, `this` undefined, `import.meta.url`), and a cache is
 * offered only for the very text it was made from. Then the build's own output: every command's
 * entry is a two-line module over its script, and a node without flags accepts every cache.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {bundleCacheContents} from '../../../src/cli/run-bundle.js'
import {loadedScriptModules, loadScriptModule} from '../../../src/cli/script-modules.js'
import {repoPath} from '../../helpers/vectors.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-script-modules-'))
const file = (name: string, text: string): string => {
  writeFileSync(path.join(dir, name), text)
  return path.join(dir, name)
}

file('shared.cjs', 'exports.value = 42; exports.url = __pipelockBundleUrl; exports.loadedAt = Math.random();')
file('lazy.cjs', 'exports.default = "lazy default"; exports.named = "lazy named";')
file('outside.mjs', 'export const where = "an ES module outside the bundle"')
const main = file('main.cjs', [
  'const shared = require("./shared.js")',
  'const again = require("./shared.js")',
  'exports.same = shared === again',
  'exports.value = shared.value',
  'exports.sharedUrl = shared.url',
  'exports.topThis = this',
  'exports.builtin = require("node:path").sep',
  'exports.lazy = () => __pipelockImport("./lazy.js")',
  `exports.outside = () => __pipelockImport(${JSON.stringify(pathToFileURL(path.join(dir, 'outside.mjs')).href)})`,
  'exports.sloppy = () => { undeclared = 1 }',
].join('\n'))

describe('script modules', () => {
  it('loads a script and the bundle files it requires once, with their exports', () => {
    const m = loadScriptModule(main)
    assert.equal(m.same, true)
    assert.equal(m.value, 42)
    assert.equal(loadScriptModule(path.join(dir, 'shared.cjs')).loadedAt, loadScriptModule(path.join(dir, 'shared.cjs')).loadedAt, 'its top level ran once')
    assert.equal(loadScriptModule(pathToFileURL(main)), m, 'a file: URL names the same script')
    assert.equal(m.builtin, path.sep, "other specifiers go to Node's require")
  })

  it('keeps what the ES modules were: strict mode, `this` undefined, import.meta.url as __pipelockBundleUrl', () => {
    const m = loadScriptModule(main)
    assert.equal(m.topThis, undefined)
    assert.throws(() => (m.sloppy as () => void)(), ReferenceError)
    assert.equal(m.sharedUrl, pathToFileURL(path.join(dir, 'shared.cjs')).href)
  })

  it('a dynamic import loads a bundle file as a script, and anything else with Node’s import()', async () => {
    const m = loadScriptModule(main)
    assert.deepEqual({...(await (m.lazy as () => Promise<Record<string, unknown>>)())}, {default: 'lazy default', named: 'lazy named'})
    assert.equal(((await (m.outside as () => Promise<Record<string, unknown>>)()) as {where: string}).where, 'an ES module outside the bundle')
  })

  it('offers a cache only for the text it was made from', () => {
    const text = 'exports.n = 1 + 1'
    const good = file('cached.cjs', text)
    const probe = loadedScriptModules().length
    // A cache made for this text (the build's way: SHA-256 of the text, then V8's data).
    const made = spawnSync(process.execPath, ['--input-type=module', '-e', [
      `const {loadScriptModule, loadedScriptModules} = await import(${JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'cli', 'script-modules.js')).href)})`,
      `const {bundleCacheContents} = await import(${JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'cli', 'run-bundle.js')).href)})`,
      `const {writeFileSync} = await import('node:fs')`,
      `loadScriptModule(${JSON.stringify(good)})`,
      `const m = loadedScriptModules()[0]`,
      `writeFileSync(m.file + '.cache', bundleCacheContents(m.file, m.script))`,
    ].join('\n')], {env: {...process.env, NODE_OPTIONS: ''}, encoding: 'utf8'})
    assert.equal(made.status, 0, made.stderr)
    // The same text elsewhere, with that cache beside it: offered; a changed text: not offered.
    const twin = file('twin.cjs', text)
    writeFileSync(`${twin}.cache`, readFileSync(`${good}.cache`))
    const changed = file('changed.cjs', 'exports.n = 1 + 2')
    writeFileSync(`${changed}.cache`, readFileSync(`${good}.cache`))
    assert.equal(loadScriptModule(twin).n, 2)
    assert.equal(loadScriptModule(changed).n, 3)
    const seen = new Map(loadedScriptModules().slice(probe).map((s) => [path.basename(s.file), s.cacheRejected]))
    assert.equal(seen.get('twin.cjs'), false, 'offered and accepted')
    assert.equal(seen.get('changed.cjs'), undefined, 'not offered: the digest names another text')
    assert.ok(bundleCacheContents(twin, loadedScriptModules().find((s) => s.file === twin)!.script).length > 32)
  })
})

describe('the commands as the build made them', () => {
  const manifest = (JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as {commands: Record<string, {relativePath: string[]}>}).commands

  it('every command entry is a two-line module over its script, and no other ES module is left in dist/run', () => {
    for (const [id, c] of Object.entries(manifest)) {
      const entry = repoPath(...c.relativePath)
      const lines = readFileSync(entry, 'utf8').trimEnd().split('\n')
      assert.equal(lines.length, 2, id)
      assert.match(lines[1]!, new RegExp(`^export default loadScriptModule\\(new URL\\("\\./${path.basename(entry, '.js')}\\.cjs", import\\.meta\\.url\\)\\)\\.default$`), id)
    }
    const entries = new Set(Object.values(manifest).map((c) => c.relativePath.slice(2).join('/')))
    const esm = (readdirSync(repoPath('dist', 'run'), {recursive: true}) as string[])
      .map((f) => f.split(path.sep).join('/'))
      .filter((f) => f.endsWith('.js') && !f.startsWith('mcp/') && !f.startsWith('workers/'))
    assert.deepEqual(esm.filter((f) => !entries.has(f)), [])
  })

  it('a node without flags loads every command from scripts whose caches it accepts', () => {
    const ids = Object.values(manifest).map((c) => repoPath(...c.relativePath).replace(/\.js$/, '.cjs'))
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', [
      `const {loadOclif} = await import(${JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'cli', 'oclif-bundle.js')).href)})`,
      'await loadOclif()',
      `const {loadScriptModule, loadedScriptModules} = await import(${JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'cli', 'script-modules.js')).href)})`,
      `for (const f of ${JSON.stringify(ids)}) if (typeof loadScriptModule(f).default !== 'function') throw new Error(f + ': no command class')`,
      'const all = loadedScriptModules()',
      "console.log(JSON.stringify({scripts: all.length, notAccepted: all.filter((s) => s.cacheRejected !== false).map((s) => s.file)}))",
    ].join('\n')], {env: {...process.env, NODE_OPTIONS: '', OCLIF_DISABLE_ENGINE_WARNING: '1'}, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    const seen = JSON.parse(r.stdout) as {scripts: number; notAccepted: string[]}
    assert.ok(seen.scripts > ids.length, `${seen.scripts} scripts for ${ids.length} commands`)
    assert.deepEqual(seen.notAccepted, [])
  })
})
