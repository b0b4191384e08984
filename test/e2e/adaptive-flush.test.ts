/**
 * `pipelock adaptive flush` on a real `pipelock run` resets scores and escalation levels and the
 * per-IP state, and keeps every airlock quarantine: a session an operator put in `hard` still has
 * its write refused after the flush. The output and the audit event say what the flush did.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {rawHttp, until} from './proxy-harness.js'
import {adminProxy} from './admin-proxy.js'

const TOKEN = 'adaptive-flush-test-token'

describe('pipelock adaptive flush keeps airlock quarantines', {timeout: 60_000}, () => {
  const admin = adminProxy(TOKEN, {airlock: true})
  const cli = admin.cli
  const post = async (agent: string, from: string): Promise<number> =>
    (await rawHttp(admin.proxy.port, {method: 'POST', path: `http://127.0.0.1:${admin.up.port}/clean`, headers: {'X-Pipelock-Agent': agent, 'Content-Type': 'text/plain'}, body: 'a=b', from})).status

  it('a hard quarantine survives the flush, a score does not, and the output and audit event say so', async () => {
    assert.equal(await post('hardy', '127.0.0.3'), 200)
    const r = await fetch(`http://${admin.proxy.addr}/api/v1/sessions/${encodeURIComponent('hardy|127.0.0.3')}/airlock`, {method: 'POST', headers: {Authorization: `Bearer ${TOKEN}`}, body: '{"tier":"hard"}'})
    assert.equal(r.status, 200)
    assert.equal(await post('hardy', '127.0.0.3'), 403)
    // A session with a score: a blocked request (an AWS key id in the URL) scores it.
    assert.equal((await rawHttp(admin.proxy.port, {path: `http://127.0.0.1:${admin.up.port}/x?k=AKIAQYLPMN5HHHFPZAM2`, headers: {'X-Pipelock-Agent': 'noisy'}, from: '127.0.0.4'})).status, 403)

    assert.deepEqual(cli('adaptive', 'flush'), {
      status: 0,
      stderr: '',
      stdout: 'flushed adaptive state: identity_sessions=2 skipped_invocations=0 ip_domain_state_cleared=true\n  levels_reset=1 airlock_tiers_kept=1 (a flush does not release quarantines: pipelock session release does)\n',
    })
    assert.equal(await post('hardy', '127.0.0.3'), 403)
    const list = cli('session', 'list', '--tier', 'hard', '--json')
    assert.deepEqual((JSON.parse(list.stdout) as {sessions: Array<{key: string}>}).sessions.map((s) => s.key), ['hardy|127.0.0.3'])
    const noisy = JSON.parse(cli('session', 'inspect', 'noisy|127.0.0.4', '--json').stdout) as {threat_score: number; escalation_level: string}
    assert.equal(noisy.threat_score, 0)
    assert.equal(noisy.escalation_level, 'normal')
    assert.ok(
      await until(async () => admin.proxy.stdout().split('\n').some((l) => l.includes('"action":"adaptive_flush"') && l.includes('"result":"identity_sessions=2 levels_reset=1 airlock_tiers_kept=1"'))),
      admin.proxy.stdout(),
    )
  })
})
