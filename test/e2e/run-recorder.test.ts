import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {encodePrivateKeyText, encodePublicKeyText, goPrivateKey, keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {baseConfig, rawHttp, startHttpUpstream, startProxy, tempDir, type Upstream} from './proxy-harness.js'

// `pipelock run` with flight_recorder enabled: every decision becomes a signed receipt in one
// chain that `pipelock verify-receipt` accepts, across restarts; no secret reaches the evidence.

const AWS_KEY = ['AKIA', 'IOSFODNN7', 'REALKEY'].join('') // built at run time: not a literal credential
const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-recorder-key').digest())

function recorderConfig(dir: string, extra: string[] = []): string {
  return baseConfig(
    [
      'ssrf:',
      '  ip_allowlist: ["127.0.0.1/32"]',
      'flight_recorder:',
      '  enabled: true',
      `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
      ...extra,
    ].join('\n'),
  )
}

describe('pipelock run with the flight recorder', () => {
  let up: Upstream
  let dir = ''
  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-recorder-')
    writeFileSync(path.join(dir, 'receipt.key'), encodePrivateKeyText(goPrivateKey(key)), {mode: 0o600})
    writeFileSync(path.join(dir, 'receipt.pub'), encodePublicKeyText(key.publicKey))
  })
  after(async () => {
    await up.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('signed receipts for allowed and blocked requests, one valid chain across a restart', async () => {
    const cfg = recorderConfig(dir, [`  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`])
    for (let runNo = 0; runNo < 2; runNo++) {
      const proxy = await startProxy(cfg, {dir})
      try {
        assert.match(proxy.stderr(), /pipelock: flight recorder: .*signed receipts/)
        const ok = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})
        assert.equal(ok.status, 200)
        const blocked = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/upload?key=${AWS_KEY}`})
        assert.equal(blocked.headers['x-pipelock-block-reason'], 'dlp_match')
      } finally {
        assert.equal(await proxy.stop(), 0)
      }
    }
    const evidence = path.join(dir, 'evidence')
    const r = runCli(['verify-receipt', '--chain', evidence, '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const report = JSON.parse(r.stdout)
    // per run: session_open, allow, block, session_close
    assert.equal(report.receiptCount, 8)
    assert.equal(report.valid, true)
    for (const f of readdirSync(evidence)) {
      assert.ok(!readFileSync(path.join(evidence, f), 'utf8').includes(AWS_KEY), `${f} contains the secret`)
    }
    const lines = readFileSync(path.join(evidence, readdirSync(evidence).filter((f) => f.endsWith('.jsonl')).sort()[0]!), 'utf8').trim().split('\n')
    const verdicts = lines.filter((l) => l.includes('"type":"action_receipt"')).map((l) => JSON.parse(l).detail.action_record.verdict)
    assert.deepEqual(verdicts, ['allow', 'allow', 'block', 'allow', 'allow', 'allow', 'block', 'allow'])
  })

  test('without a signing key, block decisions are recorded as unsigned decision entries', async () => {
    const sub = tempDir('pipelock-recorder-unsigned-')
    try {
      const proxy = await startProxy(recorderConfig(sub), {dir: sub})
      try {
        await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})
        await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/x?key=${AWS_KEY}`})
      } finally {
        await proxy.stop()
      }
      const files = readdirSync(path.join(sub, 'evidence'))
      const entries = files.flatMap((f) => readFileSync(path.join(sub, 'evidence', f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l))
      const decisions = entries.filter((e) => e.type === 'decision')
      assert.equal(decisions.length, 1)
      assert.equal(decisions[0].detail.verdict, 'block')
      assert.equal(decisions[0].detail.pattern, 'dlp_match')
    } finally {
      rmSync(sub, {recursive: true, force: true})
    }
  })
})
