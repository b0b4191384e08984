import assert from 'node:assert/strict'
import {test} from 'node:test'
import {defaultConfig, type PipelockConfig} from '../../../src/plugins/config/index.js'
import {scoreConfig} from '../../../src/plugins/preflight/index.js'

// audit score's Flight Recorder category: checkpoints are signed with signing_key_path's key, so
// `sign_checkpoints: true` (the default) without a key signs nothing and earns nothing.

function recorder(fr: Partial<PipelockConfig['flight_recorder']>): {score: number; findings: string[]} {
  const c = defaultConfig()
  c.flight_recorder = {...c.flight_recorder, enabled: true, dir: '/var/lib/pipelock/recorder', ...fr}
  const r = scoreConfig(c)
  const cat = r.categories.find((x) => x.name === 'Flight Recorder')!
  return {score: cat.score, findings: (r.findings ?? []).filter((f) => f.category === 'Flight Recorder').map((f) => `${f.severity}: ${f.message}`)}
}

test('a recorder that signs with a key scores 5/5 and has no finding', () => {
  assert.deepEqual(recorder({signing_key_path: '/etc/pipelock/receipt.key'}), {score: 5, findings: []})
})

test('sign_checkpoints without signing_key_path signs nothing: no points for it, and a warning that says so', () => {
  assert.deepEqual(recorder({signing_key_path: ''}), {
    score: 3,
    findings: ['warning: Flight recorder has no signing_key_path — neither receipts nor checkpoints are signed, so recorded evidence has no tamper-evident proof'],
  })
})

test('sign_checkpoints off keeps its own warning; without a key too, the missing key is named as well', () => {
  const off = 'warning: Flight recorder runs but does not sign checkpoints — recorded evidence has no tamper-evident proof'
  const noKey = 'warning: Flight recorder has no signing_key_path — neither receipts nor checkpoints are signed, so recorded evidence has no tamper-evident proof'
  assert.deepEqual(recorder({signing_key_path: '/etc/pipelock/receipt.key', sign_checkpoints: false}), {score: 3, findings: [off]})
  assert.deepEqual(recorder({sign_checkpoints: false}), {score: 3, findings: [off, noKey]})
})
