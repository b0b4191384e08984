/**
 * The host a client address stands for where an unbound identity's holds are kept (issue 37
 * item 1: an airlock tier, a `block_all` level, taint, budgets, burst and cross-request windows).
 *
 * Every loopback address is one host: any local process may bind any of 127.0.0.0/8 (or `::1`)
 * as its source without privileges, so a local agent that earned a hold on 127.0.0.1 must not
 * shed it by connecting from 127.0.0.2. Other addresses stand for themselves, an IPv4-mapped
 * IPv6 spelling (`::ffff:10.0.0.5`) for its IPv4 address. The client address itself is still
 * what sessions, receipts and logs show; only the key the holds are kept under is this host.
 */
const LOOPBACK_HOST = '127.0.0.1'

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/

export function clientHostOf(ip: string): string {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip
  if (LOOPBACK_V4.test(v4) || ip === '::1') return LOOPBACK_HOST
  return v4
}
