import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {compareCaptureFiles} from '../../../src/plugins/capture/index.js'
import {
  createScannerReplay,
  renderShadowJson,
  renderShadowMarkdown,
  ScanMemo,
  shadowReplay,
  type ScannerReplay,
  type ScannerReplayResult,
} from '../../../src/plugins/learn/index.js'
import {generateCorpus, type TrafficShape} from '../../../bench/corpus-generator.js'
import {GOLDEN_CORPORA} from '../../../bench/corpus-goldens.js'
import {listJsonl, oracleReplayScan, ratifiedGoldenBody, SHADOW_NOW, SHADOW_WEEK_NS} from '../../helpers/golden-shadow.js'
import {repoPath} from '../../helpers/vectors.js'

// Issue 18: `learn shadow` asks the scanner for a read chunk's URLs at once (`many`), from a
// two-generation memo, and past `workerAfter` scans the misses on a worker thread while the
// calling thread reads, decodes and judges. Differential against the previous way — one URL
// scanned after another on the calling thread, no memo (the oracle below is that code, kept
// here) — on every golden corpus with both ratifications and on a generated corpus whose URLs the
// scanner blocks and warns on: the same markdown and JSON reports, byte for byte.

function captureFiles(root: string): string[] {
  return listJsonl(root).sort(compareCaptureFiles)
}

type Body = Parameters<typeof shadowReplay>[1]

async function reports(files: string[], body: Body, scanner: ScannerReplay): Promise<{md: string; json: string; changed: number}> {
  try {
    const r = await shadowReplay(files, body, scanner, SHADOW_NOW, SHADOW_WEEK_NS)
    return {md: renderShadowMarkdown(r.analysis), json: renderShadowJson(r.analysis), changed: r.analysis.changed}
  } finally {
    await scanner.close?.()
  }
}

/** Every arm of the new path against the oracle, on one capture and contract. */
async function assertSameReports(files: string[], body: Body, label: string): Promise<{changed: number}> {
  const want = await reports(files, body, oracleReplayScan())
  const arms: [string, ScannerReplay][] = [
    ['inline, memoised', createScannerReplay()],
    ['worker thread from the first URL', createScannerReplay(undefined, {workerAfter: 0})],
    ['worker thread after 5 URLs, a 3-entry memo generation', createScannerReplay(undefined, {workerAfter: 5, memoGeneration: 3})],
  ]
  for (const [arm, scanner] of arms) {
    const got = await reports(files, body, scanner)
    assert.equal(got.md, want.md, `${label}: markdown, ${arm}`)
    assert.equal(got.json, want.json, `${label}: JSON, ${arm}`)
  }
  return {changed: want.changed}
}

test('scan batches, memo and worker thread: golden corpora report byte-identically to the one-at-a-time scan', async () => {
  for (const corpus of GOLDEN_CORPORA) {
    const files = captureFiles(repoPath('goldens', corpus.name, 'input'))
    for (const mode of ['all', 'strict'] as const) await assertSameReports(files, ratifiedGoldenBody(corpus.name, mode).body, `${corpus.name}/${mode}`)
  }
})

