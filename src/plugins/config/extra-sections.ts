/**
 * Validation and effective values of three sections of scanners-extra.md: `scan_api` (§1.2),
 * `address_protection` (§4.2) and `dns.host_overrides` (§6.2). Shared by `pipelock check` and
 * `pipelock run` through `validateConfig`, so both decide alike.
 */
import {isIP} from 'node:net'
import {domainToASCII} from 'node:url'
import {parseGoDuration} from '../canonical/index.js'
import type {PipelockConfig} from './schema.js'
import {parseHostPort} from './net-rules.js'

type Fail = (path: (string | number)[], message: string) => never

export interface ScanApiSettings {
  readonly listen: string
  readonly tokens: readonly string[]
  readonly requestsPerMinute: number
  readonly burst: number
  readonly maxBodyBytes: number
  readonly fieldLimits: {readonly url: number; readonly text: number; readonly content: number; readonly arguments: number}
  readonly readMs: number
  readonly writeMs: number
  readonly scanMs: number
  readonly connectionLimit: number
  readonly kinds: {readonly url: boolean; readonly dlp: boolean; readonly prompt_injection: boolean; readonly tool_call: boolean}
}

const TIMEOUT_DEFAULTS = {read: 2000, write: 2000, scan: 5000} as const

function timeoutMs(value: string, key: 'read' | 'write' | 'scan', fail?: Fail): number {
  if (value === '') return TIMEOUT_DEFAULTS[key]
  let ms: number
  try {
    ms = parseGoDuration(value)
  } catch (err) {
    if (fail === undefined) return TIMEOUT_DEFAULTS[key]
    return fail(['scan_api', 'timeouts', key], (err as Error).message)
  }
  if (ms <= 0) {
    if (fail === undefined) return TIMEOUT_DEFAULTS[key]
    return fail(['scan_api', 'timeouts', key], 'must be positive')
  }
  return ms
}

/** §1.2: the normalised values (defaults for zero/negative where the reference normalises). */
export function scanApiSettings(c: PipelockConfig): ScanApiSettings {
  const s = c.scan_api
  const pos = (v: number, d: number): number => (v > 0 ? v : d)
  return {
    listen: s.listen,
    tokens: s.auth.bearer_tokens,
    requestsPerMinute: pos(s.rate_limit.requests_per_minute, 600),
    burst: pos(s.rate_limit.burst, 50),
    maxBodyBytes: pos(s.max_body_bytes, 1_048_576),
    fieldLimits: {
      url: pos(s.field_limits.url, 8192),
      text: pos(s.field_limits.text, 524_288),
      content: pos(s.field_limits.content, 524_288),
      arguments: pos(s.field_limits.arguments, 524_288),
    },
    readMs: timeoutMs(s.timeouts.read, 'read'),
    writeMs: timeoutMs(s.timeouts.write, 'write'),
    scanMs: timeoutMs(s.timeouts.scan, 'scan'),
    connectionLimit: pos(s.connection_limit, 100),
    kinds: {url: s.kinds.url !== false, dlp: s.kinds.dlp !== false, prompt_injection: s.kinds.prompt_injection !== false, tool_call: s.kinds.tool_call !== false},
  }
}

/** §1.2 validation: only when `scan_api.listen` is set. */
export function validateScanApi(c: PipelockConfig, fail: Fail): void {
  const s = c.scan_api
  if (s.listen === '') return
  if (parseHostPort(s.listen) === undefined) fail(['scan_api', 'listen'], `"${s.listen}" is not host:port`)
  if (s.auth.bearer_tokens.length === 0) fail(['scan_api', 'auth', 'bearer_tokens'], 'required when scan_api.listen is set')
  s.auth.bearer_tokens.forEach((t, i) => {
    if (t.trim() === '') fail(['scan_api', 'auth', 'bearer_tokens', i], 'must be non-empty')
  })
  if (s.max_body_bytes < 0) fail(['scan_api', 'max_body_bytes'], 'must be >= 0')
  for (const k of ['read', 'write', 'scan'] as const) timeoutMs(s.timeouts[k], k, fail)
  if (s.connection_limit < 0) fail(['scan_api', 'connection_limit'], 'must be >= 0')
}

/** §4.2 validation: only when `address_protection.enabled`. Allowlist entries are checked by the proxy (the address codecs live in the scanner). */
export function validateAddressProtection(c: PipelockConfig, fail: Fail): void {
  const a = c.address_protection
  if (!a.enabled) return
  if (!['block', 'warn'].includes(a.action)) fail(['address_protection', 'action'], `invalid address_protection.action "${a.action}": must be block or warn`)
  if (!['allow', 'warn', 'block'].includes(a.unknown_action)) {
    fail(['address_protection', 'unknown_action'], `invalid address_protection.unknown_action "${a.unknown_action}": must be allow, warn, or block`)
  }
  const ch = a.chains
  if (!ch.eth && !ch.btc && !ch.sol && !ch.bnb) fail(['address_protection', 'chains'], 'address_protection.enabled is true but all chains are disabled (silent no-op)')
}

/**
 * §6.2 key normalisation: trimmed, lower-cased, trailing DNS dots stripped, IDN to its A-label
 * (the form the URL parser gives the scanner), so `Fixture.Example.Test.` and `fixture.example.test` collide.
 */
export function normaliseOverrideHost(key: string): string {
  const k = key.trim().toLowerCase().replace(/\.+$/, '')
  if (k === '' || /[^\x00-\x7f]/.test(k) === false) return k
  const a = domainToASCII(k)
  return a === '' ? k : a
}

/** Alternative IPv4 notations (hex, octal, integer) the SSRF layer decodes: never a hostname key. */
function looksLikeIpNotation(k: string): boolean {
  return /^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$/i.test(k)
}

/** §6.2 validation of `dns.host_overrides` ([beyond] messages, modelled on the reference's trusted_domains check). */
export function validateDnsOverrides(c: PipelockConfig, fail: Fail): void {
  const seen = new Map<string, string>()
  for (const key of Object.keys(c.dns.host_overrides).sort()) {
    const at = ['dns', 'host_overrides', key]
    const k = normaliseOverrideHost(key)
    if (k === '') fail(['dns', 'host_overrides'], 'empty hostname')
    if (k.includes('://') || k.includes('/') || k.includes(':') && isIP(k.replace(/^\[|\]$/g, '')) === 0) fail(at, 'use a hostname, not a URL or host:port')
    if (/[*?[\]]/.test(k)) fail(at, 'wildcards are not supported')
    if (isIP(k.replace(/^\[|\]$/g, '')) !== 0 || looksLikeIpNotation(k)) fail(at, 'IP literals cannot be overridden')
    const prev = seen.get(k)
    if (prev !== undefined) fail(['dns', 'host_overrides'], `duplicate hostname "${k}" ("${prev}" and "${key}")`)
    seen.set(k, key)
    const ips = c.dns.host_overrides[key]!
    if (ips.length === 0) fail(at, 'at least one IP address required')
    ips.forEach((ip, i) => {
      if (isIP(ip) === 0) fail([...at, i], `"${ip}": not an IP address`)
    })
  }
}

/** The effective override map (normalised keys; IPv4-mapped IPv6 answers become IPv4). */
export function dnsOverrides(c: PipelockConfig): ReadonlyMap<string, readonly string[]> {
  const m = new Map<string, readonly string[]>()
  for (const [key, ips] of Object.entries(c.dns.host_overrides)) {
    m.set(normaliseOverrideHost(key), ips.map((ip) => ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip))
  }
  return m
}
