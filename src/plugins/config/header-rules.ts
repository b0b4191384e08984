/**
 * Header-name lists (`request_body_scanning.sensitive_headers`, `ignore_headers`): each entry is
 * compared, case-insensitively and untrimmed, with the names of the headers a request carries,
 * and those are RFC 9110 tokens. An entry that is not a token (a space, a colon, `Key: value`,
 * an empty string) can never equal a header name, so it would be accepted and never match.
 */
import {isHttpToken} from '../canonical/index.js'

/** Why an entry cannot be a header name, or null when it is one. */
export function headerNameError(raw: string): string | null {
  if (raw.trim() === '') return 'empty header name'
  if (isHttpToken(raw)) return null
  if (raw !== raw.trim()) return `${JSON.stringify(raw)} has leading or trailing whitespace, so it matches no header; remove it`
  const colon = raw.indexOf(':')
  if (colon >= 0) {
    // `Name: value`: the value may be a credential, so it is not echoed.
    const name = raw.slice(0, colon).trim()
    return `${JSON.stringify(`${name}: …`)} contains ":"; list the header name alone${isHttpToken(name) ? ` (${JSON.stringify(name)})` : ''}`
  }
  const bad = [...raw].find((ch) => !isHttpToken(ch))!
  return `${JSON.stringify(raw)} is not a header name: ${JSON.stringify(bad)} is not allowed (RFC 9110 token characters only)`
}

/**
 * A value pipelock itself sends as a header field (`fetch_proxy.user_agent`, the webhook's bearer
 * token, OTLP headers): printable ASCII, spaces and tabs inside only. Anything else (a line break,
 * another control character, a character past ASCII that would go out as a Latin-1 byte or not at
 * all) made the HTTP client refuse every request (`UND_ERR_INVALID_ARG`, each /fetch a 502).
 * `secret`: the value may be a credential, so the message names the character, never the text.
 */
export function headerValueError(raw: string, secret = false): string | null {
  if (raw !== raw.replace(/^[ \t]+|[ \t]+$/g, '')) return 'has leading or trailing whitespace, which an HTTP field value cannot carry; remove it'
  const at = [...raw].findIndex((ch) => !/^[\x20-\x7e\t]$/.test(ch))
  if (at < 0) return null
  const ch = [...raw][at]!
  const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
  const what = ch === '\n' || ch === '\r' ? `a line break (${code})` : ch.codePointAt(0)! < 0x20 || ch === '\x7f' ? `a control character (${code})` : secret ? `a non-ASCII character (${code})` : `the non-ASCII character ${JSON.stringify(ch)} (${code})`
  return `contains ${what} at character ${at + 1}: an HTTP header value is printable ASCII (spaces and tabs inside allowed)`
}
