/**
 * The operator runbook's "is auto-recovery about to happen anyway?" on the built `pipelock run`:
 * a session escalated into the hard tier by real blocked traffic, with `hard_minutes: 0` (manual
 * release only). `session explain` says that no timer will lower the tier instead of leaving the
 * line out; `session release` then lets the agent's traffic through again.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'
import {runCli} from '../helpers/cli.js'
import {presetConfig, rawHttp, startHttpUpstream, startProxy, type RunningProxy, type Upstream} from './proxy-harness.js'

const TOKEN = 'airlock-manual-release-token-0123456789'

function config(): string {
  const c = presetConfig('balanced')
  c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
  c.fetch_proxy.monitoring.max_requests_per_minute = 100000
  c.kill_switch.api_token = TOKEN
  // Not under test: every POST after a read from the loopback upstream would be a taint ask.
  c.taint = {...c.taint, enabled: false}
  c.airlock = {enabled: true, triggers: {on_elevated: 'none', on_high: 'soft', on_critical: 'hard'}, timers: {soft_minutes: 5, hard_minutes: 0, drain_minutes: 0, drain_timeout_seconds: 30}}
  return stringify(c)
}

describe('airlock tier without a timer: session explain and release', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  before(async () => {
    up = await startHttpUpstream()
    proxy = await startProxy(config())
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  const get = async (p: string) => await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}${p}`, headers: {'X-Pipelock-Agent': 'ops-agent'}})
  const cli = (args: string[]) => runCli([...args, '--api-url', `127.0.0.1:${proxy.port}`], {env: {...process.env, PIPELOCK_KILLSWITCH_API_TOKEN: TOKEN}})

  it('says no timer lowers the hard tier, and release lets traffic through again', async () => {
    // Eight URL DLP blocks (3 points each): elevated at 5, high (soft) at 10, critical (hard) at 20.
    for (let i = 0; i < 8; i++) assert.equal((await get(`/kib?k=AKIAIOSFODNN7EXAMPLE${i}`)).status, 403)
    assert.equal((await get('/kib')).status, 403, 'critical blocks every request')

    const ex = cli(['session', 'explain', 'ops-agent|127.0.0.1'])
    assert.equal(ex.status, 0, ex.stderr)
    assert.match(ex.stdout, /^Session ops-agent\|127\.0\.0\.1 explanation\n {2}tier: {14}hard\n/)
    assert.match(ex.stdout, /\n {2}trigger: {11}on_critical \(source=airlock_triggers\)\n/)
    assert.match(ex.stdout, /\n {2}next_deescalation: none \(this tier has no timer: only an operator release lowers it\)\n {2}level_recovery: {4}level=high at=\S+ \(in 4m\d+s\)\n$/)
    // The JSON stays the server's answer: no next_deescalation fields for a manual-only tier.
    const json = JSON.parse(cli(['session', 'explain', 'ops-agent|127.0.0.1', '--json']).stdout)
    assert.equal(json.tier, 'hard')
    assert.equal(json.next_deescalation_tier, undefined)

    // Mid-incident the operator inspects until the server's limit (10 a minute) refuses the next
    // read: the release is not locked out by it, nor is recover, which reads the session first.
    for (let i = 0; i < 10; i++) await rawHttp(proxy.port, {path: '/api/v1/sessions/ops-agent%7C127.0.0.1', headers: {Authorization: `Bearer ${TOKEN}`}})
    const limited = cli(['session', 'inspect', 'ops-agent|127.0.0.1'])
    assert.equal(limited.status, 1)
    assert.match(limited.stderr, /^rate limited; retry after 60 seconds \[ADMIN_API_RATE_LIMITED\]/)
    const soft = cli(['session', 'release', 'ops-agent|127.0.0.1', '--to', 'soft'])
    assert.deepEqual([soft.status, soft.stderr, soft.stdout], [0, '', 'released ops-agent|127.0.0.1: hard -> soft (changed=true)\n  escalation: critical -> high\n'])
    const rec = cli(['session', 'recover', 'ops-agent|127.0.0.1', '--choice', 'release-soft'])
    assert.equal(rec.status, 0, rec.stderr)
    assert.equal(rec.stderr, 'inspect not shown: rate limited; retry after 60 seconds; the action below is not affected\n')
    assert.match(rec.stdout, /\nreleased ops-agent\|127\.0\.0\.1: soft -> soft \(changed=false\)\n$/)

    const rel = cli(['session', 'release', 'ops-agent|127.0.0.1'])
    assert.deepEqual([rel.status, rel.stderr, rel.stdout], [0, '', 'released ops-agent|127.0.0.1: soft -> none (changed=true)\n  escalation: high -> elevated\n'])
    assert.equal((await get('/kib')).status, 200)
    // The audit line of the release names the tier move and the level that came down with it (docs/airlock.md).
    const admin = proxy.stdout().split('\n').filter((l) => l.includes('"event":"session_admin"') && l.includes('"action":"airlock"')).map((l) => JSON.parse(l))
    assert.deepEqual(admin.map((e) => [e.key, e.result, e.status]), [
      ['ops-agent|127.0.0.1', 'hard->soft level critical->high', 200],
      ['ops-agent|127.0.0.1', 'soft->soft', 200],
      ['ops-agent|127.0.0.1', 'soft->none level high->elevated', 200],
    ])
    const calm = cli(['session', 'explain', 'ops-agent|127.0.0.1'])
    assert.doesNotMatch(calm.stdout, /next_deescalation/, 'a session in no tier has nothing to step down')
  })
})
