import {test, type TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {commandProgress} from '../../../src/cli/progress.js'
import {buildAuditPacket, collectReportData, transcriptRoot, verifyAuditPacket, verifyEvidenceInput} from '../../../src/plugins/audit/index.js'
import {ReceiptChainBuilder, RecorderEntryChain} from '../../../src/plugins/receipts/index.js'
import {action, keyA, K1} from '../../helpers/receipt-fixtures.js'

// verify-receipt's progress bar (issue 11): the evidence-set verifier reports progress every
// 4,096 lines (bytes read, bytes in total, receipts so far), and the command's progress line
// turns that into a bar on a terminal once the run has taken more than a second.

/** A recorder file of 4,200 signed receipts (one progress report per pass, at line 4,096) in a directory removed after the test. */
function chainOf4200(t: TestContext): {dir: string; file: string; lines: string[]} {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-verify-progress-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const b = new ReceiptChainBuilder(keyA())
  const entries = new RecorderEntryChain('proxy')
  const lines: string[] = []
  for (let i = 0; i < 4_200; i++) lines.push(entries.receiptEntry(b.append(action(`p-${i}`, '2026-11-22T09:00:00Z', 'read')), '2026-11-22T09:00:00Z').line)
  const file = path.join(dir, 'chain.jsonl')
  writeFileSync(file, lines.join('\n') + '\n')
  return {dir, file, lines}
}

test('verify-receipt progress: the verifier reports every 4,096 lines and the bar shows it on a terminal', async (t) => {
  const {file, lines} = chainOf4200(t)

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

// The other commands that verify a chain report through the same callback: audit packet build
// (the evidence as given, then the packet's copy: one line, each pass half of it), audit packet
// verify, audit report and transcript-root.
test('audit packet build, packet verify, report and transcript-root report the verifier\'s progress', async (t) => {
  const {dir, file, lines} = chainOf4200(t)
  const size = statSync(file).size
  const bytesAt = (n: number): number => lines.slice(0, n).reduce((s, l) => s + Buffer.byteLength(l) + 1, 0)
  // a report at line 4,096 of each pass (4,095 receipts before it)
  const onePass: [number, number, number][] = [[bytesAt(4_096), size, 4_095]]

  const built: [number, number, number][] = []
  const out = path.join(dir, 'packet')
  const r = await buildAuditPacket({file, keys: [K1], out, clock: {nowNanos: () => 1_790_000_000_000_000_000n}, platform: 'linux', arch: 'x64', onProgress: (d, total, n) => built.push([d, total, n])})
  assert.equal(r.packet.verifier.verdict, 'valid')
  // the packet's copy is the same bytes: the second pass goes on from the first's end
  assert.deepEqual(built, [...onePass.map(([d, s, n]): [number, number, number] => [d, 2 * s, n]), ...onePass.map(([d, s, n]): [number, number, number] => [s + d, 2 * s, 4_200 + n])])

  const verified: [number, number, number][] = []
  const v = await verifyAuditPacket(out, {keys: [K1]}, [], (d, total, n) => verified.push([d, total, n]))
  assert.equal(v.valid, true, JSON.stringify(v.problems))
  assert.deepEqual(verified, onePass)

  const reported: [number, number, number][] = []
  const data = await collectReportData({file, keys: [K1], onProgress: (d, total, n) => reported.push([d, total, n])})
  assert.equal(data.valid, true)
  assert.deepEqual(reported, onePass)

  const rooted: [number, number, number][] = []
  const root = await transcriptRoot({file, keys: [K1], onProgress: (d, total, n) => rooted.push([d, total, n])})
  assert.equal(root.valid, true)
  assert.deepEqual(rooted, onePass)
})

// A packet built without a key and verified with one is verified twice (with the key given, then
// as it was built, to compare what build rendered): one line for both, each pass half of it, so
// the bar never runs back to 0 between them. Without a key it is one pass, the whole line.
test('audit packet verify of a packet built without a key, with a key: both passes on one monotonic line', async (t) => {
  const {dir, file, lines} = chainOf4200(t)
  const size = statSync(file).size
  const at4096 = lines.slice(0, 4_096).reduce((s, l) => s + Buffer.byteLength(l) + 1, 0)
  const out = path.join(dir, 'packet-nokey')
  const r = await buildAuditPacket({file, out, clock: {nowNanos: () => 1_790_000_000_000_000_000n}, platform: 'linux', arch: 'x64'})
  assert.equal(r.packet.verifier.verdict, 'self_consistent_only')

  const pinned: [number, number, number][] = []
  const v = await verifyAuditPacket(out, {keys: [K1]}, [], (d, total, n) => pinned.push([d, total, n]))
  assert.equal(v.valid, true, JSON.stringify(v.problems))
  assert.deepEqual(v.pinnedNow, {verdict: 'valid', signerKey: K1})
  assert.deepEqual(pinned, [
    [at4096, 2 * size, 4_095],
    [size + at4096, 2 * size, 4_200 + 4_095],
  ])

  const bare: [number, number, number][] = []
  const b = await verifyAuditPacket(out, {}, [], (d, total, n) => bare.push([d, total, n]))
  assert.equal(b.valid, true, JSON.stringify(b.problems))
  assert.deepEqual(bare, [[at4096, size, 4_095]])
})
