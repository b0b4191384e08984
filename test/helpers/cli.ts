import {spawnSync} from 'node:child_process'
import {repoPath} from './vectors.js'

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs the built CLI (`node bin/run.js …`) as a user would, with no stdin. */
export function runCli(args: readonly string[], options: {cwd?: string; env?: NodeJS.ProcessEnv; input?: string} = {}): CliResult {
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...args], {
    cwd: options.cwd ?? repoPath(),
    env: {...process.env, NO_COLOR: '1', ...options.env},
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  })
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}
