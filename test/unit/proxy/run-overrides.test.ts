import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {loadRunConfig} from '../../../src/plugins/proxy/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

// `pipelock run --mode/--listen/--reverse-proxy` on a file that is valid on its own: when an
// override makes it invalid, the error names the flag (it used to say "after api_allowlist").

function refusal(yaml: string, flags: {mode?: 'strict' | 'balanced' | 'audit'; listen?: string}): PipelockError {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-overrides-'))
  try {
    const file = path.join(dir, 'm1.yaml')
    writeFileSync(file, yaml)
    assert.doesNotThrow(() => loadRunConfig({configFile: file, env: {}}), 'the file alone is valid')
    try {
      loadRunConfig({configFile: file, env: {}, ...flags})
    } catch (err) {
      assert.ok(err instanceof PipelockError, String(err))
      return err
    }
    assert.fail('the override was accepted')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

test('--mode strict over an empty api_allowlist names the --mode override', () => {
  const e = refusal('api_allowlist: []\n', {mode: 'strict'})
  assert.equal(e.code, 'CONFIG_INVALID')
  assert.equal(e.message, 'invalid config after --mode strict: api_allowlist: strict mode requires a non-empty api_allowlist')
  assert.match(e.hint ?? '', /m1\.yaml is valid on its own; the command-line override --mode strict makes it invalid$/)
})

test('--listen onto another listener\'s port names --listen, though the field at fault is the other one', () => {
  const e = refusal('metrics_listen: "127.0.0.1:29777"\n', {listen: '127.0.0.1:29777', mode: 'balanced'})
  assert.match(e.message, /^invalid config after --listen 127\.0\.0\.1:29777: metrics_listen: port 29777 is the fetch_proxy\.listen port/)
})

test('a warning the overrides make untrue is dropped: the embedded run turns the forward proxy on, so interception acts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-overrides-'))
  try {
    const file = path.join(dir, 'tls.yaml')
    writeFileSync(file, 'tls_interception:\n  enabled: true\n')
    const field = (w: {field: string}): boolean => w.field === 'tls_interception.enabled'
    assert.equal(loadRunConfig({configFile: file, env: {}}).warnings.filter(field).length, 1)
    assert.equal(loadRunConfig({configFile: file, env: {}, listen: '127.0.0.1:0'}).warnings.filter(field).length, 1, 'kept: still true')
    assert.deepEqual(loadRunConfig({configFile: file, env: {}, embedded: true}).warnings.filter(field), [])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
