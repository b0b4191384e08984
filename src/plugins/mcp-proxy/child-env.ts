/**
 * The child's environment (spec mcp.md §2.5): an allow-list of pipelock's environment plus
 * `--env` extras; names that inject code or redirect traffic are refused.
 */
import {injectCanaryEnv, type CanaryEnvEntry} from '../config/index.js'
import {PipelockError} from '../errors/index.js'

export const SAFE_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'TERM', 'TZ', 'TMPDIR', 'SHELL'] as const

export const DANGEROUS_ENV: ReadonlySet<string> = new Set([
  'LD_PRELOAD', 'LD_LIBRARY_PATH', 'DYLD_INSERT_LIBRARIES', 'DYLD_LIBRARY_PATH', 'NODE_OPTIONS', 'PYTHONSTARTUP',
  'PYTHONPATH', 'PERL5OPT', 'RUBYOPT', 'BASH_ENV', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'GIT_ASKPASS',
])

export interface ChildEnv {
  readonly env: Record<string, string>
  /** Names of the `--env` extras passed (for the startup line). */
  readonly extras: readonly string[]
  /** Bare `--env KEY` names not set in pipelock's environment: not passed (for a warning line). */
  readonly unset: readonly string[]
  /** Canary variables injected (names only). */
  readonly canaries: readonly string[]
}

export function buildChildEnv(parent: Readonly<Record<string, string | undefined>>, entries: readonly string[], canaries: readonly CanaryEnvEntry[] = []): ChildEnv {
  const env: Record<string, string> = {}
  for (const k of SAFE_ENV) {
    const v = parent[k]
    if (v !== undefined) env[k] = v
  }
  const extras: string[] = []
  const unset: string[] = []
  for (const e of entries) {
    const eq = e.indexOf('=')
    const key = eq < 0 ? e : e.slice(0, eq)
    if (key === '') throw new PipelockError('USAGE', '--env requires a non-empty variable name')
    if ((SAFE_ENV as readonly string[]).includes(key)) throw new PipelockError('USAGE', `--env ${key} is already set by pipelock and cannot be overridden`)
    if (DANGEROUS_ENV.has(key) || key.toUpperCase().endsWith('_PROXY')) {
      throw new PipelockError('USAGE', `--env ${key} is blocked: this variable can inject code or redirect traffic in the child process`)
    }
    const value = eq < 0 ? parent[key] : e.slice(eq + 1)
    if (value === undefined) {
      // `KEY` unset in pipelock's environment: skipped (§2.5), but said (the reference is silent).
      unset.push(key)
      continue
    }
    env[key] = value
    extras.push(key)
  }
  // containment.md §5.3: canary tokens with an env_var are planted in the child's environment.
  const injected = injectCanaryEnv(env, new Set(extras), canaries, (k) => (SAFE_ENV as readonly string[]).includes(k) || DANGEROUS_ENV.has(k) || k.toUpperCase().endsWith('_PROXY'))
  return {env, extras, unset, canaries: injected}
}
