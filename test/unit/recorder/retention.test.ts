import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock, type Clock} from '../../../src/plugins/canonical/index.js'
import {expireRecorderFiles, FlightRecorder, ReceiptEmitter} from '../../../src/plugins/recorder/index.js'
import {verifyEvidenceInput} from '../../../src/plugins/audit/index.js'
import {keyA} from '../../helpers/receipt-fixtures.js'

// policy-extra.md §3.3 with a fake clock: closed files past the cutoff go, only as a prefix and
// never the open file; the anchor lets the remaining chain verify; a tampered anchor fails.

const DAY = 86_400_000_000_000n

function clockAt(ns: {v: bigint}): Clock {
  return {nowNanos: () => (ns.v += 1_000_000n)}
}

const jsonl = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort((a, b) => Number(a.split('-').pop()!.slice(0, -6)) - Number(b.split('-').pop()!.slice(0, -6)))

/** A signed recorder run in a fresh directory (three entries per file), on a clock the test moves. */
async function signedRun(t: {after: (fn: () => void) => void}, prefix: string) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const now = {v: fixedClock('2026-01-01T00:00:00Z').nowNanos()}
  const clock = clockAt(now)
  const key = keyA()
  let n = 0
  const recorder = await FlightRecorder.open({dir, clock, maxEntriesPerFile: 3, checkpointInterval: 1000, checkpointKey: key})
  const emitter = await ReceiptEmitter.open({
    recorder, dir, keyPair: key, principal: 'org:test', actor: 'pipelock', policyHash: 'sha256:' + '1'.repeat(64), clock,
    newId: () => `id-${++n}`, run: {runNonce: 'run-1', openNonce: 'open-1', signerKeyEpoch: 'e', heartbeatSeconds: 30},
  })
  return {dir, now, clock, key, recorder, emitter}
}

test('retention: old closed files expire behind an anchor, fresh and open files stay, the chain verifies', async (t) => {
  const {dir, now, clock, key, recorder, emitter} = await signedRun(t, 'pl-retention-')
  for (let i = 0; i < 5; i++) emitter.emit({method: 'GET', target: `https://example.com/old/${i}`, transport: 'fetch', verdict: 'allow'})
  now.v += 10n * DAY // ten days later
  for (let i = 0; i < 4; i++) emitter.emit({method: 'GET', target: `https://example.com/new/${i}`, transport: 'fetch', verdict: 'allow'})
  const before = jsonl(dir)
  assert.equal(before.length, 4) // 10 entries, 3 per file

  // Cutoff 5 days before "now": the two files of day 0 expire; the file straddling both days (its
  // last entry is fresh) and everything after it stay.
  const r = await expireRecorderFiles(recorder, {retentionDays: 5, nowNanos: now.v, key})
  assert.ok(r !== undefined)
  assert.deepEqual(r.removed.map((f) => f.file), before.slice(0, 2))
  assert.deepEqual(jsonl(dir), before.slice(2))
  // Nothing else is old enough: a second sweep is a no-op.
  assert.equal(await expireRecorderFiles(recorder, {retentionDays: 5, nowNanos: now.v, key}), undefined)
  emitter.emit({method: 'GET', target: 'https://example.com/after', transport: 'fetch', verdict: 'allow'})
  emitter.close()

  const keyHex = key.publicKey.toString('hex')
  const ok = await verifyEvidenceInput({chainDir: dir, keys: [keyHex]})
  assert.equal(ok.kind, 'evidence_set')
  if (ok.kind !== 'evidence_set') return
  assert.equal(ok.valid, true, JSON.stringify(ok.failure))
  assert.equal(ok.entries.retentionCut?.removedFiles, 2)
  assert.equal(ok.entries.retentionCut?.firstSeq, '0')
  assert.equal(ok.entries.retentionCut?.lastSeq, '5')

  // A retention sweep never takes the open file, even when it is old.
  now.v += 100n * DAY
  const rec2 = await FlightRecorder.open({dir, clock, maxEntriesPerFile: 3, checkpointKey: key})
  const open = path.basename(rec2.currentFile)
  await expireRecorderFiles(rec2, {retentionDays: 1, nowNanos: now.v, key})
  assert.ok(jsonl(dir).includes(open))
  rec2.close()
  // A second cut (its files held the first anchor) still verifies: the new anchor carries the state
  // on. Every receipt has expired, so the verdict is `empty`, with no failure.
  const ok2 = await verifyEvidenceInput({chainDir: dir, keys: [keyHex]})
  assert.ok(ok2.kind === 'evidence_set')
  if (ok2.kind !== 'evidence_set') return
  assert.equal(ok2.failure, undefined, JSON.stringify(ok2.failure))
  assert.equal(ok2.entries.valid, true)
  assert.equal(ok2.verdict, 'empty')
  assert.equal(ok2.entries.retentionCut?.firstSeq, '6')

  // Tampering with the anchor's signed detail (and its entry hash) is caught.
  const anchorFile = jsonl(dir).find((f) => readFileSync(path.join(dir, f), 'utf8').includes('"type":"retention_anchor"'))!
  const text = readFileSync(path.join(dir, anchorFile), 'utf8')
  writeFileSync(path.join(dir, anchorFile), text.replace(/"retention_days":(\d+)/, '"retention_days":9$1'))
  const bad = await verifyEvidenceInput({chainDir: dir, keys: [keyHex]})
  assert.equal(bad.kind === 'evidence_set' && bad.valid, false)
})

test('retention: files deleted behind an unsigned anchor (what anyone without the key can append) fail the chain', async (t) => {
  const {dir, now, clock, key, emitter} = await signedRun(t, 'pl-retention-forged-')
  for (let i = 0; i < 8; i++) emitter.emit({method: 'GET', target: `https://example.com/${i}`, transport: 'fetch', verdict: i === 2 ? 'block' : 'allow'})
  emitter.close()
  // The tamperer opens the recorder without the key and "expires" every closed file (the last
  // file, with the session_close, stays: it is the open one).
  now.v += 100n * DAY
  const forger = await FlightRecorder.open({dir, clock, maxEntriesPerFile: 3})
  const r = await expireRecorderFiles(forger, {retentionDays: 1, nowNanos: now.v})
  forger.close()
  assert.ok(r !== undefined && r.removed.length > 0)

  const report = await verifyEvidenceInput({chainDir: dir, keys: [key.publicKey.toString('hex')]})
  assert.ok(report.kind === 'evidence_set')
  if (report.kind !== 'evidence_set') return
  assert.equal(report.valid, false)
  assert.equal(report.verdict, 'invalid')
  assert.equal(report.failure?.component, 'entries')
  assert.equal(
    report.failure?.message,
    `entry seq ${r.anchorSeq}: the retention anchor the chains resume from is unsigned, but the recorder signs receipts: nothing proves the missing files expired rather than were deleted`,
  )
  // that failure is not passed off as a recorder without a key
  assert.deepEqual(report.warnings.filter((w) => w.message.includes('retention anchors are unsigned')), [])
})
