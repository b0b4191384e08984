/**
 * An unbound identity is held by what its client address earned in other sessions (the gate's
 * `addressDeny`). On a real `pipelock run`, `session explain`, `session inspect` and `session
 * release` of the held session agree with the gate: they name the session that holds the address,
 * and a release of the held session that changes nothing is refused (exit 2) with what to release
 * instead. Releasing the holder frees it, and explain then says so.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {rawHttp} from './proxy-harness.js'
import {adminProxy} from './admin-proxy.js'

const TOKEN = 'address-hold-test-token'
const IP = '127.0.0.14'

describe('pipelock session explain / inspect / release of a session its client address holds', {timeout: 60_000}, () => {
  const admin = adminProxy(TOKEN, {airlock: true})
  const cli = admin.cli
  const get = async (agent: string): Promise<number> => (await rawHttp(admin.proxy.port, {path: `http://127.0.0.1:${admin.up.port}/kib`, headers: {'X-Pipelock-Agent': agent}, from: IP})).status
  const airlock = async (key: string, tier: string): Promise<void> => {
    const r = await fetch(`http://${admin.proxy.addr}/api/v1/sessions/${encodeURIComponent(key)}/airlock`, {method: 'POST', headers: {Authorization: `Bearer ${TOKEN}`}, body: JSON.stringify({tier})})
    assert.equal(r.status, 200)
  }

  it('names the holder, refuses a release that frees nothing, and agrees with the gate once the holder is released', async () => {
    assert.equal(await get('x1'), 200)
    assert.equal(await get('x2'), 200)
    await airlock(`x1|${IP}`, 'drain')
    // The gate refuses x2 on x1's account.
    assert.equal(await get('x2'), 403)

    const explain = cli('session', 'explain', `x2|${IP}`)
    assert.deepEqual(explain, {
      status: 0,
      stderr: '',
      stdout: [
        `Session x2|${IP} explanation`,
        `  tier:         none`,
        `  reason:       client address ${IP} held by session x1|${IP} at airlock tier drain (the identity is not bound)`,
        `  held_by:      x1|${IP} (airlock tier drain): release or terminate that session to free this one`,
        `  escalation:   normal (0)`,
        `  threat_score: 0.00`,
        `  evidence:     (none recorded)`,
        '',
      ].join('\n'),
    })
    const json = JSON.parse(cli('session', 'explain', `x2|${IP}`, '--json').stdout) as Record<string, unknown>
    assert.deepEqual(json.held_by, {kind: 'airlock', session: `x1|${IP}`, client_ip: IP, airlock_tier: 'drain', escalation_level: 'normal', block_all: false})

    const inspect = cli('session', 'inspect', `x2|${IP}`)
    assert.equal(inspect.status, 0)
    assert.match(inspect.stdout, new RegExp(`\\n  held_by: +x1\\|${IP.replaceAll('.', '\\.')} \\(airlock tier drain\\): the identity is not bound, so its client address's hold refuses it too\\n`))

    assert.deepEqual(cli('session', 'release', `x2|${IP}`), {
      status: 2,
      stdout: '',
      stderr:
        `session x2|${IP} is not quarantined itself: its client address ${IP} is held by session x1|${IP} at airlock tier drain; nothing was changed [SESSION_HELD_BY_ADDRESS]; ` +
        `hint: the identity is not bound, so release that session instead: pipelock session release 'x1|${IP}'\n`,
    })
    assert.equal(await get('x2'), 403)

    // Releasing the holder frees x2: explain and the gate agree again.
    assert.equal(cli('session', 'release', `x1|${IP}`).status, 0)
    assert.equal(await get('x2'), 200)
    const free = cli('session', 'explain', `x2|${IP}`, '--json')
    const freed = JSON.parse(free.stdout) as Record<string, unknown>
    assert.equal(freed.reason, 'session not quarantined')
    assert.equal(freed.held_by, undefined)
  })

  it('a hard hold lets a read through but still holds: a release of the held session that lowers its own level says it is still held', async () => {
    assert.equal(await get('y1'), 200)
    assert.equal(await get('y2'), 200)
    await airlock(`y1|${IP}`, 'hard')
    await airlock(`y2|${IP}`, 'soft')
    const r = cli('session', 'release', `y2|${IP}`)
    assert.deepEqual(r, {
      status: 0,
      stderr: '',
      stdout: `released y2|${IP}: soft -> none (changed=true)\n  still blocked: client address held by session y1|${IP} (airlock tier hard); release that session too\n`,
    })
    await airlock(`y1|${IP}`, 'none')
  })

  it('adaptive whoami classifies the caller as the gate treats it: block under its own hard tier or its address\'s hold', async () => {
    const whoami = async (agent?: string): Promise<Record<string, unknown>> => {
      const r = await rawHttp(admin.proxy.port, {path: '/api/v1/adaptive/whoami', headers: {Authorization: `Bearer ${TOKEN}`, ...(agent !== undefined ? {'X-Pipelock-Agent': agent} : {})}, from: IP})
      assert.equal(r.status, 200)
      return JSON.parse(r.body) as Record<string, unknown>
    }
    assert.equal(await get('z1'), 200)
    assert.equal((await whoami('z1')).classification, 'allow')
    await airlock(`z1|${IP}`, 'soft')
    assert.equal((await whoami('z1')).classification, 'observe')
    await airlock(`z1|${IP}`, 'hard')
    const own = await whoami('z1')
    assert.equal(own.classification, 'block')
    assert.equal(own.airlock_tier, 'hard')
    // Another name, and no name at all, from the same address: held by z1, refused by the gate.
    const other = await whoami('z9')
    assert.equal(other.classification, 'block')
    assert.deepEqual(other.held_by, {kind: 'airlock', session: `z1|${IP}`, client_ip: IP, airlock_tier: 'hard', escalation_level: 'normal', block_all: false})
    assert.equal((await whoami()).classification, 'block')
    assert.equal((await rawHttp(admin.proxy.port, {method: 'POST', path: `http://127.0.0.1:${admin.up.port}/kib`, body: 'a=b', headers: {'Content-Type': 'text/plain'}, from: IP})).status, 403)
    await airlock(`z1|${IP}`, 'none')
    const freed = await whoami('z9')
    assert.equal(freed.classification, 'allow')
    assert.equal(freed.held_by, undefined)
  })
})

describe('pipelock adaptive whoami for a caller bound by a source CIDR', {timeout: 60_000}, () => {
  // Every request from 127.0.0.1 is agent `ci`, whatever name it declares (operations.md §2.2 row 2).
  const admin = adminProxy(TOKEN, {airlock: true, agents: {ci: {source_cidrs: ['127.0.0.1/32']}}})

  it('classifies the caller as the gate treats it: its own bound session, not its client address', async () => {
    assert.equal((await rawHttp(admin.proxy.port, {path: `http://127.0.0.1:${admin.up.port}/kib`, headers: {'X-Pipelock-Agent': 'someone'}})).status, 200)
    const who = admin.cli('adaptive', 'whoami', '--json')
    assert.equal(who.status, 0, who.stderr)
    const ttl = (JSON.parse(who.stdout) as {lockdown_ttl_seconds: number}).lockdown_ttl_seconds
    assert.deepEqual(admin.cli('adaptive', 'whoami'), {status: 0, stderr: '', stdout: `client_ip=127.0.0.1 session=ci|127.0.0.1 classification=allow tier=none level=normal score=0.00 ttl_seconds=${ttl}\n`})
    const r = await fetch(`http://${admin.proxy.addr}/api/v1/sessions/${encodeURIComponent('ci|127.0.0.1')}/airlock`, {method: 'POST', headers: {Authorization: `Bearer ${TOKEN}`}, body: JSON.stringify({tier: 'hard'})})
    assert.equal(r.status, 200)
    // Its own session is hard: block, and no hold of its address is named (a bound identity is not held by it).
    assert.deepEqual(admin.cli('adaptive', 'whoami'), {status: 0, stderr: '', stdout: `client_ip=127.0.0.1 session=ci|127.0.0.1 classification=block tier=hard level=normal score=0.00 ttl_seconds=${ttl}\n`})
    const json = JSON.parse(admin.cli('adaptive', 'whoami', '--json').stdout) as Record<string, unknown>
    assert.deepEqual([json.agent, json.session_key, json.exists, json.held_by], ['ci', 'ci|127.0.0.1', true, undefined])
    // The gate agrees: a write of the caller is refused at its own session's tier.
    assert.equal((await rawHttp(admin.proxy.port, {method: 'POST', path: `http://127.0.0.1:${admin.up.port}/kib`, body: 'a=b', headers: {'Content-Type': 'text/plain'}})).status, 403)
  })
})
