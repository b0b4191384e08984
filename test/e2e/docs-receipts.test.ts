import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// docs/receipts.md "Try it": the same steps, so the documented example cannot rot.
test('docs/receipts.md tamper example: valid, then broken at seq 2 after editing one verdict', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-docs-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const made = spawnSync(process.execPath, [repoPath('scripts', 'make-sample-chain.mjs'), dir], {encoding: 'utf8'})
  assert.equal(made.status, 0, made.stderr)
  const chain = path.join(dir, 'evidence-proxy-0.jsonl')
  const key = path.join(dir, 'signer.pub')
  const ok = runCli(['verify-receipt', chain, '--key', key])
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, /CHAIN VALID: .*\n  Receipts:  7\n  Final seq: 6\n/)

  const lines = readFileSync(chain, 'utf8').split('\n')
  lines[2] = lines[2]!.replace('"verdict":"allow"', '"verdict":"block"')
  writeFileSync(chain, lines.join('\n'))
  const bad = runCli(['verify-receipt', chain, '--key', key])
  assert.equal(bad.status, 1)
  assert.match(bad.stdout, /\n  Error:    seq 2: signature: signature verification failed\n  Broke at: seq 2\n  Line:     .*evidence-proxy-0\.jsonl:3\n$/)
  const docs = readFileSync(repoPath('docs', 'receipts.md'), 'utf8')
  assert.ok(docs.includes("sed -i '3s/\"verdict\":\"allow\"/\"verdict\":\"block\"/'"), 'docs example changed: keep this test in step')
})
