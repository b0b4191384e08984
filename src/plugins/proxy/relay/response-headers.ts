/**
 * The injection scan of an upstream response's headers, run by every transport that relays them
 * (forward, intercepted and reverse; /fetch answers with the Content-Type alone, which its
 * `response_scan` stage reads) once the upstream has answered, before any body is relayed — a
 * HEAD, 204 or 304, an SSE stream and a streamed body carry headers too. The scanner decides the
 * header lines as it decides a body (`Scanner.decideResponseHeaders`, `response_scanning` policy
 * and action) and the body's settlement answers it (relay/response-scan.ts): a block is the
 * transport's block answer (recorded, with the block-reason headers); a strip drops the headers
 * that hold the finding; a warn is upgraded at the session's escalation level or logged.
 */
import type {ResponseHeaders, Suppressor} from '../../scanner/index.js'
import type {ProxySnapshot} from '../state.js'
import {settleResponseScan, type ResponseScanSubject} from './response-scan.js'

export interface ResponseHeaderScan extends ResponseScanSubject {
  readonly snap: ProxySnapshot
  /** The upstream's host, for `response_scanning.exempt_domains`. */
  readonly upstreamHost: string
  /** The response scans' finding suppression (operations.md §4.3). */
  readonly suppress?: Suppressor | undefined
}

/**
 * The headers to relay: `headers` itself when nothing was dropped, a copy without the stripped
 * headers, or null when the response was blocked (answered through `s.block`; the caller drops
 * the upstream body).
 */
export function screenResponseHeaders<H extends ResponseHeaders>(s: ResponseHeaderScan, headers: H): H | null {
  const d = s.snap.scanner.decideResponseHeaders(headers, {host: s.upstreamHost, ...(s.suppress ? {suppress: s.suppress} : {})})
  if (d.action === 'allow') return headers
  if (settleResponseScan(s, d) === null) return null
  if (d.action !== 'strip') return headers
  const kept: Record<string, string | string[] | undefined> = {...headers}
  for (const name of d.drop) delete kept[name]
  s.ports.audit.event('warn', 'response_scan', 'response headers with injection dropped (strip)', {url: s.shown, headers: d.drop, patterns: [...new Set(d.matches.map((m) => m.pattern))], request_id: s.b.requestId, agent: s.b.agent})
  return kept as H
}
