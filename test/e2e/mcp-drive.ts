/** Drives a `pipelock mcp proxy` process the way an MCP client on stdio does, for the end-to-end tests. */
import assert from 'node:assert/strict'
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'

/** `pipelock mcp proxy ARGS` as a child process with `env`, its stdout and stderr collected as they come. */
export function spawnMcpProxy(args: readonly string[], env: NodeJS.ProcessEnv): {p: ChildProcessWithoutNullStreams; out: () => string; err: () => string} {
  const p = spawn(process.execPath, [repoPath('bin/run.js'), 'mcp', 'proxy', ...args], {env})
  let out = ''
  let err = ''
  p.stdout.on('data', (c: Buffer) => (out += c.toString()))
  p.stderr.on('data', (c: Buffer) => (err += c.toString()))
  return {p, out: () => out, err: () => err}
}

/**
 * `pipelock mcp proxy --config <yaml written in dir> ARGS`, kept running for a test to talk to:
 * its stdin (`send` one line), its stdout lines so far, and `until` (wait up to 15 s for a
 * condition on them, failing with both streams).
 */
export function liveMcpProxy(dir: string, yaml: string, args: readonly string[]) {
  const cfg = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(cfg, yaml, {mode: 0o600})
  const w = spawnMcpProxy(['--config', cfg, ...args], {PATH: process.env.PATH ?? ''})
  const lines = (): string[] => w.out().split('\n').filter((l) => l !== '')
  const until = async (f: () => boolean): Promise<void> => {
    const deadline = Date.now() + 15_000
    while (!f() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.ok(f(), `stdout:\n${w.out()}\nstderr:\n${w.err()}`)
  }
  const send = (line: string): void => void w.p.stdin.write(line + '\n')
  return {w, lines, until, send}
}

/**
 * `pipelock mcp proxy ARGS` fed `lines` one at a time, each once the previous one was answered
 * (or after 10 s without an answer), then EOF: its exit code, its stdout lines and its stderr.
 */
export function driveMcpProxy(args: readonly string[], lines: readonly string[]): Promise<{code: number | null; out: string[]; err: string}> {
  const {p, out, err} = spawnMcpProxy(args, {PATH: process.env.PATH ?? ''})
  void (async () => {
    for (const l of lines) {
      const want = out().split('\n').length
      p.stdin.write(l + '\n')
      const deadline = Date.now() + 10_000
      while (out().split('\n').length === want && Date.now() < deadline && p.exitCode === null) await new Promise((r) => setTimeout(r, 20))
    }
    p.stdin.end()
  })()
  return new Promise((resolve) => p.on('close', (code) => resolve({code, out: out().split('\n').filter((x) => x !== ''), err: err()})))
}
