import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {rawHttp, startProxy, tempDir} from './proxy-harness.js'

// flight_recorder.checkpoint_interval and max_entries_per_file through the built CLI: a value ≤ 0
// is read as the default (1000 / 10000), as the reference's recorder does, and the start-up
// warning says so. A negative value used to checkpoint after every entry and rotate the file after
// every other one.

test('a negative checkpoint_interval / max_entries_per_file runs as the default and is named at start', async () => {
  const dir = tempDir('pipelock-recorder-limits-')
  const evidence = path.join(dir, 'evidence')
  const config = [
    'flight_recorder:',
    '  enabled: true',
    `  dir: ${JSON.stringify(evidence)}`,
    '  sign_checkpoints: false',
    '  checkpoint_interval: -1',
    '  max_entries_per_file: -5',
  ].join('\n')
  const proxy = await startProxy(config + '\n', {dir})
  try {
    for (let i = 0; i < 4; i++) {
      const target = `http://example.com/?k=AKIAIOSFODNN7EXAMPL${i}`
      assert.equal((await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(target)}`})).status, 403)
    }
  } finally {
    assert.equal(await proxy.stop(), 0)
  }
  assert.match(proxy.stderr(), /^WARNING: flight_recorder\.checkpoint_interval: -1 is read as 1000 \(a value ≤ 0 takes the default\)$/m)
  assert.match(proxy.stderr(), /^WARNING: flight_recorder\.max_entries_per_file: -5 is read as 10000 \(a value ≤ 0 takes the default\)$/m)
  const files = readdirSync(evidence).filter((f) => f.endsWith('.jsonl'))
  assert.deepEqual(files, ['evidence-proxy-0.jsonl'])
  const types = readFileSync(path.join(evidence, files[0]!), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as {type: string}).type)
  // Four decisions, then the one checkpoint written on close.
  assert.deepEqual(types, ['decision', 'decision', 'decision', 'decision', 'checkpoint'])
  rmSync(dir, {recursive: true, force: true})
})
