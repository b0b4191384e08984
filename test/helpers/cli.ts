import assert from 'node:assert/strict'
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

/** A run of the CLI as the learn-and-lock suites read it: its exit code, stdout and stderr. */
export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** `runCli` with a fixed environment (a suite's own HOME and PIPELOCK_HOME), answering `CliRun`. */
export function cliIn(env: NodeJS.ProcessEnv): (args: readonly string[]) => CliRun {
  return (args) => {
    const r = runCli(args, {env})
    return {code: r.status, stdout: r.stdout, stderr: r.stderr}
  }
}

/** `r` when it exited 0; otherwise fails naming `what` and the output. */
export function succeeded(r: CliRun, what: string): CliRun {
  assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}): ${r.stdout}${r.stderr}`)
  return r
}
