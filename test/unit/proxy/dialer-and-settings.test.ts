import assert from 'node:assert/strict'
import {test} from 'node:test'
import {defaultConfig} from '../../../src/plugins/config/index.js'
import {DialBlockedError, ProxyMetrics, resolveValidated, scannerSettingsFromConfig, type Decision} from '../../../src/plugins/proxy/index.js'
import {createUrlScanner, defaultScannerSettings, type ScannerSettings} from '../../../src/plugins/scanner/index.js'

function scanner(mut?: (s: ScannerSettings) => void) {
  const s = defaultScannerSettings()
  s.seedPhrase.enabled = false
  mut?.(s)
  return createUrlScanner(s)
}
const dns = (answers: Record<string, string[]>) => async (h: string): Promise<string[]> => answers[h] ?? []

test('dialer connects to the first validated address', async () => {
  assert.equal(await resolveValidated(scanner(), 'api.example.com', dns({'api.example.com': ['93.184.216.34', '93.184.216.35']})), '93.184.216.34')
  assert.equal(await resolveValidated(scanner(), '[2606:2800:220:1::1]', dns({})), '2606:2800:220:1::1')
})

test('dialer rejects when ANY resolved address is internal (rebinding, split answers)', async () => {
  await assert.rejects(resolveValidated(scanner(), 'rebind.example', dns({'rebind.example': ['93.184.216.34', '10.0.0.5']})), DialBlockedError)
  await assert.rejects(resolveValidated(scanner(), 'mapped.example', dns({'mapped.example': ['::ffff:127.0.0.1']})), /internal IP 127\.0\.0\.1/)
  await assert.rejects(resolveValidated(scanner(), 'meta.example', dns({'meta.example': ['169.254.169.254']})), DialBlockedError)
  await assert.rejects(resolveValidated(scanner(), 'nx.example', dns({})), DialBlockedError)
})

test('dialer honours trusted_domains and ssrf.ip_allowlist', async () => {
  const trusted = scanner((s) => (s.trustedDomains = ['*.corp.example']))
  assert.equal(await resolveValidated(trusted, 'svc.corp.example', dns({'svc.corp.example': ['10.1.2.3']})), '10.1.2.3')
  const allowed = scanner((s) => (s.ssrfIpAllowlist = ['10.1.0.0/16']))
  assert.equal(await resolveValidated(allowed, 'svc.example', dns({'svc.example': ['10.1.2.3']})), '10.1.2.3')
  await assert.rejects(resolveValidated(allowed, 'svc.example', dns({'svc.example': ['10.2.0.1']})), DialBlockedError)
})

test('dialer checks the core floor even when the configured internal list is empty (§24 #3 fixed)', async () => {
  const empty = scanner((s) => (s.internal = []))
  await assert.rejects(resolveValidated(empty, 'lo.example', dns({'lo.example': ['127.0.0.1']})), DialBlockedError)
  await assert.rejects(resolveValidated(empty, '10.0.0.1', dns({})), DialBlockedError)
})

test('config → scanner settings: defaults map over, patterns are not merged twice', () => {
  const c = defaultConfig()
  const s = scannerSettingsFromConfig(c, {env: {}})
  assert.equal(s.mode, 'balanced')
  assert.equal(s.enforce, true)
  assert.deepEqual(s.blocklist, c.fetch_proxy.monitoring.blocklist)
  assert.deepEqual(s.internal, c.internal)
  assert.equal(s.maxRequestsPerMinute, 60)
  assert.equal(s.dlp.includeDefaults, false)
  assert.equal(s.dlp.patterns.length, c.dlp.patterns.length)
  assert.equal(s.responseScanning.action, 'warn')
  assert.equal(s.requestBodyScanning.maxBodyBytes, 5 * 1024 * 1024)
  assert.deepEqual(s.dlp.env, {})
})

test('metrics: Prometheus text and /stats from the same decisions', () => {
  const m = new ProxyMetrics('1.2.3', 0, () => 2000, {killSwitchSources: () => ({config: false, api: true, signal: false, sentinel: false}), activeTunnels: () => 2})
  const base: Decision = {
    requestId: 'req-1', transport: 'forward', method: 'GET', target: 'http://pastebin.com/x', agent: 'claude', profile: 'claude-profile', clientIp: '127.0.0.1', sessionKey: 'claude|127.0.0.1',
    verdict: 'block', stage: 'url_scan', layer: 'blocklist', reason: 'domain_blocklist', severity: 'critical', retry: 'policy', class: 'threat',
    detail: 'domain blocked', status: 403, warnings: [], bytes: 0, durationMs: 3,
  }
  m.record(base)
  m.record({...base, verdict: 'allow', layer: 'all', reason: null, target: 'http://example.com/'})
  const text = m.prometheus()
  assert.match(text, /^pipelock_requests_total\{agent="claude-profile",result="blocked"\} 1$/m)
  assert.match(text, /^pipelock_scanner_hits_total\{agent="claude-profile",scanner="blocklist"\} 1$/m)
  assert.match(text, /^pipelock_request_duration_seconds_bucket\{le="0\.01"\} 2$/m)
  assert.match(text, /^pipelock_kill_switch_active\{source="api"\} 1$/m)
  assert.match(text, /^pipelock_active_tunnels 2$/m)
  assert.match(text, /^pipelock_info\{version="1\.2\.3"\} 1$/m)
  const stats = m.stats() as {requests: unknown; top_blocked_domains: unknown; agents: unknown; uptime_seconds: number}
  assert.deepEqual(stats.requests, {total: 2, allowed: 1, blocked: 1, block_rate: 0.5})
  assert.deepEqual(stats.top_blocked_domains, [{name: 'pastebin.com', count: 1}])
  // The label is the profile, never the name (operations.md §2.4); a decision without one is `_default`.
  assert.deepEqual(stats.agents, {'claude-profile': {allowed: 1, blocked: 1, tunnels: 0}})
  assert.equal(stats.uptime_seconds, 2)
})

test('config → scanner settings: a canary\'s value is the config\'s, never the env_var read from pipelock\'s environment', () => {
  const c = defaultConfig()
  c.canary_tokens = {enabled: true, tokens: [{name: 'planted', value: 'canary-from-config-01', env_var: 'SERVICE_TOKEN'}]}
  const s = scannerSettingsFromConfig(c, {env: {SERVICE_TOKEN: 'pipelock-own-value'}})
  assert.deepEqual(s.canaryTokens, [{name: 'planted', value: 'canary-from-config-01'}])
})
