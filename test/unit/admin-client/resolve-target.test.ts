import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {normalizeApiUrl, resolveAdminTarget, urlFromListen, type AdminTargetInput} from '../../../src/plugins/admin-client/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

function tempHome(): string {
  return mkdtempSync(path.join(tmpdir(), 'pipelock-admin-'))
}

function writeConfig(file: string, body: string, mode = 0o600): string {
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, body)
  chmodSync(file, mode)
  return file
}

const KS = (listen: string, token: string): string => `kill_switch:\n  api_listen: "${listen}"\n  api_token: "${token}"\n`

function input(home: string, over: Partial<AdminTargetInput> = {}): AdminTargetInput {
  return {env: {}, homeDir: home, systemConfigPath: path.join(home, 'no-etc', 'pipelock.yaml'), ...over}
}

/** A validator for assert.throws / assert.rejects: a PipelockError with this code and message. */
function pipelockError(code: string, message: RegExp): (e: unknown) => true {
  return (e) => {
    assert.ok(e instanceof PipelockError, String(e))
    assert.equal(e.code, code)
    assert.match(e.message, message)
    return true
  }
}

function fails(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, pipelockError(code, message))
}

async function rejects(fn: () => Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(fn, pipelockError(code, message))
}

test('URL normalisation: scheme added when missing, trailing slashes trimmed, only http(s)', () => {
  assert.equal(normalizeApiUrl('127.0.0.1:9090'), 'http://127.0.0.1:9090')
  assert.equal(normalizeApiUrl('localhost:9090/'), 'http://localhost:9090')
  assert.equal(normalizeApiUrl('https://ops.example/pipelock//'), 'https://ops.example/pipelock')
  assert.equal(normalizeApiUrl('http://[::1]:9090'), 'http://[::1]:9090')
  fails(() => normalizeApiUrl('ftp://x:1'), 'ADMIN_ARGUMENT_INVALID', /must use http or https/)
  // A credential in the URL is refused without being echoed.
  for (const u of ['http://ops:hunter2pass@127.0.0.1:9090', 'http://127.0.0.1:9090/?token=hunter2pass', 'ftp://user:hunter2pass@x']) {
    assert.throws(() => normalizeApiUrl(u), (e: Error) => e.message.includes('admin API URL') && !e.message.includes('hunter2pass'))
  }
  fails(() => normalizeApiUrl('http://user:pw@x:1'), 'ADMIN_ARGUMENT_INVALID', /credentials/)
  fails(() => normalizeApiUrl('http://x:99999'), 'ADMIN_ARGUMENT_INVALID', /not a valid URL/)
})

test('api_listen → URL: wildcard hosts become loopback', () => {
  assert.equal(urlFromListen(':9090', 'f'), 'http://127.0.0.1:9090')
  assert.equal(urlFromListen('0.0.0.0:9090', 'f'), 'http://127.0.0.1:9090')
  assert.equal(urlFromListen('[::]:9090', 'f'), 'http://[::1]:9090')
  assert.equal(urlFromListen('10.1.2.3:9090', 'f'), 'http://10.1.2.3:9090')
  assert.equal(urlFromListen('[fd00::7]:9090', 'f'), 'http://[fd00::7]:9090')
  fails(() => urlFromListen('9090', 'f'), 'ADMIN_API_CONFIG_INVALID', /not host:port/)
})

test('resolution order: flags beat environment beat config, each value on its own', async () => {
  const home = tempHome()
  const cfg = writeConfig(path.join(home, 'c.yaml'), KS('127.0.0.1:7001', 'from-config'))
  const env = {PIPELOCK_API_URL: '127.0.0.1:7002', PIPELOCK_KILLSWITCH_API_TOKEN: 'from-env'}
  const all = await resolveAdminTarget(input(home, {apiUrl: 'http://127.0.0.1:7003/', apiToken: 'from-flag', config: cfg, env}))
  assert.deepEqual(all, {baseUrl: 'http://127.0.0.1:7003', token: 'from-flag', urlSource: 'flag', tokenSource: 'flag'})
  const envOnly = await resolveAdminTarget(input(home, {config: cfg, env}))
  assert.deepEqual(envOnly, {baseUrl: 'http://127.0.0.1:7002', token: 'from-env', urlSource: 'env', tokenSource: 'env'})
  const mixed = await resolveAdminTarget(input(home, {apiToken: 'from-flag', config: cfg}))
  assert.deepEqual(mixed, {baseUrl: 'http://127.0.0.1:7001', token: 'from-flag', urlSource: 'config', tokenSource: 'flag', configPath: cfg})
  const cfgOnly = await resolveAdminTarget(input(home, {config: cfg}))
  assert.equal(cfgOnly.token, 'from-config')
  assert.equal(cfgOnly.tokenSource, 'config')
  // An empty flag or variable counts as unset.
  assert.equal((await resolveAdminTarget(input(home, {apiToken: '', config: cfg, env: {PIPELOCK_KILLSWITCH_API_TOKEN: ''}}))).token, 'from-config')
})

test('flags and env naming both values never read the config file (a broken one does not matter)', async () => {
  const home = tempHome()
  const broken = writeConfig(path.join(home, 'broken.yaml'), 'not_a_key: 1\n', 0o644)
  const t = await resolveAdminTarget(input(home, {config: broken, env: {PIPELOCK_API_URL: 'h:1', PIPELOCK_KILLSWITCH_API_TOKEN: 't'}}))
  assert.equal(t.configPath, undefined)
})

