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
