/**
 * The injection decision on a response's headers: the agent reads an upstream's headers as well
 * as its body (`X-Note: Ignore all previous instructions…`), so with `response_scanning` on each
 * header is read as the line `name: value` by the body's decision (`decideResponse`: core floor,
 * configured patterns, exempt domains, suppression) and its action. A header cannot be held for
 * an operator, so `ask` blocks; `strip` names the headers to drop instead of rewriting text.
 *
 * Cost: most responses repeat most of their header lines (`content-type`, `server`, `vary`…), so
 * a line this scanner has proven clean is remembered (`CleanTextMemo`) and costs a lookup; the
 * lines not seen before (`date`, a request id, a cookie) are decided together, as one text, so
 * an injection split across them is read whole.
 */
import {utf8HeaderValue} from './body-scanner.js'
import type {CleanTextMemo} from './clean-memo.js'
import {decideResponse, type ResponseDecisionOptions, type ResponseMatch, type ResponseScanner} from './response-scanner.js'

/** A response's headers as the upstream client hands them over (names lower-cased). */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>

export type ResponseHeaderDecision =
  | {readonly action: 'allow' | 'warn'; readonly matches: readonly ResponseMatch[]}
  | {readonly action: 'strip'; readonly matches: readonly ResponseMatch[]; readonly drop: readonly string[]}
  | {readonly action: 'block'; readonly matches: readonly ResponseMatch[]; readonly reason: 'prompt_injection'; readonly layer: 'response_scan'; readonly detail: string}

const ALLOW: ResponseHeaderDecision = {action: 'allow', matches: []}

/** The decision on `headers` (allow at once with `response_scanning` off). Never throws: a failure blocks. */
export function decideResponseHeaders(sc: ResponseScanner, memo: CleanTextMemo, headers: ResponseHeaders, opts: Pick<ResponseDecisionOptions, 'host' | 'suppress'> = {}): ResponseHeaderDecision {
  if (!sc.settings.responseScanning.enabled) return ALLOW
  let fresh: string[] | null = null
  let owners: string[] | null = null
  for (const name in headers) {
    const v = headers[name]
    if (v === undefined) continue
    for (const value of typeof v === 'string' ? [v] : v) {
      // Node hands header bytes over as latin1: read a UTF-8 value as the agent's client will.
      const line = `${name}: ${utf8HeaderValue(value)}`
      if (memo.has(line)) continue
      ;(fresh ??= []).push(line)
      ;(owners ??= []).push(name)
    }
  }
  if (fresh === null) return ALLOW
  try {
    return decideFresh(sc, memo, fresh, owners!, opts)
  } catch {
    return {action: 'block', matches: [], reason: 'prompt_injection', layer: 'response_scan', detail: 'response headers could not be scanned'}
  }
}

function decideFresh(sc: ResponseScanner, memo: CleanTextMemo, lines: readonly string[], owners: readonly string[], opts: Pick<ResponseDecisionOptions, 'host' | 'suppress'>): ResponseHeaderDecision {
  // No approver: an `ask` decides as a block.
  const d = decideResponse(sc, lines.join('\n'), opts)
  if (d.action === 'allow') {
    for (const l of lines) memo.add(l)
    return ALLOW
  }
  const names = [...new Set(d.matches.map((m) => m.pattern))].join(', ')
  const block: ResponseHeaderDecision = {action: 'block', matches: d.matches, reason: 'prompt_injection', layer: 'response_scan', detail: `response header contains injection: ${names}`}
  if (d.action === 'warn') return d
  if (d.action !== 'strip') return block
  // Strip drops each header whose own line holds a finding; an injection the kept lines still hold
  // together cannot be dropped header by header, so it blocks (as a strip that removes nothing does).
  const drop = new Set<string>()
  for (let i = 0; i < lines.length; i++) if (decideResponse(sc, lines[i]!, opts).action !== 'allow') drop.add(owners[i]!)
  const kept = lines.filter((_, i) => !drop.has(owners[i]!))
  if (drop.size === 0 || (kept.length > 0 && decideResponse(sc, kept.join('\n'), opts).action !== 'allow')) return block
  return {action: 'strip', matches: d.matches, drop: [...drop]}
}
