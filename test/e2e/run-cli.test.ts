/**
 * `pipelock run` as a CLI: refusals (unimplemented features, bad config, unsupported flags), the
 * exact banner, signals (SIGUSR1 kill switch, SIGHUP reload, SIGTERM shutdown) and the audit
 * log's startup/shutdown events.
 */
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import net from 'node:net'
import {after, before, describe, it} from 'node:test'
import {runCli, runCliAsync} from '../helpers/cli.js'
import {assertRefusesToStart, baseConfig, rawHttp, startHttpUpstream, startProxy, tempDir, until, type Upstream} from './proxy-harness.js'

describe('pipelock run: refusals', {timeout: 30_000}, () => {
  it('refuses to start when the config enables features this version does not implement', () => {
    assertRefusesToStart(
      // file_sentry is accepted with a note since issue 39; browser_shield and a2a_scanning run since issue 38.
      'behavioral_baseline:\n  enabled: true\nsentry:\n  enabled: true\n  dsn: https://key@127.0.0.1:9/1\n',
      'config enables features this version does not implement: behavioral_baseline, sentry; refusing to start',
    )
  })

  it('names the file and line of an unknown key and exits 2', () => {
    const dir = tempDir()
    const file = path.join(dir, 'bad.yaml')
    writeFileSync(file, 'forward_proxy:\n  enabld: true\n')
    const r = runCli(['run', '--config', file])
    assert.equal(r.status, 2)
    assert.ok(r.stderr.includes(`${file}:2: invalid config: unknown key "forward_proxy.enabld" (did you mean "forward_proxy.enabled"?) [CONFIG_INVALID]; hint: `), r.stderr)
  })

  it('refuses a capture escrow key that is not a key, or with nothing to capture', () => {
    const bad = runCli(['run', '--capture-output', tempDir(), '--capture-escrow-public-key', 'not-a-key'])
    assert.equal(bad.status, 1)
    assert.ok(bad.stderr.endsWith('--capture-escrow-public-key must be 64 hex characters (a 32-byte X25519 public key) or a file holding them [KEY_INVALID]\n'), bad.stderr)
    const alone = runCli(['run', '--capture-escrow-public-key', '00'.repeat(32)])
    assert.equal(alone.status, 2)
    assert.ok(alone.stderr.includes('--capture-escrow-public-key needs a capture directory (--capture-output, or learn.enabled with learn.capture_dir) [USAGE]\n'), alone.stderr)
  })

  it('rejects an invalid --listen override', () => {
    const dir = tempDir()
    const file = path.join(dir, 'ok.yaml')
    writeFileSync(file, baseConfig())
    const r = runCli(['run', '--config', file, '--listen', 'not-an-address'])
    assert.notEqual(r.status, 0)
    assert.match(r.stderr, /listen/)
  })

  it('--help shows a runnable example', () => {
    const r = runCli(['run', '--help'])
    assert.equal(r.status, 0)
    assert.match(r.stdout, /\$ pipelock run --config pipelock\.yaml/)
  })
})

