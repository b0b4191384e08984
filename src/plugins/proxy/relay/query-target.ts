/** The `url=` (and `agent=`) query parameters of `/fetch` and `/ws` (§4.1 step 2, transports §3.2). */

/** §4.1 step 2: control characters removed; with extra parameters the raw tail after `url=` is taken. */
export function extractFetchTarget(rawQuery: string): string | null {
  const pairs = rawQuery.split('&').filter((p) => p !== '')
  const keys = pairs.map((p) => decodeSafe(p.split('=')[0]!))
  const urlIdx = keys.indexOf('url')
  if (urlIdx < 0) return null
  let value: string
  if (keys.some((k) => k !== 'url' && k !== 'agent')) {
    const at = rawQuery.indexOf('url=')
    value = decodeSafe(at < 0 ? '' : rawQuery.slice(at + 4))
  } else {
    const p = pairs[urlIdx]!
    const eq = p.indexOf('=')
    value = eq < 0 ? '' : decodeSafe(p.slice(eq + 1).replace(/\+/g, ' '))
  }
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\x00-\x1f\x7f]/g, '')
}

/**
 * Why `requestTarget` (the path and query a `url=` target is requested with, `originAndPath`)
 * cannot be sent as it is, or null when it can. The parameter arrives percent-decoded, so it may
 * hold what no request line carries: white space (the HTTP client refused it, and /fetch
 * answered `502 UND_ERR_INVALID_ARG`), `"`, `<`, `>`, and non-ASCII (a character past U+00FF was
 * refused the same way, one below it sent as a single latin1 byte, not its UTF-8). The answer
 * names the character and its percent-encoding.
 */
export function unsendableTargetReason(requestTarget: string): string | null {
  for (let i = 0; i < requestTarget.length; i++) {
    const c = requestTarget.charCodeAt(i)
    if (c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x3c && c !== 0x3e) continue
    const ch = String.fromCodePoint(requestTarget.codePointAt(i)!)
    const shown = c <= 0x20 || c === 0x7f ? `U+${c.toString(16).toUpperCase().padStart(4, '0')}` : `"${ch}"`
    const encoded = ch.isWellFormed() ? encodeURIComponent(ch) : '%EF%BF%BD'
    return `the URL's path or query holds ${shown}, which cannot be sent in a request: percent-encode it (${encoded})`
  }
  return null
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

export function queryParam(rawQuery: string, name: string): string | undefined {
  for (const p of rawQuery.split('&')) {
    const eq = p.indexOf('=')
    if (decodeSafe(eq < 0 ? p : p.slice(0, eq)) === name) return eq < 0 ? '' : decodeSafe(p.slice(eq + 1).replace(/\+/g, ' '))
  }
  return undefined
}
