/** Drives a `pipelock mcp proxy` process the way an MCP client on stdio does, for the end-to-end tests. */
import {spawn} from 'node:child_process'
import {repoPath} from '../helpers/vectors.js'

/**
 * `pipelock mcp proxy ARGS` fed `lines` one at a time, each once the previous one was answered
 * (or after 10 s without an answer), then EOF: its exit code, its stdout lines and its stderr.
 */
export function driveMcpProxy(args: readonly string[], lines: readonly string[]): Promise<{code: number | null; out: string[]; err: string}> {
  const p = spawn(process.execPath, [repoPath('bin/run.js'), 'mcp', 'proxy', ...args], {env: {PATH: process.env.PATH ?? ''}})
  let out = ''
  let err = ''
  p.stdout.on('data', (c: Buffer) => (out += c.toString()))
  p.stderr.on('data', (c: Buffer) => (err += c.toString()))
  void (async () => {
    for (const l of lines) {
      const want = out.split('\n').length
      p.stdin.write(l + '\n')
      const deadline = Date.now() + 10_000
      while (out.split('\n').length === want && Date.now() < deadline && p.exitCode === null) await new Promise((r) => setTimeout(r, 20))
    }
    p.stdin.end()
  })()
  return new Promise((resolve) => p.on('close', (code) => resolve({code, out: out.split('\n').filter((x) => x !== ''), err})))
}
