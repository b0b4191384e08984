// `learn compile --config FILE` reads the file's `learn` block; the file is read as every other
// command reads a config (config/yaml-source.ts): one document, merge keys, and the bounds on
// self-containing aliases and on nesting, each refused with its line as YAML_INVALID.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, test} from 'node:test'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {loadLearnBlock} from '../../../src/plugins/learn/index.js'

const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-learn-config-'))
after(() => rmSync(dir, {recursive: true, force: true}))
let n = 0
const file = (text: string | Uint8Array): string => {
  const f = path.join(dir, `c${n++}.yaml`)
  writeFileSync(f, text)
  return f
}

function refusal(text: string | Uint8Array): PipelockError {
  const f = file(text)
  try {
    loadLearnBlock(f, true)
  } catch (err) {
    assert.ok(err instanceof PipelockError, String(err))
    assert.equal(err.location?.file, f)
    return err
  }
  assert.fail(`accepted:\n${String(text)}`)
}

test('the learn block is read with the config reader: merge keys honoured, an empty file is no block', () => {
  const merged = loadLearnBlock(file('base: &b\n  enabled: true\n  capture_dir: /var/lib/pipelock/learn\nlearn:\n  <<: *b\n'), true)
  assert.deepEqual(merged, {enabled: true, capture_dir: '/var/lib/pipelock/learn'})
  assert.deepEqual(loadLearnBlock(file(''), true), {})
  // UTF-16 with its byte-order mark (PowerShell 5's `>`), as the config reader takes it
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('learn:\n  enabled: true\n', 'utf16le')])
  assert.deepEqual(loadLearnBlock(file(utf16), true), {enabled: true})
  assert.deepEqual(loadLearnBlock(path.join(dir, 'absent.yaml'), false), {})
})

test('a self-containing alias, nesting past the bound and a second document are refused with their lines', () => {
  const alias = refusal('learn: &l\n  enabled: true\n  privacy: {x: *l}\n')
  assert.deepEqual([alias.code, alias.message, alias.location?.line], ['YAML_INVALID', 'config is not valid YAML: alias *l is inside the node its anchor &l names: a config cannot contain itself', 3])
  const deep = refusal(`learn:\n  x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`)
  assert.deepEqual([deep.code, deep.message, deep.location?.line], ['YAML_INVALID', 'config is not valid YAML: nested more than 64 levels deep (mappings and lists; no config section nests more than a few)', 2])
  const docs = refusal('learn: {enabled: true}\n---\nlearn: {enabled: false}\n')
  assert.deepEqual([docs.code, docs.location?.line], ['YAML_INVALID', 2]) // the second document's `---`
  assert.match(docs.message, /multiple YAML documents not supported/)
  const latin = refusal(Buffer.from('learn:\n  capture_dir: /var/lib/caf\xe9\n', 'latin1'))
  assert.deepEqual([latin.code, latin.location?.line], ['YAML_INVALID', 2])
  assert.match(latin.message, /^config is not valid YAML: not UTF-8/)
})
