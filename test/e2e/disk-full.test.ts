/**
 * `pipelock run` whose evidence disk stops taking bytes (a file-size limit: the
 * kernel cuts the crossing write short, then refuses with EFBIG, as a full disk does with
 * ENOSPC). Requests are still answered (receipts are evidence, not enforcement: receipts.md §8),
 * but the operator is told — one stderr line, an audit `error` event, two fields in `/health`
 * and the two recorder metrics — and the evidence already written stays whole: the verifier
 * reads every line and names the entries that are missing, as many as the operator was told.
 * The proxy still stops cleanly. The same for the audit log's file (`logging.output: file`), whose
 * directory run creates when it is missing.
 * Recovery after the disk frees up is in test/unit/recorder/recorder-write-failure.test.ts and
 * test/unit/proxy/audit-file.test.ts.
 */
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {parseRecorderEntry} from '../../src/plugins/receipts/index.js'
import {runCli} from '../helpers/cli.js'
import {AWS_KEY} from './attacks/attack-harness.js'
import {assertRefusesToStart, baseConfig, rawHttp, startHttpUpstream, startProxy, tempDir, until, writeReceiptKeys, type Upstream} from './proxy-harness.js'

const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-disk-full-key').digest())

describe('evidence files on a disk that stops taking bytes', () => {
  let up: Upstream
  let dir = ''
  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-disk-full-')
    writeReceiptKeys(dir, key)
  })
  after(async () => {
    await up.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('requests are still answered; the operator is told on stderr, in the audit log, /health and /metrics; the evidence stays verifiable', async () => {
    const evidence = path.join(dir, 'evidence')
    const config = baseConfig(['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(evidence)}`, `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`].join('\n'))
    // 64 KiB per file: the start-up files fit, a few dozen receipts later the evidence file is full.
    const proxy = await startProxy(config, {dir, fileSizeLimitKiB: 64})
    const warning = `pipelock: WARNING: flight recorder cannot write to ${evidence}: EFBIG: file too large, write; requests are still answered, but their decisions are not recorded until it can`
    try {
      let sent = 0
      while (!proxy.stderr().includes(warning)) {
        assert.ok(sent < 400, `no recorder warning after ${sent} requests:\n${proxy.stderr()}`)
        assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib?n=${sent++}`})).status, 200)
      }
      // Still answered while nothing is recorded: an allowed request and a block (without a receipt to name).
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib?after`})).status, 200)
      const blocked = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/?k=${AWS_KEY}`})
      assert.equal(blocked.status, 403)
      assert.equal(blocked.headers['x-pipelock-block-reason'], 'dlp_match')
      assert.equal(blocked.headers['x-pipelock-block-reason-receipt'], undefined)
      // One warning for the streak, not one per request.
      assert.equal(proxy.stderr().split(warning).length - 1, 1, proxy.stderr())
      const events = proxy.stdout().split('\n').filter((l) => l.includes('"subsystem":"flight_recorder"')).map((l) => JSON.parse(l) as Record<string, unknown>)
      assert.equal(events.length, 1, proxy.stdout())
      assert.deepEqual([events[0]!.level, events[0]!.event, events[0]!.dir, events[0]!.failing, events[0]!.not_written, events[0]!.detail], ['error', 'error', evidence, true, 1, 'EFBIG: file too large, write'])
      const health = await rawHttp(proxy.port, {path: '/health'})
      assert.equal(health.status, 200)
      const h = JSON.parse(health.body) as Record<string, unknown>
      assert.deepEqual([h.status, h.flight_recorder_writing, typeof h.flight_recorder_write_failures], ['healthy', false, 'number'])
      const metrics = (await rawHttp(proxy.port, {path: '/metrics'})).body
      assert.ok(metrics.includes('\npipelock_flight_recorder_failing 1\n'), metrics)
      const failures = Number(/\npipelock_flight_recorder_write_failures_total (\d+)\n/.exec(metrics)?.[1])
      assert.ok(failures >= 3, metrics)
    } finally {
      // The closing checkpoint is refused too: the proxy still stops cleanly.
      assert.equal(await proxy.stop(), 0)
    }
    // Whole lines only: the write the limit cut short was taken back off the file.
    const files = readdirSync(evidence).filter((f) => f.endsWith('.jsonl'))
    assert.deepEqual(files, ['evidence-proxy-0.jsonl'])
    const text = readFileSync(path.join(evidence, files[0]!), 'utf8')
    assert.ok(text.endsWith('\n'))
    for (const line of text.trimEnd().split('\n')) parseRecorderEntry(line)
    // The operator's account and the auditor's agree. The closing checkpoint (a few hundred bytes)
    // fits under the limit when the last receipt left room for it: then writing worked again, the
    // operator was told how many entries were lost, and the verifier names exactly those as missing.
    // Otherwise the chain ends where the disk stopped taking bytes, and verifies.
    const v = runCli(['verify-receipt', '--chain', evidence, '--key', path.join(dir, 'receipt.pub')])
    const resumed = /\npipelock: flight recorder writes to .* again; (\d+) entries were not recorded \(the chain has a gap there; last error: EFBIG: file too large, write\)\n/.exec(proxy.stderr())
    if (resumed === null) {
      assert.equal(v.status, 0, v.stdout + v.stderr)
      assert.match(v.stdout, /^CHAIN VALID: /m)
    } else {
      assert.equal(v.status, 1, v.stdout + v.stderr)
      const gap = /Error: +entry seq gap: expected (\d+), got (\d+) \(entries \d+–\d+ are missing\)/.exec(v.stdout)
      assert.ok(gap !== null, v.stdout)
      assert.equal(Number(gap[2]) - Number(gap[1]), Number(resumed[1]), v.stdout + proxy.stderr())
    }
  })

  test('the audit log file: requests answered, the operator told on stderr, in the event stream and /metrics; no line cut in two', async () => {
    const logFile = path.join(dir, 'audit.jsonl')
    const config = baseConfig(['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'logging:', '  output: both', `  file: ${JSON.stringify(logFile)}`, '  include_allowed: true'].join('\n'))
    const proxy = await startProxy(config, {dir, fileSizeLimitKiB: 16})
    const warning = `pipelock: WARNING: audit log file ${logFile} cannot be written: EFBIG: file too large, write; audit lines are lost until it can be (stdout and the event sinks still get them)`
    try {
      let sent = 0
      while (!proxy.stderr().includes(warning)) {
        assert.ok(sent < 400, `no audit-file warning after ${sent} requests:\n${proxy.stderr()}`)
        assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib?n=${sent++}`})).status, 200)
      }
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib?after`})).status, 200)
      // stdout (output: both) still has every line, and the failure as an event.
      assert.ok(await until(async () => proxy.stdout().includes('/kib?after')), 'stdout keeps logging')
      const events = proxy.stdout().split('\n').filter((l) => l.includes('"subsystem":"audit_log"')).map((l) => JSON.parse(l) as Record<string, unknown>)
      assert.deepEqual(events.map((e) => [e.level, e.file, e.failing]), [['error', logFile, true]])
      const metrics = (await rawHttp(proxy.port, {path: '/metrics'})).body
      assert.ok(metrics.includes('\npipelock_audit_log_failing 1\n'), metrics)
      assert.ok(Number(/\npipelock_audit_log_write_failures_total (\d+)\n/.exec(metrics)?.[1]) >= 1, metrics)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
    // Every line in the file is a whole JSON object: the write the limit cut short was taken back.
    const text = readFileSync(logFile, 'utf8')
    assert.ok(text.endsWith('\n'))
    for (const line of text.trimEnd().split('\n')) JSON.parse(line)
  })

  test('a logging.file that cannot be opened refuses start-up', () => {
    // procfs takes no new file, whoever asks (root included)
    const refused = '/proc/1/audit.jsonl'
    assertRefusesToStart(baseConfig(['logging:', '  output: file', `  file: ${JSON.stringify(refused)}`].join('\n')), `logging.file: cannot open ${refused}: ENOENT: no such file or directory, open '${refused}'`)
  })

  test('a logging.file in a directory that does not exist: check says run creates it, run creates it (mode 0750) and writes the log there', async () => {
    const logDir = path.join(dir, 'no-such-dir', 'logs')
    const logFile = path.join(logDir, 'audit.jsonl')
    const config = baseConfig(['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'logging:', '  output: both', `  file: ${JSON.stringify(logFile)}`, '  include_allowed: true'].join('\n'))
    const file = path.join(dir, 'missing-log-dir.yaml')
    writeFileSync(file, config)
    const notice = `WARNING: logging.file: its directory ${logDir} does not exist: pipelock run creates it (mode 0750, and any missing directory above it) when it opens the log\n`
    const c = runCli(['check', '--config', file])
    assert.equal(c.status, 0, c.stderr)
    assert.equal(c.stderr, notice)
    assert.equal(existsSync(logDir), false, 'check creates nothing')
    const proxy = await startProxy(config, {dir})
    try {
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib?created`})).status, 200)
      assert.ok(await until(async () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('/kib?created')), proxy.stderr())
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
    assert.equal(statSync(logDir).mode & 0o777, 0o750 & ~process.umask())
    assert.equal(statSync(path.dirname(logDir)).mode & 0o777, 0o750 & ~process.umask())
    assert.equal(statSync(logFile).mode & 0o777, 0o600)
  })
})
