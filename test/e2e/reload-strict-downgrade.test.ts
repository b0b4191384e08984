/**
 * docs/config.md, Hot reload: a reload of a strict-mode proxy that loosens the policy is refused
 * and the old policy stays in force — turning TLS interception off, adding a passthrough domain,
 * editing a DLP pattern's regex in place, raising the entropy threshold. In balanced mode the
 * same regex edit applies, with a `security downgrade` warning. Removing an agent profile whose
 * traffic would fall back to a looser default is refused too.
 */
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {
  makeSelfSignedCert, rawHttp, startHttpsUpstream, startHttpUpstream, startProxy, tempDir, tlsExchange, tlsThroughProxy, until, writeTestCa,
} from './proxy-harness.js'

const TOKEN = `ghp_${'a'.repeat(36)}`
const REFUSED = 'pipelock: config reload failed: rejected: security downgrade from strict mode'
const NOTE = '; to apply it without a restart, attach an operator note to this file (pipelock policy note --reload, or <config>.change)'

describe('strict-mode reloads that loosen the policy', {timeout: 90_000}, () => {
  it('TLS interception off, or a passthrough domain added: refused, and a secret in an HTTPS URL is still blocked', async () => {
    const dir = tempDir('pl-reload-tls-')
    const mat = makeSelfSignedCert(dir)
    const up = await startHttpsUpstream(mat)
    const ca = writeTestCa(dir)
    const cfg = (enabled: boolean, passthrough: string[]): string => [
      'mode: strict', 'api_allowlist: ["127.0.0.1"]',
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'tls_interception:', `  enabled: ${enabled}`, `  ca_cert: ${ca.cert}`, `  ca_key: ${ca.key}`, `  passthrough_domains: ${JSON.stringify(passthrough)}`,
    ].join('\n') + '\n'
    const proxy = await startProxy(cfg(true, []), {dir, env: {SSL_CERT_FILE: mat.certPath}})
    const caPem = readFileSync(ca.cert, 'utf8')
    // Trusting only the interception CA: the handshake itself shows the tunnel is intercepted.
    const secretStatus = async (): Promise<string> => {
      const s = await tlsThroughProxy(proxy.port, `127.0.0.1:${up.port}`, caPem)
      try {
        return (await tlsExchange(s, `GET /kib?k=${TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)).split('\r\n')[0]!
      } finally {
        s.destroy()
      }
    }
    const refusals = (): string[] => proxy.stderr().split('\n').filter((l) => l.startsWith(REFUSED))
    try {
      assert.equal(await secretStatus(), 'HTTP/1.1 403 Forbidden')
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg(false, []))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => refusals().length === 1, 10_000), proxy.stderr())
      assert.equal(refusals()[0], `${REFUSED} (TLS interception disabled — CONNECT tunnel body/header scanning lost)${NOTE}`)
      assert.equal(await secretStatus(), 'HTTP/1.1 403 Forbidden', 'interception stays on')

      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg(true, ['127.0.0.1']))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => refusals().length === 2, 10_000), proxy.stderr())
      assert.equal(refusals()[1], `${REFUSED} (passthrough domains added: 127.0.0.1 — these CONNECT tunnels now bypass body scanning)${NOTE}`)
      assert.equal(await secretStatus(), 'HTTP/1.1 403 Forbidden', 'the host is still intercepted')
      assert.ok(!proxy.stderr().includes('config reloaded'), proxy.stderr())
    } finally {
      assert.equal(await proxy.stop(), 0)
      await up.close()
    }
  })

  it('a DLP regex edited in place, or the entropy threshold raised: refused in strict mode; in balanced mode applied with a warning', async () => {
    const up = await startHttpUpstream()
    const cfg = (mode: string, regex: string, entropy = 4.5): string => [
      `mode: ${mode}`, 'api_allowlist: ["127.0.0.1"]',
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', `    entropy_threshold: ${entropy}`, '    max_requests_per_minute: 100000',
      'dlp:', '  patterns:', `    - {name: Acme Key, regex: "${regex}", severity: critical}`,
    ].join('\n') + '\n'
    const status = async (port: number, query: string): Promise<number> => (await rawHttp(port, {path: `http://127.0.0.1:${up.port}/kib?${query}`})).status
    const NEVER = 'acmekey-NEVERMATCHES-[0-9]{8}'
    const HIGH_ENTROPY = 'q=Xk9vQ2mT7pLz4RwN8bYc3HdJ6sFa1GeU5nWq0ZrVt'

    const dir = tempDir('pl-reload-dlp-')
    const strict = await startProxy(cfg('strict', 'acmekey-[0-9]{8}'), {dir})
    const refusals = (): string[] => strict.stderr().split('\n').filter((l) => l.startsWith(REFUSED))
    try {
      assert.equal(await status(strict.port, 'k=acmekey-12345678'), 403)
      assert.equal(await status(strict.port, HIGH_ENTROPY), 403)
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg('strict', NEVER))
      assert.ok(await until(async () => refusals().length === 1, 10_000), strict.stderr())
      assert.equal(refusals()[0], `${REFUSED} (dlp.patterns["Acme Key"].regex: changed (an edited regex may no longer match what it did))${NOTE}`)
      assert.equal(await status(strict.port, 'k=acmekey-12345678'), 403, 'the old pattern still blocks')

      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg('strict', 'acmekey-[0-9]{8}', 8))
      assert.ok(await until(async () => refusals().length === 2, 10_000), strict.stderr())
      assert.equal(refusals()[1], `${REFUSED} (fetch_proxy.monitoring.entropy_threshold: 4.5 -> 8)${NOTE}`)
      assert.equal(await status(strict.port, HIGH_ENTROPY), 403, 'the old threshold still blocks')
    } finally {
      assert.equal(await strict.stop(), 0)
    }

    const dir2 = tempDir('pl-reload-dlp-')
    const balanced = await startProxy(cfg('balanced', 'acmekey-[0-9]{8}'), {dir: dir2})
    try {
      assert.equal(await status(balanced.port, 'k=acmekey-12345678'), 403)
      writeFileSync(path.join(dir2, 'pipelock.yaml'), cfg('balanced', NEVER))
      const warning = 'WARNING: config reload: security downgrade: dlp.patterns["Acme Key"].regex: changed (an edited regex may no longer match what it did)'
      assert.ok(await until(async () => balanced.stderr().split('\n').includes(warning), 10_000), balanced.stderr())
      assert.ok(await until(async () => (await status(balanced.port, 'k=acmekey-12345678')) === 200, 5_000), 'the edit applies in balanced mode')
    } finally {
      assert.equal(await balanced.stop(), 0)
      await up.close()
    }
  })

  it('an agent profile removed while the default is looser: refused, and its clients keep the profile', async () => {
    const up = await startHttpUpstream()
    // The client (127.0.0.1) is bound to `shop` by its address; `shop` adds a DLP pattern of its own.
    const shop = ['agents:', '  shop:', '    source_cidrs: ["127.0.0.1/32"]', '    dlp:', '      patterns:', '        - {name: Shop Key, regex: "shopkey-[0-9]{6}", severity: critical}']
    const cfg = (agents: string[]): string => [
      'mode: strict', 'api_allowlist: ["127.0.0.1"]',
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      ...agents,
    ].join('\n') + '\n'
    const status = async (port: number): Promise<number> => (await rawHttp(port, {path: `http://127.0.0.1:${up.port}/kib?k=shopkey-123456`})).status
    const dir = tempDir('pl-reload-agent-')
    const proxy = await startProxy(cfg(shop), {dir})
    const refusals = (): string[] => proxy.stderr().split('\n').filter((l) => l.startsWith(REFUSED))
    try {
      assert.equal(await status(proxy.port), 403, 'the profile\'s own pattern blocks')
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg([]))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => refusals().length === 1, 10_000), proxy.stderr())
      assert.equal(refusals()[0], `${REFUSED} (agents.shop: removed (its traffic now gets the default profile); agents.shop: dlp.patterns: 49 -> 48 patterns (removed "Shop Key"))${NOTE}`)
      assert.equal(await status(proxy.port), 403, 'the client is still bound to shop')
      assert.ok(!proxy.stderr().includes('config reloaded'), proxy.stderr())
    } finally {
      assert.equal(await proxy.stop(), 0)
      await up.close()
    }
  })
})
