/**
 * Texts a scanner has already proven clean (no DLP finding, no warning), remembered per scanner
 * instance: header DLP over every header (issue 37) meets the same `User-Agent`, `Accept` and
 * `Host` values request after request, and a full text scan of each costs tens of microseconds.
 * The answer depends only on the text and the scanner's patterns, so it is exact; the memo is
 * bounded (short texts only, forgotten wholesale when full) and never holds a text with a finding.
 */
export const CLEAN_MEMO_MAX_ENTRIES = 2048
export const CLEAN_MEMO_MAX_TEXT = 512

export class CleanTextMemo {
  private readonly clean = new Set<string>()

  has(text: string): boolean {
    return this.clean.has(text)
  }

  /** Remembers a text proven clean (ignored when too long to be worth keeping). */
  add(text: string): void {
    if (text.length > CLEAN_MEMO_MAX_TEXT) return
    if (this.clean.size >= CLEAN_MEMO_MAX_ENTRIES) this.clean.clear()
    this.clean.add(text)
  }
}
