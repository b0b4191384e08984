/**
 * SSRF-safe dialing (§5.14): resolve the host ourselves, re-validate EVERY resolved address
 * against the merged check set (configured `internal` ∪ the core floor — §24 #3 fixed), honour
 * `trusted_domains` and `ssrf.ip_allowlist`, then connect to the first validated address. The
 * connection goes to the IP we checked, so a DNS answer that changes between scan and dial
 * (rebinding) cannot redirect it. TLS keeps the original name for SNI and verification.
 */
import {lookup} from 'node:dns/promises'
import net from 'node:net'
import tls from 'node:tls'
import type {Agent as UndiciAgent, buildConnector as UndiciConnector} from 'undici'
import {Agent, buildConnector} from '../dispatch/index.js'
import {timedOutError} from '../errors/index.js'
import {cidrContains, formatIp, matchesAnyDomain, overrideKey, parseIp, ssrfHit, unmap, type UrlScanner} from '../scanner/index.js'
import {withLeafOnlyIdentityCheck} from '../tls/index.js'

export class DialBlockedError extends Error {
  readonly code = 'PIPELOCK_DIAL_BLOCKED'
}

export type LookupAll = (host: string) => Promise<string[]>

/** getaddrinfo with every address, bounded to 5 s (§5.12). */
export async function systemLookupAll(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`DNS lookup for ${host} timed out`), {code: 'ETIMEOUT'})), 5000)
  })
  try {
    return await Promise.race([getaddrinfoAll(host), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * getaddrinfo with every address and no timer of its own: only for a caller that bounds the
 * wait itself (the URL scan's stage 14 puts its 5 s on every resolver it calls, tunnel-dns.ts).
 */
export function getaddrinfoAll(host: string): Promise<string[]> {
  return lookup(host, {all: true, verbatim: true}).then((r) => r.map((a) => a.address))
}

/** Strips IPv6 brackets the way Go's `Hostname()` reports hosts. */
function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/**
 * Resolves `host` and returns the address to connect to, or throws DialBlockedError naming the
 * internal address (never anything from the URL beyond the host).
 */
export async function resolveValidated(scanner: UrlScanner, host: string, lookupAll: LookupAll): Promise<string> {
  const h = bareHost(host).toLowerCase()
  const literal = parseIp(h)
  // dns.host_overrides (scanners-extra §6.3): raw IPs never consult them; a hostname's override
  // replaces the resolver and its IPs are validated below like any answer.
  const override = literal === null ? scanner.settings.hostOverrides?.get(overrideKey(h)) : undefined
  const addrs = literal !== null ? [h] : override !== undefined ? [...override] : await lookupAll(h)
  if (addrs.length === 0) throw new DialBlockedError(`DNS lookup for ${h} returned no addresses`)
  const trusted = literal === null && matchesAnyDomain(h, scanner.settings.trustedDomains) !== null
  if (!trusted) {
    for (const a of addrs) {
      const ip = parseIp(a)
      if (ip === null) throw new DialBlockedError(`unparsable address for ${h}`)
      const v = unmap(ip)
      if (scanner.ipAllowlist.some((c) => cidrContains(c, v))) continue
      // The address and any IPv4 embedded in it (NAT64, 6to4, IPv4-compatible) against internal ∪ core.
      const hit = ssrfHit(v, scanner.checkSet)
      if (hit !== null) throw new DialBlockedError(`SSRF blocked at dial time: ${h} resolves to internal IP ${formatIp(hit)}`)
    }
  }
  const first = parseIp(addrs[0]!)
  return first === null ? addrs[0]! : formatIp(unmap(first))
}

export interface SafeDialerOptions {
  /** The scanner snapshot whose lists apply (taken per call, so reloads are honoured). */
  readonly scanner: () => UrlScanner
  readonly lookupAll?: LookupAll
  readonly connectTimeoutMs?: number
}

/** Plain TCP to a validated address (CONNECT tunnels); `onread` as `net.connect` takes it (tunnel-relay.ts). */
export async function dialValidated(opts: SafeDialerOptions, host: string, port: number, onread?: net.OnReadOpts): Promise<net.Socket> {
  const ip = await resolveValidated(opts.scanner(), host, opts.lookupAll ?? systemLookupAll)
  return await new Promise<net.Socket>((resolve, reject) => {
    const sock = net.connect(onread === undefined ? {host: ip, port} : {host: ip, port, onread})
    const timer = setTimeout(() => sock.destroy(timedOutError('connect')), opts.connectTimeoutMs ?? 10_000)
    sock.once('connect', () => {
      clearTimeout(timer)
      sock.removeAllListeners('error')
      resolve(sock)
    })
    sock.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

/**
 * An undici Agent whose every new connection goes through `resolveValidated`: connection pools
 * per origin, keep-alive, and a dial that can only reach the address it validated.
 */
export function createSafeAgent(opts: SafeDialerOptions & {readonly timeoutMs: number; readonly ca?: readonly string[]; readonly pace?: (start: (settled: () => void) => void) => void}): UndiciAgent {
  // `ca` replaces Node's bundled roots (the interceptor's Go-rule trust list, transports §1.2).
  // One secure context for every connection: given `ca`, tls.connect would parse the whole list
  // (~300 PEMs, 0.1–0.4 s of synchronous work) again for each new upstream connection, stalling
  // the event loop whenever many tunnels open at once.
  const base = buildConnector({timeout: opts.connectTimeoutMs ?? 10_000, ...(opts.ca !== undefined ? {secureContext: tls.createSecureContext({ca: [...opts.ca]})} : {})})
  const connect: UndiciConnector.connector = (options, callback) => {
    resolveValidated(opts.scanner(), options.hostname, opts.lookupAll ?? systemLookupAll).then(
      (ip) => {
        const servername = options.servername ?? (net.isIP(bareHost(options.hostname)) ? undefined : bareHost(options.hostname))
        const start = (settled: () => void): void => {
          const socket = base({...options, hostname: ip, ...(servername !== undefined ? {servername} : {})}, (...result) => {
            settled()
            callback(...result)
          })
          // Node's identity check on the leaf alone, not the whole chain built as objects
          // (tls/server-identity.ts). undici's connector returns its socket (not in its types);
          // without it node's detailed path runs, as before.
          if ((socket as unknown) instanceof tls.TLSSocket) withLeafOnlyIdentityCheck(socket as unknown as tls.TLSSocket)
        }
        // `pace` (the interceptor's set-up queue) decides when the connect starts; `settled` tells it the handshake is over.
        if (opts.pace !== undefined) opts.pace(start)
        else start(() => undefined)
      },
      (err: Error) => callback(err, null),
    )
  }
  return new Agent({
    connect,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    keepAliveTimeout: 4_000,
    connections: 256,
  })
}

