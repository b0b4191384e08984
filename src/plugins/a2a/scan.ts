/**
 * The one A2A scan (scanners-extra §2.4–§2.8), shared by every place that sees A2A traffic: the
 * request gate's `a2a` stage (forward and intercepted requests), the response transforms (Agent
 * Cards and A2A responses on fetch-free HTTP paths) and the MCP HTTP listener. It returns a
 * verdict; the caller applies `action` (warn logs, block answers) the way its transport answers.
 */
import type {PipelockConfig} from '../config/index.js'
import {authFingerprint, cardSemanticHash, CardBaseline} from './card.js'
import {ContextTracker} from './context-tracker.js'
import {allStrings, BudgetExceeded, collectLeaves, emptyFindings, isDirty, scanLeaves, type A2aFindings, type A2aScanners} from './walker.js'

export interface A2aSettings {
  readonly enabled: boolean
  readonly action: 'warn' | 'block'
  readonly scanAgentCards: boolean
  readonly detectCardDrift: boolean
  readonly sessionSmuggling: boolean
  readonly maxContextMessages: number
  readonly maxContexts: number
  readonly scanRawParts: boolean
  readonly maxRawSize: number
}

export function a2aSettingsFromConfig(c: PipelockConfig['a2a_scanning']): A2aSettings {
  return {
    enabled: c.enabled,
    action: c.action === 'block' ? 'block' : 'warn',
    scanAgentCards: c.scan_agent_cards,
    detectCardDrift: c.detect_card_drift,
    sessionSmuggling: c.session_smuggling_detection,
    maxContextMessages: c.max_context_messages > 0 ? c.max_context_messages : 100,
    maxContexts: c.max_contexts > 0 ? c.max_contexts : 1000,
    scanRawParts: c.scan_raw_parts,
    maxRawSize: c.max_raw_size > 0 ? c.max_raw_size : 1024 * 1024,
  }
}

export interface A2aVerdict {
  readonly clean: boolean
  readonly action: 'warn' | 'block'
  /** `a2a: …` naming finding kinds and pattern names, never a matched value. */
  readonly reason: string
  /** Every finding is a URL finding (an SSRF/blocklist policy answer, not content). */
  readonly urlOnly: boolean
}

const CLEAN: A2aVerdict = {clean: true, action: 'warn', reason: '', urlOnly: false}

/** Process-lifetime A2A state: the card baseline and the context tracker (kept across reloads). */
export class A2aState {
  readonly baseline = new CardBaseline()
  private tracker: ContextTracker | null = null

  trackerFor(s: A2aSettings): ContextTracker {
    const limits = {maxMessages: s.maxContextMessages, maxContexts: s.maxContexts}
    if (this.tracker === null) this.tracker = new ContextTracker(limits)
    else this.tracker.setLimits(limits)
    return this.tracker
  }
}

function reasonOf(f: A2aFindings): string {
  const parts: string[] = []
  if (f.urlFindings > 0) parts.push(`${f.urlFindings} URL/SSRF finding(s)`)
  if (f.injection.size > 0) parts.push(`injection: ${[...f.injection].sort().join(', ')}`)
  if (f.dlp.size > 0) parts.push(`DLP: ${[...f.dlp].sort().join(', ')}`)
  parts.push(...f.notes)
  return parts.length === 0 ? 'a2a: finding detected' : `a2a: ${parts.join('; ')}`
}

function verdict(s: A2aSettings, f: A2aFindings): A2aVerdict {
  if (!isDirty(f)) return CLEAN
  return {clean: false, action: s.action, reason: reasonOf(f), urlOnly: f.injection.size === 0 && f.dlp.size === 0 && f.notes.length === 0}
}

