import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'

// The vendored conformance data must stay byte-identical to what the reference shipped: each
// folder's SHA256SUMS pins every data file, and nothing unlisted may appear beside them.

const FOLDERS = ['audit-packet', 'contract', 'receipts', 'replay-corpus']

function dataFiles(root: string, dir = root): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) out.push(...dataFiles(root, p))
    else if (dir !== root || (name !== 'README.md' && name !== 'SHA256SUMS')) out.push(path.relative(root, p))
  }
  return out
}

for (const folder of FOLDERS) {
  test(`vendored vectors ${folder}/: every file matches SHA256SUMS and the README names its source`, () => {
    const root = repoPath('test', 'vectors', folder)
    const sums = readFileSync(path.join(root, 'SHA256SUMS'), 'utf8').trimEnd().split('\n').map((line) => {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line)
      assert.ok(m, `malformed SHA256SUMS line: ${line}`)
      return {hash: m[1]!, file: m[2]!}
    })
    assert.deepEqual(sums.map((s) => s.file), dataFiles(root))
    for (const {hash, file} of sums) {
      assert.equal(createHash('sha256').update(readFileSync(path.join(root, file))).digest('hex'), hash, `${folder}/${file} changed`)
    }
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
    assert.ok(readme.includes(`as shipped in \`shared/vectors/${folder}/<same path>\``), 'README states provenance')
  })
}
