import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {baseConfig, rawHttp, startHttpUpstream, startProxy, tempDir, writeReceiptKeys, type Upstream} from './proxy-harness.js'

// flight_recorder.retention_days through the built CLI (policy-extra.md §3.3): closed files older
// than the cutoff are expired at start, a signed retention anchor records the cut, and
// `verify-receipt --chain DIR` accepts the remaining files while still rejecting tampering.

const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-retention-key').digest())

function config(dir: string, extra: string[] = []): string {
  return baseConfig(
    [
      'ssrf:',
      '  ip_allowlist: ["127.0.0.1/32"]',
      'flight_recorder:',
      '  enabled: true',
      `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
      `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
      '  max_entries_per_file: 3',
      ...extra,
    ].join('\n'),
  )
}

const jsonl = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.jsonl')).sort((a, b) => Number(a.split('-').pop()!.slice(0, -6)) - Number(b.split('-').pop()!.slice(0, -6)))

describe('flight recorder retention_days', () => {
  let up: Upstream
  let dir = ''
  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-retention-')
    writeReceiptKeys(dir, key)
  })
  after(async () => {
    await up.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('expires closed files past the cutoff; the chain still verifies and tampering is still caught', async () => {
    const evidence = path.join(dir, 'evidence')
    // Run 1: no retention, several rotated files.
    let proxy = await startProxy(config(dir), {dir})
    try {
      for (let i = 0; i < 5; i++) assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 200)
      // Without retention_days there is nothing to count.
      assert.ok(!(await rawHttp(proxy.port, {path: '/metrics'})).body.includes('pipelock_recorder_retention'))
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
    const before = jsonl(evidence)
    assert.ok(before.length >= 3, `rotated files: ${before.join(' ')}`)
    // Run 2, three days later as the retention clock sees it: everything of run 1 is past a 1-day cutoff.
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString()
    proxy = await startProxy(config(dir, ['  retention_days: 1']), {dir, env: {PIPELOCK_RETENTION_NOW: later}})
    try {
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 200)
      assert.match(proxy.stderr(), /pipelock: flight recorder retention: removed \d+ files older than /)
      // The sweep at start is reported once the audit log and metrics exist (§3.3 step 4).
      const removedNow = before.filter((f) => !readdirSync(evidence).includes(f))
      const event = proxy.stdout().split('\n').filter((l) => l.includes('"event":"recorder_retention"')).map((l) => JSON.parse(l))
      assert.equal(event.length, 1, proxy.stdout())
      assert.deepEqual([event[0].removed_files, event[0].files, event[0].retention_days], [removedNow.length, removedNow, 1])
      const metrics = (await rawHttp(proxy.port, {path: '/metrics'})).body
      assert.ok(metrics.includes(`\npipelock_recorder_retention_removed_files_total ${removedNow.length}\n`), metrics)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
    const after = jsonl(evidence)
    assert.ok(after.length < before.length + 3, `files after: ${after.join(' ')}`)
    assert.ok(!after.includes(before[0]!), 'the oldest file was expired')
    const lines = after.flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').trim().split('\n'))
    const anchors = lines.map((l) => JSON.parse(l)).filter((e) => e.type === 'retention_anchor')
    assert.equal(anchors.length, 1)
    assert.equal(anchors[0].detail.retention_days, 1)
    assert.match(anchors[0].detail.signature, /^[0-9a-f]{128}$/)
    assert.deepEqual(anchors[0].detail.removed.map((r: {file: string}) => r.file), before.filter((f) => !after.includes(f)))
    assert.match(anchors[0].summary, /^retention: removed \d+ files \[seq 0-\d+\]$/)

    const pub = path.join(dir, 'receipt.pub')
    const ok = runCli(['verify-receipt', '--chain', evidence, '--key', pub, '--json'])
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    const report = JSON.parse(ok.stdout)
    assert.equal(report.valid, true)
    assert.equal(report.entries.retentionCut.removedFiles, anchors[0].detail.removed.length)
    assert.equal(report.entries.retentionAnchors, 1)

    // Tampering: the anchor edited (its entry hash no longer matches), or removed (the cut is unexplained).
    const anchorFile = after.find((f) => readFileSync(path.join(evidence, f), 'utf8').includes('"type":"retention_anchor"'))!
    for (const [name, edit] of [
      ['edited anchor', (t: string) => t.replace('"retention_days":1', '"retention_days":2')],
      ['removed anchor', (t: string) => t.split('\n').filter((l) => !l.includes('"type":"retention_anchor"')).join('\n')],
    ] as const) {
      const copy = path.join(dir, `tampered-${name.replace(' ', '-')}`)
      mkdirSync(copy)
      for (const f of after) copyFileSync(path.join(evidence, f), path.join(copy, f))
      writeFileSync(path.join(copy, anchorFile), edit(readFileSync(path.join(evidence, anchorFile), 'utf8')))
      const bad = runCli(['verify-receipt', '--chain', copy, '--key', pub, '--json'])
      assert.notEqual(bad.status, 0, `${name}: ${bad.stdout}`)
      assert.equal(JSON.parse(bad.stdout).valid, false, name)
    }
  })
})
