// docs/scanner.md states the catalogue's sizes, the settings' defaults and the core SSRF floor's
// extra ranges as numbers and lists: they are the code's own.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import {
  CORE_DLP_PATTERNS, CORE_RESPONSE_PATTERNS, DEFAULT_API_ALLOWLIST, DEFAULT_BLOCKLIST, DEFAULT_DLP_PATTERNS, DEFAULT_INTERNAL_CIDRS,
  DEFAULT_RESPONSE_PATTERNS, EXTRA_CORE_CIDRS, PRESET_RESPONSE_PATTERNS, defaultScannerSettings,
} from '../../../src/plugins/scanner/index.js'
import {repoPath} from '../../helpers/vectors.js'

const doc = readFileSync(repoPath('docs/scanner.md'), 'utf8')

function line(start: string): string {
  const l = doc.split('\n').find((x) => x.startsWith(start))
  assert.ok(l !== undefined, `docs/scanner.md has a line starting ${JSON.stringify(start)}`)
  return l
}

test('docs/scanner.md counts the pattern catalogue as the code holds it', () => {
  const m = /\((\d+) \+ (\d+) DLP, (\d+) \+ (\d+) response, (\d+) preset-only/.exec(doc.replace(/\s+/g, ' '))
  assert.ok(m !== null, 'the Regex engine paragraph counts the catalogue')
  assert.deepEqual(m.slice(1).map(Number), [
    DEFAULT_DLP_PATTERNS.length, CORE_DLP_PATTERNS.length, DEFAULT_RESPONSE_PATTERNS.length, CORE_RESPONSE_PATTERNS.length, PRESET_RESPONSE_PATTERNS.length,
  ])
  const core = /always runs the (\d+) core patterns first/.exec(doc)
  assert.equal(Number(core?.[1]), CORE_RESPONSE_PATTERNS.length)
})

test('docs/scanner.md\'s settings table gives the defaults defaultScannerSettings() returns', () => {
  const d = defaultScannerSettings()
  const cells = (start: string): string[] => line(start).split('|').slice(1, -1).map((c) => c.trim())
  assert.equal(cells('| `mode`, `enforce`, `apiAllowlist`')[2], `${d.mode}, ${d.enforce}, ${DEFAULT_API_ALLOWLIST.length} hosts (§20.2)`)
  assert.deepEqual(d.apiAllowlist, DEFAULT_API_ALLOWLIST)
  const m = d.maxDataPerMinute
  assert.equal(cells('| `blocklist`, `maxUrlLength`')[2],
    `${DEFAULT_BLOCKLIST.length} paste sites, ${d.maxUrlLength}, ${d.entropyThreshold.toFixed(1)}, ${d.subdomainEntropyThreshold.toFixed(1)}, [], ${d.maxRequestsPerMinute}, ${m}`)
  assert.deepEqual(d.blocklist, DEFAULT_BLOCKLIST)
  assert.deepEqual(d.subdomainEntropyExclusions, [])
  assert.equal(cells('| `internal`, `trustedDomains`')[2], `${DEFAULT_INTERNAL_CIDRS.length} CIDRs, [], []`)
  assert.deepEqual(d.internal, DEFAULT_INTERNAL_CIDRS)
  assert.deepEqual([d.trustedDomains, d.ssrfIpAllowlist], [[], []])
  assert.equal(cells('| `dlp.{includeDefaults')[2], `${d.dlp.includeDefaults}, [], ${d.dlp.scanEnv}, ${d.dlp.minEnvSecretLength}, []`)
  assert.deepEqual([d.dlp.patterns, d.dlp.fileSecrets, d.canaryTokens], [[], [], []])
  assert.match(cells('| `seedPhrase.')[2]!, new RegExp(`^${d.seedPhrase.enabled}, ${d.seedPhrase.minWords}, ${d.seedPhrase.verifyChecksum}, the BIP-39 English list$`))
  const r = d.responseScanning
  assert.equal(cells('| `responseScanning.*`')[2], `${r.enabled ? 'enabled' : 'disabled'}, ${r.action}, ${r.includeDefaults ? 'defaults' : 'no defaults'}, ${r.sseStreaming.maxEventBytes / 1024} KiB events`)
  const b = d.requestBodyScanning
  assert.equal(cells('| `requestBodyScanning.*`')[2],
    `${b.enabled ? 'enabled' : 'disabled'}, ${b.action}, ${b.maxBodyBytes / (1024 * 1024)} MiB, headers ${b.scanHeaders ? 'on' : 'off'}, ${b.headerMode} mode`)
})

test('docs/scanner.md lists the ranges the core SSRF floor adds', () => {
  const bullet = doc.slice(doc.indexOf('* The core SSRF floor adds'), doc.indexOf("to §5.13's ranges"))
  assert.deepEqual([...bullet.matchAll(/`([^`]+)`/g)].map((x) => x[1]), [...EXTRA_CORE_CIDRS])
})
