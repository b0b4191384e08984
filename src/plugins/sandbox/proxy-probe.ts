/**
 * `--proxy host:port` (a running `pipelock run`): asked for its `/health` (`pipelock healthcheck`'s
 * probe) before the agent starts. Without the check an agent was launched whose only way out led
 * nowhere: every request failed inside the sandbox (curl exit 52), and the operator read why only in
 * the bridge's log lines.
 *
 * Then the admin API: a run without `kill_switch.api_listen` serves it (the kill switch, sessions,
 * policy, approvals) on the very port the bridge leads the agent to, behind the token alone. The
 * operator's controls are never the agent's, so such a run is refused as a target: with
 * `api_listen` that port answers the API's paths 404.
 */
import {PipelockError} from '../errors/index.js'

const PROBE_TIMEOUT_MS = 3000
const ADMIN_PROBE_PATH = '/api/v1/killswitch/status'

/**
 * Resolves when a pipelock answers `/health` with 200 and its health document at host:port and does
 * not serve its admin API there; otherwise SANDBOX_LAUNCH_FAILED saying what happened.
 */
export async function probeRunningProxy(host: string, port: number, flag: string): Promise<void> {
  // Loaded here, as the embedded proxy is: --dry-run and doctor never need the proxy's code.
  const {checkHealth, probeOnce} = await import('../proxy/index.js')
  const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`
  const r = await checkHealth(addr, PROBE_TIMEOUT_MS)
  // pipelock's health document names the kill switch's state: any other server answering 200 is
  // not a proxy that scans (a mistyped port on another forward proxy would pass the agent unscanned).
  if (r.healthy && r.kill_switch_active !== undefined) return await refuseAdminApi(probeOnce, addr, flag)
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

/**
 * The kill switch's status path answers 404 where the admin API is not served, and 503 where it is
 * served with no `api_token` (every call refused); any other answer (401 behind the token, 429
 * throttled, 200) means the agent could reach the operator's controls through the bridge.
 */
async function refuseAdminApi(probe: typeof import('../proxy/index.js').probeOnce, addr: string, flag: string): Promise<void> {
  const a = await probe(addr, ADMIN_PROBE_PATH, PROBE_TIMEOUT_MS)
  if ('error' in a) {
    throw new PipelockError('SANDBOX_LAUNCH_FAILED', `--proxy ${flag}: could not ask that pipelock whether it serves its admin API on this port (${a.error})`, {
      hint: 'try again; the agent starts only once that is known',
    })
  }
  if (a.status === 404 || a.status === 503) return
  throw new PipelockError('SANDBOX_LAUNCH_FAILED', `--proxy ${flag}: that pipelock serves its admin API (kill switch, sessions, policy) on the port the agent would reach (GET ${ADMIN_PROBE_PATH} answered HTTP ${a.status})`, {
    hint: 'give that run kill_switch.api_listen (the admin API on a port of its own, which the sandbox never reaches), or leave out --proxy to run an embedded proxy',
  })
}
