import {before, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {recordRun, steppingClock} from '../helpers/recorder-fixture.js'
import {encodePublicKeyText, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {vectorPath} from '../helpers/vectors.js'

// `pipelock audit report`'s file and its failures, through the built CLI (the rendering itself:
// audit-report.test.ts). The page quotes the evidence, which the recorder keeps 0600.

const key = keyPairFromSeed(sha256('pipelock-audit-report-output-test'))
const other = keyPairFromSeed(sha256('pipelock-audit-report-output-other'))
const dir = mkdtempSync(path.join(tmpdir(), 'pl-audit-report-out-'))
const evidence = path.join(dir, 'evidence')
const pubFile = path.join(dir, 'receipt.pub')
const otherPub = path.join(dir, 'other.pub')

before(async () => {
  writeFileSync(pubFile, encodePublicKeyText(key.publicKey))
  writeFileSync(otherPub, encodePublicKeyText(other.publicKey))
  const decisions = [
    {method: 'GET', target: 'https://api.example.com/v1/items?session=s3cr3t', transport: 'fetch', verdict: 'allow'},
    {method: 'GET', target: 'https://pastebin.com/raw/x', transport: 'forward', verdict: 'block', layer: 'blocklist', pattern: 'domain_blocklist'},
  ]
  await recordRun({dir: evidence, key, clock: steppingClock(1_790_000_000_000_000_000n, 1_000_000_000n), run: 1, decisions})
})

const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8)

test('the report is written 0640 like the audit packet, never readable by every local user, even over a 0644 file', () => {
  const html = path.join(dir, 'report.html')
  writeFileSync(html, 'old', {mode: 0o644})
  const r = runCli(['audit', 'report', '--chain', evidence, '--key', pubFile, '--out', html])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(mode(html), '640')
})

test('evidence that does not verify: the report is written, exit 1, and stderr says why', () => {
  const html = path.join(dir, 'wrong-key.html')
  const r = runCli(['audit', 'report', '--chain', evidence, '--key', otherPub, '--out', html])
  assert.equal(r.status, 1)
  assert.match(r.stdout, /^audit report: .*wrong-key\.html \(verdict invalid, 2 decisions, 1 blocks\)\n$/)
  assert.match(r.stderr, /^audit report: the evidence did not verify \(verdict invalid\): evidence-proxy-0\.jsonl:1: seq 0: signature: signer_key [0-9a-f]{64} does not match expected key sha256:[0-9a-f]{64} \(the key in .*other\.pub\)\n$/)
  assert.equal(mode(html), '640')

  const empty = path.join(dir, 'empty')
  mkdirSync(empty)
  const e = runCli(['audit', 'report', '--chain', empty, '--key', pubFile, '--out', path.join(dir, 'empty.html')])
  assert.equal(e.status, 1)
  assert.equal(e.stderr, `audit report: the evidence did not verify (verdict empty): no receipts in ${empty} (session proxy)\n`)
})

test('a single receipt file as --chain is a usage error: one USAGE line or object, exit 2, no stack', () => {
  for (const json of [[], ['--json']]) {
    const r = runCli(['audit', 'report', '--chain', vectorPath('receipts', 'valid-single.json'), '--key', pubFile, '--out', path.join(dir, 'single.html'), ...json])
    assert.equal(r.status, 2, r.stdout + r.stderr)
    if (json.length === 0) assert.equal(r.stderr.split('\n').at(-2), 'audit report: --chain must name a .jsonl file or a recorder directory [USAGE]')
    else assert.equal(JSON.parse(r.stdout).error.code, 'USAGE')
    assert.ok(!r.stderr.includes('    at '), r.stderr)
  }
})
