import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {REASON_CODES} from '../../../src/plugins/scanner/reasons.js'
import {repoPath} from '../../helpers/vectors.js'

// docs/run.md's reason-code table ("Block responses") tells agent authors how to react to each
// code: every code it names is one the proxy sends, with the severity and retry headers it sends.
// Contract blocks are the one override: every contract code is sent critical/policy (block.ts).

function tableRows(doc: string): Array<{codes: string[]; severity: string; retry: string}> {
  const start = doc.indexOf('| code | severity | retry |')
  assert.ok(start >= 0, 'run.md has the reason-code table')
  const rows = []
  for (const line of doc.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break
    const cells = line.split('|').map((c) => c.trim())
    rows.push({codes: [...(cells[1] ?? '').matchAll(/`([a-z0-9_-]+)`/g)].map((m) => m[1]!), severity: cells[2] ?? '', retry: cells[3] ?? ''})
  }
  return rows
}

test('docs/run.md: every reason code of the block-response table has the severity and retry the proxy sends', () => {
  const rows = tableRows(readFileSync(repoPath('docs', 'run.md'), 'utf8'))
  assert.ok(rows.length > 20, `found ${rows.length} rows`)
  for (const r of rows) {
    assert.ok(r.codes.length > 0, `a row names a code: ${JSON.stringify(r)}`)
    for (const c of r.codes) {
      const sent = (REASON_CODES as Record<string, {severity: string; retry: string}>)[c]
      assert.ok(sent !== undefined, `${c} is a reason code`)
      const expected = c.startsWith('contract_') ? {severity: 'critical', retry: 'policy'} : sent
      assert.deepEqual({code: c, severity: r.severity, retry: r.retry}, {code: c, severity: expected.severity, retry: expected.retry})
    }
  }
})
