/**
 * Seam for response (prompt-injection) scanning (§7). The scanner plugin owns the engine; this
 * interface is what the transports call. While the scanner does not export one, the seam stays
 * empty and `response_scanning` (and the body-injection half of `request_body_scanning`) are
 * reported as not implemented, so `pipelock run` refuses to start with them enabled.
 *
 * TODO(scanner): wire `scanResponse` from src/plugins/scanner when it lands (see docs/run.md).
 */
export interface InjectionMatch {
  readonly pattern: string
}

export interface ResponseInjectionScanner {
  /** Matches in `text` (core patterns first); `redacted` is the strip replacement, null if nothing changed. */
  scan(text: string): {readonly matches: readonly InjectionMatch[]; readonly redacted: string | null}
  /** `response_scanning.exempt_domains`. */
  isExempt(host: string): boolean
  readonly action: 'strip' | 'warn' | 'block' | 'ask'
}

/** Builds the seam from a scanner snapshot, or null when no engine is available in this build. */
export function responseScannerFor(): ResponseInjectionScanner | null {
  return null
}
