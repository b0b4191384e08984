/**
 * A reload that turns TLS interception on with a CA that cannot be loaded leaves no interceptor
 * (transports §2.1). A tunnel it would intercept is then closed after its 200 — never relayed
 * unscanned (§2.7 step 15) — and `/health` says so with `tls_interception_unavailable`; a
 * passthrough host is still relayed; a later reload with a loadable CA intercepts.
 */
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, test} from 'node:test'
import {caPaths, generateCa, writeCaFiles} from '../../src/plugins/tls/index.js'
import {baseConfig, makeSelfSignedCert, rawHttp, startHttpsUpstream, startProxy, tempDir, tlsThroughProxy, until, type RunningProxy, type Upstream} from './proxy-harness.js'

let proxy: RunningProxy | undefined
let upstream: Upstream | undefined
after(async () => {
  await proxy?.stop()
  await upstream?.close()
})

test('a reload whose CA fails to load: intercepted tunnels fail closed, health says interception is unavailable; a loadable CA restores it', {timeout: 60_000}, async () => {
  const dir = tempDir('pl-tls-reload-')
  const upDir = path.join(dir, 'upstream')
  mkdirSync(upDir)
  const material = makeSelfSignedCert(upDir)
  upstream = await startHttpsUpstream(material)
  const cfgFile = path.join(dir, 'pipelock.yaml')
  const base = (extra = ''): string => baseConfig(['ssrf:', '  ip_allowlist: ["127.0.0.0/8"]', extra].join('\n'))
  proxy = await startProxy(base(), {dir})
  const health = async (): Promise<Record<string, unknown>> => JSON.parse((await rawHttp(proxy!.port, {path: '/health'})).body) as Record<string, unknown>
  const target = `localhost:${upstream.port}`
  const handshake = async (): Promise<string> => {
    try {
      const s = await tlsThroughProxy(proxy!.port, target, material.cert)
      const cn = String((s.getPeerCertificate().subject as unknown as Record<string, string> | undefined)?.CN)
      s.destroy()
      return `upstream certificate CN=${cn}`
    } catch (e) {
      return `failed: ${(e as Error).message}`
    }
  }
  // Without interception the tunnel reaches the upstream's own certificate.
  assert.equal(await handshake(), 'upstream certificate CN=localhost')
  assert.equal((await health()).tls_interception_enabled, false)

  // A CA pair whose files exist but hold no certificate or key.
  const bad = {cert: path.join(dir, 'bad-ca.pem'), key: path.join(dir, 'bad-ca-key.pem')}
  writeFileSync(bad.cert, 'not a certificate\n', {mode: 0o600})
  writeFileSync(bad.key, 'not a key\n', {mode: 0o600})
  const tls = (p: {cert: string; key: string}, passthrough = ''): string =>
    ['tls_interception:', '  enabled: true', `  ca_cert: ${p.cert}`, `  ca_key: ${p.key}`, ...(passthrough === '' ? [] : [`  passthrough_domains: ["${passthrough}"]`])].join('\n')
  writeFileSync(cfgFile, base(tls(bad)))
  proxy.proc.kill('SIGHUP')
  assert.ok(await until(async () => proxy!.stdout().includes('TLS cert cache reload failed'), 10_000), proxy.stdout())
  assert.ok(await until(async () => (await health()).tls_interception_unavailable === true, 10_000), JSON.stringify(await health()))
  assert.equal((await health()).tls_interception_enabled, true)
  assert.match(await handshake(), /^failed: /)
  assert.ok(await until(async () => proxy!.stdout().includes('TLS interception enabled but cert cache unavailable'), 5000), proxy.stdout())
  const metrics = (await rawHttp(proxy.port, {path: '/metrics'})).body
  assert.match(metrics, /pipelock_tls_intercept_total\{outcome="failed"\} 1\b/)

  // A passthrough host is not intercepted, so it is relayed as before.
  writeFileSync(cfgFile, base(tls(bad, 'localhost')))
  proxy.proc.kill('SIGHUP')
  assert.ok(await until(async () => (await handshake()) === 'upstream certificate CN=localhost', 10_000))

  const good = caPaths(path.join(dir, 'ca'))
  writeCaFiles(good, generateCa('Pipelock', 24 * 3_600_000, Date.now()), false)
  writeFileSync(cfgFile, base(tls(good)))
  proxy.proc.kill('SIGHUP')
  assert.ok(await until(async () => (await health()).tls_interception_unavailable === undefined, 10_000), JSON.stringify(await health()))
  assert.equal((await health()).tls_interception_enabled, true)
})
