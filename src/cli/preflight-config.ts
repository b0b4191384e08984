import {loadConfig, type LoadedConfig} from '../plugins/config/index.js'
import {isPipelockError, type PipelockError} from '../plugins/errors/index.js'
import {emitErrorReport, reportFromPipelockError} from './error-output.js'

/**
 * Loads the config of a pre-flight command (`check`, `doctor`, `audit score`): the file when
 * given, else the built-in defaults. An expected failure comes back for the command to report
 * with `reportLoadFailure`.
 */
export function loadPreflightConfig(file: string | undefined): {loaded: LoadedConfig} | {failure: PipelockError} {
  try {
    return {loaded: loadConfig(file, {env: process.env})}
  } catch (err) {
    if (isPipelockError(err)) return {failure: err}
    throw err
  }
}

/**
 * A config that did not load, reported as every failure is (docs/errors.md): one line on stderr,
 * `<prefix><file:line: what> [CODE]; hint: …`, or under --json the `{"error": {…}}` object on
 * stdout alone, whose message is the one `pipelock run` gives (no command prefix). `exit` is the
 * command's documented status for it (check and audit score 1, doctor 2); the JSON states it.
 */
export function reportLoadFailure(err: PipelockError, prefix: string, exit: number, json: boolean): void {
  const r = reportFromPipelockError(err)
  emitErrorReport({...r, message: json ? r.message : `${prefix}${r.message}`, exit}, json)
}
