/**
 * A refused CONNECT tells the client why in the one place most HTTP clients show an agent: the
 * status line. Python's http.client (under `requests`), httpx and Go report a failed tunnel as
 * "Tunnel connection failed: <status> <reason phrase>" and never show the body or the
 * X-Pipelock-Block-Reason headers, so the reason phrase names the block code (closed vocabulary,
 * never request text). Built CLI; Python's standard library as the client.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {baseConfig, rawExchange, startProxy, tempDir, type RunningProxy} from './proxy-harness.js'

const hasPython = spawnSync('python3', ['-c', 'import http.client'], {stdio: 'ignore'}).status === 0

/** What Python's http.client raises for a CONNECT through the proxy (empty when the tunnel opened). */
function pythonTunnel(proxyPort: number, host: string, port: number): string {
  const code = [
    'import http.client, sys',
    `c = http.client.HTTPConnection("127.0.0.1", ${proxyPort}, timeout=10)`,
    `c.set_tunnel(${JSON.stringify(host)}, ${port})`,
    'try:',
    '    c.connect()',
    'except OSError as e:',
    '    print(e)',
  ].join('\n')
  const r = spawnSync('python3', ['-c', code], {encoding: 'utf8', timeout: 20_000})
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim()
}

describe('a refused CONNECT names its block code in the status line', {timeout: 60_000, skip: hasPython ? false : 'python3 not installed'}, () => {
  let proxy: RunningProxy
  let sentinel: string
  before(async () => {
    const dir = tempDir()
    sentinel = path.join(dir, 'kill')
    proxy = await startProxy(baseConfig(`kill_switch:\n  sentinel_file: ${JSON.stringify(sentinel)}`), {dir})
  })
  after(async () => {
    await proxy?.stop()
  })

  it('a blocklisted host: Python says which block, the headers and body are unchanged', async () => {
    assert.equal(pythonTunnel(proxy.port, 'pastebin.com', 443), 'Tunnel connection failed: 403 Forbidden (blocked by pipelock: domain_blocklist, layer blocklist)')
    const raw = await rawExchange(proxy.port, 'CONNECT pastebin.com:443 HTTP/1.1\r\nHost: pastebin.com:443\r\n\r\n')
    assert.match(raw, /^HTTP\/1\.1 403 Forbidden \(blocked by pipelock: domain_blocklist, layer blocklist\)\r\n/)
    assert.match(raw, /\r\nX-Pipelock-Block-Reason: domain_blocklist\r\n/)
    assert.ok(raw.endsWith('\r\n\r\nCONNECT blocked: domain blocked: pastebin.com matches *.pastebin.com\n'), raw)
  })

  it('the kill switch: 503 with its code, and the JSON body as before', async () => {
    writeFileSync(sentinel, '')
    try {
      assert.equal(pythonTunnel(proxy.port, 'example.com', 443), 'Tunnel connection failed: 503 Service Unavailable (blocked by pipelock: kill_switch_active, layer kill_switch)')
      const raw = await rawExchange(proxy.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
      assert.ok(raw.endsWith('\r\n\r\n{"error":"kill_switch_active","message":"Emergency deny-all active"}\n'), raw)
    } finally {
      rmSync(sentinel)
    }
  })

  it('an internal address: the code and the layer that name the SSRF check', async () => {
    assert.equal(pythonTunnel(proxy.port, '10.255.255.1', 443), 'Tunnel connection failed: 403 Forbidden (blocked by pipelock: ssrf_private_ip, layer ssrf)')
  })
})