function parseJson(text: string): {ok: true; value: unknown} | {ok: false} {
  try {
    return {ok: true, value: JSON.parse(text) as unknown}
  } catch {
    return {ok: false}
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const rec = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null)

/** contextId / taskId of a message, a JSON-RPC request or response, or a bare task. */
function idsOf(root: unknown): {contextId: string; taskId: string} {
  const r = rec(root)
  const params = rec(r?.params)
  const result = rec(r?.result)
  const places = [rec(params?.message), params, rec(result?.message), rec(result?.status) !== null ? rec(rec(result!.status)!.message) : null, result, rec(r?.message), r]
  let contextId = ''
  let taskId = ''
  for (const p of places) {
    if (p === null) continue
    if (contextId === '') contextId = str(p.contextId)
    if (taskId === '') taskId = str(p.taskId) || (p === result ? str(p.id) : '')
  }
  return {contextId, taskId}
}

/** Walk + raw fallback over a parsed body; budget exhaustion drops earlier findings (§2.4). */
async function walkFindings(value: unknown, s: A2aSettings, scanners: A2aScanners): Promise<{f: A2aFindings; texts: string[]}> {
  const f = emptyFindings()
  let leaves
  try {
    leaves = collectLeaves(value, {scanRawParts: s.scanRawParts, maxRawSize: s.maxRawSize}, f.notes)
  } catch (e) {
    if (!(e instanceof BudgetExceeded)) throw e
    const b = emptyFindings()
    b.notes.push('payload exceeded node budget')
    return {f: b, texts: []}
  }
  await scanLeaves(leaves, scanners, f)
  // A secret split over two fields: one DLP pass over every string joined (§2.4 raw fallback).
  if (!isDirty(f)) for (const n of scanners.dlp(allStrings(value).join('\n'))) f.dlp.add(n)
  return {f, texts: leaves.filter((l) => l.cls === 'text').map((l) => l.value)}
}

/**
 * An A2A message, task or JSON-RPC body. Not JSON on an A2A endpoint: scanned as opaque text
 * (injection + DLP; the reference lets it through unscanned, §2.4 fix). With smuggling detection
 * on, the body's texts join its context (§2.7) within `scope` (the caller: session key or client IP).
 */
export async function scanA2aBody(body: string, s: A2aSettings, scanners: A2aScanners, state: A2aState, scope = ''): Promise<A2aVerdict> {
  if (body.trim() === '') return CLEAN
  const parsed = parseJson(body)
  if (!parsed.ok) {
    const f = emptyFindings()
    for (const n of scanners.injection(body)) f.injection.add(n)
    for (const n of scanners.dlp(body)) f.dlp.add(n)
    return verdict(s, f)
  }
  const {f, texts} = await walkFindings(parsed.value, s, scanners)
  if (isDirty(f)) return verdict(s, f)
  if (s.sessionSmuggling && texts.length > 0) {
    const tracker = state.trackerFor(s)
    const ids = idsOf(parsed.value)
    // Context ids are chosen by the agents: scoped to the caller so two callers never share one.
    const smuggled = tracker.observe(`${scope}\u0000${tracker.contextOf(ids.contextId, ids.taskId)}`, texts, scanners.injection)
    if (smuggled !== null) return {clean: false, action: s.action, reason: smuggled, urlOnly: false}
  }
  return CLEAN
}

/**
 * An Agent Card (§2.6): skill descriptions and every other field through the walk when
 * `scan_agent_cards`; drift against the first card seen for (URL, Authorization fingerprint)
 * when `detect_card_drift` (drift overrides the walk's reason).
 */
export async function scanAgentCard(body: string, url: string, authorization: string | undefined, s: A2aSettings, scanners: A2aScanners, state: A2aState): Promise<A2aVerdict> {
  const parsed = parseJson(body)
  const card = parsed.ok ? rec(parsed.value) : null
  let v: A2aVerdict = CLEAN
  if (s.scanAgentCards) {
    if (parsed.ok) v = verdict(s, (await walkFindings(parsed.value, s, scanners)).f)
    else v = await scanA2aBody(body, {...s, sessionSmuggling: false}, scanners, state)
  }
  if (card === null) return v.clean ? v : {...v, reason: 'a2a: unparseable Agent Card'}
  if (s.detectCardDrift && state.baseline.check(url, authFingerprint(authorization), cardSemanticHash(card)) === 'drift') {
    return {clean: false, action: s.action, reason: 'a2a: Agent Card drift detected', urlOnly: false}
  }
  return v
}

/** §2.4 header scan: every `A2A-Extensions` line (the reference reads only the first), each URI through the URL scan. */
export async function scanA2aExtensions(values: readonly string[], s: A2aSettings, scanners: A2aScanners): Promise<A2aVerdict> {
  for (const line of values) {
    for (const uri of line.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      if (!(await scanners.url(uri)).allowed) return {clean: false, action: s.action, reason: 'a2a: A2A-Extensions header contains blocked URI', urlOnly: true}
    }
  }
  return CLEAN
}
