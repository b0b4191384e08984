/**
 * Agent profiles (operations.md §2.5, §2.6): validation of the `agents:` section with the
 * reference's exact messages, listener canonicalisation, and the merge of a profile over a deep
 * copy of the base config. Pure: the proxy builds one scanner per merged profile.
 */
import {BlockList, isIP} from 'node:net'
import {checkHostRule, ipBytes, parseCidr, parseHostPort} from './net-rules.js'
import {ConfigFieldError} from './problems.js'
import type {DlpPatternConfig, PipelockConfig} from './schema.js'

/** The fallback profile's name; exempt from name validation (§2.8). */
export const DEFAULT_PROFILE = '_default'

export type AgentProfileConfig = PipelockConfig['agents'][string]

const NAME_RE = /^[a-zA-Z0-9._-]+$/
const MODES = ['strict', 'balanced', 'audit']

function fail(name: string, field: string | undefined, message: string): never {
  throw new ConfigFieldError(field === undefined ? ['agents', name] : ['agents', name, field], message)
}

/**
 * `host:port` → the form listeners are compared in: an empty host, `0.0.0.0`, `::` and any other
 * unspecified address become `0.0.0.0:<port>`; IPs are re-rendered canonically. Null when malformed.
 */
export function canonicalListener(addr: string): {key: string; host: string; port: number; wildcard: boolean} | null {
  const hp = parseHostPort(addr)
  if (hp === undefined) return null
  let host = hp.host
  const bytes = host === '' ? undefined : ipBytes(host)
  if (host === '' || (bytes !== undefined && bytes.every((b) => b === 0))) return {key: `0.0.0.0:${hp.port}`, host: '0.0.0.0', port: hp.port, wildcard: true}
  // WHATWG URL serialises IPv6 the RFC 5952 way (as Go prints it).
  if (bytes !== undefined) host = isIP(host) === 6 ? new URL(`http://[${host}]/`).hostname : [...bytes].join('.')
  return {key: `${host}:${hp.port}`, host, port: hp.port, wildcard: false}
}

/** Whether the network `c` contains `ip` (node's BlockList: no hand-written prefix arithmetic). */
function cidrHas(c: {addr: string; bits: number; v6: boolean}, ip: {addr: string; v6: boolean}): boolean {
  if (c.v6 !== ip.v6) return false
  const list = new BlockList()
  list.addSubnet(c.addr, c.bits, c.v6 ? 'ipv6' : 'ipv4')
  return list.check(ip.addr, ip.v6 ? 'ipv6' : 'ipv4')
}

/**
 * §2.5 validation, agent names in sorted order, first error wins. `validateMerged` runs the normal
 * validators over a merged profile (the reference skips that — quirk fixed: a profile with
 * `domain_burst: 0` is refused instead of flagging every request).
 */
