import {existsSync, statSync} from 'node:fs'
import {SYSTEM_CONFIG_FILE, locateConfigFile, reachableListen} from '../config/index.js'
import {PipelockError, shellWord} from '../errors/index.js'

// Where the session/adaptive commands find the admin API and its token (runtime §13):
// flags → environment → config file, each value resolved on its own. The config file is read
// only when a flag or the environment left something unset, so a misplaced or broken config
// never stops an invocation that names both; its loader (the config schema, YAML) is imported
// only then, so such an invocation does not load it either.

export const ENV_API_URL = 'PIPELOCK_API_URL'
export const ENV_API_TOKEN = 'PIPELOCK_KILLSWITCH_API_TOKEN'
export const ENV_CONFIG = 'PIPELOCK_CONFIG'
export const SYSTEM_CONFIG_PATH = SYSTEM_CONFIG_FILE

/**
 * The config files searched, in order: what `findConfigFile` does, in the words the error,
 * `--help` and docs/run.md all use.
 */
export function configSearchOrder(systemConfigPath = SYSTEM_CONFIG_PATH): string {
  return `--config, $${ENV_CONFIG}, $PIPELOCK_HOME/pipelock.yaml (default ~/.pipelock/pipelock.yaml), ~/.config/pipelock/pipelock.yaml, ${systemConfigPath}`
}

export interface AdminTargetInput {
  readonly apiUrl?: string
  readonly apiToken?: string
  readonly config?: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** `$HOME`; `~/.config/pipelock/pipelock.yaml` is searched under it. */
  readonly homeDir: string
  /** Overridable for tests; default `/etc/pipelock/pipelock.yaml`. */
  readonly systemConfigPath?: string
}

export type ValueSource = 'flag' | 'env' | 'config'

export interface AdminTarget {
  /** Normalised base URL: scheme present, no trailing `/`. */
  readonly baseUrl: string
  readonly token: string
  readonly urlSource: ValueSource
  readonly tokenSource: ValueSource
  /** The config file consulted, when one was needed and found. */
  readonly configPath?: string
}

export async function resolveAdminTarget(input: AdminTargetInput): Promise<AdminTarget> {
  const flagOrEnv = (flag: string | undefined, envName: string): {value: string; source: ValueSource} | undefined => {
    if (flag !== undefined && flag !== '') return {value: flag, source: 'flag'}
    const e = input.env[envName]
    if (e !== undefined && e !== '') return {value: e, source: 'env'}
    return undefined
  }
  let url = flagOrEnv(input.apiUrl, ENV_API_URL)
  let token = flagOrEnv(input.apiToken, ENV_API_TOKEN)
  let configPath: string | undefined
  if (url === undefined || token === undefined) {
    configPath = findConfigFile(input)
    if (configPath === undefined) {
      const where = `a config file (${configSearchOrder(input.systemConfigPath)})`
      if (token === undefined) {
        throw new PipelockError('ADMIN_API_UNCONFIGURED', `admin API token is required: set --api-token or ${ENV_API_TOKEN}, or kill_switch.api_token in ${where}`)
      }
      throw new PipelockError('ADMIN_API_UNCONFIGURED', `admin API URL is required: set --api-url or ${ENV_API_URL}, or kill_switch.api_listen (else fetch_proxy.listen) in ${where}`)
    }
    const ks = await readKillSwitch(configPath, input.env)
    if (token === undefined) {
      if (ks.api_token === '') {
        throw new PipelockError('ADMIN_API_UNCONFIGURED', `admin API token is required: set --api-token, ${ENV_API_TOKEN}, or kill_switch.api_token in ${configPath}`)
      }
      assertPrivate(configPath)
      token = {value: ks.api_token, source: 'config'}
    }
    if (url === undefined) {
      // Where the server mounts it: on kill_switch.api_listen when set, else on the main listener
      // (fetch_proxy.listen, default 127.0.0.1:8888) — runtime §3/§12. The reference CLI stops
      // with "no admin API URL" here although its own server answers on the main port
      // (docs/compatibility.md). `run --listen` overrides the port at start; pass --api-url then.
      url = ks.api_listen !== ''
        ? {value: urlFromListen(ks.api_listen, configPath), source: 'config'}
        : {value: urlFromListen(ks.listen, configPath, 'fetch_proxy.listen'), source: 'config'}
    }
  }
  return {
    baseUrl: normalizeApiUrl(url.value),
    token: token.value,
    urlSource: url.source,
    tokenSource: token.source,
    ...(configPath === undefined ? {} : {configPath}),
  }
}

