import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {repoPath} from './vectors.js'

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the built CLI (`node bin/run.js …`) as a user would, with no stdin. fileSizeLimitKiB: a
 * disk that stops taking bytes — no file may grow past the limit (RLIMIT_FSIZE); with SIGXFSZ
 * ignored the kernel cuts the crossing write short and answers the next with EFBIG, as a full
 * disk answers ENOSPC. The shell execs the CLI.
 */
export function runCli(args: readonly string[], options: {cwd?: string; env?: NodeJS.ProcessEnv; input?: string; fileSizeLimitKiB?: number} = {}): CliResult {
  const argv = [process.execPath, repoPath('bin', 'run.js'), ...args]
  const [file, ...rest] = options.fileSizeLimitKiB === undefined ? argv : ['bash', '-c', `trap '' XFSZ; ulimit -f ${options.fileSizeLimitKiB}; exec "$@"`, 'pipelock', ...argv]
  const r = spawnSync(file as string, rest, {
    cwd: options.cwd ?? repoPath(),
    env: {...process.env, NO_COLOR: '1', ...options.env},
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
    // A report's --json can run to megabytes (spawnSync's own cap, 1 MiB, would cut it and kill the CLI).
    maxBuffer: 256 * 1024 * 1024,
  })
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** `runCli` without waiting: for several CLI processes running at once (stdin closed). */
export function runCliAsync(args: readonly string[], options: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [repoPath('bin', 'run.js'), ...args], {
    cwd: options.cwd ?? repoPath(),
    env: {...process.env, NO_COLOR: '1', ...options.env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
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
