/**
 * A `pipelock run` started without an admin API token (here the shipped balanced preset, which
 * turns sessions and the airlock on): the admin commands say the admin API is not enabled on that
 * proxy and how to enable it, instead of reporting a missing session; the proxy itself says at
 * start-up, in one line after the banner, that its admin API is off.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {baseConfig, startProxy, type RunningProxy} from './proxy-harness.js'

const noToken = {PIPELOCK_KILLSWITCH_API_TOKEN: '', PIPELOCK_API_URL: '', PIPELOCK_CONFIG: ''}
const API_OFF = 'pipelock: admin API off (no kill_switch.api_token at start-up): pipelock session, adaptive and exception commands cannot reach this proxy; set kill_switch.api_token or PIPELOCK_KILLSWITCH_API_TOKEN and restart'
const HINT = 'hint: pipelock run mounts it only when kill_switch.api_token (or PIPELOCK_KILLSWITCH_API_TOKEN) is set at start-up: set it and restart the proxy; if it is set, check that --api-url names its API listener (kill_switch.api_listen)'

describe('pipelock run --preset balanced without an admin token', {timeout: 60_000}, () => {
  let proxy: RunningProxy
  before(async () => {
    proxy = await startProxy(null, {args: ['--preset', 'balanced'], env: noToken})
  })
  after(async () => {
    await proxy?.stop()
  })

  const cli = (args: string[]): ReturnType<typeof runCli> =>
    runCli([...args, '--api-url', proxy.addr], {env: {...process.env, ...noToken, PIPELOCK_KILLSWITCH_API_TOKEN: 'any-token'}})

  it('session list: ADMIN_API_NOT_ENABLED, exit 1, and how to enable it', () => {
    assert.deepEqual(cli(['session', 'list']), {
      status: 1,
      stdout: '',
      stderr: `the admin API is not enabled on the proxy at http://${proxy.addr} (GET /api/v1/sessions answered HTTP 404: 404 page not found) [ADMIN_API_NOT_ENABLED]; ${HINT}\n`,
    })
  })

  it('exception list: the same code, no word of a session', () => {
    assert.deepEqual(cli(['exception', 'list']), {
      status: 1,
      stdout: '',
      stderr: `the admin API is not enabled on the proxy at http://${proxy.addr} (GET /api/v1/exceptions answered HTTP 404: 404 page not found) [ADMIN_API_NOT_ENABLED]; ${HINT}\n`,
    })
  })

  it('says at start-up, right after the banner, that the admin API is off and how to turn it on', () => {
    const lines = proxy.stderr().split('\n')
    const agents = lines.findIndex((l) => l.startsWith('  Agents: '))
    assert.equal(lines[agents + 1], API_OFF, proxy.stderr())
    assert.equal(lines.filter((l) => l === API_OFF).length, 1)
  })
})

describe('pipelock run with an admin token, or without sessions', {timeout: 60_000}, () => {
  it('does not say the admin API is off', async () => {
    for (const [yaml, env] of [
      ['session_profiling:\n  enabled: true\n', {...noToken, PIPELOCK_KILLSWITCH_API_TOKEN: 'a-token-of-at-least-sixteen-chars'}],
      ['', noToken],
    ] as const) {
      const p = await startProxy(baseConfig(yaml), {env})
      try {
        assert.ok(!p.stderr().includes('admin API off'), p.stderr())
      } finally {
        await p.stop()
      }
    }
  })
})
