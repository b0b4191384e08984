import {describe, it, after} from 'node:test'
import assert from 'node:assert/strict'
import {request} from 'undici'
import {cli, makeLab, promoteArgs, writeCandidate} from './learn-promote-harness.js'
import {learnLockLines} from '../helpers/lock-roster.js'
import {startHttpUpstream, startProxy, type RunningProxy, type Upstream} from './proxy-harness.js'

// Contract selection follows the agent's identity (learn-lifecycle §7.5). With
// bind_default_agent_identity the proxy ignores the name an agent declares, so a header naming
// another agent cannot pick (or escape) a contract; without it, /health and the banner say the
// identity is self-declared.

const lab = makeLab()
// Ratified-style rules (enforce): a compiled contract's capture_only rules claim no jurisdiction.
const cand = writeCandidate(lab, 'cand', 1, 'ci-compile', 'enforce')
const promoted = cli(promoteArgs(lab, cand.file, ['--environment-id', 'prod']))

function config(bind: boolean, extra: string[] = [], lock: string[] = []): string {
  return [
    'forward_proxy: {enabled: true}',
    'ssrf: {ip_allowlist: ["127.0.0.0/8"]}',
    ...(bind ? ['bind_default_agent_identity: true', 'default_agent_identity: shop-agent'] : []),
    ...extra,
    ...learnLockLines(lab.store, lab.roster, lab.fp),
    ...lock,
  ].join('\n') + '\n'
}

async function viaFetch(p: RunningProxy, target: string, agent: string): Promise<{status: number; reason: string | undefined}> {
  const r = await request(`http://127.0.0.1:${p.port}/fetch?url=${encodeURIComponent(target)}`, {headers: {'x-pipelock-agent': agent}})
  await r.body.text()
  const reason = r.headers['x-pipelock-block-reason']
  return {status: r.statusCode, reason: Array.isArray(reason) ? reason[0] : reason}
}

describe('learn_lock and agent identity', () => {
  let up: Upstream
  const running: RunningProxy[] = []
  after(async () => {
    for (const p of running) await p.stop()
    await up?.close()
  })

  it('self-declared: the declared name selects the contract, and the proxy says so', async () => {
    assert.equal(promoted.code, 0, promoted.stderr)
    up = await startHttpUpstream()
    const p = await startProxy(config(false))
    running.push(p)
    assert.match(p.stderr(), /WARNING: learn_lock live: the contract is chosen by the agent name each agent declares itself/)
    const h = (await (await request(`http://127.0.0.1:${p.port}/health`)).body.json()) as {learn_lock: {agent_identity: string; generation: number}}
    assert.deepEqual([h.learn_lock.agent_identity, h.learn_lock.generation], ['self_declared', 1])
    const target = `http://127.0.0.1:${up.port}/page`
    // shop-agent has a contract: the loopback upstream is not among its hosts.
    assert.deepEqual(await viaFetch(p, target, 'shop-agent'), {status: 403, reason: 'contract_default_deny'})
    // Any other declared name has no contract: denied while a live contract is in force (issue 37,
    // beyond the reference, which let it through scanner-only) — unless listed as unlocked.
    assert.deepEqual(await viaFetch(p, target, 'someone-else'), {status: 403, reason: 'contract_default_deny'})
    const unlocked = await startProxy(config(false, [], ['  unlocked_agents: ["someone-*"]']))
    running.push(unlocked)
    assert.equal((await viaFetch(unlocked, target, 'someone-else')).status, 200)
    assert.deepEqual(await viaFetch(unlocked, target, 'shop-agent'), {status: 403, reason: 'contract_default_deny'})
    assert.deepEqual(await viaFetch(unlocked, target, 'other'), {status: 403, reason: 'contract_default_deny'})
  })

  it('bound: a declared name changes nothing; the bound identity selects the contract', async () => {
    const p = await startProxy(config(true))
    running.push(p)
    assert.doesNotMatch(p.stderr(), /declares itself/)
    const h = (await (await request(`http://127.0.0.1:${p.port}/health`)).body.json()) as {learn_lock: {agent_identity: string}}
    assert.equal(h.learn_lock.agent_identity, 'bound')
    assert.deepEqual(await viaFetch(p, `http://127.0.0.1:${up.port}/page`, 'someone-else'), {status: 403, reason: 'contract_default_deny'})
  })

  it('ignore_self_declared_agents: a declared name never selects a contract; a listener-bound agent does', async () => {
    const {freePort} = await import('./proxy-harness.js')
    const port = await freePort()
    const p = await startProxy(config(false, ['agents:', '  shop-agent:', `    listeners: ["127.0.0.1:${port}"]`], ['  ignore_self_declared_agents: true', '  unlocked_agents: [anonymous]']))
    running.push(p)
    assert.doesNotMatch(p.stderr(), /declares itself/)
    const target = `http://127.0.0.1:${up.port}/page`
    // A declared name is ignored for the contract (no default identity: anonymous, listed as unlocked).
    assert.equal((await viaFetch(p, target, 'someone-else')).status, 200)
    // The header names the listener-bound agent from the main port: refused (exclusive binding, issue 37).
    assert.deepEqual(await viaFetch(p, target, 'shop-agent'), {status: 403, reason: 'identity_not_bound'})
    // The same agent on its own listener is bound: its contract applies whatever the header says.
    const r = await request(`http://127.0.0.1:${port}/fetch?url=${encodeURIComponent(target)}`, {headers: {'x-pipelock-agent': 'someone-else'}})
    await r.body.text()
    assert.deepEqual([r.statusCode, r.headers['x-pipelock-block-reason']], [403, 'contract_default_deny'])
  })
})
