// Go's fmt `%q` verb (strconv.Quote), used wherever an error text quotes a value the way the
// reference prints it.

/** Go's `%q` (strconv.Quote): escapes quotes, backslashes, controls and non-printables. */
export function strconvQuote(s: string): string {
  let out = '"'
  for (const ch of s.isWellFormed() ? s : s.toWellFormed()) {
    const cp = ch.codePointAt(0) as number
    switch (ch) {
      case '"': out += '\\"'; continue
      case '\\': out += '\\\\'; continue
      case '\x07': out += '\\a'; continue
      case '\b': out += '\\b'; continue
      case '\f': out += '\\f'; continue
      case '\n': out += '\\n'; continue
      case '\r': out += '\\r'; continue
      case '\t': out += '\\t'; continue
      case '\v': out += '\\v'; continue
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0')
    else if (ch !== ' ' && /^[\p{C}\p{Z}]$/u.test(ch)) {
      out += cp > 0xffff ? '\\U' + cp.toString(16).padStart(8, '0') : '\\u' + cp.toString(16).padStart(4, '0')
    } else out += ch
  }
  return out + '"'
}
