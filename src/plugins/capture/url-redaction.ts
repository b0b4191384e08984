// How capture writes a URL a DLP pattern matched (non-raw capture): each host label or path
// segment holding a secret becomes `redacted-<pattern>`, and a secret split across them leaves
// the path `/redacted`. One module, so what capture writes and what `learn shadow` recognises as
// "the bytes the scanner judged are gone" cannot drift apart.

const PREFIX = 'redacted-'
export const REDACTED_PATH = '/redacted'

/** The placeholder written in place of a label or segment a DLP pattern matched. */
export function redactionLabel(pattern: string): string {
  return PREFIX + (pattern.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'secret')
}

/**
 * Whether a captured URL had a secret replaced (`redactionLabel`, `REDACTED_PATH`): scanning it
 * again cannot find what the live scanner found. Reads `scheme://host/path[?query]` as capture
 * writes it; anything else is not a redacted capture URL.
 */
export function isRedactedCaptureUrl(url: string): boolean {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)([^?#]*)/i.exec(url)
  if (m === null) return false
  const host = m[1] as string
  const path = m[2] as string
  if (path === REDACTED_PATH) return true
  return host.split('.').some((l) => l.startsWith(PREFIX)) || path.split('/').some((s) => s.startsWith(PREFIX))
}
