/**
 * Header DLP (§6.3). `sensitive` mode scans the configured sensitive headers; `all` scans every
 * header but the ignore list, plus names and `name+value`. Finally every scanned string, sorted
 * and newline-joined, is scanned once more (secrets split across headers).
 */
import type {IncomingHttpHeaders} from 'node:http'
import {scanTextForDlp, type DlpFinding, type UrlScanner} from '../scanner/index.js'

export interface HeaderDlpOutcome {
  readonly matches: readonly DlpFinding[]
  readonly warnings: readonly DlpFinding[]
  /** True when the request must be blocked (critical always in enforce mode; else action block + enforce). */
  readonly block: boolean
}

function canonicalName(k: string): string {
  return k.split('-').map((p) => (p === '' ? p : p[0]!.toUpperCase() + p.slice(1).toLowerCase())).join('-')
}

export function scanHeaders(scanner: UrlScanner, headers: IncomingHttpHeaders): HeaderDlpOutcome {
  const rb = scanner.settings.requestBodyScanning
  if (!rb.enabled || !rb.scanHeaders) return {matches: [], warnings: [], block: false}
  const sensitive = new Set(rb.sensitiveHeaders.map(canonicalName))
  const ignore = new Set(rb.ignoreHeaders.map(canonicalName))
  const texts: string[] = []
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue
    const name = canonicalName(k)
    const values = Array.isArray(v) ? v : [v]
    if (rb.headerMode === 'sensitive') {
      if (!sensitive.has(name)) continue
      texts.push(...values)
    } else {
      if (ignore.has(name)) continue
      texts.push(name, ...values, ...values.map((x) => name + x))
    }
  }
  const matches: DlpFinding[] = []
  const warnings: DlpFinding[] = []
  const scan = (t: string): void => {
    if (t === '') return
    const r = scanTextForDlp(scanner.dlp, t)
    matches.push(...r.matches)
    warnings.push(...r.warnings)
  }
  for (const t of texts) scan(t)
  if (texts.length > 1) scan([...texts].sort().join('\n'))
  const enforce = scanner.settings.enforce
  const critical = matches.some((m) => m.severity === 'critical')
  const block = matches.length > 0 && enforce && (critical || rb.action === 'block')
  return {matches, warnings, block}
}
