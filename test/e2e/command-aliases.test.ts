/**
 * The reference's command names (policy-extra §5.2, §5.3) are aliases of ours, one
 * implementation each: `pipelock integrity verify` is `verify-receipt` (same output, same exit
 * status, valid and broken), and `pipelock init sidecar` is `generate kubernetes`.
 */
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {before, describe, test} from 'node:test'
import {encodePublicKeyText, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {recordRun, steppingClock} from '../helpers/recorder-fixture.js'

/** --help output with oclif's wrapped example lines joined back. */
const unwrap = (s: string): string => s.replace(/ \\\n\s+/g, ' ')

const key = keyPairFromSeed(sha256('pipelock-command-aliases-test'))
const dir = mkdtempSync(path.join(tmpdir(), 'pl-aliases-'))
const evidence = path.join(dir, 'evidence')
const pubFile = path.join(dir, 'receipt.pub')

before(async () => {
  writeFileSync(pubFile, encodePublicKeyText(key.publicKey))
  const decisions = [0, 1].map((i) => ({method: 'GET', target: `https://h${i}.example/x`, transport: 'fetch', verdict: i === 1 ? 'block' : 'allow', ...(i === 1 ? {layer: 'blocklist'} : {})}))
  await recordRun({dir: evidence, key, clock: steppingClock(1_790_000_000_000_000_000n, 1_000_000_000n), run: 1, decisions})
})

describe('pipelock integrity verify', () => {
  test('is verify-receipt on an evidence directory: the same report and exit status', () => {
    const ours = runCli(['verify-receipt', evidence, '--key', pubFile])
    const alias = runCli(['integrity', 'verify', evidence, '--key', pubFile])
    assert.equal(ours.status, 0, ours.stdout + ours.stderr)
    assert.deepEqual(alias, ours)
    assert.match(alias.stdout, /^CHAIN VALID: .* \(session proxy\)\n/)
    const json = runCli(['integrity', 'verify', '--chain', evidence, '--key', pubFile, '--json'])
    assert.equal(JSON.parse(json.stdout).verdict, 'valid')
  })

  test('a broken directory fails the same way under both names', () => {
    const broken = path.join(dir, 'broken')
    const file = path.join(evidence, 'evidence-proxy-0.jsonl')
    const lines = readFileSync(file, 'utf8').split('\n')
    lines[1] = lines[1]!.replace('"seq":1', '"seq":7')
    mkdirSync(broken)
    writeFileSync(path.join(broken, 'evidence-proxy-0.jsonl'), lines.join('\n'))
    const ours = runCli(['verify-receipt', broken, '--key', pubFile])
    const alias = runCli(['integrity', 'verify', broken, '--key', pubFile])
    assert.equal(ours.status, 1, ours.stdout + ours.stderr)
    assert.deepEqual(alias, ours)
  })

  test('--help shows the alias example', () => {
    const r = runCli(['integrity', 'verify', '--help'])
    assert.equal(r.status, 0)
    assert.match(unwrap(r.stdout), /\$ pipelock integrity verify \/var\/lib\/pipelock\/evidence --session proxy --key signer\.pub/)
  })
})

describe('pipelock init sidecar', () => {
  test('is generate kubernetes: the same manifests for the same config', () => {
    const ours = runCli(['generate', 'kubernetes', '--config', 'deploy/pipelock.yaml'])
    const alias = runCli(['init', 'sidecar', '--config', 'deploy/pipelock.yaml'])
    assert.equal(ours.status, 0, ours.stderr)
    assert.deepEqual(alias, ours)
    assert.match(alias.stdout, /kind: ConfigMap/)
  })

  test('--help shows the alias example', () => {
    const r = runCli(['init', 'sidecar', '--help'])
    assert.equal(r.status, 0)
    assert.match(unwrap(r.stdout), /\$ pipelock init sidecar --config pipelock\.yaml --output/)
  })
})
