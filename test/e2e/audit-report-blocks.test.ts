import {before, test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {recordRun, steppingClock} from '../helpers/recorder-fixture.js'
import {encodePublicKeyText, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'

// The page of `pipelock audit report` lists the first 10,000 blocks; `--blocks-jsonl FILE`
// lists every one, streamed as the evidence is verified. Evidence with more blocks than the cap
// is recorded here for real (one run, 10,003 blocked decisions).

const key = keyPairFromSeed(sha256('pipelock-audit-report-blocks-test'))
const dir = mkdtempSync(path.join(tmpdir(), 'pl-audit-report-blocks-'))
const small = path.join(dir, 'small')
const large = path.join(dir, 'large')
const airlock = path.join(dir, 'airlock')
const pubFile = path.join(dir, 'receipt.pub')
const LARGE_BLOCKS = 10_003
const AIRLOCK_EVENTS = 10_002

before(async () => {
  writeFileSync(pubFile, encodePublicKeyText(key.publicKey))
  await recordRun({
    dir: small,
    key,
    clock: steppingClock(1_790_000_000_000_000_000n, 1_000_000_000n),
    run: 1,
    decisions: [
      {method: 'GET', target: 'https://api.example.com/v1/items', transport: 'fetch', verdict: 'allow'},
      {method: 'GET', target: 'https://pastebin.com/raw/x', transport: 'forward', verdict: 'block', layer: 'blocklist', pattern: 'domain_blocklist'},
      {method: 'POST', target: 'https://api.example.com/[redacted]', transport: 'fetch', verdict: 'block', layer: 'body_dlp'},
    ],
  })
  const decisions = Array.from({length: LARGE_BLOCKS}, (_, i) => ({method: 'GET', target: `https://pastebin.com/raw/${i}`, transport: 'forward', verdict: 'block', layer: 'blocklist'}))
  await recordRun({dir: large, key, clock: steppingClock(1_790_000_000_000_000_000n, 1_000_000n), run: 1, decisions})
  // An airlock's transitions are receipts of their own (transport "airlock"): lifecycle events, not decisions.
  const transitions = Array.from({length: AIRLOCK_EVENTS}, (_, i) => ({method: 'AIRLOCK', target: `agent-${i}`, transport: 'airlock', verdict: i % 2 === 0 ? 'soft' : 'none', layer: 'airlock'}))
  await recordRun({dir: airlock, key, clock: steppingClock(1_790_000_000_000_000_000n, 1_000_000n), run: 1, decisions: [...transitions, {method: 'GET', target: 'https://api.example.com/', transport: 'forward', verdict: 'allow'}]})
})

const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8)

test('--blocks-jsonl writes every block, one JSON object per line, 0640 like the page', () => {
  const html = path.join(dir, 'small.html')
  const list = path.join(dir, 'small-blocks.jsonl')
  const r = runCli(['audit', 'report', '--chain', small, '--key', pubFile, '--out', html, '--blocks-jsonl', list])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, `audit report: ${html} (verdict valid, 3 decisions, 2 blocks, every one in ${list})\n`)
  assert.equal(r.stderr, '')
  const lines = readFileSync(list, 'utf8').split('\n')
  assert.equal(lines.pop(), '')
  const blocks = lines.map((l) => JSON.parse(l))
  assert.deepEqual(
    blocks.map((b) => [Object.keys(b).join(','), b.id, b.target, b.transport, b.reason, b.file]),
    [
      // act-1-0 is the run's session_open
      ['id,timestamp,target,transport,reason,file,line', 'act-1-2', 'https://pastebin.com/raw/x', 'forward', 'blocklist: domain_blocklist', 'evidence-proxy-0.jsonl'],
      ['id,timestamp,target,transport,reason,file,line', 'act-1-3', 'https://api.example.com/[redacted]', 'fetch', 'body_dlp', 'evidence-proxy-0.jsonl'],
    ],
  )
  // each names the line that holds its receipt
  const evidenceLines = readFileSync(path.join(small, 'evidence-proxy-0.jsonl'), 'utf8').split('\n')
  for (const b of blocks) assert.ok(evidenceLines[b.line - 1]?.includes(`"action_id":"${b.id}"`), `${b.id} at line ${b.line}`)
  assert.equal(mode(list), '640')
  // the --json result names the file
  const j = runCli(['audit', 'report', '--chain', small, '--key', pubFile, '--out', html, '--blocks-jsonl', list, '--json'])
  assert.equal(JSON.parse(j.stdout).blocksFile, list)
})

