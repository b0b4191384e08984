/**
 * Reload downgrades of sections that need more than a switch, a list or a number (taint and A2A
 * scanning, in the reference's words of policy-extra §1.11 and scanners-extra §2.2; the MCP tool
 * policy and response action; Browser Shield), compared by `reloadDowngrades` next to the
 * field-by-field lists of reload-policy.ts.
 */
import {formatSecondsZ, fromEpochNanos} from '../canonical/index.js'
import {BUILTIN_TOOL_POLICY_RULES} from './builtin-tool-policy.js'
import type {PipelockConfig} from './schema.js'

type Taint = PipelockConfig['taint']

/** policy-extra §1.11: strict 3 > balanced 2 > permissive 1 (permissive behaves as balanced, but ranks lower). */
const TAINT_POLICY_RANK: Record<string, number> = {strict: 3, balanced: 2, permissive: 1}

/** The reference's key of a trust override: lower-cased, trimmed matchers (policy-extra §1.11). */
function overrideKey(o: Taint['trust_overrides'][number]): string {
  const scope = o.scope.trim().toLowerCase()
  const source = (o.source_match ?? '').trim().toLowerCase()
  const action = (o.action_match ?? '').trim().toLowerCase()
  // The reference keys a source override by its source and an action override by its action
  // only, so dropping the optional other matcher (the override then fires more widely) kept the
  // key and went unreported. Here the optional matcher is part of the key when it is set: the
  // usual overrides keep the reference's keys, a narrower-to-wider edit reads as an added one.
  if (scope === 'source' && action === '') return `scope=source source=${source}`
  if (scope === 'action' && source === '') return `scope=action action=${action}`
  return `scope=${scope} source=${source} action=${action}`
}

/** The latest expiry per override key (an override can be listed twice; the later one decides). */
function latestExpiry(overrides: Taint['trust_overrides']): Map<string, number> {
  const out = new Map<string, number>()
  for (const o of overrides) {
    const key = overrideKey(o)
    const at = Date.parse(o.expires_at)
    if (!out.has(key) || at > out.get(key)!) out.set(key, at)
  }
  return out
}

/**
 * policy-extra §1.11, in the reference's words: taint turned off; and, with taint on in both, the
 * policy ranked lower, allowlisted source domains added, protected or elevated path patterns
 * removed, and trust overrides added or lasting longer.
 */
export function taintDowngrades(t0: Taint, t1: Taint, out: string[]): void {
  if (t0.enabled && !t1.enabled) out.push('taint-aware policy escalation disabled')
  if (!(t0.enabled && t1.enabled)) return
  const [p0, p1] = [t0.policy === '' ? 'balanced' : t0.policy, t1.policy === '' ? 'balanced' : t1.policy]
  if ((TAINT_POLICY_RANK[p1] ?? 0) < (TAINT_POLICY_RANK[p0] ?? 0)) out.push(`taint policy downgraded from ${p0} to ${p1}`)
  const allowed = new Set(t0.allowlisted_domains)
  const added = t1.allowlisted_domains.filter((d) => !allowed.has(d))
  if (added.length > 0) out.push(`taint allowlisted domains added: ${added.join(', ')} — these sources now downgrade from untrusted to allowlisted`)
  for (const [k, word] of [['protected_paths', 'protected'], ['elevated_paths', 'elevated']] as const) {
    const kept = new Set(t1[k])
    const removed = t0[k].filter((p) => !kept.has(p))
    if (removed.length > 0) out.push(`taint ${word} paths removed: ${removed.join(', ')} — fewer actions are treated as ${word} under taint`)
  }
  const before = latestExpiry(t0.trust_overrides)
  const loosened: string[] = []
  for (const [key, at] of latestExpiry(t1.trust_overrides)) {
    const was = before.get(key)
    if (was === undefined) loosened.push(key)
    else if (at > was) loosened.push(`${key} expires_at=${formatSecondsZ(fromEpochNanos(BigInt(at) * 1_000_000n))}`)
  }
  if (loosened.length > 0) out.push(`taint trust overrides added: ${loosened.join(', ')}`)
}

/**
 * The MCP sections as an MCP transport runs them (mcp.md §14.2): a section left unconfigured is
 * auto-enabled (input scanning and tool scanning in block mode, the tool policy in warn mode
 * with the built-in rules), so a reload that writes such a section is compared with what ran,
 * not with the `enabled: false` on file. A run without an MCP listener reads them as on file, or
 * not at all (`DowngradeScope`, given by the run).
 */
