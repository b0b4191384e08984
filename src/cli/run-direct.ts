import {existsSync, readFileSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import path from 'node:path'
import {isPipelockError} from '../plugins/errors/index.js'
import {reportFailureOutsideOclif} from './error-output.js'
import {parseRunArgv} from './run-argv.js'
import {runProxy} from './run-proxy.js'

/**
 * `pipelock run` without oclif (bench: startup): bin/run.js calls this with the arguments
 * after `run`. It returns undefined — and bin/run.js goes to oclif as for every other command —
 * unless it can stand in for oclif exactly: the flags are in the plain forms src/cli/run-argv.ts
 * reads, oclif's debug output is not asked for (DEBUG, PIPELOCK_DEBUG), the working directory
 * exists (oclif would warn), and no user plugin file exists that could make oclif load another
 * `run`. Otherwise it starts the proxy and the promise settles when it stopped, with the exit
 * status in `process.exitCode`, after doing what oclif does around a command for `run`: the
 * stdout EPIPE guard of oclif's command module, the removal of PIPELOCK_REDIRECTED, and the
 * error handling of the command classes (src/cli/base-command.ts: one line with a stable code;
 * anything else is handed to oclif's own handler, as oclif would).
 */
export function runDirect(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> | undefined {
  if (env.DEBUG !== undefined || env.PIPELOCK_DEBUG !== undefined) return undefined
  let cwd: string
  try {
    cwd = process.cwd()
  } catch {
    return undefined
  }
  const plugins = oclifUserPluginsFile(env, process.platform)
  if (plugins === undefined || existsSync(plugins)) return undefined
  const parsed = parseRunArgv(args, cwd)
  return parsed === undefined ? undefined : start(parsed.flags, env)
}

async function start(flags: Parameters<typeof runProxy>[0], env: NodeJS.ProcessEnv): Promise<void> {
  // oclif's command module: a closed stdout (the audit log piped into `head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err && err.code === 'EPIPE') return
    throw err
  })
  delete env.PIPELOCK_REDIRECTED
  try {
    await runProxy(flags, [], packageVersion())
  } catch (err) {
    if (!isPipelockError(err)) process.exitCode = process.exitCode ?? (err as {exitCode?: number}).exitCode ?? 1
    await reportFailureOutsideOclif(err)
  }
}

/** pipelock's own version (oclif's `config.version`). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {version: string}).version
}

/**
 * The file oclif reads user plugins from (`<dataDir>/package.json`, Config#dataDir); undefined on
 * Windows, where its directories are worked out differently (there `run` goes through oclif).
 */
export function oclifUserPluginsFile(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  if (platform === 'win32') return undefined
  const home = env.HOME || homedir() || tmpdir()
  const dataDir = env.PIPELOCK_DATA_DIR || path.join(env.XDG_DATA_HOME || path.join(home, '.local/share'), 'pipelock')
  return path.join(dataDir, 'package.json')
}
