/**
 * The capture writer on a disk that refuses writes: a record that cannot be written leaves no
 * trace in its session file — no fragment, no broken link — so `learn compile`'s reader (for
 * which a broken chain is fatal, learn-compile §4) still reads the whole capture, and the loss is
 * counted as drops. Batched (as the proxy's capture sink writes) and line by line; a refused
 * rotation and a refused close do not lose the writer or its files.
 */
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock} from '../../../src/plugins/canonical/index.js'
import {openCaptureWriter, readCaptureInputs, type CaptureSummary, type RecorderEntry} from '../../../src/plugins/capture/index.js'
import {fillDisk, refuseOpens, refuseWrites} from '../../helpers/disk-faults.js'

const CLOCK = fixedClock('2026-11-26T09:00:00Z')

function tmp(t: {after: (fn: () => void) => void}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-cap-fail-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

function summary(url: string): CaptureSummary {
  return {
    capture_schema_version: 1, surface: 'url', subsurface: 'forward', config_hash: 'sha256:cfg', build_version: 'test', build_sha: 'test',
    agent: 'agent-a', action_class: 'read', payload_complete: false, transform_kind: '', request: {method: 'GET', url},
    raw_findings: null, effective_findings: null, effective_action: 'allow', outcome: 'clean',
  }
}

const record = (n: string) => ({sessionId: 's1', transport: 'forward', detail: summary(`https://api.example.com/${n}`)})

/** Every file of a session through compile's reader (chain checked across files); throws on a fragment or a broken link. */
async function read(dir: string, session: string): Promise<RecorderEntry[]> {
  const sdir = path.join(dir, session)
  const files = readdirSync(sdir).filter((f) => f.endsWith('.jsonl')).sort((a, b) => Number(/-(\d+)\.jsonl$/.exec(a)![1]) - Number(/-(\d+)\.jsonl$/.exec(b)![1]))
  const out: RecorderEntry[] = []
  await readCaptureInputs(files.map((f) => ({name: path.join(sdir, f)})), {onEntry: (e) => out.push(e)})
  return out
}

const urls = (es: RecorderEntry[]): string[] => es.filter((e) => e.type === 'capture').map((e) => String((e.detail as {request: {url: string}}).request.url).slice('https://api.example.com/'.length))

describe('capture writer when the disk refuses writes', () => {
  test('line by line: a record cut short leaves no trace; compile reads the rest as one chain; the loss is a drop', async (t) => {
    const dir = tmp(t)
    const w = openCaptureWriter(dir, {clock: CLOCK, checkpointEvery: 100})
    assert.equal(w.append(record('before')), true)
    const restore = fillDisk(t)
    assert.equal(w.append(record('cut-short')), false)
    assert.equal(w.append(record('refused')), false)
    restore()
    assert.equal(w.append(record('after')), true)
    w.close()
    assert.equal(w.dropped, 2)
    assert.deepEqual(urls(await read(dir, 's1')), ['before', 'after'])
    // The drops are on record for compile's `dropped` count (the first one's sentinel; the disk refused it then, not the closing one).
    const meta = await read(dir, 'capture-meta')
    assert.deepEqual(meta.map((e) => e.type), ['capture_drop'])
    assert.deepEqual(meta[0]!.detail, {count: 2, reason: 'backpressure'})
  })

  test('batched, as the proxy writes: a refused batch is dropped whole and the chain goes on from the last entry in the file', async (t) => {
    const dir = tmp(t)
    const w = openCaptureWriter(dir, {clock: CLOCK, checkpointEvery: 100, batch: true})
    assert.equal(w.append(record('b1')), true)
    w.flush()
    assert.equal(w.append(record('b2')), true)
    assert.equal(w.append(record('b3')), true)
    const restore = fillDisk(t)
    w.flush()
    assert.match(String(w.lastError?.message), /ENOSPC/)
    restore()
    assert.equal(w.append(record('b4')), true)
    w.close()
    assert.equal(w.dropped, 2)
    assert.deepEqual(urls(await read(dir, 's1')), ['b1', 'b4'])
  })

  test('a rotation the disk refuses drops its record; the next append opens the file', async (t) => {
    const dir = tmp(t)
    const w = openCaptureWriter(dir, {clock: CLOCK, checkpointEvery: 100, linesPerFile: 1})
    assert.equal(w.append(record('first')), true)
    const restore = refuseOpens(t)
    assert.equal(w.append(record('refused')), false)
    restore()
    assert.equal(w.append(record('second')), true)
    w.close()
    assert.deepEqual(urls(await read(dir, 's1')), ['first', 'second'])
  })

  test('a close the disk refuses still closes every file', async (t) => {
    const dir = tmp(t)
    const w = openCaptureWriter(dir, {clock: CLOCK, checkpointEvery: 100})
    assert.equal(w.append(record('one')), true)
    const restore = refuseWrites(t)
    w.close()
    restore()
    assert.match(String(w.lastError?.message), /ENOSPC/)
    // Closed: a later append is a drop, and what was written reads as one chain.
    assert.equal(w.append(record('late')), false)
    assert.deepEqual(urls(await read(dir, 's1')), ['one'])
  })
})
