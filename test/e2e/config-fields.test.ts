/**
 * The two config fields the reference accepts and never reads (policy-extra §6), through the
 * built CLI: `forward_proxy.redirect_websocket_hosts` is a hint on CONNECT (counter + anomaly
 * line, the tunnel proceeds) while the WebSocket proxy is on, nothing while it is off;
 * `mcp_ws_listener` names a listener that does not exist, so anything but its defaults refuses
 * to start (`run`, `check` and `mcp proxy` alike) instead of being silently ignored.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {assertRefusesToStart, baseConfig, openTunnel, rawHttp, startProxy, tcpUpstream, tempDir, until} from './proxy-harness.js'

const LOOPBACK = ['  sni_verification: false', '  raw_tunnel_hosts: ["127.0.0.1"]', 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]']
const HINT = 'hint: 127.0.0.1 supports WebSocket; consider using /ws endpoint for frame-level scanning'

async function hintsAfterOneTunnel(websocket: boolean): Promise<{count: string; stdout: string}> {
  const up = await tcpUpstream((s) => s.end('hello'))
  const cfg = baseConfig([...LOOPBACK.slice(0, 2), '  redirect_websocket_hosts: ["127.0.0.1"]', ...LOOPBACK.slice(2), 'websocket_proxy:', `  enabled: ${websocket}`].join('\n'))
  const proxy = await startProxy(cfg)
  try {
    const t = await openTunnel(proxy.port, up.port)
    await t.closed
    const m = await rawHttp(proxy.port, {path: '/metrics'})
    const line = /^pipelock_forward_ws_redirect_hint_total(?:\{\})? (\d+)$/m.exec(m.body)
    if (websocket) await until(async () => proxy.stdout().includes(HINT))
    return {count: line?.[1] ?? 'absent', stdout: proxy.stdout()}
  } finally {
    await proxy.stop()
    await up.close()
  }
}

describe('forward_proxy.redirect_websocket_hosts', {timeout: 60_000}, () => {
  it('with the WebSocket proxy on, a CONNECT to a listed host proceeds and is counted and logged as a hint', async () => {
    const r = await hintsAfterOneTunnel(true)
    assert.equal(r.count, '1')
    const line = r.stdout.split('\n').find((l) => l.includes(HINT))
    assert.ok(line !== undefined, r.stdout)
    const ev = JSON.parse(line) as Record<string, unknown>
    assert.equal(ev.event, 'anomaly')
    assert.equal(ev.scanner, '')
    assert.equal(ev.score, 0.2)
    assert.match(String(ev.url), /^127\.0\.0\.1:\d+$/)
  })

  it('with the WebSocket proxy off, the list is not consulted', async () => {
    const r = await hintsAfterOneTunnel(false)
    assert.notEqual(r.count, '1')
    assert.ok(!r.stdout.includes('supports WebSocket'), r.stdout)
  })
})

describe('mcp_ws_listener', {timeout: 60_000}, () => {
  const set = 'mcp_ws_listener:\n  allowed_origins: ["https://example.com"]\n'
  const refusal = 'config enables a feature this version does not implement: mcp_ws_listener; refusing to start'

  it('anything but the defaults refuses pipelock run by name', () => {
    assertRefusesToStart(set, refusal)
    assertRefusesToStart('mcp_ws_listener:\n  max_connections: 5\n', refusal)
  })

  it('a reload that sets it is refused by name, and says the running proxy keeps its config', async () => {
    const proxy = await startProxy(baseConfig())
    try {
      writeFileSync(path.join(proxy.dir, 'pipelock.yaml'), baseConfig(set))
      const line = 'pipelock: config reload failed: config enables a feature this version does not implement: mcp_ws_listener; reload refused (the running config stays)'
      assert.ok(await until(async () => proxy.stderr().split('\n').includes(line), 10_000), proxy.stderr())
      assert.doesNotMatch(proxy.stderr(), /refusing to start/)
      // still running, on the config it started with
      assert.equal((await rawHttp(proxy.port, {path: '/health'})).status, 200)
    } finally {
      await proxy.stop()
    }
  })

  it('pipelock check refuses it the same way, and accepts the defaults written out', () => {
    const dir = tempDir()
    const file = path.join(dir, 'p.yaml')
    writeFileSync(file, set)
    const r = runCli(['check', '--config', file])
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stdout, /^ {2}Refused: {8}mcp_ws_listener \(not implemented in this build; pipelock run refuses to start\)$/m)
    writeFileSync(file, 'mcp_ws_listener:\n  allowed_origins: []\n  max_connections: 100\n')
    assert.equal(runCli(['check', '--config', file]).status, 0)
  })

  it('pipelock mcp proxy refuses it before spawning the server', () => {
    const dir = tempDir()
    const file = path.join(dir, 'p.yaml')
    writeFileSync(file, set)
    const r = runCli(['mcp', 'proxy', '--config', file, '--', process.execPath, '-e', 'process.exit(0)'])
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /pipelock mcp proxy does not implement yet: mcp_ws_listener; refusing to start/)
  })

  it('its entries are validated as the reference does (mcp.md §14.1)', () => {
    const dir = tempDir()
    const file = path.join(dir, 'p.yaml')
    writeFileSync(file, 'mcp_ws_listener:\n  allowed_origins: ["not an origin"]\n')
    const r = runCli(['check', '--config', file])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /mcp_ws_listener\.allowed_origins\[0\]: "not an origin": must be a valid origin \(e\.g\. https:\/\/example\.com\)/)
  })
})

describe('pipelock check on a setting pipelock run refuses inside an enabled section', {timeout: 60_000}, () => {
  it('response_scanning.action: ask without an operator channel: exit 1, the Refused line points at the reason, the reason on stderr', () => {
    const dir = tempDir()
    const file = path.join(dir, 'p.yaml')
    writeFileSync(file, 'response_scanning:\n  enabled: true\n  action: ask\n')
    const r = runCli(['check', '--config', file], {env: {...process.env, PIPELOCK_KILLSWITCH_API_TOKEN: ''}})
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stdout, /^ {2}Refused: {8}a setting inside an enabled section \(pipelock run refuses to start; the reason is on stderr\)$/m)
    assert.match(r.stderr, /^config sets response_scanning\.action: ask but no operator channel is configured \(the admin API needs kill_switch\.api_token or PIPELOCK_KILLSWITCH_API_TOKEN\); refusing to start$/m)
  })
})
