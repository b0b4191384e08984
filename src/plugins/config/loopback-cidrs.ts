/**
 * `agents.<name>.source_cidrs` entries that hold a loopback client address. Every local client
 * that does not pick its source address connects from 127.0.0.1 (or ::1): each agent on the host,
 * and every request of a sandboxed process (the sandbox's bridge dials from 127.0.0.1). Such an
 * entry cannot tell those agents apart; it binds them all to one profile.
 */
import {cidrHolds, ipBytes, parseCidr} from './net-rules.js'
import type {PipelockConfig} from './schema.js'

/** The addresses a local client arrives from; IPv4 also in its IPv4-mapped IPv6 spelling. */
const LOOPBACK_CLIENTS = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].map((a) => ipBytes(a)!)

/** Each entry (agents in sorted order, entries as written) whose range holds 127.0.0.1 or ::1. */
export function loopbackSourceCidrs(c: Pick<PipelockConfig, 'agents'>): Array<{agent: string; cidr: string}> {
  const out: Array<{agent: string; cidr: string}> = []
  for (const agent of Object.keys(c.agents).sort()) {
    for (const text of c.agents[agent]!.source_cidrs ?? []) {
      const cidr = parseCidr(text.trim())
      if (cidr !== undefined && LOOPBACK_CLIENTS.some((ip) => cidrHolds(cidr, ip))) out.push({agent, cidr: text.trim()})
    }
  }
  return out
}

/** The entries as the warnings name them: `agents.<name>.source_cidrs "<cidr>"`, comma-separated. */
export function describeLoopbackEntries(hits: ReadonlyArray<{agent: string; cidr: string}>): string {
  return hits.map((h) => `agents.${h.agent}.source_cidrs "${h.cidr}"`).join(', ')
}
