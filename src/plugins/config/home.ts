import {existsSync} from 'node:fs'
import path from 'node:path'

/**
 * The one answer to "where does pipelock keep its files" for every command: `$PIPELOCK_HOME`,
 * else `~/.pipelock` (keystore, capture, default config), and the config files searched when
 * neither --config nor `$PIPELOCK_CONFIG` names one, in order.
 */
export const SYSTEM_CONFIG_FILE = '/etc/pipelock/pipelock.yaml'

export function pipelockHome(env: Readonly<Record<string, string | undefined>>, userHome: string): string {
  const h = env.PIPELOCK_HOME
  return path.resolve(h !== undefined && h !== '' ? h : path.join(userHome, '.pipelock'))
}

export function defaultConfigCandidates(env: Readonly<Record<string, string | undefined>>, userHome: string, systemFile = SYSTEM_CONFIG_FILE): string[] {
  return [path.join(pipelockHome(env, userHome), 'pipelock.yaml'), path.join(userHome, '.config', 'pipelock', 'pipelock.yaml'), systemFile]
}

/** `locateConfigFile`'s order, as a command's --config help says it. */
export const LOCATED_CONFIG_ORDER = `\$PIPELOCK_CONFIG, then \$PIPELOCK_HOME/pipelock.yaml (~/.pipelock), ~/.config/pipelock/pipelock.yaml, ${SYSTEM_CONFIG_FILE}, then built-in defaults`

/** Where a command's config came from: the flag, `$PIPELOCK_CONFIG`, or the first default place that exists. */
export interface LocatedConfig {
  readonly file: string
  readonly via: '--config' | 'PIPELOCK_CONFIG' | 'default'
}

/**
 * The config file of a command that takes `--config` and otherwise reads the operator's own:
 * the flag, else `$PIPELOCK_CONFIG`, else the first of `defaultConfigCandidates` that exists;
 * undefined when none is named and none exists (the command runs on built-in defaults). A file
 * the flag or the variable names is returned whether or not it exists: the loader says it does not.
 */
export function locateConfigFile(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, userHome: string, systemFile = SYSTEM_CONFIG_FILE): LocatedConfig | undefined {
  if (flag !== undefined && flag !== '') return {file: flag, via: '--config'}
  const named = env.PIPELOCK_CONFIG
  if (named !== undefined && named !== '') return {file: named, via: 'PIPELOCK_CONFIG'}
  const found = defaultConfigCandidates(env, userHome, systemFile).find((f) => existsSync(f))
  return found === undefined ? undefined : {file: found, via: 'default'}
}
