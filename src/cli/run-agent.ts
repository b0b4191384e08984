/**
 * `pipelock run [flags] -- COMMAND [ARGS...]`: the agent is started once the proxy listens, with
 * its proxy variables pointing at it, and the run lasts as long as the agent: when the agent exits
 * the proxy drains and stops, and pipelock exits with the agent's status (128 + signal when it was
 * killed, 127 when the command cannot be started). A SIGINT/SIGTERM to pipelock is passed on to the
 * agent first. Not containment: the agent could still open sockets of its own (`pipelock sandbox`
 * is the command that leaves it no other way out).
 */
import {spawn} from 'node:child_process'
import {constants} from 'node:os'
import {reachableListen} from '../plugins/config/index.js'

/** What the agent gets: the four proxy variables (when the forward proxy is on) and PIPELOCK_FETCH_URL, from the bound address. */
export function agentEnvironment(listen: string, forwardProxy: boolean, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const url = `http://${reachableListen(listen) ?? listen}`
  const env: NodeJS.ProcessEnv = {...base, PIPELOCK_FETCH_URL: `${url}/fetch`}
  if (forwardProxy) for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) env[k] = url
  return env
}

export interface LaunchedAgent {
  /** The agent's exit status once it ended. */
  readonly exited: Promise<number>
  /** Passes a signal on (pipelock was asked to stop). */
  signal(sig: NodeJS.Signals): void
}

export function launchAgent(argv: readonly string[], env: NodeJS.ProcessEnv, stderr: (line: string) => void): LaunchedAgent {
  const child = spawn(argv[0]!, argv.slice(1), {stdio: 'inherit', env})
  const exited = new Promise<number>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      stderr(e.code === 'ENOENT' ? `pipelock: agent command not found: ${argv[0]}` : `pipelock: agent could not be started: ${e.message}`)
      resolve(e.code === 'ENOENT' ? 127 : 126)
    })
    child.once('exit', (code, sig) => {
      const status = code ?? 128 + (sig === null ? 0 : (constants.signals[sig] ?? 0))
      stderr(`pipelock: agent exited (${sig === null ? `status ${code}` : `signal ${sig}`}); stopping`)
      resolve(status)
    })
  })
  return {exited, signal: (sig) => void (child.exitCode === null && child.signalCode === null && child.kill(sig))}
}
