import {createHash} from 'node:crypto'

// Session ids become directory names, so they are defended twice (learn-compile §2.2).

/** The proxy's limit on a logical session key before it is hashed. */
export const MAX_SESSION_KEY_LEN = 200

export interface SanitizedSessionId {
  /** The on-disk id (directory name). */
  id: string
  /** Set only when the key had to be hashed: the record then carries `session_id_original`. */
  original?: string
  /** Metric reason when sanitised. */
  reason?: 'overlength' | 'unsafe_path' | 'unknown'
}

function hasUnsafePath(key: string): boolean {
  return key.includes('/') || key.includes('\\') || key.includes('..')
}

function sanitizeReason(key: string): 'overlength' | 'unsafe_path' | 'unknown' {
  if (Buffer.byteLength(key, 'utf8') > MAX_SESSION_KEY_LEN) return 'overlength'
  if (hasUnsafePath(key)) return 'unsafe_path'
  return 'unknown'
}

/** HTTP transports: `agent|clientIP` (or clientIP for anonymous agents), hashed when unsafe. */
export function proxySessionId(agent: string, clientIp: string): SanitizedSessionId {
  let key = agent !== '' && agent !== 'anonymous' ? `${agent}|${clientIp}` : clientIp
  if (key === '') key = 'anonymous'
  if (hasUnsafePath(key) || Buffer.byteLength(key, 'utf8') > MAX_SESSION_KEY_LEN) {
    return {id: 'capture-' + createHash('sha256').update(key).digest('hex'), original: key, reason: sanitizeReason(key)}
  }
  return {id: key}
}

/** MCP transports: `mcp-<transport>`; no length test, same path test. */
export function mcpSessionId(transport: string): SanitizedSessionId {
  const key = transport === '' ? 'mcp' : `mcp-${transport}`
  if (hasUnsafePath(key)) {
    return {id: 'mcp-' + createHash('sha256').update(key).digest('hex'), original: key, reason: sanitizeReason(key)}
  }
  return {id: key}
}

/** The writer's last line of defence: such entries are dropped, never written. */
export function isSafeSessionId(id: string): boolean {
  return id !== '' && !hasUnsafePath(id)
}
