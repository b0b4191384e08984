import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {lifecycleEnv, pinMessage, runLearnPin, type PinRequest} from '../../../src/plugins/learn/index.js'
import {BARE} from './split-fixtures.js'

function setup(): {dir: string; req: (over?: Partial<PinRequest>) => PinRequest} {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-pin-'))
  const candidate = path.join(dir, 'candidate.yaml')
  writeFileSync(candidate, BARE)
  return {dir, req: (over = {}) => ({candidate, rule: 'r-users', segment: 'acme', keystore: path.join(dir, 'ks'), env: lifecycleEnv(true), ...over})}
}

test('pin: appended once per path with a normalization block; second pin is a no-op (exit 0 text)', () => {
  const {dir, req} = setup()
  const file = path.join(dir, 'candidate.yaml')
  try {
    const r = runLearnPin(req({segment: '  acme  '}))
    assert.equal(pinMessage(r), `pin: rule r-users, segment "acme" pinned, written to ${file}`)
    assert.equal(r.changed, 1, 'the /plain path has no normalization block and is skipped')
    const text = readFileSync(file, 'utf8')
    assert.ok(text.includes('# collapsed twice'), 'comments kept')
    assert.match(text, /pinned_segments:\n\s+- \{ value: existing-pin, reason: operator_pin \}\n\s+- value: acme\n\s+reason: operator_pin\n/)
    const again = runLearnPin(req())
    assert.equal(pinMessage(again), `pin: rule r-users, segment "acme" already pinned, no-op (written to ${file})`)
    assert.equal(readFileSync(file, 'utf8'), text)
    assert.equal(runLearnPin(req({segment: 'existing-pin'})).changed, 0)
    assert.equal(pinMessage({...again, segment: 'a"b'}), `pin: rule r-users, segment "a\\"b" already pinned, no-op (written to ${file})`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('pin refusals: empty segment, invalid literal, unknown rule, envelope without verification key', () => {
  const {dir, req} = setup()
  try {
    assert.throws(() => runLearnPin(req({segment: '   '})), {message: 'learn pin: learn: pin segment must be non-empty'})
    assert.throws(() => runLearnPin(req({segment: 'a*'})), {message: 'learn pin: learn: invalid segment literal: segment contains "*"'})
    assert.throws(() => runLearnPin(req({rule: 'nope'})), {message: 'learn pin: learn: rule not found in candidate: "nope"'})
    assert.equal(readFileSync(path.join(dir, 'candidate.yaml'), 'utf8'), BARE)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