export function mcpAsRun(c: PipelockConfig): PipelockConfig {
  const [inp, ts, tp] = [c.mcp_input_scanning, c.mcp_tool_scanning, c.mcp_tool_policy]
  const input = !inp.enabled && inp.action === '' ? {...inp, enabled: true, action: 'block'} : inp
  const tools = !ts.enabled && ts.action === '' ? {...ts, enabled: true, action: 'block', detect_drift: true} : ts
  const policy = !tp.enabled && tp.action === '' && tp.rules.length === 0 ? {...tp, enabled: true, action: 'warn', rules: BUILTIN_TOOL_POLICY_RULES.map((r) => ({...r}))} : tp
  if (input === inp && tools === ts && policy === tp) return c
  return {...c, mcp_input_scanning: input, mcp_tool_scanning: tools, mcp_tool_policy: policy}
}

/** Tool-policy actions, strictest first: a redirect still runs something, a warn runs the call. */
const TOOL_ACTION_RANK: Record<string, number> = {block: 3, redirect: 2, warn: 1}

type ToolPolicy = PipelockConfig['mcp_tool_policy']

/**
 * The tool policy while it is on in both configs: its default action ranked lower; rules
 * compared by name — removed (`tool policy rules reduced from N to M`, the reference's words,
 * when the count drops; a same-count rename is named as a removal too), a changed pattern (like
 * a DLP regex, an edit cannot be shown to still match what it did) and a rule's effective action
 * ranked lower where either config gives the rule its own action (an inherited one moves with
 * the default action, reported once); a rule that redirects in both sending its calls to another
 * handler, or to its handler edited; redirect rules reordered (`redirectOrderDowngrades`).
 */
export function toolPolicyDowngrades(p0: ToolPolicy, p1: ToolPolicy, out: string[]): void {
  if (!(p0.enabled && p1.enabled)) return
  const [a0, a1] = [p0.action === '' ? 'warn' : p0.action, p1.action === '' ? 'warn' : p1.action]
  if ((TOOL_ACTION_RANK[a1] ?? 0) < (TOOL_ACTION_RANK[a0] ?? 0)) out.push(`mcp_tool_policy.action: ${a0} -> ${a1}`)
  const now = new Map(p1.rules.map((r) => [r.name, r]))
  const removed = p0.rules.filter((r) => !now.has(r.name)).map((r) => JSON.stringify(r.name))
  const [n, m] = [p0.rules.length, p1.rules.length]
  const names = removed.length > 5 ? `${removed.slice(0, 5).join(', ')} and ${removed.length - 5} more` : removed.join(', ')
  if (m < n) out.push(`tool policy rules reduced from ${n} to ${m}${removed.length > 0 ? ` (removed ${names})` : ''}`)
  else if (removed.length > 0) out.push(`mcp_tool_policy.rules: ${n} -> ${m} rules (removed ${names})`)
  const handlers: string[] = []
  for (const r0 of p0.rules) {
    const r1 = now.get(r0.name)
    if (r1 === undefined) continue
    const at = `mcp_tool_policy.rules[${JSON.stringify(r0.name)}]`
    for (const k of ['tool_pattern', 'arg_pattern', 'arg_key'] as const) {
      if ((r0[k] ?? '') !== (r1[k] ?? '')) out.push(`${at}.${k}: changed (an edited regex may no longer match what it did)`)
    }
    const [own0, own1] = [r0.action ?? '', r1.action ?? '']
    const [e0, e1] = [own0 === '' ? a0 : own0, own1 === '' ? a1 : own1]
    if (e0 === 'redirect' && e1 === 'redirect') redirectDowngrades(p0, p1, r0, r1, at, handlers, out)
    if (own0 === '' && own1 === '') continue
    if ((TOOL_ACTION_RANK[e1] ?? 0) < (TOOL_ACTION_RANK[e0] ?? 0)) out.push(`${at}.action: ${e0} -> ${e1}`)
  }
  redirectOrderDowngrades(p0, p1, a0, a1, out)
  out.push(...handlers)
}

/**
 * Redirect rules reordered: a call that several redirecting rules match goes to the handler of
 * the first of them (mcp.md §8.3), so two rules that redirect in both configs, swapped, send the
 * calls both match to the other's handler — a downgrade when that handler is looser than the one
 * they went to (`handlerLoosened`). Whether any call matches both cannot be known from the
 * patterns, so each such pair is said (the first five, then how many more).
 */
