/**
 * This machine's own addresses, as CIDRs the proxy's SSRF floor counts (`pipelock run` and the
 * proxy `pipelock sandbox` / `mcp proxy --sandbox` embed alike; compose.ts hands them to the
 * scanner). The core floor covers loopback and the private ranges, but not a host's public IPv4
 * address or global IPv6 address on an interface: through it, a request to
 * `http://<that address>:<port>/` reaches every service the host binds on `0.0.0.0` or `::` (a
 * database, a Docker API, another tool's admin port) from the host itself, past any firewall that
 * only filters traffic from outside — and, for the sandbox, past the network namespace that keeps
 * the agent off every host address. Taken at start-up and at each reload; `ssrf.ip_allowlist`
 * and `trusted_domains` still open one deliberately.
 */
import {networkInterfaces} from 'node:os'

export function hostAddressCidrs(interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string[] {
  const out = new Set<string>()
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) out.add(`${a.address.split('%')[0]}/${a.family === 'IPv6' ? 128 : 32}`)
  }
  return [...out].sort()
}
