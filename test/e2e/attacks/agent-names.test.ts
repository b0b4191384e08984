/**
 * Attack class (issue 10 item 7): agent names as an echo channel and a cardinality bomb. A key
 * sent as `X-Pipelock-Agent` must not come back in the /fetch JSON, the audit log, /stats or
 * /metrics; thousands of random names must not grow /metrics.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {rawHttp} from '../proxy-harness.js'
import {attackRig, AWS_KEY, curl, hasCurl} from './attack-harness.js'

describe('attacks: agent names', {timeout: 60_000}, () => {
  const rig = attackRig()

  it('a key as the agent name is never echoed (response, audit log, /stats, /metrics, upstream)', {skip: !hasCurl && 'curl not installed'}, async () => {
    const target = encodeURIComponent(`http://127.0.0.1:${rig.up.port}/`)
    const viaHeader = await curl(['-H', `X-Pipelock-Agent: ${AWS_KEY}`, `http://${rig.proxy.addr}/fetch?url=${target}`])
    const viaQuery = await curl([`http://${rig.proxy.addr}/fetch?url=${target}&agent=${AWS_KEY}`])
    const forward = await curl(['-x', `http://${rig.proxy.addr}`, '-H', `X-Pipelock-Agent: ${AWS_KEY}`, `http://127.0.0.1:${rig.up.port}/`])
    const stats = await rawHttp(rig.proxy.port, {path: '/stats'})
    const metrics = await rawHttp(rig.proxy.port, {path: '/metrics'})
    for (const [where, text] of [['fetch header', viaHeader.stdout], ['fetch query', viaQuery.stdout], ['forward', forward.stdout], ['stats', stats.body], ['metrics', metrics.body], ['audit', rig.proxy.stdout()], ['stderr', rig.proxy.stderr()], ['upstream', rig.up.received()]]) {
      assert.ok(!text!.includes(AWS_KEY), `the key is echoed in ${where}`)
    }
    assert.match(metrics.body, /pipelock_agent_names_rejected_total\{reason="dlp"\} 3/)
    assert.match(rig.proxy.stdout(), /"event":"agent_name_rejected"/)
  })

  it('random agent names do not grow /metrics: the label is the profile (_default without profiles)', async () => {
    for (let i = 0; i < 200; i++) {
      await rawHttp(rig.proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${rig.up.port}/`)}`, headers: {'x-pipelock-agent': `rnd-${i}-${(i * 7919).toString(36)}`}})
    }
    await rawHttp(rig.proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${rig.up.port}/`)}`})
    const m = await rawHttp(rig.proxy.port, {path: '/metrics'})
    const labels = new Set([...m.body.matchAll(/agent="([^"]*)"/g)].map((x) => x[1]))
    assert.ok(!labels.has('rnd-1-6ah'))
    // operations.md §2.4/§11.2: the label is the profile, never the self-declared name.
    assert.deepEqual([...labels].sort(), ['_default'])
  })
})
