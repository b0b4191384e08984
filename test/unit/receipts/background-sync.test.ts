import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock} from '../../../src/plugins/canonical/index.js'
import {openCaptureWriter, type CaptureSummary} from '../../../src/plugins/capture/index.js'
import {BackgroundSync} from '../../../src/plugins/receipts/index.js'
import {FlightRecorder} from '../../../src/plugins/recorder/index.js'

// Checkpoint fsyncs run on the thread pool (background-sync.ts): the checkpoint line is written
// synchronously like every other line, only its fsync is left to the pool.

async function settled(b: BackgroundSync): Promise<void> {
  while (b.inFlight > 0) await new Promise((r) => setTimeout(r, 2))
}

test('background fsync: completes, and a failure surfaces once, as WRITE_FAILED, on the next check', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-bgsync-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const file = path.join(dir, 'f.jsonl')
  writeFileSync(file, 'x\n')
  const b = new BackgroundSync()
  b.request(file)
  assert.equal(b.inFlight, 1)
  await settled(b)
  b.check()
  b.request(path.join(dir, 'gone.jsonl'))
  await settled(b)
  assert.throws(() => b.check(), (e: Error & {code?: string}) => e.code === 'WRITE_FAILED' && /background fsync of .*gone\.jsonl: ENOENT/.test(e.message))
  b.check()
})

test('flight recorder: a checkpoint is written at once and fsynced in the background; a failed fsync fails the next append', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-bgsync-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const rec = await FlightRecorder.open({dir, checkpointInterval: 2, clock: fixedClock('2026-11-22T09:00:00Z')})
  rec.append({ts: '2026-11-22T09:00:00Z', type: 'decision', summary: 'a', detailJson: '{}'})
  rec.append({ts: '2026-11-22T09:00:00Z', type: 'decision', summary: 'b', detailJson: '{}'})
  const lines = readFileSync(rec.currentFile, 'utf8').trim().split('\n')
  assert.equal(lines.length, 3)
  assert.match(lines[2]!, /"type":"checkpoint"/)
  assert.equal(rec.background.inFlight, 1)
  await settled(rec.background)
  // A background failure (here: the file renamed away before its fsync ran) is not lost.
  rec.append({ts: '2026-11-22T09:00:00Z', type: 'decision', summary: 'c', detailJson: '{}'})
  rec.background.request(path.join(dir, 'renamed-away.jsonl'))
  await settled(rec.background)
  assert.throws(() => rec.append({ts: '2026-11-22T09:00:00Z', type: 'decision', summary: 'd', detailJson: '{}'}), /background fsync of .*renamed-away\.jsonl/)
  rec.close()
})

test('capture writer: the checkpoint line is in the file when append returns (its fsync runs in the background)', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-bgsync-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const w = openCaptureWriter(dir, {clock: fixedClock('2026-11-22T09:00:00Z'), checkpointEvery: 2})
  const detail = (url: string): CaptureSummary => ({
    capture_schema_version: 1, surface: 'url', subsurface: 'fetch', config_hash: 'sha256:cfg', build_version: 'test', build_sha: 'test',
    payload_complete: false, transform_kind: '', request: {method: 'GET', url}, raw_findings: null, effective_findings: null, effective_action: 'allow', outcome: 'clean',
  })
  assert.equal(w.append({sessionId: 's1', transport: 'fetch', detail: detail('https://a.example/1')}), true)
  assert.equal(w.append({sessionId: 's1', transport: 'fetch', detail: detail('https://a.example/2')}), true)
  const lines = readFileSync(path.join(dir, 's1', 'evidence-s1-0.jsonl'), 'utf8').trim().split('\n')
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as {type: string}).type), ['capture', 'capture', 'checkpoint'])
  w.close()
  assert.equal(w.lastError, undefined)
})
