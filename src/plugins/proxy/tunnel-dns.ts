/**
 * One DNS answer per CONNECT tunnel (bench: connect). The URL scan's SSRF stage (§5, stage 14) resolves
 * the tunnel's host, and the SSRF-safe dial (§5.14) used to resolve it again a few microseconds
 * later: a second `getaddrinfo` on the thread pool, its hand-offs and its completion callback, per
 * tunnel. Here the dial takes the answer the scan got instead. Nothing is trusted because of where
 * it came from: the dial re-validates every address of that answer exactly as it validates a fresh
 * one (`resolveValidated`) and connects only to the address it validated, so what changes is only
 * that scan and dial now judge the same answer (no DNS change can slip between them).
 *
 * The answer is used once and only for the very host string the scan asked about; any other host
 * (a spelling the scan canonicalised differently), a second dial, or a scan that never resolved
 * (an IP literal, SSRF checks off) gets a fresh lookup, as before.
 */
import {getaddrinfoAll, systemLookupAll, type LookupAll} from './ssrf-dialer.js'

export class TunnelLookup {
  private host: string | null = null
  private answer: Promise<string[]> | null = null

  /**
   * `lookup`: the dial's fresh lookups; `scanLookup`: the scan's (by default the same). The URL
   * scan bounds every resolver call with its own DNS timeout (stage 14), so `forTunnel` gives it
   * a lookup without a second timer; an answer the dial takes from it had already arrived within
   * the scan's bound (a scan that timed out blocked the tunnel: no dial).
   */
  constructor(
    private readonly lookup: LookupAll = systemLookupAll,
    private readonly scanLookup: LookupAll = lookup,
  ) {}

  /** A CONNECT's lookup: the system resolver, the scan's call without a timer of its own (one 5 s bound, the scan's). */
  static forTunnel(): TunnelLookup {
    return new TunnelLookup(systemLookupAll, getaddrinfoAll)
  }

  /** The URL scan's resolver: resolves through `scanLookup` and keeps the answer for the dial. */
  readonly resolver = (host: string): Promise<string[]> => {
    const answer = this.scanLookup(host)
    this.host = host
    this.answer = answer
    return answer
  }

  /** The dial's lookup: the scan's answer when it asked about this host, once; otherwise a fresh lookup. */
  readonly lookupAll = (host: string): Promise<string[]> => {
    const answer = this.answer
    if (answer === null || host !== this.host) return this.lookup(host)
    this.answer = null
    this.host = null
    return answer
  }
}
