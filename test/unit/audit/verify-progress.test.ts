import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {commandProgress} from '../../../src/cli/progress.js'
import {verifyEvidenceInput} from '../../../src/plugins/audit/index.js'
import {ReceiptChainBuilder, RecorderEntryChain} from '../../../src/plugins/receipts/index.js'
import {action, keyA, K1} from '../../helpers/receipt-fixtures.js'

// verify-receipt's progress bar (issue 11): the evidence-set verifier reports progress every
// 4,096 lines (bytes read, bytes in total, receipts so far), and the command's progress line
// turns that into a bar on a terminal once the run has taken more than a second.

test('verify-receipt progress: the verifier reports every 4,096 lines and the bar shows it on a terminal', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-verify-progress-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const b = new ReceiptChainBuilder(keyA())
  const entries = new RecorderEntryChain('proxy')
  const lines: string[] = []
  for (let i = 0; i < 4_200; i++) lines.push(entries.receiptEntry(b.append(action(`p-${i}`, '2026-11-22T09:00:00Z', 'read')), '2026-11-22T09:00:00Z').line)
  const file = path.join(dir, 'chain.jsonl')
  writeFileSync(file, lines.join('\n') + '\n')

  const calls: [number, number, number][] = []
  let now = 0
  const out: string[] = []
  const tty = {isTTY: true, write: (s: string) => (out.push(s), true)}
  const bar = commandProgress(false, 'verifying', 'receipts', tty, () => now)
  now = 2_000 // the run has taken two seconds when the first report arrives
  const report = await verifyEvidenceInput({
    file,
    keys: [K1],
    onProgress: (d, total, n) => {
      calls.push([d, total, n])
      bar.option.onProgress?.(d, total, n)
    },
  })
  bar.done()
  assert.equal(report.kind, 'evidence_set')
  assert.equal(report.valid, true)
  const first4096 = lines.slice(0, 4_096).reduce((s, l) => s + Buffer.byteLength(l) + 1, 0)
  // reported before the 4,096th line is walked: 4,095 receipts so far
  assert.deepEqual(calls, [[first4096, statSync(file).size, 4_095]])
  const pct = Math.floor((first4096 * 100) / statSync(file).size)
  const filled = Math.round((pct * 30) / 100)
  assert.deepEqual(out, [`\rverifying [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${pct}% 4,095 receipts, 2,048/s `, '\r\x1b[K'])
})