function redirectOrderDowngrades(p0: ToolPolicy, p1: ToolPolicy, a0: string, a1: string, out: string[]): void {
  const redirecting = (p: ToolPolicy, dflt: string): Map<string, {at: number; profile: string}> => {
    const m = new Map<string, {at: number; profile: string}>()
    p.rules.forEach((r, at) => {
      const action = (r.action ?? '') === '' ? dflt : r.action
      if (action === 'redirect' && !m.has(r.name)) m.set(r.name, {at, profile: r.redirect_profile ?? ''})
    })
    return m
  }
  const [was, now] = [redirecting(p0, a0), redirecting(p1, a1)]
  const both = [...was.keys()].filter((n) => now.has(n))
  const lines: string[] = []
  for (const x of both) {
    for (const y of both) {
      // x went first and now y does: calls both match went to x's handler, now to y's.
      if (!(was.get(x)!.at < was.get(y)!.at && now.get(y)!.at < now.get(x)!.at)) continue
      const [from, to] = [was.get(x)!.profile, now.get(y)!.profile]
      // One handler either way: an edit of it is said once, with the profiles.
      if (from === to) continue
      const h1 = Object.hasOwn(p1.redirect_profiles, to) ? p1.redirect_profiles[to]! : undefined
      if (h1 === undefined) continue
      const why = handlerLoosened(Object.hasOwn(p0.redirect_profiles, from) ? p0.redirect_profiles[from] : undefined, h1)
      if (why.length > 0) lines.push(`mcp_tool_policy.rules: ${JSON.stringify(y)} now before ${JSON.stringify(x)} (a call both match goes to ${JSON.stringify(to)} instead of ${JSON.stringify(from)}: ${why.join('; ')})`)
    }
  }
  out.push(...lines.slice(0, 5))
  if (lines.length > 5) out.push(`mcp_tool_policy.rules: ${lines.length - 5} more reordered redirect rules send calls to a looser handler`)
}

type RedirectProfile = ToolPolicy['redirect_profiles'][string]

/**
 * How a redirect handler differs, in what decides what a redirected call does: the command it
 * runs (an edited one cannot be shown to still refuse what it refused) and whether it is handed
 * the call's arguments. `reason` is only a label, `match_abs_path` only a load check.
 */
function handlerLoosened(h0: RedirectProfile | undefined, h1: RedirectProfile): string[] {
  // No handler before (validation refuses that): the call failed closed to block.
  if (h0 === undefined) return ['calls that failed closed to block now run a handler']
  const out: string[] = []
  if (h0.exec.length !== h1.exec.length || h0.exec.some((a, i) => a !== h1.exec[i])) out.push('exec: changed (an edited handler may no longer refuse what it did)')
  if (h0.preserve_argv !== true && h1.preserve_argv === true) out.push('preserve_argv: false -> true (the handler now gets the call\'s arguments)')
  return out
}

/**
 * A rule that redirects in both configs: the calls it matches go to another handler, or to its
 * handler edited (`redirect_profiles` compared by name, each edited profile said once, after the
 * rules). A profile removed is judged by what its rules do now (removed, blocking, warning or
 * redirecting elsewhere: each is its own line or tightens).
 */
function redirectDowngrades(p0: ToolPolicy, p1: ToolPolicy, r0: ToolPolicy['rules'][number], r1: ToolPolicy['rules'][number], at: string, handlers: string[], out: string[]): void {
  const [n0, n1] = [r0.redirect_profile ?? '', r1.redirect_profile ?? '']
  const h1 = Object.hasOwn(p1.redirect_profiles, n1) ? p1.redirect_profiles[n1]! : undefined
  // An unknown profile fails closed to block (validation refuses it anyway).
  if (h1 === undefined) return
  const h0 = Object.hasOwn(p0.redirect_profiles, n0) ? p0.redirect_profiles[n0] : undefined
  const why = handlerLoosened(h0, h1)
  if (why.length === 0) return
  if (n0 !== n1) {
    out.push(`${at}.redirect_profile: ${JSON.stringify(n0)} -> ${JSON.stringify(n1)} (${why.join('; ')})`)
    return
  }
  for (const w of why) {
    const line = `mcp_tool_policy.redirect_profiles[${JSON.stringify(n1)}].${w}`
    if (!handlers.includes(line)) handlers.push(line)
  }
}

