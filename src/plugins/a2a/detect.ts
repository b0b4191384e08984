/**
 * Which HTTP requests are A2A (scanners-extra §2.3): the `application/a2a+json` media type, or a
 * path of the A2A HTTP binding after an optional version segment and at most one tenant segment.
 */

const A2A_PATH = /^(?:\/\.well-known\/agent-card\.json|\/message:(?:send|stream)|\/tasks(?:\/[^/]+(?::(?:cancel|subscribe)|\/pushNotificationConfigs(?:\/[^/]+)?)?)?|\/extendedAgentCard)$/
const CARD_PATH = /^(?:\/\.well-known\/agent-card\.json|\/extendedAgentCard)$/
const VERSION = /^v\d+(?:\/|$)/

/** The JSON-RPC methods of the A2A binding (exact, case-sensitive). */
export const A2A_METHODS: ReadonlySet<string> = new Set([
  'SendMessage', 'SendStreamingMessage', 'GetTask', 'ListTasks', 'CancelTask', 'SubscribeToTask',
  'CreateTaskPushNotificationConfig', 'GetTaskPushNotificationConfig', 'ListTaskPushNotificationConfigs',
  'DeleteTaskPushNotificationConfig', 'GetExtendedAgentCard',
])

/** The media type without parameters, lower-cased ('' when there is none). */
export function mediaTypeOf(contentType: string): string {
  return (contentType.split(';', 1)[0] ?? '').trim().toLowerCase()
}

function stripVersion(p: string): string {
  if (!VERSION.test(p.slice(1))) return p
  const rest = p.slice(1).replace(/^v\d+/, '')
  return rest === '' ? '/' : rest
}

function matchesWithPrefixes(path: string, re: RegExp): boolean {
  if (path.length < 2) return false
  const p = stripVersion(path)
  if (re.test(p)) return true
  // One leading tenant segment (`/t1/…`), then the version segment again.
  const m = /^\/[^/]+(\/.*)$/.exec(p)
  return m !== null && re.test(stripVersion(m[1]!))
}

/** The request path alone (no query or fragment). */
export function pathOf(urlOrPath: string): string {
  let p = urlOrPath
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(p)
  if (scheme !== null) p = p.slice(scheme[0].length)
  const cut = p.search(/[?#]/)
  if (cut >= 0) p = p.slice(0, cut)
  return p === '' ? '/' : p
}

/**
 * The path as common origins route it, for matching only: percent-encoded unreserved characters
 * (RFC 3986 §2.3) and `:` (the A2A method separator; servers decode the path before routing)
 * decoded, repeated `/` collapsed, and `.`/`..` segments removed — so `//.well-known/agent-card%2ejson`
 * is the card the origin serves at `/.well-known/agent-card.json`. `%2F` stays encoded (it is
 * not a segment break to most routers). Matching more paths only adds scanning.
 */
export function routedPath(path: string): string {
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (all, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16))
    return /^[A-Za-z0-9\-._~:]$/.test(c) ? c : all
  })
  const out: string[] = []
  for (const seg of decoded.split('/').slice(1)) {
    if (seg === '.') continue
    if (seg === '..') out.pop()
    else if (seg !== '') out.push(seg)
  }
  // A trailing `/`, `.` or `..` leaves a directory path: keep the slash so it matches no file.
  const dir = /\/(?:\.{0,2})$/.test(decoded) && out.length > 0
  return '/' + out.join('/') + (dir ? '/' : '')
}

/** §2.3: an A2A request by media type or by path. */
export function isA2aRequest(contentType: string, urlOrPath: string): boolean {
  if (mediaTypeOf(contentType) === 'application/a2a+json') return true
  return matchesWithPrefixes(routedPath(pathOf(urlOrPath)), A2A_PATH)
}

/** §2.3: an Agent Card location (well-known card or the extended card). */
export function isAgentCardPath(urlOrPath: string): boolean {
  return matchesWithPrefixes(routedPath(pathOf(urlOrPath)), CARD_PATH)
}
