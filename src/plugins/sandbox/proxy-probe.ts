/**
 * `--proxy host:port` (a running `pipelock run`): asked for its `/health` before the agent starts.
 * Without the check an agent was launched whose only way out led nowhere: every request failed
 * inside the sandbox (curl exit 52), and the operator read why only in the bridge's log lines.
 */
import http from 'node:http'
import {PipelockError} from '../errors/index.js'

const PROBE_TIMEOUT_MS = 3000

/** Resolves when a pipelock answers `/health` with 200 at host:port; otherwise SANDBOX_LAUNCH_FAILED saying what happened. */
export function probeRunningProxy(host: string, port: number, flag: string): Promise<void> {
  const refuse = (why: string): PipelockError => new PipelockError('SANDBOX_LAUNCH_FAILED', `--proxy ${flag}: no pipelock answers there (${why})`, {
    hint: 'start `pipelock run` with forward_proxy enabled at that address first, or leave out --proxy to run an embedded proxy',
  })
  return new Promise((resolve, reject) => {
    const req = http.get({host, port, path: '/health', timeout: PROBE_TIMEOUT_MS, agent: false}, (res) => {
      res.resume()
      if (res.statusCode === 200) resolve()
      else reject(refuse(`/health answered HTTP ${res.statusCode ?? '?'}`))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`), {code: 'ETIMEDOUT'})))
    req.on('error', (e: NodeJS.ErrnoException) => reject(refuse(e.code ?? e.message)))
  })
}
