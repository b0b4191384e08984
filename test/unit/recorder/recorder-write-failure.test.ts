/**
 * The flight recorder on a disk that refuses writes (full, or over a file-size limit): the real
 * files, with only the failure injected into node:fs as the kernel reports it — a write cut
 * short, then ENOSPC. A failed entry leaves no fragment in the file (the entries after it stay
 * readable and the chain shows a gap), a refused rotation does not lose the recorder, a refused
 * close still lets the file and the writer lock go, and the owner is told when writing stops and
 * when it works again.
 */
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {FlightRecorder, type WriteHealthChange} from '../../../src/plugins/recorder/index.js'
import {EntryChainVerifier, parseRecorderEntry} from '../../../src/plugins/receipts/index.js'
import {fixedClock, type Clock} from '../../../src/plugins/canonical/index.js'
import {fillDisk, refuseOpens, refuseWrites} from '../../helpers/disk-faults.js'

function tick(): Clock {
  let ns = fixedClock('2026-11-26T09:00:00Z').nowNanos()
  return {nowNanos: () => (ns += 1_000_000n)}
}

function tmp(t: {after: (fn: () => void) => void}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-rec-fail-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

const entry = (summary: string) => ({ts: '2026-11-26T09:00:00Z', type: 'decision', transport: 'fetch', summary, detailJson: '{"verdict":"allow"}'})

function fileEntries(dir: string) {
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => parseRecorderEntry(l)))
}

describe('FlightRecorder when the disk refuses writes', () => {
  test('a write cut short leaves no fragment: later entries are whole lines and the chain shows the gap', async (t) => {
    const dir = tmp(t)
    const changes: WriteHealthChange[] = []
    const rec = await FlightRecorder.open({dir, clock: tick(), checkpointInterval: 100, onWriteHealth: (c) => changes.push(c)})
    rec.append(entry('before'))
    const restore = fillDisk(t)
    assert.throws(() => rec.append(entry('cut short')), /ENOSPC/)
    assert.throws(() => rec.append(entry('refused')), /ENOSPC/)
    assert.deepEqual([rec.failing, rec.writeFailures], [true, 2])
    restore()
    rec.append(entry('after'))
    assert.deepEqual([rec.failing, rec.writeFailures], [false, 2])
    rec.close()

    // Told twice: when writing stopped (1 entry lost so far) and when it worked again (the streak).
    assert.deepEqual(changes, [
      {failing: true, error: 'ENOSPC: no space left on device, write', lost: 1},
      {failing: false, error: 'ENOSPC: no space left on device, write', lost: 2},
    ])
    // Every line parses (fileEntries throws on a fragment glued to the next entry).
    const all = fileEntries(dir)
    // (A checkpoint names the range it closes, the lost entries' numbers included.)
    assert.deepEqual(all.map((e) => [e.seq, e.summary]), [['0', 'before'], ['3', 'after'], ['4', 'checkpoint: 4 entries [seq 0-3]']])
    // The gap is where the two entries were lost, and nowhere else.
    const v = new EntryChainVerifier(() => true)
    assert.equal(v.push(all[0]!), undefined)
    assert.match(String(v.push(all[1]!)), /seq/)
  })

  test('a rotation the disk refuses does not lose the recorder: the next append opens the next file', async (t) => {
    const dir = tmp(t)
    const rec = await FlightRecorder.open({dir, clock: tick(), checkpointInterval: 100, maxEntriesPerFile: 1})
    rec.append(entry('first file'))
    const restore = refuseOpens(t)
    assert.throws(() => rec.append(entry('refused rotation')), /cannot open .*ENOSPC/)
    restore()
    rec.append(entry('second file'))
    rec.close()
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort(), ['evidence-proxy-0.jsonl', 'evidence-proxy-1.jsonl'])
    assert.deepEqual(fileEntries(dir).map((e) => e.summary).slice(0, 2), ['first file', 'second file'])
  })

  test('a close the disk refuses still lets the file and the writer lock go', async (t) => {
    const dir = tmp(t)
    const changes: WriteHealthChange[] = []
    const rec = await FlightRecorder.open({dir, clock: tick(), checkpointInterval: 100, onWriteHealth: (c) => changes.push(c)})
    rec.append(entry('one'))
    const restore = refuseWrites(t)
    rec.close()
    restore()
    assert.deepEqual(changes.map((c) => c.failing), [true])
    // A second writer of the same chain is refused while the first holds the lock: this one is let in.
    const next = await FlightRecorder.open({dir, clock: tick(), checkpointInterval: 100})
    next.append(entry('two'))
    next.close()
    assert.deepEqual(fileEntries(dir).map((e) => e.summary).filter((s) => !s.startsWith('checkpoint')), ['one', 'two'])
  })
})
