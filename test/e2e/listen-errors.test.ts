/**
 * Issue 34: a listener that cannot bind names its address and which listener it is — the proxy
 * (--listen), the admin API (kill_switch.api_listen) and metrics (metrics_listen) — with the
 * LISTEN_FAILED code, exit 1; `cannot listen: EADDRINUSE` alone named neither.
 */
import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:net'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {writeFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {tempDir} from './proxy-harness.js'

describe('a listener that cannot bind says which and where', () => {
  let taken: Server
  let addr = ''
  before(async () => {
    taken = createServer()
    await new Promise<void>((res) => taken.listen(0, '127.0.0.1', res))
    addr = `127.0.0.1:${(taken.address() as AddressInfo).port}`
  })
  after(() => {
    taken.close()
  })

  it('the proxy listener (--listen)', () => {
    const r = runCli(['run', '--listen', addr])
    assert.equal(r.status, 1, r.stderr)
    assert.equal(r.stderr.split('\n').at(-2), `cannot listen on ${addr} for the proxy (--listen / fetch_proxy.listen): EADDRINUSE (address already in use) [LISTEN_FAILED]; hint: choose a free address, or stop what holds it`)
  })

  it('an address that is no IP and resolves to nothing says so, not to free it', () => {
    const r = runCli(['run', '--listen', '999.1.1.1:0'])
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr.split('\n').at(-2)!, /^cannot listen on 999\.1\.1\.1:0 for the proxy \(--listen \/ fetch_proxy\.listen\): (ENOTFOUND \(not an IP address, and no host of that name\)|EAI_AGAIN \(the host name could not be resolved now\)) \[LISTEN_FAILED\]; hint: use host:port with an IP address of this host or a name that resolves to one, e\.g\. 127\.0\.0\.1:8888$/)
  })

  for (const [name, yaml, role] of [
    ['admin API', (a: string) => `kill_switch:\n  api_listen: ${a}\n  api_token: t0ken-for-the-test\n`, 'admin API (kill_switch.api_listen)'],
    ['metrics', (a: string) => `metrics_listen: ${a}\n`, 'metrics (metrics_listen)'],
  ] as const) {
    it(`the ${name} listener`, () => {
      const cfg = path.join(tempDir('pl-listen-'), 'pipelock.yaml')
      writeFileSync(cfg, yaml(addr))
      const r = runCli(['run', '--config', cfg, '--listen', '127.0.0.1:0'])
      assert.equal(r.status, 1, r.stderr)
      assert.equal(r.stderr.split('\n').at(-2), `cannot listen on ${addr} for the ${role}: EADDRINUSE (address already in use) [LISTEN_FAILED]; hint: choose a free address, or stop what holds it`)
    })
  }
})
