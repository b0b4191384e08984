/**
 * Attack class (issue 10 item 11): a burst of concurrent CONNECTs overshooting the 1024-tunnel
 * cap, because a tunnel used to be counted only after its dial. 1,100 at once: at most 1,024
 * are established, the rest get `503 too many active tunnels` with `Retry-After: 5`.
 *
 * The upstream is a bare TCP server that holds every connection open: a tunnel that ended during
 * the burst would free its place, and on a loaded machine a burst can outlast an HTTP server's
 * 60 s wait for request headers (the logging upstream's node:http server closed the first tunnels'
 * upstream sides, and all 1,100 were then established one after another).
 */
import assert from 'node:assert/strict'
import net, {type AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {attackRig} from './attack-harness.js'

const MAX_TUNNELS = 1024

function connectOnce(port: number, target: string, sockets: net.Socket[]): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({host: '127.0.0.1', port})
    sockets.push(s)
    let got = ''
    s.on('error', () => resolve(got || 'error'))
    s.on('close', () => resolve(got || 'closed'))
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1')
      if (got.includes('\r\n\r\n')) resolve(got.slice(0, got.indexOf('\r\n\r\n')))
    })
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)
  })
}

describe('attacks: tunnel cap under a concurrent burst', {timeout: 120_000}, () => {
  const rig = attackRig()
  const sockets: net.Socket[] = []
  let upstreamConnections = 0
  const holding = net.createServer((s) => {
    upstreamConnections++
    sockets.push(s)
    s.on('error', () => {})
  })
  before(() => new Promise<void>((resolve) => holding.listen(0, '127.0.0.1', resolve)))
  after(() => {
    for (const s of sockets) s.destroy()
    holding.close()
  })

  it(`1100 concurrent CONNECTs establish at most ${MAX_TUNNELS} tunnels`, async () => {
    const lines = await Promise.all(Array.from({length: 1100}, () => connectOnce(rig.proxy.port, `127.0.0.1:${(holding.address() as AddressInfo).port}`, sockets)))
    const established = lines.filter((l) => l.startsWith('HTTP/1.1 200')).length
    const refused = lines.filter((l) => l.startsWith('HTTP/1.1 503')).length
    assert.ok(established <= MAX_TUNNELS, `${established} tunnels established`)
    assert.equal(established + refused, 1100, lines.filter((l) => !/^HTTP\/1\.1 (200|503)/.test(l)).slice(0, 3).join(' | '))
    assert.ok(upstreamConnections <= MAX_TUNNELS, `${upstreamConnections} upstream connections`)
    // A refusal at the cap says when to try again (block.ts CAPACITY_RETRY_AFTER_SECONDS).
    assert.ok(refused > 0)
    const heads = lines.filter((l) => l.startsWith('HTTP/1.1 503'))
    assert.equal(heads.filter((h) => !h.includes('\r\nRetry-After: 5')).length, 0, heads[0])
  })
})