test('scan batches, memo and worker thread: scanner blocks and warns come back in order', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-scan-'))
  try {
    // Blocked (token in the path, blocklisted host), warned and allowed URLs, repeated and
    // interleaved, over enough events for several read chunks.
    const shape: TrafficShape = {
      routes: [
        {method: 'GET', url: 'https://api.example.com/v1/users/{id}', weight: 10, ids: 400},
        {method: 'GET', url: 'https://api.example.com/v1/blobs/{hash}', weight: 4, ids: 200},
        {method: 'GET', url: 'https://leak.example.net/t/ghp_{hash}', weight: 2, ids: 50},
        {method: 'GET', url: 'https://www.pastebin.com/raw/{id}', weight: 2, ids: 30},
        {method: 'POST', url: 'https://api.example.com/v1/orgs/{id}/repos', weight: 2, ids: 40, action: 'warn'},
        {method: 'GET', url: 'https://cdn.example.net/app.{hash}.js', weight: 1, ids: 5, surface: 'response'},
      ],
    }
    generateCorpus(dir, {seed: 7, agent: 'scan-agent', sessions: 3, events: 3000, start: '2026-04-29T00:00:00Z', spanSeconds: 6 * 3600, shape})
    const files = captureFiles(dir)
    const body = ratifiedGoldenBody(GOLDEN_CORPORA[0]!.name, 'all').body
    const {changed} = await assertSameReports(files, body, 'generated')
    assert.ok(changed > 0)
    // The corpus does exercise scanner blocks: the oracle blocks some of its URLs.
    const oracle = oracleReplayScan()
    const verdicts = new Set<string>()
    for (const url of ['https://leak.example.net/t/ghp_' + 'a1'.repeat(20), 'https://www.pastebin.com/raw/10000', 'https://api.example.com/v1/users/10000']) verdicts.add((await oracle(url)).verdict)
    assert.deepEqual([...verdicts].sort(), ['allow', 'block'])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('ScanMemo: two generations, a hit in the older one survives the next turnover', () => {
  const r = (v: string): ScannerReplayResult => ({verdict: v, findings: []})
  const m = new ScanMemo(2)
  m.set('a', r('a'))
  m.set('b', r('b'))
  m.set('c', r('c')) // current was full: {a, b} becomes the older generation
  assert.equal(m.get('a')?.verdict, 'a') // found in the older one, moved to the current
  m.set('d', r('d')) // current {c, a} full: turns over, {b} is dropped
  assert.equal(m.get('b'), undefined)
  assert.equal(m.get('a')?.verdict, 'a')
  assert.equal(m.get('c')?.verdict, 'c')
  assert.equal(m.get('d')?.verdict, 'd')
})

test('createScannerReplay: a URL asked by overlapping `many` calls is scanned once; each answers in its own order', async () => {
  const blocked = 'https://leak.example.net/t/ghp_' + 'b2'.repeat(20)
  const first = ['https://a.example/x', blocked, 'https://www.pastebin.com/raw/1']
  // asked again while the first call's scans still run: two of its URLs, one new, a repeat
  const second = [blocked, 'https://c.example/y', 'https://a.example/x', blocked]
  const third = ['https://c.example/y', 'https://d.example/z']
  const oracle = oracleReplayScan()
  const want = async (urls: string[]): Promise<ScannerReplayResult[]> => {
    const out: ScannerReplayResult[] = []
    for (const u of urls) out.push(await oracle(u))
    return out
  }
  for (const options of [{}, {workerAfter: 0}, {workerAfter: 0, memoGeneration: 1}]) {
    const scanner = createScannerReplay(undefined, options)
    try {
      const many = scanner.many as NonNullable<ScannerReplay['many']>
      const [a, b, c] = await Promise.all([many(first), many(second), many(third)])
      assert.deepEqual(a, await want(first), JSON.stringify(options))
      assert.deepEqual(b, await want(second), JSON.stringify(options))
      assert.deepEqual(c, await want(third), JSON.stringify(options))
      assert.equal(scanner.scanned?.(), 5, `five distinct URLs, each scanned once: ${JSON.stringify(options)}`)
      // settled: asked again, the memo answers (the 1-entry generations keep the last two)
      assert.deepEqual(await many(['https://d.example/z']), await want(['https://d.example/z']))
      assert.equal(scanner.scanned?.(), 5)
    } finally {
      await scanner.close?.()
    }
  }
})

test('createScannerReplay: `many` answers in input order, duplicates included, the same as the call', async () => {
  const scanner = createScannerReplay(undefined, {workerAfter: 0})
  try {
    const urls = ['https://www.pastebin.com/raw/1', 'https://a.example/x', 'https://www.pastebin.com/raw/1', 'https://leak.example.net/t/ghp_' + 'b2'.repeat(20), 'https://a.example/x']
    const many = await scanner.many?.(urls)
    const one: ScannerReplayResult[] = []
    const oracle = oracleReplayScan()
    for (const u of urls) one.push(await oracle(u))
    assert.deepEqual(many, one)
    assert.deepEqual(many?.map((x) => x.verdict), ['block', 'allow', 'block', 'block', 'allow'])
  } finally {
    await scanner.close?.()
  }
})