describe('pipelock run: built-in defaults', {timeout: 30_000}, () => {
  it('starts without --config and serves /fetch and /health (forward proxy off by default)', async () => {
    const up = await startHttpUpstream()
    const proxy = await startProxy(null)
    try {
      assert.equal((await rawHttp(proxy.port, {path: '/health'})).status, 200)
      // Defaults: loopback is internal, so the local upstream is refused as SSRF.
      const f = await rawHttp(proxy.port, {path: `/fetch?url=http://127.0.0.1:${up.port}/kib`})
      assert.equal(f.status, 403)
      assert.equal(f.headers['x-pipelock-block-reason'], 'ssrf_private_ip')
      const fwd = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})
      assert.equal(fwd.status, 405)
      assert.equal(fwd.body, 'forward proxy not enabled; to use pipelock as HTTP_PROXY/HTTPS_PROXY set forward_proxy.enabled: true in the config, or start with: pipelock run --preset balanced\n')
      assert.ok(proxy.stderr().includes('  Proxy:  forward proxy off (/fetch only); for HTTPS_PROXY set forward_proxy.enabled: true in the config, or start with: pipelock run --preset balanced\n'), proxy.stderr())
      const connect = await rawConnect(proxy.port, `127.0.0.1:${up.port}`)
      assert.match(connect, /^HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*\r\n\r\nCONNECT not supported: forward proxy not enabled; to use pipelock as HTTPS_PROXY set forward_proxy\.enabled: true in the config, or start with: pipelock run --preset balanced\n$/)
      const upgrade = await rawHttp(proxy.port, {path: '/chat', headers: {Connection: 'Upgrade', Upgrade: 'websocket'}})
      assert.equal(upgrade.status, 404)
      assert.equal(upgrade.body, 'WebSocket proxy not enabled\n')
      // The WebSocket endpoint asked without an upgrade: refused the same way.
      const ws = await rawHttp(proxy.port, {path: '/ws?url=ws://127.0.0.1:1/'})
      assert.equal(ws.status, 404)
      assert.equal(ws.body, 'WebSocket proxy not enabled\n')
      assert.equal(ws.headers['x-pipelock-block-reason'], 'not_enabled')
      // An upgrade nothing proxies names no layer (docs/run.md); the forward proxy's refusal does.
      assert.equal(ws.headers['x-pipelock-block-reason-layer'], undefined)
      assert.equal(upgrade.headers['x-pipelock-block-reason-layer'], undefined)
      assert.equal(fwd.headers['x-pipelock-block-reason-layer'], 'forward_proxy')
      // Each refusal is recorded as a block (no transport serves it here), its receipt named on the answer.
      assert.equal(upgrade.headers['x-pipelock-block-reason'], 'not_enabled')
      assert.equal(fwd.headers['x-pipelock-block-reason'], 'not_enabled')
      assert.match(connect, /\r\nX-Pipelock-Block-Reason: not_enabled\r\n/)
      const refused = (): string[][] => proxy.stdout().split('\n').filter((l) => l.includes('"block_reason":"not_enabled"')).map((l) => {
        const r = JSON.parse(l) as Record<string, string>
        return [r.event!, r.method!, r.url ?? r.target!, r.reason!]
      })
      assert.ok(await until(async () => refused().length === 4), proxy.stdout())
      assert.deepEqual(refused(), [
        ['blocked', 'GET', `http://127.0.0.1:${up.port}/kib`, 'forward proxy not enabled'],
        ['blocked', 'CONNECT', `https://127.0.0.1:${up.port}/`, 'CONNECT not supported: forward proxy not enabled'],
        ['blocked', 'GET', '/chat', 'WebSocket proxy not enabled'],
        ['blocked', 'GET', '/ws?url=ws://127.0.0.1:1/', 'WebSocket proxy not enabled'],
      ])
    } finally {
      await proxy.stop()
      await up.close()
    }
  })

  it('--preset balanced: the forward proxy and CONNECT are on and the banner names HTTPS_PROXY', async () => {
    const up = await startHttpUpstream()
    const proxy = await startProxy(null, {args: ['--preset', 'balanced']})
    try {
      assert.ok(proxy.stderr().includes(`  Proxy:  HTTP/HTTPS forward proxy enabled (CONNECT + absolute-URI)\n  Agents: HTTPS_PROXY=http://${proxy.addr} HTTP_PROXY=http://${proxy.addr}\n`), proxy.stderr())
      // The preset's SSRF guard refuses the loopback upstream: a scanner verdict (403), not 405.
      const fwd = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})
      assert.equal(fwd.status, 403)
      assert.equal(fwd.headers['x-pipelock-block-reason'], 'ssrf_private_ip')
      assert.match(await rawConnect(proxy.port, `127.0.0.1:${up.port}`), /^HTTP\/1\.1 403 /)
    } finally {
      await proxy.stop()
      await up.close()
    }
  })

  it('--preset and --config together are a usage error', () => {
    const r = runCli(['run', '--preset', 'balanced', '--config', 'x.yaml'])
    assert.equal(r.status, 2)
    // The flags by name: a value given on the command line is not echoed.
    assert.equal(r.stderr, '--config cannot also be provided when using --preset; --preset cannot also be provided when using --config [USAGE]; hint: see pipelock run --help\n')
  })
})

