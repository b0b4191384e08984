/** Data-budget accounting of response bytes (§5.16), shared by every transport that reads a response. */
import {goHostname, parseGoUrl} from '../../canonical/index.js'
import {approximateRegistrableDomain, canonicalHostname, canonicalIpSpelling} from '../../scanner/index.js'
import type {ProxySnapshot} from '../state.js'

/** Data-budget accounting after a response is read (§5.16); nothing to keep when the budget is off. */
export function recordBytes(snap: ProxySnapshot, url: string, bytes: number): void {
  if (snap.config.fetch_proxy.monitoring.max_data_per_minute <= 0) return
  snap.dataBudget.record(budgetKey(url), bytes)
}

/** Same key as the scanner's data-budget stage (eTLD+1 of the host). */
export function budgetKey(raw: string): string {
  try {
    const c = canonicalHostname(goHostname(parseGoUrl(raw).host))
    return approximateRegistrableDomain(canonicalIpSpelling(c.ok ? c.host : ''))
  } catch {
    return ''
  }
}
