import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync, symlinkSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {decodeShadowReport, diffReports, renderDiffMarkdown, runLearnDiff} from '../../../src/plugins/learn/index.js'

const A = JSON.stringify({
  report_version: 1,
  contract_hash: 'sha256:a',
  total_records: 10,
  new_blocks: 2,
  extra_key: 'ignored',
  rules: [
    {rule_id: 'r-b', evaluations: 5, new_blocks: 2, new_allows: 0, new_block_rate_pct: 40},
    {rule_id: 'r-gone', evaluations: 3, new_blocks: 0, new_allows: 1, new_block_rate_pct: 0},
  ],
  quarantines: [{rule_id: 'r-b'}],
})
const B = JSON.stringify({
  report_version: 1,
  contract_hash: 'sha256:b',
  total_records: 10,
  new_blocks: 1,
  rules: [
    {rule_id: 'r-b', evaluations: 8, new_blocks: 1, new_allows: 0, new_block_rate_pct: 12.5},
    {rule_id: 'r-a', evaluations: 1, new_blocks: 0, new_allows: 0, new_block_rate_pct: 0.125},
  ],
})

test('learn diff: b − a per rule over the union, rows by rule id, exact markdown (§3.6)', () => {
  const d = diffReports(decodeShadowReport(A), decodeShadowReport(B))
  assert.equal(
    renderDiffMarkdown(d),
    '# Shadow Diff\n\n- first_contract_hash: `sha256:a`\n- second_contract_hash: `sha256:b`\n- records_delta: +0\n- new_blocks_delta: -1\n- quarantine_delta: -1\n\n' +
      '| rule | evals_delta | new_blocks_delta | new_allows_delta | rate_delta |\n|---|---:|---:|---:|---:|\n' +
      '| `r-a` | +1 | +0 | +0 | +0.12% |\n| `r-b` | +3 | -1 | +0 | -27.50% |\n| `r-gone` | -3 | +0 | -1 | +0.00% |\n',
  )
})

test('learn diff: wrong types and non-objects are decode errors; unknown keys ignored', () => {
  assert.throws(() => decodeShadowReport('[]'), /not a JSON object/)
  assert.throws(() => decodeShadowReport('{"total_records":"7"}'), /total_records: expected number/)
  assert.throws(() => decodeShadowReport('{"rules":[{"rule_id":1}]}'), /rules\[0\].rule_id: expected string/)
  assert.equal(decodeShadowReport('{"whatever":{}}').totalRecords, 0)
})

test('learn diff: paths absolute, regular files, not symlinks; --out written atomically', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-diff-'))
  try {
    const a = path.join(dir, 'a.json')
    const b = path.join(dir, 'b.json')
    writeFileSync(a, A)
    writeFileSync(b, B)
    symlinkSync(a, path.join(dir, 'link.json'))
    assert.throws(() => runLearnDiff('a.json', b), {message: 'learn diff: report path must be absolute, got "a.json"'})
    assert.throws(() => runLearnDiff(path.join(dir, 'link.json'), b), {message: `learn diff: report must not be a symlink: ${path.join(dir, 'link.json')}`})
    assert.throws(() => runLearnDiff(dir, b), {message: `learn diff: report must be a regular file: ${dir}`})
    assert.throws(() => runLearnDiff(path.join(dir, 'gone.json'), b), {message: `learn diff: cannot read report ${path.join(dir, 'gone.json')}: no such file or directory`})
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({body: {schema_version: 1, contract_hash: 'sha256:a', compile_started_at: 'x'}, signature: 's'}))
    assert.throws(() => runLearnDiff(path.join(dir, 'manifest.json'), b), {
      message: `learn diff: ${path.join(dir, 'manifest.json')} is not a shadow report: it looks like a compile manifest (learn compile writes it next to the candidate)`,
    })
    writeFileSync(path.join(dir, 'other.json'), '{"a":1,"b":2}')
    assert.throws(() => runLearnDiff(a, path.join(dir, 'other.json')), {message: `learn diff: ${path.join(dir, 'other.json')} is not a shadow report: it looks like a JSON object with keys a, b`})
    writeFileSync(path.join(dir, 'bad.json'), '{')
    assert.throws(() => runLearnDiff(path.join(dir, 'bad.json'), b), /^PipelockError: learn diff: decode report: /)
    const r = runLearnDiff(a, b, path.join(dir, 'out', 'diff.md'))
    assert.equal(r.dest, path.join(dir, 'out', 'diff.md'))
    assert.equal(r.rows.length, 3)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