describe('pipelock run: banner, signals, reload', {timeout: 30_000}, () => {
  let up: Upstream
  before(async () => {
    up = await startHttpUpstream()
  })
  after(async () => {
    await up?.close()
  })

  it('prints the banner, toggles the kill switch on SIGUSR1, reloads on SIGHUP and stops on SIGTERM', async () => {
    const dir = tempDir()
    const cfgText = baseConfig('ssrf:\n  ip_allowlist: ["127.0.0.1/32"]')
    const proxy = await startProxy(cfgText, {dir})
    try {
      const cfg = path.join(dir, 'pipelock.yaml')
      await until(async () => proxy.stderr().includes('hot-reload enabled'), 2000)
      const banner = proxy.stderr().split('\n')
      const start = banner.findIndex((l) => l.startsWith('Pipelock '))
      assert.deepEqual(banner.slice(start + 1, start + 9), [
        '  Mode:   balanced',
        `  Listen: ${proxy.addr}`,
        `  Fetch:  http://${proxy.addr}/fetch?url=<url>`,
        `  Health: http://${proxy.addr}/health`,
        `  Stats:  http://${proxy.addr}/stats`,
        '  Proxy:  HTTP/HTTPS forward proxy enabled (CONNECT + absolute-URI)',
        `  Agents: HTTPS_PROXY=http://${proxy.addr} HTTP_PROXY=http://${proxy.addr}`,
        `  Config: ${cfg} (hot-reload enabled, SIGHUP to reload)`,
      ])
      await until(async () => proxy.stdout().includes('\n'), 2000)
      const startup = JSON.parse(proxy.stdout().split('\n')[0]!)
      assert.equal(startup.event, 'startup')
      assert.equal(startup.listen, proxy.addr)
      assert.match(startup.config_hash, /^sha256:[0-9a-f]{64}$/)

      const url = `http://127.0.0.1:${up.port}/kib`
      assert.equal((await rawHttp(proxy.port, {path: url})).status, 200)
      proxy.proc.kill('SIGUSR1')
      assert.ok(await until(async () => (await rawHttp(proxy.port, {path: url})).status === 403, 2000))
      // The 403 can come back before the stderr line is read from the pipe: wait for the line too.
      assert.ok(await until(async () => /pipelock: kill switch ACTIVATED via SIGUSR1\n/.test(proxy.stderr()), 2000), proxy.stderr())
      proxy.proc.kill('SIGUSR1')
      assert.ok(await until(async () => (await rawHttp(proxy.port, {path: url})).status === 200, 2000))
      // The 403 can come back before the stderr line is read from the pipe: wait for the line too.
      assert.ok(await until(async () => /pipelock: kill switch DEACTIVATED via SIGUSR1\n/.test(proxy.stderr()), 2000), proxy.stderr())

      // Reload: add the upstream's IP to the blocklist, then SIGHUP.
      writeFileSync(cfg, readFileSync(cfg, 'utf8') + 'fetch_proxy:\n  monitoring:\n    blocklist: ["127.0.0.1"]\n')
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => (await rawHttp(proxy.port, {path: url})).headers['x-pipelock-block-reason'] === 'domain_blocklist', 3000))
      assert.match(proxy.stdout(), /"event":"config_reload"[^\n]*"status":"success"/)
      // A broken file keeps the running config.
      writeFileSync(cfg, 'not: [valid\n')
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => proxy.stderr().includes('pipelock: config reload failed:'), 3000), proxy.stderr())
      assert.equal((await rawHttp(proxy.port, {path: url})).headers['x-pipelock-block-reason'], 'domain_blocklist')
      // ...and says so where an operator looks: /health, /metrics and the audit log.
      const health = JSON.parse((await rawHttp(proxy.port, {path: '/health'})).body)
      assert.equal(health.config_in_sync, false)
      assert.equal(health.config_drift.reason, `${cfg}:2: parsing config: Flow sequence in block collection must be sufficiently indented and end with a ]`)
      assert.match((await rawHttp(proxy.port, {path: '/metrics'})).body, /^pipelock_config_drift 1$/m)
      assert.match(proxy.stdout(), /"event":"config_reload"[^\n]*"status":"failed"/)
      // Editing the file is enough (watcher + 100 ms debounce): the upstream is reachable again.
      writeFileSync(cfg, cfgText)
      assert.ok(await until(async () => (await rawHttp(proxy.port, {path: url})).status === 200, 5000), 'file edit not picked up')
      assert.match((await rawHttp(proxy.port, {path: '/metrics'})).body, /^pipelock_config_drift 0$/m)
    } finally {
      const code = await proxy.stop()
      assert.equal(code, 0)
    }
    assert.ok(proxy.stderr().endsWith('\nPipelock stopped.\n'), proxy.stderr().slice(-60))
    assert.match(proxy.stdout(), /"event":"shutdown"/)
  })
})

