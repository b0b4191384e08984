/**
 * Attack class (issue 10 item 2): plain HTTP inside a CONNECT tunnel (`curl -p`, undici's
 * ProxyAgent for an http:// URL) used to reach the upstream unscanned. A tunnel whose first bytes
 * are not a TLS ClientHello is refused inside the tunnel (403, reason `scheme_blocked`, layer
 * `tunnel_plaintext`), audited and counted; `forward_proxy.raw_tunnel_hosts` opts hosts in.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {ProxyAgent, request} from 'undici'
import {rawExchange, rawHttp} from '../proxy-harness.js'
import {attackConfig, attackRig, AWS_KEY, curl, hasCurl} from './attack-harness.js'

describe('attacks: plain text inside CONNECT tunnels', {timeout: 60_000}, () => {
  const rig = attackRig()

  it('curl -p with an http:// URL carrying a key: refused, nothing reaches the upstream', {skip: !hasCurl && 'curl not installed'}, async () => {
    rig.up.reset()
    const r = await curl(['-p', '-x', `http://${rig.proxy.addr}`, '-D', '-', `http://127.0.0.1:${rig.up.port}/?k=${AWS_KEY}`])
    assert.match(r.stdout, /HTTP\/1\.1 200 Connection Established/)
    assert.match(r.stdout, /HTTP\/1\.1 403 Forbidden/)
    assert.match(r.stdout, /X-Pipelock-Block-Reason: scheme_blocked/)
    assert.match(r.stdout, /X-Pipelock-Block-Reason-Layer: tunnel_plaintext/)
    assert.equal(rig.up.received(), '', 'no byte reached the upstream')
    assert.equal(rig.up.requests.length, 0)
  })

  it('undici ProxyAgent (the documented client set-up) for http://: refused, nothing reaches the upstream', async () => {
    rig.up.reset()
    const agent = new ProxyAgent(`http://${rig.proxy.addr}`)
    try {
      const r = await request(`http://127.0.0.1:${rig.up.port}/?k=${AWS_KEY}`, {dispatcher: agent, headers: {authorization: `Bearer ${AWS_KEY}`}})
      await r.body.text()
      assert.equal(r.statusCode, 403)
      assert.equal(r.headers['x-pipelock-block-reason-layer'], 'tunnel_plaintext')
    } finally {
      await agent.close()
    }
    assert.equal(rig.up.received(), '')
  })

  it('raw non-HTTP bytes in a tunnel are refused too; audit event and metric', async () => {
    rig.up.reset()
    const got = await rawExchange(rig.proxy.port, `CONNECT 127.0.0.1:${rig.up.port} HTTP/1.1\r\nHost: 127.0.0.1:${rig.up.port}\r\n\r\nSSH-2.0-exfil ${AWS_KEY}\r\n`)
    assert.match(got, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 403 Forbidden/)
    assert.equal(rig.up.received(), '')
    assert.match(rig.proxy.stdout(), /"event":"tunnel_plaintext"/)
    const m = await rawHttp(rig.proxy.port, {path: '/metrics'})
    assert.match(m.body, /pipelock_sni_total\{agent="_default",category="not_tls"\} [1-9]/)
    assert.match(m.body, /pipelock_scanner_hits_total\{agent="_default",scanner="tunnel_plaintext"\} [1-9]/)
  })
})

describe('attacks: forward_proxy.raw_tunnel_hosts opts a host into raw tunnels', {timeout: 60_000}, () => {
  const rig = attackRig(attackConfig().replace('  enabled: true\n', '  enabled: true\n  raw_tunnel_hosts: ["127.0.0.1"]\n'))

  it('plain HTTP to a listed host is relayed as before', async () => {
    const got = await rawExchange(rig.proxy.port, `CONNECT 127.0.0.1:${rig.up.port} HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
    assert.match(got, /HTTP\/1\.1 200 OK/)
    assert.match(rig.up.received(), /GET \/plain/)
  })
})