test('config search order: --config, PIPELOCK_CONFIG, ~/.config/pipelock/pipelock.yaml, /etc/pipelock/pipelock.yaml', async () => {
  const home = tempHome()
  const etc = writeConfig(path.join(home, 'etc', 'pipelock.yaml'), KS(':7004', 'etc'))
  const user = writeConfig(path.join(home, '.config', 'pipelock', 'pipelock.yaml'), KS(':7005', 'user'))
  const viaEnv = writeConfig(path.join(home, 'env.yaml'), KS(':7006', 'env-file'))
  const viaFlag = writeConfig(path.join(home, 'flag.yaml'), KS(':7007', 'flag-file'))
  const base = {systemConfigPath: etc}
  assert.equal((await resolveAdminTarget(input(home, {...base, config: viaFlag, env: {PIPELOCK_CONFIG: viaEnv}}))).token, 'flag-file')
  assert.equal((await resolveAdminTarget(input(home, {...base, env: {PIPELOCK_CONFIG: viaEnv}}))).token, 'env-file')
  assert.equal((await resolveAdminTarget(input(home, base))).token, 'user')
  assert.equal((await resolveAdminTarget(input(tempHome(), base))).baseUrl, 'http://127.0.0.1:7004')
  assert.equal((await resolveAdminTarget(input(home, base))).configPath, user)
  await rejects(() => resolveAdminTarget(input(home, {config: path.join(home, 'missing.yaml')})), 'ADMIN_API_CONFIG_INVALID', /missing\.yaml \(from --config\) does not exist/)
  await rejects(() => resolveAdminTarget(input(home, {env: {PIPELOCK_CONFIG: path.join(home, 'gone.yaml')}})), 'ADMIN_API_CONFIG_INVALID', /from PIPELOCK_CONFIG/)
})

test('nothing configured: token required first, then URL (exit 2)', async () => {
  const home = tempHome()
  const err = async (over: Partial<AdminTargetInput>): Promise<PipelockError> => {
    try {
      await resolveAdminTarget(input(home, over))
    } catch (e) {
      return e as PipelockError
    }
    throw new Error('no error')
  }
  const noToken = await err({})
  assert.equal(noToken.code, 'ADMIN_API_UNCONFIGURED')
  assert.equal(noToken.exitCode, 2)
  assert.match(noToken.message, /^admin API token is required: set --api-token or PIPELOCK_KILLSWITCH_API_TOKEN, or kill_switch\.api_token in a config file/)
  assert.match((await err({apiToken: 't'})).message, /^admin API URL is required: set --api-url or PIPELOCK_API_URL, or kill_switch\.api_listen \(else fetch_proxy\.listen\) in a config file/)
})

test('config without api_listen: the API is where the server mounts it, on fetch_proxy.listen (default 127.0.0.1:8888)', async () => {
  const home = tempHome()
  const cfg = writeConfig(path.join(home, 'c.yaml'), 'fetch_proxy:\n  listen: "0.0.0.0:8899"\nkill_switch:\n  api_token: "t"\n')
  const r = await resolveAdminTarget(input(home, {config: cfg}))
  assert.equal(r.baseUrl, 'http://127.0.0.1:8899')
  assert.equal(r.urlSource, 'config')
  const dflt = writeConfig(path.join(home, 'd.yaml'), 'kill_switch:\n  api_token: "t"\n')
  assert.equal((await resolveAdminTarget(input(home, {config: dflt}))).baseUrl, 'http://127.0.0.1:8888')
  const noToken = writeConfig(path.join(home, 'n.yaml'), 'fetch_proxy:\n  listen: "127.0.0.1:8888"\n')
  await rejects(() => resolveAdminTarget(input(home, {config: noToken})), 'ADMIN_API_UNCONFIGURED', /^admin API token is required: set --api-token, PIPELOCK_KILLSWITCH_API_TOKEN, or kill_switch\.api_token in /)
})

test('a config file that supplies the token must have mode & 0o177 == 0', async () => {
  const home = tempHome()
  for (const mode of [0o640, 0o604, 0o700, 0o660]) {
    const cfg = writeConfig(path.join(home, `m${mode.toString(8)}.yaml`), KS(':7008', 't'), mode)
    await assert.rejects(
      () => resolveAdminTarget(input(home, {config: cfg})),
      (e: unknown) => e instanceof PipelockError && e.code === 'ADMIN_API_CONFIG_INVALID' && e.exitCode === 2 && e.location?.file === cfg && e.message.includes(`mode 0${mode.toString(8)}`),
    )
    // The same file is fine when it only supplies the URL.
    assert.equal((await resolveAdminTarget(input(home, {config: cfg, apiToken: 'flag'}))).baseUrl, 'http://127.0.0.1:7008')
  }
  for (const mode of [0o600, 0o400]) {
    const cfg = writeConfig(path.join(home, `ok${mode.toString(8)}.yaml`), KS(':7009', 't'), mode)
    assert.equal((await resolveAdminTarget(input(home, {config: cfg}))).token, 't')
  }
})

test('an invalid config file is refused with the loader\'s file:line error (exit 2)', async () => {
  const home = tempHome()
  const cfg = writeConfig(path.join(home, 'bad.yaml'), 'kill_switch:\n  api_tokn: "t"\n')
  await assert.rejects(
    () => resolveAdminTarget(input(home, {config: cfg})),
    (e: unknown) => e instanceof PipelockError && e.code === 'CONFIG_INVALID' && e.exitCode === 2 && e.location?.line === 2 && /kill_switch\.api_tokn/.test(e.message),
  )
})
