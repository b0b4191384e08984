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
