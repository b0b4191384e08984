/**
 * A `pipelock run` for the session commands' end-to-end tests: the `balanced` preset, the admin
 * API on with `token`, the loopback upstream trusted by IP, the airlock on or off, `agents`
 * profiles when given; started before
 * the suite's tests and stopped after them. `cli` runs a command against its admin API with no
 * setting from the environment the tests run in.
 */
import {after, before} from 'node:test'
import {stringify} from 'yaml'
import {runCli} from '../helpers/cli.js'
import {presetConfig, startHttpUpstream, startProxy, type RunningProxy, type Upstream} from './proxy-harness.js'

export interface AdminProxy {
  readonly proxy: RunningProxy
  readonly up: Upstream
  cli(...args: string[]): ReturnType<typeof runCli>
}

/** Call inside a `describe`: its `before` starts the proxy and upstream, its `after` stops them. */
export function adminProxy(token: string, o: {airlock: boolean; agents?: Record<string, unknown>}): AdminProxy {
  let proxy: RunningProxy | undefined
  let up: Upstream | undefined
  before(async () => {
    up = await startHttpUpstream()
    const c = presetConfig('balanced')
    c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
    c.kill_switch.api_token = token
    if (o.airlock) c.airlock = {enabled: true}
    if (o.agents !== undefined) c.agents = o.agents
    proxy = await startProxy(stringify(c))
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })
  return {
    get proxy() {
      return proxy!
    },
    get up() {
      return up!
    },
    cli: (...args) => runCli([...args, '--api-url', proxy!.addr, '--api-token', token], {env: {...process.env, PIPELOCK_API_URL: '', PIPELOCK_CONFIG: '', PIPELOCK_KILLSWITCH_API_TOKEN: ''}}),
  }
}
