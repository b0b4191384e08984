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
