/**
 * Issue 34 (auditors): one recorder directory, written by a real `pipelock run`, read by the
 * three auditor tools — `verify-receipt --json`, `audit report --json` and `audit packet build`
 * — gives the same numbers everywhere: receipts, decisions, decisions by verdict. A decision an
 * exception let through is signed twice (v1 receipt and v2 proxy_decision) and counted once;
 * session_open/close receipts are not allows; every block is listed once; the exception grant's
 * config_change row names the operator and what changed.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {rawHttp, startHttpUpstream, startProxy, tempDir, type Upstream, writeReceiptKeys} from './proxy-harness.js'

const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-audit-counts-key').digest())
const TOKEN = 'e2e-audit-counts-token'
const SECRET = ['fxt', '_k2m9q4w7e3r8t6y1'].join('')

const config = (dir: string): string => [
  'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
  'dlp:', '  patterns:', '    - name: Fixture Token', '      regex: fxt_[a-z0-9]{16}', '      severity: high',
  'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000', '    blocklist: ["*.blocked.test"]',
  'kill_switch:', `  api_token: ${TOKEN}`,
  'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
  `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
].join('\n') + '\n'

describe('the auditor tools count one recorder directory the same way', {timeout: 120_000}, () => {
  let up: Upstream
  let dir: string
  let exceptionId = ''
  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-audit-counts-')
    writeReceiptKeys(dir, key)
    const proxy = await startProxy(config(dir), {dir})
    try {
      const fetch = (url: string) => rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(url)}`})
      assert.equal((await fetch(`http://127.0.0.1:${up.port}/a`)).status, 200)
      assert.equal((await fetch(`http://127.0.0.1:${up.port}/b`)).status, 200)
      assert.equal((await fetch('http://x.blocked.test/')).status, 403)
      assert.equal((await fetch(`http://127.0.0.1:${up.port}/kib-fixture?k=${SECRET}`)).status, 403)
      const g = runCli(['exception', 'grant', '--host', '127.0.0.1', '--path', '/kib-fixture', '--pattern', 'fixture token', '--expires', '1h', '--reason', 'fixture', '--operator', 'didericis', '--api-url', proxy.addr], {
        env: {...process.env, PIPELOCK_KILLSWITCH_API_TOKEN: TOKEN, PIPELOCK_API_URL: '', PIPELOCK_CONFIG: ''},
      })
      assert.equal(g.status, 0, g.stderr)
      exceptionId = /^granted (exc-[0-9a-f]{12}): /.exec(g.stdout)?.[1] ?? ''
      // let through by the exception: a v1 receipt and a v2 proxy_decision for one decision
      assert.equal((await fetch(`http://127.0.0.1:${up.port}/kib-fixture?k=${SECRET}`)).status, 200)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
  })
  after(async () => {
    await up.close()
  })

  it('verify-receipt, audit report and audit packet build agree on every count', () => {
    const evidence = path.join(dir, 'evidence')
    const pub = path.join(dir, 'receipt.pub')
    const v = runCli(['verify-receipt', '--chain', evidence, '--key', pub, '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)
    const verified = JSON.parse(v.stdout)
    const r = runCli(['audit', 'report', '--chain', evidence, '--key', pub, '--out', path.join(dir, 'report.html'), '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const report = JSON.parse(r.stdout)
    const p = runCli(['audit', 'packet', 'build', '--chain', evidence, '--key', pub, '--out', path.join(dir, 'packet'), '--json'])
    assert.equal(p.status, 0, p.stdout + p.stderr)
    const packet = JSON.parse(readFileSync(path.join(dir, 'packet', 'packet.json'), 'utf8'))

    // What this run did: 5 decisions (3 allowed, one of them by the exception; 2 blocked),
    // one session_open and one session_close, one config_change, one proxy_decision.
    const c = verified.counts
    assert.deepEqual(c.byVerdict, {allow: 3, block: 2})
    assert.equal(c.decisions, 5)
    assert.equal(c.decisionSource, 'action_receipts')
    assert.deepEqual(c.byClass, {decision: 5, contract_decision: 1, airlock: 0, session_control: 2, config_change: 1, lifecycle: 0})
    assert.equal(c.receipts, 9)
    assert.equal(verified.receiptCount, 9)

    // the same numbers in the report…
    assert.equal(report.receiptCount, c.receipts)
    assert.equal(report.decisions, c.decisions)
    assert.deepEqual(report.byVerdict, c.byVerdict)
    assert.deepEqual(report.byClass, c.byClass)
    // …and in the packet
    assert.equal(packet.verifier.receipt_count, c.receipts)
    assert.equal(packet.summary.receipt_count, c.decisions)
    assert.deepEqual(packet.summary.totals, {allow: 3, block: 2, warn: 0, ask: 0, strip: 0, forward: 0, redirect: 0, other: 0})
    assert.deepEqual(packet.summary.transports, c.byTransport)
    const summary = readFileSync(path.join(dir, 'packet', 'summary.md'), 'utf8')
    assert.match(summary, /^- Decisions: 5 \(allow 3, block 2, warn 0/m)
    assert.match(summary, /^- Receipts by class: 5 decisions, 1 contract views of decisions \(proxy_decision\), 2 session control, 1 config changes$/m)
    // verify-receipt's human output says the same
    const human = runCli(['verify-receipt', '--chain', evidence, '--key', pub])
    assert.match(human.stdout, /^ {2}Receipts: {4}9 \(5 decisions, 1 contract views of decisions \(proxy_decision\), 2 session control, 1 config changes\)\n {2}Decisions: {3}5 \(allow 3, block 2\)$/m)

    // every block once, each with the layer that decided it
    assert.equal(report.blocks.length, 2)
    assert.deepEqual(report.blocks.map((b: {reason: string}) => b.reason.split(':')[0]).sort(), ['blocklist', 'dlp'])
    assert.equal(new Set(report.blocks.map((b: {id: string}) => b.id)).size, 2)
    assert.equal(report.topBlockReasons.reduce((s: number, x: {count: number}) => s + x.count, 0), 2)

    // the exception grant: who and what
    const changes = report.lifecycle.filter((l: {kind: string}) => l.kind === 'config_change')
    assert.equal(changes.length, 1)
    assert.equal(changes[0].operator, 'didericis')
    assert.match(changes[0].detail, new RegExp(`^changed: exceptions trigger=api outcome=applied change_id=${exceptionId}$`))
    // without a key: not "CHAIN BROKEN" — what was checked, what was not, exit 3, the same counts
    const unkeyed = runCli(['verify-receipt', '--chain', evidence])
    assert.equal(unkeyed.status, 3, unkeyed.stdout + unkeyed.stderr)
    assert.match(unkeyed.stdout, /^NO KEY GIVEN: .*\n  Checked: {6}the entry hash chain; v1 receipts against the key each carries; v2 receipt structure, authority matrix and chain links\n  Not checked: {2}the signatures of 2 v2 receipts, and who signed anything \(no key pinned\)\n/)
    assert.doesNotMatch(unkeyed.stdout, /BROKEN/)
    assert.match(unkeyed.stderr, /^no key given: v2 signatures not checked; pass --key/)
    const unkeyedJson = JSON.parse(runCli(['verify-receipt', '--chain', evidence, '--json']).stdout)
    assert.deepEqual(unkeyedJson.counts, c)
    // v1 receipts checked against the key each carries do not make up for the unchecked v2 signatures
    assert.deepEqual([unkeyedJson.valid, unkeyedJson.verdict], [false, 'self_consistent_only'])
    // a receipt found there is not shown as proven, and the note says why
    const found = runCli(['verify-receipt', '--chain', evidence, '--find', report.blocks[0].id])
    assert.equal(found.status, 3)
    assert.match(found.stderr, /\nnote: v2 signatures were not checked \(no key given\): the receipt above is shown as the file holds it, not as proven\n$/)
    assert.equal(JSON.parse(runCli(['verify-receipt', '--chain', evidence, '--find', report.blocks[0].id, '--json']).stdout).find.verified, false)
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8')
    assert.ok(html.includes('<td>didericis</td>'), 'the operator is in the HTML row')
    assert.ok(html.includes('data-testid="decision-count">5<'), 'the HTML shows 5 decisions')
  })
})