/** `--config`, then `$PIPELOCK_CONFIG` (both must exist when given), then the default places. */
export function findConfigFile(input: Pick<AdminTargetInput, 'config' | 'env' | 'homeDir' | 'systemConfigPath'>): string | undefined {
  const located = locateConfigFile(input.config, input.env, input.homeDir, input.systemConfigPath ?? SYSTEM_CONFIG_PATH)
  if (located !== undefined && located.via !== 'default' && !existsSync(located.file)) {
    throw new PipelockError('ADMIN_API_CONFIG_INVALID', `config file ${located.file} (from ${located.via}) does not exist`, {location: {file: located.file}})
  }
  return located?.file
}

async function readKillSwitch(file: string, env: Readonly<Record<string, string | undefined>>): Promise<{api_listen: string; api_token: string; listen: string}> {
  const {loadConfig} = await import('../config/index.js')
  try {
    // The same strict loader as `pipelock run`: a file the proxy would refuse is refused here too.
    const c = loadConfig(file, {env}).config
    const ks = c.kill_switch
    return {api_listen: ks.api_listen, api_token: ks.api_token, listen: c.fetch_proxy.listen}
  } catch (err) {
    if (err instanceof PipelockError && err.code !== 'CONFIG_INVALID') {
      throw new PipelockError('ADMIN_API_CONFIG_INVALID', err.message, {location: {file}})
    }
    throw err
  }
}

/**
 * A file that hands out the admin token must be private to its owner: any group/other bit,
 * or the owner's execute bit, set (mode & 0o177) is refused.
 */
export function assertPrivate(file: string): void {
  const mode = statSync(file).mode & 0o777
  if ((mode & 0o177) !== 0) {
    throw new PipelockError(
      'ADMIN_API_CONFIG_INVALID',
      `config file holds the admin API token but has mode ${mode.toString(8).padStart(4, '0')}; it must not be accessible by group or others`,
      {location: {file}, hint: `chmod 600 ${shellWord(file)}`},
    )
  }
}

/**
 * `http://` + the listen address (`kill_switch.api_listen`, or `fetch_proxy.listen` when the API
 * shares the main listener), with a wildcard host replaced by loopback: empty or `0.0.0.0` →
 * `127.0.0.1`, `::` → `::1`.
 */
export function urlFromListen(listen: string, file: string, field = 'kill_switch.api_listen'): string {
  const addr = reachableListen(listen)
  if (addr === undefined) {
    throw new PipelockError('ADMIN_API_CONFIG_INVALID', `${field} "${listen}" is not host:port`, {location: {file}})
  }
  return `http://${addr}`
}

/** Adds `http://` when the URL has no scheme, trims trailing `/`, and accepts only http(s). */
export function normalizeApiUrl(raw: string): string {
  let u = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw) ? raw : `http://${raw}`
  u = u.replace(/\/+$/, '')
  let parsed: URL
  // The URL as given may carry a password or a token (refused below): never echoed whole.
  const shown = /[@?#]/.test(raw) ? `${raw.split(/[@?#]/)[0]!.replace(/[^/]*$/, '')}…` : raw
  try {
    parsed = new URL(u)
  } catch {
    throw new PipelockError('ADMIN_ARGUMENT_INVALID', `admin API URL "${shown}" is not a valid URL`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PipelockError('ADMIN_ARGUMENT_INVALID', `admin API URL "${shown}" must use http or https`)
  }
  if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new PipelockError('ADMIN_ARGUMENT_INVALID', `admin API URL "${shown}" must not carry credentials, a query or a fragment (pass the token with --api-token; the URL is not shown whole)`)
  }
  return u
}
