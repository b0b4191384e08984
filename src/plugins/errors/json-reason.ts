const EXCERPT = /^Unexpected token '([^]*?)', (?:\.\.\.)?"[^]*"(?:\.\.\.)? is not valid JSON$/
const WHOLE = /^"[^]*" is not valid JSON$/

/**
 * Why `JSON.parse` refused a file's text, without V8's excerpt of that text: the excerpt of a
 * binary or hostile file (`"Z�]@,=����"...`) carries its raw bytes (invalid UTF-8, bidi or other
 * format characters) into the error line. The unexpected character is kept when it is printable
 * ASCII, else named by its code point. Messages that quote nothing (positions, end of input)
 * are returned as they are.
 */
export function jsonParseReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const excerpt = EXCERPT.exec(message)
  if (excerpt !== null) {
    const token = excerpt[1]!
    const cp = token.codePointAt(0)
    const shown = /^[\x21-\x7e]$/.test(token) || cp === undefined ? `'${token}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}${cp === 0xfffd ? ' (bytes that are not UTF-8)' : ''}`
    return `Unexpected token ${shown}, not valid JSON`
  }
  if (WHOLE.test(message)) return 'not valid JSON'
  return message
}
