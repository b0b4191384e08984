import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {compareCaptureFiles} from '../../../src/plugins/capture/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {createScannerReplay, renderShadowJson, renderShadowMarkdown, shadowReplay, type CapturedEvent} from '../../../src/plugins/learn/index.js'
import {readCapturedEventsInWorker} from '../../../src/plugins/learn/shadow-decode-thread.js'
import {readCapturedEvents} from '../../../src/plugins/learn/shadow-event.js'
import {generateCorpus, type TrafficShape} from '../../../bench/corpus-generator.js'
import {GOLDEN_CORPORA} from '../../../bench/corpus-goldens.js'
import {listJsonl, ratifiedGoldenBody, SHADOW_NOW, SHADOW_WEEK_NS} from '../../helpers/golden-shadow.js'
import {repoPath} from '../../helpers/vectors.js'

// Issue 18: `learn shadow` reads, decodes and chain-checks large captures on a decode worker
// (shadow-decode-thread.ts) and takes the events over in batches. Differential against the reading
// on the calling thread (`readCapturedEvents`, the code the replay ran before), which stays the
// oracle: the same events in the same order, the same skipped count and bytes, the same failure
// (class, code, message, hint, location) on broken captures, and the same reports.

type Read = {events: CapturedEvent[]; skipped: number; bytes: number; afterChunks: number; error?: unknown}

async function read(files: string[], worker: false | {postEvents: number; inFlight: number}): Promise<Read> {
  const r: Read = {events: [], skipped: 0, bytes: 0, afterChunks: 0}
  const sink = {
    onEvent: (ev: CapturedEvent | undefined) => (ev === undefined ? r.skipped++ : r.events.push(ev)),
    onBytes: (n: number) => void (r.bytes += n),
    // Awaited between batches: a slow consumer, so the worker's read-ahead limit is exercised.
    afterChunk: async () => {
      r.afterChunks++
      await new Promise((resolve) => setImmediate(resolve))
    },
    chunkSize: 4096,
  }
  try {
    if (worker === false) await readCapturedEvents(files, sink)
    else await readCapturedEventsInWorker(files, sink, worker)
  } catch (e) {
    r.error = e
  }
  return r
}

const TUNINGS = [
  {postEvents: 1, inFlight: 1},
  {postEvents: 7, inFlight: 2},
  {postEvents: 512, inFlight: 4},
]

function errorFields(e: unknown): unknown {
  if (!(e instanceof PipelockError)) return e
  return {class: e.constructor.name, code: e.code, exitCode: e.exitCode, message: e.message, hint: e.hint, location: e.location}
}

async function assertSameEvents(files: string[], label: string): Promise<Read> {
  const want = await read(files, false)
  for (const tuning of TUNINGS) {
    const got = await read(files, tuning)
    assert.deepEqual(errorFields(got.error), errorFields(want.error), `${label}: failure, ${JSON.stringify(tuning)}`)
    if (want.error !== undefined) {
      // The worker hands over whole batches: what it gave before the failure is a prefix of the oracle's.
      assert.deepEqual(got.events, want.events.slice(0, got.events.length), `${label}: events before the failure, ${JSON.stringify(tuning)}`)
      continue
    }
    assert.deepEqual(got.events, want.events, `${label}: events, ${JSON.stringify(tuning)}`)
    assert.equal(got.skipped, want.skipped, `${label}: skipped, ${JSON.stringify(tuning)}`)
    assert.equal(got.bytes, want.bytes, `${label}: bytes, ${JSON.stringify(tuning)}`)
    // A batch per read chunk (each holds whole lines: they are far shorter than a chunk).
    if (tuning.postEvents === 1) assert.ok(got.afterChunks >= Math.floor(want.bytes / 4096), `${label}: one batch per chunk`)
  }
  return want
}

function captureFiles(root: string): string[] {
  return listJsonl(root).sort(compareCaptureFiles)
}

test('decode worker: every golden corpus gives the events the calling thread reads', async () => {
  for (const corpus of GOLDEN_CORPORA) {
    const want = await assertSameEvents(captureFiles(repoPath('goldens', corpus.name, 'input')), corpus.name)
    assert.equal(want.error, undefined)
    assert.ok(want.events.length > 0)
  }
})