describe('pipelock run -- COMMAND: the agent is launched through the proxy', {timeout: 60_000}, () => {
  let up: Upstream
  before(async () => {
    up = await startHttpUpstream()
  })
  after(async () => {
    await up?.close()
  })

  it('the agent gets the proxy variables, its traffic is scanned, its stdout is its own, and its exit status is pipelock\'s', async () => {
    const dir = tempDir()
    const cfg = path.join(dir, 'pipelock.yaml')
    writeFileSync(cfg, baseConfig('ssrf:\n  ip_allowlist: ["127.0.0.1/32"]'))
    // The agent: two GETs through HTTP_PROXY (a clean one, one carrying a key id), then exit 3.
    const agent = [
      'const http = require("node:http");',
      'const p = new URL(process.env.HTTP_PROXY);',
      'const get = (u) => new Promise((r) => http.get({host: p.hostname, port: p.port, path: u}, (res) => { res.resume(); r(res.statusCode) }));',
      `(async () => { const a = await get("http://127.0.0.1:${up.port}/kib"); const b = await get("http://127.0.0.1:${up.port}/?k=" + "AKIA" + "Q3EGRZ7NXPLM4TWB");`,
      'console.log(JSON.stringify({a, b, fetch: process.env.PIPELOCK_FETCH_URL === p.origin + "/fetch", https: process.env.HTTPS_PROXY === process.env.HTTP_PROXY})); process.exit(3) })()',
    ].join(' ')
    const r = await runCliAsync(['run', '--config', cfg, '--listen', '127.0.0.1:0', '--', process.execPath, '-e', agent])
    assert.equal(r.status, 3, r.stderr)
    assert.equal(r.stdout, '{"a":200,"b":403,"fetch":true,"https":true}\n', 'stdout is the agent\'s alone (the audit log went to stderr)')
    assert.match(r.stderr, /\n {2}Agent: {2}\[\S+ -e [^\n]*\] \(launched with HTTPS_PROXY, HTTP_PROXY and PIPELOCK_FETCH_URL; pipelock stops when it exits; not contained: see pipelock sandbox\)\n/)
    assert.match(r.stderr, /"event":"blocked"[^\n]*"reason":"[^"]*AWS/)
    assert.match(r.stderr, /pipelock: agent exited \(status 3\); stopping\n[\s\S]*\nPipelock stopped\.\n$/)
  })

  it('a command that cannot be found: 127, and the proxy stops', async () => {
    const r = await runCliAsync(['run', '--preset', 'balanced', '--listen', '127.0.0.1:0', '--', 'no-such-agent-here'])
    assert.equal(r.status, 127, r.stderr)
    assert.match(r.stderr, /pipelock: agent command not found: no-such-agent-here\n[\s\S]*Pipelock stopped\.\n$/)
  })
})

/** Sends one CONNECT and returns everything the proxy answers until it closes (or 3 s pass). */
function rawConnect(port: number, authority: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`))
    let got = ''
    const timer = setTimeout(() => s.destroy(), 3000)
    s.on('data', (c: Buffer) => {
      got += c.toString('utf8')
      if (/^HTTP\/1\.1 [^2]/.test(got) && got.includes('\r\n\r\n') && got.endsWith('\n') && !got.endsWith('\r\n\r\n')) s.end()
    })
    s.on('close', () => {
      clearTimeout(timer)
      resolve(got)
    })
    s.on('error', reject)
  })
}
