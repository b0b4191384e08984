import {test} from 'node:test'
import assert from 'node:assert/strict'
import {ReceiptChainBuilder, RecorderEntryChain} from '../../../src/plugins/receipts/index.js'
import {signBytes} from '../../../src/plugins/signing/index.js'
import {readVector} from '../../helpers/vectors.js'
import {action, keyA, keyB, run, SYNTHETIC_IDENTITY} from '../../helpers/receipt-fixtures.js'

// The producer must write what the reference writes: rebuilding the synthetic rotation vector
// from its inputs has to give the same file, byte for byte (signatures are deterministic).
test('ReceiptChainBuilder + RecorderEntryChain reproduce synthetic-v1-session-rotation.jsonl byte for byte', () => {
  const b = new ReceiptChainBuilder(keyA())
  const entries = new RecorderEntryChain('proxy')
  const lines: string[] = []
  const id = SYNTHETIC_IDENTITY
  const ctl = (actionId: string, timestamp: string) => ({actionId, timestamp, ...id})
  lines.push(entries.receiptEntry(b.openRun(run(1, 'epoch-A'), ctl('syn-open-1', '2026-04-15T12:00:00Z')), '2026-04-15T12:00:00Z').line)
  lines.push(entries.receiptEntry(b.append(action('syn-read-1', '2026-04-15T12:00:01.5Z', 'read')), '2026-04-15T12:00:01.5Z').line)
  lines.push(entries.receiptEntry(b.heartbeat(ctl('syn-heartbeat-1', '2026-04-15T12:00:30Z')), '2026-04-15T12:00:30Z').line)
  const endorsement = b.rotateKey(keyB(), '2026-04-15T12:01:00Z', 'proxy')
  lines.push(entries.receiptEntry(b.openRun(run(2, 'epoch-B'), ctl('syn-open-2', '2026-04-15T12:01:00Z')), '2026-04-15T12:01:00Z').line)
  lines.push(
    entries.receiptEntry(b.append(action('syn-write-2', '2026-04-15T12:01:01Z', 'write', {verdict: 'block', layer: 'dlp'})), '2026-04-15T12:01:01Z').line,
  )
  lines.push(entries.receiptEntry(b.closeRun(ctl('syn-close-2', '2026-04-15T12:01:02Z')), '2026-04-15T12:01:02Z').line)
  lines.push(entries.checkpoint('2026-04-15T12:01:03.5Z', 0n, (prev) => signBytes(keyB(), Buffer.from(prev, 'ascii')).toString('hex')).line)

  const want = readVector('receipts', 'synthetic', 'synthetic-v1-session-rotation.jsonl').split('\n').filter((l) => l !== '')
  assert.equal(lines.length, want.length)
  lines.forEach((line, i) => assert.equal(line, want[i], `line ${i + 1}`))

  const wantEndorsement = JSON.parse(readVector('receipts', 'synthetic', 'synthetic-v1-session-rotation.endorsement.json'))
  assert.deepEqual(JSON.parse(endorsement.json), wantEndorsement)
})