const SHAPE: TrafficShape = {
  routes: [
    {method: 'GET', url: 'https://api.example.com/v1/users/{id}', weight: 12, ids: 300},
    {method: 'POST', url: 'https://api.example.com/v1/users/{id}', weight: 3, ids: 300, action: 'warn'},
    {method: 'GET', url: 'https://leak.example.net/t/ghp_{hash}', weight: 2, ids: 40},
    {method: 'GET', url: 'https://cdn.example.net/app.{hash}.js', weight: 1, ids: 5, surface: 'response'},
  ],
}

test('decode worker: broken captures fail with the same error, after the same events', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-decode-'))
  try {
    generateCorpus(path.join(dir, 'c'), {seed: 5, agent: 'decode-agent', sessions: 2, events: 600, start: '2026-04-29T00:00:00Z', spanSeconds: 3600, shape: SHAPE})
    const files = captureFiles(path.join(dir, 'c'))
    const want = await assertSameEvents(files, 'generated')
    assert.equal(want.events.length, 600)
    const first = files[0] as string
    const lines = readFileSync(first, 'utf8').split('\n')
    const variant = (name: string, edit: (ls: string[]) => string[]): string[] => {
      const d = path.join(dir, name)
      mkdirSync(d)
      const f = path.join(d, path.basename(first))
      writeFileSync(f, edit([...lines]).join('\n'))
      return [f, ...files.slice(1)]
    }
    const cases: [string, string[], string | undefined][] = [
      ['not JSON on line 200', variant('json', (ls) => ((ls[199] = '{"v":1,'), ls)), 'CAPTURE_LINE_INVALID'],
      ['a hash changed on line 120', variant('hash', (ls) => ((ls[119] = (ls[119] as string).replace(/"hash":"([0-9a-f])/, (_m, c: string) => `"hash":"${c === '0' ? '1' : '0'}`)), ls)), 'CAPTURE_CHAIN_BROKEN'],
      ['lines 50 and 51 swapped', variant('swap', (ls) => ([ls[49], ls[50]] = [ls[50] as string, ls[49] as string], ls)), 'CAPTURE_CHAIN_BROKEN'],
      ['a summary that does not decode (skipped, then the chain breaks)', variant('summary', (ls) => ((ls[10] = (ls[10] as string).replace('"capture_schema_version":1', '"capture_schema_version":2')), ls)), 'CAPTURE_CHAIN_BROKEN'],
      ['blank and CRLF lines, truncated last line', variant('blank', (ls) => [...ls.slice(0, 5), '', '   ', ...ls.slice(5, 9).map((l) => l + '\r'), ...ls.slice(9, -2), (ls.at(-2) as string).slice(0, 40)]), 'CAPTURE_LINE_INVALID'],
      ['a missing file', [...files, path.join(dir, 'missing.jsonl')], 'FILE_NOT_FOUND'],
      ['a directory for a file', [...files, dir], 'FILE_UNREADABLE'],
    ]
    for (const [label, input, code] of cases) {
      const w = await assertSameEvents(input, label)
      assert.equal(w.error instanceof PipelockError ? w.error.code : undefined, code, label)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('decode worker: the replay reports byte-identically with and without it', async () => {
  for (const corpus of GOLDEN_CORPORA) {
    const files = captureFiles(repoPath('goldens', corpus.name, 'input'))
    for (const mode of ['all', 'strict'] as const) {
      const body = ratifiedGoldenBody(corpus.name, mode).body
      const out: string[][] = []
      for (const decodeWorker of [false, true]) {
        const scanner = createScannerReplay()
        try {
          const r = await shadowReplay(files, body, scanner, SHADOW_NOW, SHADOW_WEEK_NS, undefined, undefined, {decodeWorker})
          out.push([renderShadowMarkdown(r.analysis), renderShadowJson(r.analysis), String(r.skipped), [...r.opportunity.windows].map(String).sort().join()])
        } finally {
          await scanner.close?.()
        }
      }
      assert.deepEqual(out[1], out[0], `${corpus.name}/${mode}`)
    }
  }
})
