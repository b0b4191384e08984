/**
 * `session explain` gives the escalation level's own recovery point (time recovery: one level
 * down after five quiet minutes), on a real `pipelock run` driven up to critical by blocked
 * requests: with the airlock off no tier timer says anything, and the level's `block_all` is
 * what refuses the session, so the line is the operator's "wait or act?" answer.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {otherHostAddress, rawHttp} from './proxy-harness.js'
import {adminProxy} from './admin-proxy.js'

const TOKEN = 'explain-recovery-test-token'

describe('pipelock session explain: the escalation level\'s next recovery', {timeout: 60_000}, () => {
  const admin = adminProxy(TOKEN, {airlock: false})
  const cli = admin.cli

  it('names the level time recovery lowers it to and when; a session at normal has no such line', async () => {
    const key = 'crit|127.0.0.15'
    for (let i = 0; i < 7; i++) {
      await rawHttp(admin.proxy.port, {path: `http://127.0.0.1:${admin.up.port}/x?k=AKIAQYLPMN5HHHFPZAM2`, headers: {'X-Pipelock-Agent': 'crit'}, from: '127.0.0.15'})
    }
    const x = JSON.parse(cli('session', 'explain', key, '--json').stdout) as Record<string, string | boolean>
    assert.equal(x.escalation_level, 'critical')
    assert.equal(x.block_all, true)
    assert.equal(x.next_level_recovery_level, 'high')
    // Five minutes after the last level change (the latest escalation event).
    const detail = JSON.parse(cli('session', 'inspect', key, '--json').stdout) as {recent_events: Array<{kind: string; at: string}>}
    const lastChange = Date.parse(detail.recent_events.filter((e) => e.kind === 'escalation').at(-1)!.at)
    assert.equal(Date.parse(String(x.next_level_recovery_at)) - lastChange, 5 * 60_000)
    const text = cli('session', 'explain', key)
    assert.equal(text.status, 0)
    assert.match(text.stdout, /\n  level_recovery: +level=high at=\S+ \(in 4m\d+s\)\n$/)

    // A session at normal: another client host's (every loopback address is the critical one's host).
    const other = otherHostAddress()
    assert.equal((await rawHttp(admin.proxy.port, {path: `http://127.0.0.1:${admin.up.port}/kib`, headers: {'X-Pipelock-Agent': 'calm'}, from: other})).status, 200)
    const calm = cli('session', 'explain', `calm|${other}`)
    assert.doesNotMatch(calm.stdout, /level_recovery/)
    assert.equal((JSON.parse(cli('session', 'explain', `calm|${other}`, '--json').stdout) as Record<string, unknown>).next_level_recovery_at, undefined)
  })
})
