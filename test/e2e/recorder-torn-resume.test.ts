/**
 * docs/run.md: after a kill -9 the next start cuts the torn last line the recorder left and
 * continues the chain. The cut removes evidence bytes, so the start says it on stderr (it was
 * silent), and the directory still verifies.
 */
import assert from 'node:assert/strict'
import {appendFileSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {test} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {rawHttp, startProxy, tempDir} from './proxy-harness.js'

test('a torn last line in the recorder is cut at start, said on stderr, and the chain verifies', async () => {
  const dir = tempDir('pipelock-torn-')
  const evidence = path.join(dir, 'evidence')
  assert.equal(runCli(['keygen', 'rec', '--keystore', path.join(dir, 'ks')]).status, 0)
  const key = path.join(dir, 'ks', 'agents', 'rec', 'id_ed25519')
  const yaml = `flight_recorder:\n  enabled: true\n  dir: ${JSON.stringify(evidence)}\n  signing_key_path: ${JSON.stringify(key)}\n`
  const first = await startProxy(yaml, {dir})
  assert.equal((await rawHttp(first.port, {path: '/fetch?url=http://127.0.0.1:9/'})).status, 403)
  assert.equal(await first.stop(), 0)
  const file = path.join(evidence, readdirSync(evidence).filter((f) => f.endsWith('.jsonl')).sort().at(-1)!)
  const whole = readFileSync(file, 'utf8')
  const entries = whole.trim().split('\n').length
  const torn = '{"v":2,"seq":999,"ts":"2026-'
  appendFileSync(file, torn)
  const again = await startProxy(null, {dir, args: ['--config', path.join(dir, 'pipelock.yaml')]})
  try {
    assert.ok(
      again.stderr().includes(`pipelock: flight recorder: cut a torn last line (${torn.length} bytes) from ${file}: a write the last run did not finish (a crash or kill -9); the chain continues at entry seq ${entries}\n`),
      again.stderr(),
    )
  } finally {
    assert.equal(await again.stop(), 0)
  }
  assert.ok(readFileSync(file, 'utf8').startsWith(whole), 'the whole lines before the cut are kept')
  assert.ok(!readFileSync(file, 'utf8').includes(torn))
  const v = runCli(['verify-receipt', '--chain', evidence, '--key', `${key}.pub`])
  assert.equal(v.status, 0, v.stdout + v.stderr)
  // A clean start says nothing of a cut.
  writeFileSync(path.join(dir, 'pipelock.yaml'), yaml)
  const clean = await startProxy(yaml, {dir})
  try {
    assert.ok(!clean.stderr().includes('cut a torn last line'), clean.stderr())
  } finally {
    assert.equal(await clean.stop(), 0)
  }
})
