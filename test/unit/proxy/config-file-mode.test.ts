import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {clearSecretFields, loadConfig} from '../../../src/plugins/config/index.js'
import {configFileModeWarnings} from '../../../src/plugins/proxy/index.js'

function withFile(text: string, mode: number, fn: (file: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-mode-'))
  try {
    const file = path.join(dir, 'pipelock.yaml')
    writeFileSync(file, text)
    chmodSync(file, mode)
    fn(file)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

const TOKEN = 'kill_switch:\n  api_token: "0123456789abcdef0123456789abcdef"\n'

test('clearSecretFields names the credentials a document sets, and only those', () => {
  assert.deepEqual(clearSecretFields(undefined), [])
  assert.deepEqual(clearSecretFields({mode: 'balanced'}), [])
  assert.deepEqual(clearSecretFields({kill_switch: {api_token: ''}, emit: {webhook: {auth_token: null}}}), [])
  assert.deepEqual(clearSecretFields({
    kill_switch: {api_token: 'x'},
    emit: {webhook: {auth_token: 'y'}, otlp: {headers: {Authorization: 'Bearer z'}}},
    scan_api: {auth: {bearer_tokens: ['t']}},
    sentry: {dsn: 'https://key@sentry.example/1'},
    redaction: {dictionaries: [{name: 'a', entries: []}, {name: 'b', entries: ['s3cret']}]},
  }), ['kill_switch.api_token', 'emit.webhook.auth_token', 'emit.otlp.headers', 'scan_api.auth.bearer_tokens', 'sentry.dsn', 'redaction.dictionaries.*.entries'])
  // A salt source that names where the salt is, is not the salt.
  assert.deepEqual(clearSecretFields({learn: {privacy: {salt_source: '${PIPELOCK_SALT}'}}}), [])
  assert.deepEqual(clearSecretFields({learn: {privacy: {salt_source: 'file:/etc/pipelock/salt'}}}), [])
  assert.deepEqual(clearSecretFields({learn: {privacy: {salt_source: 'literal-salt'}}}), ['learn.privacy.salt_source'])
})

test('a config readable by others that holds the admin token in clear is named, with the fix', () => {
  withFile(TOKEN, 0o644, (file) => {
    assert.deepEqual(configFileModeWarnings(loadConfig(file, {env: {}})), [
      `WARNING: config file ${file} holds kill_switch.api_token in clear and is readable by group or others (mode 0644): chmod 600 ${file}, or move the admin token to PIPELOCK_KILLSWITCH_API_TOKEN (session commands refuse to read it from this file)`,
    ])
  })
  withFile(TOKEN, 0o600, (file) => assert.deepEqual(configFileModeWarnings(loadConfig(file, {env: {}})), []))
  // Readable by others, but nothing secret in it: nothing to say.
  withFile('mode: balanced\n', 0o644, (file) => assert.deepEqual(configFileModeWarnings(loadConfig(file, {env: {}})), []))
})

test('a config others can write is named whatever it holds', () => {
  withFile('mode: balanced\n', 0o666, (file) => {
    assert.deepEqual(configFileModeWarnings(loadConfig(file, {env: {}})), [
      `WARNING: config file ${file} is writable by group or others (mode 0666): whoever can write it sets this proxy's policy (a reload applies an edit); chmod go-w ${file}`,
    ])
  })
  withFile('emit:\n  webhook:\n    url: "https://hooks.example/x"\n    auth_token: "abc"\n', 0o640, (file) => {
    const [line] = configFileModeWarnings(loadConfig(file, {env: {}}))
    assert.equal(line, `WARNING: config file ${file} holds emit.webhook.auth_token in clear and is readable by group or others (mode 0640): chmod 600 ${file}`)
  })
})

test('no file, or a file whose mode says nothing about its text: no warning', () => {
  assert.deepEqual(configFileModeWarnings({path: undefined, document: undefined}), [])
  assert.deepEqual(configFileModeWarnings({path: '/nonexistent/pipelock.yaml', document: {kill_switch: {api_token: 'x'}}}), [])
})