test('--blocks-jsonl may not name the page itself', () => {
  const html = path.join(dir, 'same.html')
  const r = runCli(['audit', 'report', '--chain', small, '--key', pubFile, '--out', html, '--blocks-jsonl', html])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /--blocks-jsonl and --out both name .*same\.html/)
  assert.equal(existsSync(html), false)
})

test('past 10,000 blocks: the page and stderr say how many are not listed and how to get them; --blocks-jsonl lists them all', () => {
  const html = path.join(dir, 'large.html')
  const r = runCli(['audit', 'report', '--chain', large, '--key', pubFile, '--out', html])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, `audit report: ${html} (verdict valid, ${LARGE_BLOCKS} decisions, ${LARGE_BLOCKS} blocks)\n`)
  const note = '3 more blocks not listed here (the page lists the first 10000); pipelock audit report --blocks-jsonl FILE writes every block, one JSON object per line.'
  assert.equal(r.stderr, `audit report: ${note}\n`)
  assert.ok(readFileSync(html, 'utf8').includes(`<p data-testid="blocks-omitted">${note}</p>`))

  const list = path.join(dir, 'large-blocks.jsonl')
  const w = runCli(['audit', 'report', '--chain', large, '--key', pubFile, '--out', html, '--blocks-jsonl', list])
  assert.equal(w.status, 0, w.stderr)
  assert.equal(w.stdout, `audit report: ${html} (verdict valid, ${LARGE_BLOCKS} decisions, ${LARGE_BLOCKS} blocks, every one in ${list})\n`)
  // the page itself stays bounded: 10,000 rows
  const table = readFileSync(html, 'utf8').split('<table data-testid="blocks">')[1]?.split('</table>')[0] ?? ''
  assert.equal(table.match(/<tr><td>/g)?.length, 10_000)
  const named = `3 more blocks not listed here (the page lists the first 10000); every block is in ${list}, one JSON object per line.`
  assert.equal(w.stderr, `audit report: ${named}\n`)
  assert.ok(readFileSync(html, 'utf8').includes(`<p data-testid="blocks-omitted">${named}</p>`))
  const ids = readFileSync(list, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l).id)
  assert.equal(ids.length, LARGE_BLOCKS)
  // act-1-0 is the session_open: the blocks are act-1-1 … act-1-10003
  assert.deepEqual([ids[0], ...ids.slice(-2)], ['act-1-1', `act-1-${LARGE_BLOCKS - 1}`, `act-1-${LARGE_BLOCKS}`])
  assert.equal(new Set(ids).size, LARGE_BLOCKS)
  // no temp file is left beside it
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), [])
})

test('past 10,000 lifecycle events: the page and stderr say how many are not listed, and --json counts them', () => {
  const html = path.join(dir, 'airlock.html')
  const r = runCli(['audit', 'report', '--chain', airlock, '--key', pubFile, '--out', html])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, `audit report: ${html} (verdict valid, 1 decisions, 0 blocks)\n`)
  const note = '2 more lifecycle, configuration and airlock events not listed here (the page lists the first 10000); the receipt counts by class include them.'
  assert.equal(r.stderr, `audit report: ${note}\n`)
  const page = readFileSync(html, 'utf8')
  assert.ok(page.includes(`<p data-testid="lifecycle-omitted">${note}</p>`))
  const table = page.split('<table data-testid="lifecycle">')[1]?.split('</table>')[0] ?? ''
  assert.equal(table.match(/<tr><td>/g)?.length, 10_000)
  const j = JSON.parse(runCli(['audit', 'report', '--chain', airlock, '--key', pubFile, '--out', html, '--json']).stdout)
  assert.equal(j.lifecycleOmitted, 2)
  assert.equal(j.lifecycle.length, 10_000)
  assert.equal(j.byClass.airlock, AIRLOCK_EVENTS)
  // under the cap nothing is said
  const small2 = runCli(['audit', 'report', '--chain', small, '--key', pubFile, '--out', html, '--json'])
  assert.equal(JSON.parse(small2.stdout).lifecycleOmitted, 0)
  assert.equal(small2.stderr, '')
})
