/**
 * The injection decision on a response's headers: the agent reads an upstream's headers as well
 * as its body (`X-Note: Ignore all previous instructions…`), so with `response_scanning` on each
 * header is read as the line `name: value` by the body's decision (`decideResponse`: core floor,
 * configured patterns, exempt domains, suppression) and its action. A header cannot be held for
 * an operator, so `ask` blocks; `strip` names the headers to drop instead of rewriting text.
 *
 * Cost: most responses repeat most of their header lines (`content-type`, `server`, `vary`…), so
 * two neighbouring lines this scanner has proven clean together are remembered (`CleanTextMemo`)
 * and cost a lookup. The lines not seen before (`date`, a request id, a cookie) are decided with
 * the lines beside them, in the order they are relayed, as written and as their values alone, so an
 * injection cut across neighbouring headers is read whole even when one part was remembered. A pair is remembered only from a
 * verdict that holds for every upstream: not one reached under `exempt_domains` or a suppression.
 */
import {utf8HeaderValue} from './body-scanner.js'
import type {CleanTextMemo} from './clean-memo.js'
import {matchesAnyDomain} from './domain-match.js'
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
  const lines: string[] = []
  const values: string[] = []
  const owners: string[] = []
  for (const name in headers) {
    const v = headers[name]
    if (v === undefined) continue
    for (const value of typeof v === 'string' ? [v] : v) {
      // Node hands header bytes over as latin1: read a UTF-8 value as the agent's client will.
      const text = utf8HeaderValue(value)
      lines.push(`${name}: ${text}`)
      values.push(text)
      owners.push(name)
    }
  }
  // What is remembered is each line with the one after it: two lines each proven clean beside other
  // neighbours are read together the first time they meet.
  const pairs = lines.length === 1 ? lines : lines.slice(1).map((l, i) => `${lines[i]}\n${l}`)
  const known = pairs.map((p) => memo.has(p))
  const fresh = known.includes(false)
  if (!fresh) return ALLOW
  try {
    const unconditional = opts.suppress === undefined && (opts.host === undefined || matchesAnyDomain(opts.host, sc.settings.responseScanning.exemptDomains) === null)
    let verdict: ResponseHeaderDecision = ALLOW
    for (const [from, to] of runsAroundFresh(known)) {
      // Pairs from..to-1 cover lines from..to (a single line: 0..1).
      const last = Math.min(lines.length, to + 1)
      const d = decideRun(sc, lines.slice(from, last), values.slice(from, last), owners.slice(from, last), opts)
      if (d.action === 'allow') {
        if (unconditional) for (let i = from; i < to; i++) memo.add(pairs[i]!)
        continue
      }
      verdict = combine(verdict, d)
    }
    return verdict
  } catch {
    return {action: 'block', matches: [], reason: 'prompt_injection', layer: 'response_scan', detail: 'response headers could not be scanned'}
  }
}

/** The index ranges [from, to) of pairs covering each pair not remembered and the pairs beside it, merged where they touch. */
function runsAroundFresh(known: readonly boolean[]): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  for (let i = 0; i < known.length; i++) {
    if (known[i]) continue
    const from = Math.max(0, i - 1)
    const to = Math.min(known.length, i + 2)
    const last = runs.at(-1)
    if (last !== undefined && from <= last[1]) last[1] = to
    else runs.push([from, to])
  }
  return runs
}

/** Two runs' verdicts as one: a block wins; strips drop both runs' headers; a warn joins a strip's matches. */
function combine(a: ResponseHeaderDecision, b: ResponseHeaderDecision): ResponseHeaderDecision {
  if (a.action === 'allow') return b
  if (a.action === 'block') return a
  if (b.action === 'block') return b
  const matches = [...a.matches, ...b.matches]
  const drop = [...(a.action === 'strip' ? a.drop : []), ...(b.action === 'strip' ? b.drop : [])]
  return a.action === 'strip' || b.action === 'strip' ? {action: 'strip', matches, drop: [...new Set(drop)]} : {action: 'warn', matches}
}

/**
 * The decision on neighbouring header lines as written, then, when clean, on their values alone:
 * as written the next header's name stands between two halves of a phrase
 * (`x-a: Ignore all previous` / `x-b: instructions…`), which no pattern reads across, while a
 * client that shows or joins the values reads the phrase whole.
 */
function decideLines(sc: ResponseScanner, lines: readonly string[], values: readonly string[], opts: Pick<ResponseDecisionOptions, 'host' | 'suppress'>) {
  const d = decideResponse(sc, lines.join('\n'), opts)
  return d.action !== 'allow' || values.length < 2 ? d : decideResponse(sc, values.join('\n'), opts)
}

function decideRun(
  sc: ResponseScanner,
  lines: readonly string[],
  values: readonly string[],
  owners: readonly string[],
  opts: Pick<ResponseDecisionOptions, 'host' | 'suppress'>,
): ResponseHeaderDecision {
  // No approver: an `ask` decides as a block.
  const d = decideLines(sc, lines, values, opts)
  if (d.action === 'allow') return ALLOW
  const names = [...new Set(d.matches.map((m) => m.pattern))].join(', ')
  const block: ResponseHeaderDecision = {action: 'block', matches: d.matches, reason: 'prompt_injection', layer: 'response_scan', detail: `response header contains injection: ${names}`}
  if (d.action === 'warn') return d
  if (d.action !== 'strip') return block
  // Strip drops each header whose own line holds a finding; an injection the kept lines still hold
  // together cannot be dropped header by header, so it blocks (as a strip that removes nothing does).
  const drop = new Set<string>()
  for (let i = 0; i < lines.length; i++) if (decideResponse(sc, lines[i]!, opts).action !== 'allow') drop.add(owners[i]!)
  const keep = (_: string, i: number): boolean => !drop.has(owners[i]!)
  const kept = lines.filter(keep)
  if (drop.size === 0 || (kept.length > 0 && decideLines(sc, kept, values.filter(keep), opts).action !== 'allow')) return block
  return {action: 'strip', matches: d.matches, drop: [...drop]}
}
