import {loadConfig, type LoadedConfig} from '../plugins/config/index.js'
import {formatError, isPipelockError} from '../plugins/errors/index.js'

/**
 * Loads the config of a pre-flight command (`check`, `doctor`, `audit score`): the file when
 * given, else the built-in defaults. Expected failures come back as one line (file:line: what),
 * so each command can word and exit them the way the reference does.
 */
export function loadPreflightConfig(file: string | undefined): {loaded: LoadedConfig} | {error: string} {
  try {
    return {loaded: loadConfig(file, {env: process.env})}
  } catch (err) {
    if (isPipelockError(err)) return {error: formatError(err)}
    throw err
  }
}
