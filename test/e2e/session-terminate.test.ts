/**
 * `pipelock session terminate` on a real `pipelock run`: the warning that in-flight connections
 * were cut appears only when the terminate cut some (the API's `connections_cut`), with the count.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'
import {runCli} from '../helpers/cli.js'
import {presetConfig, rawHttp, startHttpUpstream, startProxy, tcpUpstream, type RunningProxy, type Upstream} from './proxy-harness.js'

const TOKEN = 'session-terminate-test-token'

function balanced(): string {
  const c = presetConfig('balanced')
  c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
  c.kill_switch.api_token = TOKEN
  return stringify(c)
}

/** A CONNECT tunnel declared by `agent`; resolves once the 200 is in. */
async function tunnel(proxyPort: number, upstreamPort: number, agent: string): Promise<{closed: Promise<void>}> {
  const socket = net.connect({host: '127.0.0.1', port: proxyPort})
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    let head = ''
    socket.on('data', (c: Buffer) => {
      head += c.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      if (head.startsWith('HTTP/1.1 200 ')) resolve()
      else reject(new Error(`CONNECT refused: ${head}`))
    })
    socket.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nHost: 127.0.0.1:${upstreamPort}\r\nX-Pipelock-Agent: ${agent}\r\n\r\n`)
  })
  return {closed}
}

describe('pipelock session terminate on a running proxy', {timeout: 60_000}, () => {
  let up: Upstream
  let tcp: Awaited<ReturnType<typeof tcpUpstream>>
  let proxy: RunningProxy
  before(async () => {
    up = await startHttpUpstream()
    tcp = await tcpUpstream(() => undefined)
    proxy = await startProxy(balanced())
  })
  after(async () => {
    await proxy?.stop()
    await tcp?.close()
    await up?.close()
  })
  const terminate = (key: string, json = false): ReturnType<typeof runCli> =>
    runCli(['session', 'terminate', key, ...(json ? ['--json'] : []), '--api-url', proxy.addr, '--api-token', TOKEN], {env: {...process.env, PIPELOCK_API_URL: '', PIPELOCK_CONFIG: ''}})

  it('no warning when the session had no live connection', async () => {
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: {'X-Pipelock-Agent': 'calm'}})).status, 200)
    assert.deepEqual(terminate('calm|127.0.0.1'), {
      status: 0,
      stderr: '',
      stdout: 'terminated calm|127.0.0.1: previous_tier=none level=normal score=0.00 cee_cleared=false\n',
    })
  })

  it('warns with the count when it cut an open tunnel, and the tunnel closes', async () => {
    const t = await tunnel(proxy.port, tcp.port, 'busy')
    const r = terminate('busy|127.0.0.1')
    assert.deepEqual(r, {
      status: 0,
      stderr: 'WARNING: terminated session busy|127.0.0.1 — 1 in-flight connection was cut.\n',
      stdout: 'terminated busy|127.0.0.1: previous_tier=none level=normal score=0.00 cee_cleared=false\n',
    })
    await t.closed
  })

  it('--json carries connections_cut', async () => {
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: {'X-Pipelock-Agent': 'quiet'}})).status, 200)
    const r = terminate('quiet|127.0.0.1', true)
    assert.equal(r.status, 0)
    assert.equal(r.stderr, '')
    assert.equal(JSON.parse(r.stdout).connections_cut, 0)
  })
})
