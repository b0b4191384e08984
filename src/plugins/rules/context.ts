import {existsSync} from 'node:fs'
import path from 'node:path'
import {loadConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {resolveRulesDir, type RulesSettings} from './store.js'

/**
 * The `rules` section the rules commands work with (scanners-extra.md §5.7): from `--config`,
 * else PIPELOCK_CONFIG, else ./pipelock.yaml when present, else the defaults.
 */
export function rulesContext(configFile: string | undefined, env: Readonly<Record<string, string | undefined>>, cwd: string): {settings: RulesSettings; rulesDir: string; configFile?: string} {
  let file = configFile
  if (file === undefined && env.PIPELOCK_CONFIG) file = env.PIPELOCK_CONFIG
  if (file === undefined && existsSync(path.join(cwd, 'pipelock.yaml'))) file = path.join(cwd, 'pipelock.yaml')
  const loaded = loadConfig(file, {env})
  const settings = loaded.config.rules
  const rulesDir = resolveRulesDir(settings.rules_dir, env)
  if (rulesDir === undefined) throw new PipelockError('CONFIG_INVALID', 'no rules directory: set rules.rules_dir (no home directory to default to)')
  return {settings, rulesDir, ...(file === undefined ? {} : {configFile: file})}
}
