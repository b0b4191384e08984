// Go encoding/json string escaping (receipts.md §3.6, learn-lifecycle.md §1.2 step 3).

// Anything outside printable ASCII, or one of the characters Go escapes (" & < > \\): one
// negated class (printable ASCII without those five) scans faster than an alternation.
const NEEDS_WORK = /[^\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]/
const HTML_UNSAFE = /[<>&\u2028\u2029]/g

function htmlEscape(ch: string): string {
  switch (ch) {
    case '<':
      return '\\u003c'
    case '>':
      return '\\u003e'
    case '&':
      return '\\u0026'
    case '\u2028':
      return '\\u2028'
    default:
      return '\\u2029'
  }
}

/**
 * Quotes a string exactly as Go's json.Marshal does with HTML escaping on (always on for
 * receipts): `\b \f \n \r \t` short forms, other controls as lowercase `\u00xx`, `< > &` and
 * U+2028/U+2029 escaped, DEL and all other non-ASCII emitted raw. A lone UTF-16 surrogate
 * (only reachable through a `\udXXX` JSON escape) becomes U+FFFD, as Go's decoder makes it.
 */
/** Printable ASCII without `"`, `\\`, `<`, `>`, `&`: Go quotes it as itself, and NFC leaves it as it is. */
export function isPlainAscii(s: string): boolean {
  return !NEEDS_WORK.test(s)
}

export function goQuote(s: string): string {
  if (!NEEDS_WORK.test(s)) return `"${s}"`
  const wellFormed = s.isWellFormed() ? s : s.toWellFormed()
  // JSON.stringify gives Go's control-character rules; the HTML-safe escapes are applied to
  // this one string only, never to a whole document.
  return JSON.stringify(wellFormed).replace(HTML_UNSAFE, htmlEscape)
}

/** Byte-wise UTF-8 order of two strings (Go `strings.Compare`), i.e. code point order. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i)
    const cb = b.charCodeAt(i)
    if (ca === cb) continue
    // Surrogates (astral code points) sort after U+E000–U+FFFF in code point order,
    // the opposite of raw UTF-16 unit order.
    const sa = ca >= 0xd800 && ca <= 0xdfff
    const sb = cb >= 0xd800 && cb <= 0xdfff
    if (sa !== sb) return sa ? 1 : -1
    return ca - cb
  }
  return a.length - b.length
}