export function validateAgents(c: PipelockConfig, validateMerged: (merged: PipelockConfig) => void): void {
  const names = Object.keys(c.agents).sort()
  for (const n of names) {
    const a = c.agents[n]!.budget?.dow_action ?? ''
    if (a !== '' && a !== 'block' && a !== 'warn') fail(n, 'budget', `agents.${n}.budget: invalid dow_action "${a}": must be block or warn`)
  }
  const reserved: Array<{key: string; port: number; wildcard: boolean; source: string}> = []
  const reserve = (addr: string, source: string): void => {
    const l = addr === '' ? null : canonicalListener(addr)
    if (l !== null) reserved.push({...l, source})
  }
  reserve(c.fetch_proxy.listen, 'fetch_proxy.listen')
  reserve(c.metrics_listen, 'metrics_listen')
  reserve(c.kill_switch.api_listen, 'kill_switch.api_listen')
  reserve(c.scan_api.listen, 'scan_api.listen')
  if (c.reverse_proxy.enabled) reserve(c.reverse_proxy.listen, 'reverse_proxy.listen')
  const cidrs: Array<{agent: string; text: string; cidr: {addr: string; bits: number; v6: boolean}}> = []
  for (const n of names) {
    const p = c.agents[n]!
    if (n !== DEFAULT_PROFILE) {
      if (n === '') fail(n, undefined, 'agent profile name must not be empty')
      if (n === 'anonymous') fail(n, undefined, 'agent profile name "anonymous" is reserved')
      if (Buffer.byteLength(n) > 64) fail(n, undefined, `agent profile name "${n}" exceeds 64 character limit`)
      if (!NAME_RE.test(n)) fail(n, undefined, `agent profile name "${n}" contains invalid characters (allowed: a-z, A-Z, 0-9, '.', '_', '-')`)
    }
    if (p.mode !== undefined && !MODES.includes(p.mode)) fail(n, 'mode', `agent "${n}": invalid mode "${p.mode}": must be strict, balanced, or audit`)
    for (const addr of p.listeners ?? []) {
      const l = canonicalListener(addr)
      if (l === null) fail(n, 'listeners', `agent "${n}": invalid listener address "${addr}": address ${addr}: missing port in address`)
      for (const r of reserved) {
        if (r.key === l.key) fail(n, 'listeners', `agent "${n}": listener "${addr}" collides with ${r.source}`)
        if (r.port === l.port && r.wildcard !== l.wildcard) fail(n, 'listeners', `agent "${n}": listener "${addr}" collides with ${r.source} (wildcard binds all interfaces)`)
      }
      reserved.push({...l, source: `agent "${n}" listener`})
    }
    ;(p.dlp?.patterns ?? []).forEach((pat: DlpPatternConfig) => {
      if (pat.name.trim() === '') fail(n, 'dlp', `agent "${n}": DLP pattern missing name`)
      if (pat.regex === '') fail(n, 'dlp', `agent "${n}": DLP pattern "${pat.name}" missing regex`)
    })
    for (const text of p.source_cidrs ?? []) {
      const parsed = parseCidr(text.trim())
      if (parsed === undefined) fail(n, 'source_cidrs', `agent "${n}": invalid source_cidrs entry "${text}": invalid CIDR address: ${text}`)
      const cidr = {addr: text.trim().split('/')[0]!, bits: parsed.bits, v6: parsed.bytes.length === 16}
      const other = cidrs.find((o) => o.agent !== n && (cidrHas(o.cidr, cidr) || cidrHas(cidr, o.cidr)))
      if (other !== undefined) fail(n, 'source_cidrs', `agent "${n}": source_cidrs "${text}" overlaps with agent "${other.agent}" source_cidrs`)
      cidrs.push({agent: n, text, cidr})
    }
    const b = p.budget ?? {}
    for (const k of BUDGET_COUNTS) {
      if ((b[k] ?? 0) < 0) fail(n, 'budget', `agent "${n}": budget.${k} must be >= 0`)
    }
    // [ext] The fan-out pair and the weights do nothing alone: refused rather than accepted and ignored.
    if (((b.fan_out_limit ?? 0) > 0) !== ((b.fan_out_window_seconds ?? 0) > 0)) {
      const [set, unset] = (b.fan_out_limit ?? 0) > 0 ? ['fan_out_limit', 'fan_out_window_seconds'] : ['fan_out_window_seconds', 'fan_out_limit']
      fail(n, 'budget', `agent "${n}": budget.${set} needs budget.${unset} > 0 (fan-out is the unique endpoints called within the window)`)
    }
    for (const [tool, w] of Object.entries(b.cost_multipliers ?? {})) {
      if (tool === '' || !Number.isFinite(w) || w < 0) fail(n, 'budget', `agent "${n}": budget.cost_multipliers: "${tool}" wants a tool name and a weight >= 0, got ${w}`)
    }
    if (Object.keys(b.cost_multipliers ?? {}).length > 0 && !((b.max_tool_calls_per_session ?? 0) > 0)) {
      fail(n, 'budget', `agent "${n}": budget.cost_multipliers needs budget.max_tool_calls_per_session > 0 (the weights apply to the call count)`)
    }
    for (const k of ['max_requests_per_minute', 'max_data_per_minute'] as const) {
      if ((p.rate_limit?.[k] ?? 0) < 0) fail(n, 'rate_limit', `agent "${n}": rate_limit.${k} must be >= 0`)
    }
    ;(p.trusted_domains ?? []).forEach((h) => {
      const r = checkHostRule(h)
      if (!r.ok) fail(n, 'trusted_domains', `agent "${n}" trusted_domains: ${r.message}`)
    })
    for (const k of ['allow_read', 'allow_write'] as const) {
      if ((p.sandbox?.filesystem?.[k] ?? []).some((s) => s.trim() === '')) fail(n, 'sandbox', `agent "${n}": sandbox filesystem ${k} contains empty path`)
    }
  }
  for (const n of names) {
    const merged = mergeProfile(c, c.agents[n]!)
    if (merged.mode === 'strict' && merged.api_allowlist.length === 0) fail(n, undefined, `agent "${n}": strict mode requires at least one domain in api_allowlist`)
    const sp = merged.session_profiling
    if (sp.enabled && sp.anomaly_action !== 'block' && sp.anomaly_action !== 'warn') {
      fail(n, 'session_profiling', `agent "${n}": session_profiling.anomaly_action must be "block" or "warn", got "${sp.anomaly_action}"`)
    }
    // A profile's value replaces the base's as written (0 is not read as the default there, as it
    // is at the top level), so its own words say so rather than the top level's.
    for (const k of ['domain_burst', 'volume_spike_ratio'] as const) {
      const v = c.agents[n]!.session_profiling?.[k]
      if (sp.enabled && v !== undefined && !(v > 0)) fail(n, 'session_profiling', `agent "${n}": session_profiling.${k}: must be > 0 (in a profile 0 is not read as the default), got ${v}`)
    }
    try {
      validateMerged(merged)
    } catch (err) {
      if (err instanceof ConfigFieldError) fail(n, undefined, `agent "${n}": ${err.message}`)
      throw err
    }
  }
}