/** The action on injection in MCP server messages as the MCP runtime settles it (docs/mcp.md). */
function mcpResponseAction(rs: PipelockConfig['response_scanning']): string {
  if (rs.mcp_action !== undefined && rs.mcp_action !== '') return rs.mcp_action
  return rs.action === 'warn' || rs.action === '' ? 'block' : rs.action
}

/**
 * `response_scanning.mcp_action` leaving block, or becoming warn, as settled. Compared only when
 * one of the configs sets it: otherwise it follows `response_scanning.action`, whose own line
 * already says it.
 */
export function mcpResponseDowngrades(r0: PipelockConfig['response_scanning'], r1: PipelockConfig['response_scanning'], out: string[]): void {
  if ((r0.mcp_action ?? '') === '' && (r1.mcp_action ?? '') === '') return
  const [a0, a1] = [mcpResponseAction(r0), mcpResponseAction(r1)]
  if (a0 !== a1 && (a0 === 'block' || a1 === 'warn')) out.push(`response_scanning.mcp_action: ${a0} -> ${a1}`)
}

/** scanners-extra §2.2: the reference's reload warnings, field → words (true → false). */
export const A2A_SWITCHES: readonly (readonly [keyof PipelockConfig['a2a_scanning'], string])[] = [
  ['scan_agent_cards', 'A2A Agent Card scanning disabled'],
  ['detect_card_drift', 'A2A Agent Card drift detection disabled'],
  ['session_smuggling_detection', 'A2A session smuggling detection disabled'],
  ['scan_raw_parts', 'A2A raw part scanning disabled — text-like attachments will not be scanned'],
]

/**
 * A2A scanning in the reference's words: turned off, and, while on in both, its action block →
 * warn (empty = warn) or one of its checks turned off.
 */
export function a2aDowngrades(a0: PipelockConfig['a2a_scanning'], a1: PipelockConfig['a2a_scanning'], out: string[]): void {
  if (a0.enabled && !a1.enabled) out.push('A2A scanning disabled')
  if (!(a0.enabled && a1.enabled)) return
  if (a0.action === 'block' && a1.action !== 'block') out.push('A2A scanning action downgraded from block to warn')
  for (const [k, words] of A2A_SWITCHES) if (a0[k] === true && a1[k] === false) out.push(words)
}

const SHIELD_STRICTNESS_RANK: Record<string, number> = {aggressive: 3, standard: 2, minimal: 1}
/** What a body over `max_shield_bytes` gets: refused, rewritten in its head only, or passed. */
const SHIELD_OVERSIZE_RANK: Record<string, number> = {block: 3, scan_head: 2, warn: 1}

/**
 * Browser Shield made less aggressive while on in both configs (turning it off is a switch): a
 * lower `strictness` (empty = standard), an `oversize_action` letting more through (empty =
 * scan_head), a rewrite turned off, `exempt_domains` growth, `tracking_domains` shrinking. The
 * reference warns about none of these (scanners-extra §3.2).
 */
export function shieldDowngrades(s0: PipelockConfig['browser_shield'], s1: PipelockConfig['browser_shield'], out: string[]): void {
  if (!(s0.enabled && s1.enabled)) return
  const ranked = (k: 'strictness' | 'oversize_action', rank: Record<string, number>, empty: string): void => {
    const [v0, v1] = [s0[k] === '' ? empty : s0[k], s1[k] === '' ? empty : s1[k]]
    if ((rank[v1] ?? 0) < (rank[v0] ?? 0)) out.push(`browser_shield.${k}: ${v0} -> ${v1}`)
  }
  ranked('strictness', SHIELD_STRICTNESS_RANK, 'standard')
  ranked('oversize_action', SHIELD_OVERSIZE_RANK, 'scan_head')
  for (const k of ['strip_extension_probing', 'strip_hidden_traps', 'strip_tracking_pixels', 'inject_fingerprint_shims'] as const) {
    if (s0[k] && !s1[k]) out.push(`browser_shield.${k}: true -> false`)
  }
  const exempt = new Set(s0.exempt_domains)
  const added = s1.exempt_domains.filter((d) => !exempt.has(d))
  if (added.length > 0) out.push(`browser_shield.exempt_domains: added ${added.join(', ')}`)
  const tracked = new Set(s1.tracking_domains)
  const removed = s0.tracking_domains.filter((d) => !tracked.has(d))
  if (removed.length > 0) out.push(`browser_shield.tracking_domains: removed ${removed.join(', ')}`)
}
