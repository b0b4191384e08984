import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {defaultConfig} from '../../../src/plugins/config/index.js'
import {innerPath, splitAuthority, urlHostForm} from '../../../src/plugins/proxy/intercept/request.js'
import {DEFAULT_CERT_CACHE_SIZE, DEFAULT_MAX_RESPONSE_BYTES, Interceptor, type InterceptorOptions} from '../../../src/plugins/proxy/intercept/runtime.js'
import {createScanner} from '../../../src/plugins/scanner/index.js'
import {scannerSettingsFromConfig} from '../../../src/plugins/proxy/settings-from-config.js'
import {caPaths, generateCa, writeCaFiles} from '../../../src/plugins/tls/index.js'

describe('intercepted request helpers (transports §2.9)', () => {
  it('innerPath keeps origin-form targets and reduces absolute-form ones to path and query', () => {
    assert.equal(innerPath('/v1/x?y=1'), '/v1/x?y=1')
    assert.equal(innerPath('https://api.example.com/v1/x?y=1#frag'), '/v1/x?y=1')
    assert.equal(innerPath('https://api.example.com'), '/')
    assert.equal(innerPath('https://api.example.com?q=1'), '/?q=1')
  })

  it('splitAuthority defaults the port to 443 and strips IPv6 brackets', () => {
    assert.deepEqual(splitAuthority('api.example.com'), {host: 'api.example.com', port: '443'})
    assert.deepEqual(splitAuthority('api.example.com:8443'), {host: 'api.example.com', port: '8443'})
    assert.deepEqual(splitAuthority('[::1]'), {host: '::1', port: '443'})
    assert.deepEqual(splitAuthority('[::1]:9'), {host: '::1', port: '9'})
    assert.equal(urlHostForm('::1'), '[::1]')
    assert.equal(urlHostForm('a.example'), 'a.example')
  })
})

describe('Interceptor (transports §2.1, §2.6)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-icpt-'))
  const p = caPaths(dir)
  writeCaFiles(p, generateCa('Pipelock', 3_600_000, Date.now()), false)

  function interceptor(passthrough: string[] | undefined, extra: Partial<{cert_cache_size: number; max_response_bytes: number}> = {}): Interceptor {
    const config = defaultConfig()
    config.tls_interception = {...config.tls_interception, enabled: true, ca_cert: p.cert, ca_key: p.key, ...(passthrough ? {passthrough_domains: passthrough} : {}), ...extra}
    const scanner = createScanner(scannerSettingsFromConfig(config, {env: {}}))
    // These cases neither dial nor serve a tunnel: reading any of the interceptor's ports fails the test.
    const ports = new Proxy({}, {get: (_t, name) => assert.fail(`port ${String(name)} read`)}) as InterceptorOptions['ports']
    return new Interceptor({config, env: {}, ports, scanner: () => scanner.url, nowMs: () => Date.now()})
  }

  it('passthrough uses the shared matcher: a wildcard covers subdomains and the apex, case-insensitively', async () => {
    const i = interceptor(['*.Example.com', 'pinned.test'])
    assert.equal(i.intercepts('example.com'), false)
    assert.equal(i.intercepts('a.b.EXAMPLE.com'), false)
    assert.equal(i.intercepts('pinned.test'), false)
    assert.equal(i.intercepts('notexample.com'), true)
    assert.equal(i.intercepts('other.test'), true)
    await i.close()
  })

  it('with the default passthrough list, googlevideo hosts (and the apex) pass through, others are intercepted', async () => {
    const i = interceptor(undefined)
    assert.deepEqual(i.passthrough, ['*.googlevideo.com'])
    assert.equal(i.intercepts('rr1---sn-abc.googlevideo.com'), false)
    assert.equal(i.intercepts('googlevideo.com'), false)
    assert.equal(i.intercepts('api.example.com'), true)
    await i.close()
  })

  it('zero or negative sizes fall back to 10000 leaves and 5 MiB', async () => {
    const i = interceptor([], {cert_cache_size: 0, max_response_bytes: -1})
    assert.equal(i.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES)
    assert.equal(DEFAULT_CERT_CACHE_SIZE, 10_000)
    const out: string[] = []
    i.cache.get('a.example')
    i.count('intercepted')
    i.render(out)
    assert.ok(out.includes('pipelock_tls_cert_cache_size 1'), out.join('\n'))
    assert.ok(out.includes('pipelock_tls_intercept_total{outcome="intercepted"} 1'), out.join('\n'))
    await i.close()
  })
})