/** The budget's counts and limits (HTTP and denial-of-wallet): none may be negative. */
const BUDGET_COUNTS = [
  'max_requests_per_session', 'max_bytes_per_session', 'max_unique_domains_per_session', 'window_minutes', 'max_tool_calls_per_session', 'max_concurrent_tool_calls',
  'max_wall_clock_minutes', 'max_retries_per_tool', 'max_retries_per_endpoint', 'loop_detection_window', 'fan_out_limit', 'fan_out_window_seconds',
] as const

/**
 * §2.6: a profile over a deep copy of the base. The merged config has no `agents` of its own.
 * `rate_limit` merges field by field with 0 = inherit (the reference replaces both fields and a
 * missing one turns the limiter off — quirk fixed: a profile never silently disables the always-on
 * rate limit).
 */
export function mergeProfile(base: PipelockConfig, p: AgentProfileConfig): PipelockConfig {
  const m = structuredClone({...base, agents: {}}) as PipelockConfig
  if (p.mode !== undefined && p.mode !== '') m.mode = p.mode
  if (p.enforce !== undefined) m.enforce = p.enforce
  if (p.api_allowlist !== undefined) m.api_allowlist = [...p.api_allowlist]
  if (p.trusted_domains !== undefined) m.trusted_domains = [...p.trusted_domains]
  const rl = p.rate_limit
  if (rl !== undefined) {
    if ((rl.max_requests_per_minute ?? 0) > 0) m.fetch_proxy.monitoring.max_requests_per_minute = rl.max_requests_per_minute!
    if ((rl.max_data_per_minute ?? 0) > 0) m.fetch_proxy.monitoring.max_data_per_minute = rl.max_data_per_minute!
  }
  if (p.dlp !== undefined) {
    const own = p.dlp.patterns ?? []
    if (p.dlp.include_defaults === false) m.dlp.patterns = structuredClone(own)
    else {
      const names = new Set(own.map((x) => x.name))
      m.dlp.patterns = [...m.dlp.patterns.filter((x) => !names.has(x.name)), ...structuredClone(own)]
    }
  }
  const sp = p.session_profiling
  if (sp !== undefined) {
    // Replaced unconditionally, as the reference does; the merged config is then validated (§2.5 fix).
    if (sp.domain_burst !== undefined) m.session_profiling.domain_burst = sp.domain_burst
    if (sp.anomaly_action !== undefined) m.session_profiling.anomaly_action = sp.anomaly_action
    if (sp.volume_spike_ratio !== undefined) m.session_profiling.volume_spike_ratio = sp.volume_spike_ratio
  }
  if (p.mcp_tool_policy !== undefined) m.mcp_tool_policy = {...m.mcp_tool_policy, ...structuredClone(p.mcp_tool_policy)} as PipelockConfig['mcp_tool_policy']
  if (p.sandbox !== undefined) {
    const s = p.sandbox
    if (s.enabled !== undefined) m.sandbox.enabled = s.enabled
    if (s.strict !== undefined) m.sandbox.strict = s.strict
    if (s.best_effort !== undefined) m.sandbox.best_effort = s.best_effort
    if (s.workspace !== undefined && s.workspace !== '') m.sandbox.workspace = s.workspace
    if (s.filesystem !== undefined) {
      const f = m.sandbox.filesystem
      m.sandbox.filesystem = {
        allow_read: [...(f?.allow_read ?? []), ...(s.filesystem.allow_read ?? [])],
        allow_write: [...(f?.allow_write ?? []), ...(s.filesystem.allow_write ?? [])],
      }
    }
  }
  if (p.allowed_addresses !== undefined) m.address_protection.allowed_addresses = [...m.address_protection.allowed_addresses, ...p.allowed_addresses]
  return m
}
