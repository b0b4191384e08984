import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {actionReceiptHash, extractChainItems, RecorderEntryChain, signActionReceipt, verifyChain} from '../../../src/plugins/receipts/index.js'
import {fromPlain} from '../../../src/plugins/canonical/index.js'
import {action, keyA} from '../../helpers/receipt-fixtures.js'

// `ext` is unsigned but part of the receipt hash: its exact bytes in the file decide the next
// receipt's chain_prev_hash, so extraction must read them from the source text.
test('an ext member in a recorder entry is hashed from its bytes: valid as written, broken when edited', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-ext-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const r0 = {...signActionReceipt(fromPlain({version: 1, chain_prev_hash: 'genesis', chain_seq: 0, ...action('x0', '2026-11-22T09:00:00Z', 'read')}), keyA()), ext: '{"note":"a\\u003cb","n":1e+06}'}
  const r1 = signActionReceipt(fromPlain({version: 1, chain_prev_hash: actionReceiptHash(r0), chain_seq: 1, ...action('x1', '2026-11-22T09:00:01Z', 'read')}), keyA())
  const entries = new RecorderEntryChain('proxy')
  const lines = [r0, r1].map((r) => entries.receiptEntry(r, '2026-11-22T09:00:00Z').line)
  const file = path.join(dir, 'chain.jsonl')
  writeFileSync(file, lines.join('\n') + '\n')
  assert.equal((await verifyChain(extractChainItems([file]))).valid, true)
  assert.match(lines[0]!, /"ext":\{"note":"a\\u003cb","n":1e\+06\}/)
  writeFileSync(file, [lines[0]!.replace('1e+06', '1000000'), lines[1]].join('\n') + '\n')
  const r = await verifyChain(extractChainItems([file]))
  assert.equal(r.error, 'seq 1: chain_prev_hash mismatch')
})
