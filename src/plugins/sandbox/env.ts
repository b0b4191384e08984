/**
 * The sandboxed agent's environment (spec containment.md §2.6): never inherited; a synthetic,
 * writable HOME inside the sandbox, a fixed PATH, a few locale variables, update-check
 * switches, the `--env` entries, the canary tokens, and the proxy variables pointing at the bridge.
 */
import {injectCanaryEnv, type CanaryEnvEntry} from '../config/index.js'
import {PipelockError} from '../errors/index.js'

/** Inside the sandbox (a tmpfs): the agent's HOME and TMPDIR live here. */
export const SANDBOX_DIR = '/tmp/pipelock-sandbox'
export const SANDBOX_PATH = '/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin'

const DANGEROUS = new Set(['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'NODE_OPTIONS', 'PYTHONSTARTUP', 'PYTHONPATH', 'RUBYOPT', 'PERL5OPT', 'BASH_ENV', 'ENV', 'CDPATH', 'DYLD_INSERT_LIBRARIES', 'DYLD_LIBRARY_PATH', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'GIT_ASKPASS'])

export const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'] as const

export function isDangerousKey(k: string): boolean {
  return DANGEROUS.has(k) || k.toUpperCase().endsWith('_PROXY')
}

export type CanaryEnv = CanaryEnvEntry

export interface AgentEnv {
  readonly env: Record<string, string>
  /** `--env` names passed (for the start-up line). */
  readonly extras: readonly string[]
  /** Bare `--env KEY` names not set in pipelock's environment: not passed (for a warning line). */
  readonly unset: readonly string[]
  /** Canary variables injected (names only; the values are never printed). */
  readonly canaries: readonly string[]
}

/** The fixed part of the environment, before `--env`, canaries and the proxy variables. */
function baseEnv(workspace: string, parent: Readonly<Record<string, string | undefined>>, sandboxDir: string): Record<string, string> {
  const home = `${sandboxDir}/home`
  const env: Record<string, string> = {
    HOME: home,
    XDG_CONFIG_HOME: `${home}/config`,
    XDG_CACHE_HOME: `${home}/cache`,
    XDG_DATA_HOME: `${home}/data`,
    TMPDIR: `${sandboxDir}/tmp`,
    SHELL: '/bin/sh',
    PATH: SANDBOX_PATH,
    PWD: workspace,
  }
  for (const k of ['USER', 'LANG', 'LC_ALL', 'TERM', 'TZ']) {
    const v = parent[k]
    if (v !== undefined) env[k] = v
  }
  Object.assign(env, {
    NPM_CONFIG_UPDATE_NOTIFIER: 'false', PIP_DISABLE_PIP_VERSION_CHECK: '1', HOMEBREW_NO_AUTO_UPDATE: '1', NO_UPDATE_NOTIFIER: '1',
    UV_NO_SYNC: '1', DISABLE_TELEMETRY: '1', DO_NOT_TRACK: '1',
  })
  return env
}

/** Checks `--env` entries before anything is started (Q-S12 fixed: refused up front). */
export function checkEnvEntries(entries: readonly string[]): void {
  for (const e of entries) {
    const eq = e.indexOf('=')
    const key = eq < 0 ? e : e.slice(0, eq)
    if (key === '') throw new PipelockError('USAGE', '--env requires a non-empty variable name')
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new PipelockError('USAGE', `--env ${JSON.stringify(key)} is not a variable name (letters, digits and _, not starting with a digit)`)
    if (isDangerousKey(key)) throw new PipelockError('USAGE', `--env ${key} is blocked: this variable can subvert sandbox containment`)
  }
}

export function buildAgentEnv(o: {
  workspace: string
  parent: Readonly<Record<string, string | undefined>>
  entries: readonly string[]
  canaries: readonly CanaryEnv[]
  /** Where HOME and TMPDIR live (SANDBOX_DIR inside a mount namespace). */
  sandboxDir?: string
}): AgentEnv {
  checkEnvEntries(o.entries)
  const env = baseEnv(o.workspace, o.parent, o.sandboxDir ?? SANDBOX_DIR)
  const extras: string[] = []
  const unset: string[] = []
  for (const e of o.entries) {
    const eq = e.indexOf('=')
    const key = eq < 0 ? e : e.slice(0, eq)
    const value = eq < 0 ? o.parent[key] : e.slice(eq + 1)
    if (value === undefined) {
      unset.push(key)
      continue
    }
    env[key] = value
    extras.push(key)
  }
  // Canaries after the --env checks, never over an explicit --env or a variable pipelock sets.
  const canaries = injectCanaryEnv(env, new Set(extras), o.canaries, (k) => isDangerousKey(k) || k in baseEnv(o.workspace, {}, '/'))
  return {env, extras, unset, canaries}
}
