/**
 * Which requests on the main listener the active kill switch lets through (§11.2). Path
 * exemptions apply only to origin-form requests addressed to the proxy itself: an absolute-URI
 * request for `http://any-host/health`, a CONNECT or a WebSocket target is never exempt
 * (§24 #15, fixed).
 */
import {isIP} from 'node:net'

export interface GateSettings {
  readonly healthExempt: boolean
  readonly metricsExempt: boolean
  readonly apiExempt: boolean
  /** True when the kill-switch API is served on the main listener (no `api_listen`). */
  readonly apiOnMainListener: boolean
  /** `allowlist_ips` CIDRs. */
  readonly allowlistIps: readonly string[]
}

export interface GateRequest {
  /** `CONNECT`, `GET`, … */
  readonly method: string
  /** True for origin-form targets (`/path?query`); false for absolute-URI and CONNECT authority-form. */
  readonly originForm: boolean
  /** Path of an origin-form target, without query. */
  readonly path: string
  readonly clientIp: string
}

// The operator's own controls stay reachable while the switch is on. The reference exempts the
// session endpoints but not `/api/v1/adaptive/*` (§24 #16); an operator handling an incident
// needs `adaptive status` and `flush` as much as `session …`, so they are exempt here too.
const API_PATHS = new Set([
  '/api/v1/killswitch', '/api/v1/killswitch/status', '/api/v1/sessions',
  '/api/v1/adaptive/status', '/api/v1/adaptive/flush', '/api/v1/adaptive/whoami',
])
const SESSION_ACTIONS = new Set(['reset', 'airlock', 'task', 'trust', 'explain', 'terminate'])

function isSessionApiPath(p: string): boolean {
  if (!p.startsWith('/api/v1/sessions/')) return false
  const rest = p.slice('/api/v1/sessions/'.length).split('/')
  if (rest.length === 1) return rest[0] !== ''
  return rest.length === 2 && rest[0] !== '' && SESSION_ACTIONS.has(rest[1]!)
}

/** True when this request may proceed although the switch is active. */
export function isExempt(req: GateRequest, s: GateSettings): boolean {
  if (s.allowlistIps.length > 0 && ipInAnyCidr(req.clientIp, s.allowlistIps)) return true
  if (!req.originForm || req.method === 'CONNECT') return false
  if (req.path === '/health' && s.healthExempt) return true
  if (req.path === '/metrics' && s.metricsExempt) return true
  if (s.apiExempt && s.apiOnMainListener && (API_PATHS.has(req.path) || isSessionApiPath(req.path))) return true
  return false
}

function ipToBytes(ip: string): number[] | null {
  let s = ip
  if (s.startsWith('::ffff:') && isIP(s.slice(7)) === 4) s = s.slice(7)
  const v = isIP(s)
  if (v === 4) return s.split('.').map(Number)
  if (v !== 6) return null
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined]
  const parse = (part: string | undefined): number[] => {
    if (part === undefined || part === '') return []
    const out: number[] = []
    for (const g of part.split(':')) {
      if (g.includes('.')) out.push(...g.split('.').map(Number).reduce<number[]>((a, b, i, arr) => (i % 2 === 1 ? [...a, (arr[i - 1]! << 8) | b] : a), []))
      else out.push(parseInt(g, 16))
    }
    return out
  }
  const h = parse(head)
  const t = parse(tail)
  const groups = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
  const bytes: number[] = []
  for (const g of groups) bytes.push(g >> 8, g & 0xff)
  return bytes
}

/** CIDR membership for `allowlist_ips` (IPv4-mapped IPv6 client addresses compare as IPv4). */
export function ipInAnyCidr(ip: string, cidrs: readonly string[]): boolean {
  const addr = ipToBytes(ip)
  if (addr === null) return false
  for (const c of cidrs) {
    const slash = c.indexOf('/')
    if (slash < 0) continue
    const net = ipToBytes(c.slice(0, slash))
    const bits = Number(c.slice(slash + 1))
    if (net === null || net.length !== addr.length || !Number.isInteger(bits)) continue
    let ok = true
    for (let i = 0; i < net.length && ok; i++) {
      const take = Math.max(0, Math.min(8, bits - i * 8))
      const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff
      if ((net[i]! & mask) !== (addr[i]! & mask)) ok = false
    }
    if (ok) return true
  }
  return false
}
