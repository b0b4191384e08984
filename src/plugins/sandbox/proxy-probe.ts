/**
 * `--proxy host:port` (a running `pipelock run`): asked for its `/health` (`pipelock healthcheck`'s
 * probe) before the agent starts. Without the check an agent was launched whose only way out led
 * nowhere: every request failed inside the sandbox (curl exit 52), and the operator read why only in
 * the bridge's log lines.
 */
import {PipelockError} from '../errors/index.js'

const PROBE_TIMEOUT_MS = 3000

/** Resolves when a pipelock answers `/health` with 200 and its health document at host:port; otherwise SANDBOX_LAUNCH_FAILED saying what happened. */
export async function probeRunningProxy(host: string, port: number, flag: string): Promise<void> {
  // Loaded here, as the embedded proxy is: --dry-run and doctor never need the proxy's code.
  const {checkHealth} = await import('../proxy/index.js')
  const r = await checkHealth(`${host.includes(':') ? `[${host}]` : host}:${port}`, PROBE_TIMEOUT_MS)
  // pipelock's health document names the kill switch's state: any other server answering 200 is
  // not a proxy that scans (a mistyped port on another forward proxy would pass the agent unscanned).
  if (r.healthy && r.kill_switch_active !== undefined) return
  if (r.healthy) {
    throw new PipelockError('SANDBOX_LAUNCH_FAILED', `--proxy ${flag}: the server there answers /health, but not as pipelock does (no kill_switch_active in its answer)`, {
      hint: 'name the address of a `pipelock run` with forward_proxy enabled, or leave out --proxy to run an embedded proxy',
    })
  }
  // The probe's own words for a failure: "connection refused (ECONNREFUSED)", "no answer within 3 s".
  const why = r.error === undefined ? `/health answered HTTP ${r.status}` : r.error
  throw new PipelockError('SANDBOX_LAUNCH_FAILED', `--proxy ${flag}: no pipelock answers there (${why})`, {
    hint: 'start `pipelock run` with forward_proxy enabled at that address first, or leave out --proxy to run an embedded proxy',
  })
}
