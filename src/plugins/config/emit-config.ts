import {readFileSync, statSync} from 'node:fs'
import {osErrorReason} from '../errors/index.js'
import {headerNameError, headerValueError} from './header-rules.js'
import {ConfigFieldError} from './problems.js'
import type {PipelockConfig} from './schema.js'

/**
 * The `emit` section (operations.md §3.2): defaults for zero values and the validation of each
 * configured sink. A sink is checked only when its url/address/endpoint is set, as in the
 * reference. Values that may carry credentials (webhook and OTLP URLs: Slack-style tokens,
 * userinfo) are never echoed in an error (listed in docs/compatibility.md).
 */

export const EMIT_SEVERITIES: readonly string[] = ['info', 'warn', 'critical']

/** Syslog facility codes (RFC 5424 §6.2.1). */
export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
}

/** `timeout`/`queue` ≤ 0 take the default, whether or not a sink is configured (§3.2). */
export function applyEmitDefaults(c: PipelockConfig, d: PipelockConfig): void {
  const e = c.emit
  if (e.webhook.timeout_seconds <= 0) e.webhook.timeout_seconds = d.emit.webhook.timeout_seconds
  if (e.webhook.queue_size <= 0) e.webhook.queue_size = d.emit.webhook.queue_size
  if (e.webhook.min_severity === '') e.webhook.min_severity = d.emit.webhook.min_severity
  if (e.syslog.min_severity === '') e.syslog.min_severity = d.emit.syslog.min_severity
  if (e.syslog.facility === '') e.syslog.facility = d.emit.syslog.facility
  if (e.syslog.tag === '') e.syslog.tag = d.emit.syslog.tag
  if (e.syslog.format === '') e.syslog.format = d.emit.syslog.format
  if (e.syslog.queue_size <= 0) e.syslog.queue_size = d.emit.syslog.queue_size
  if (e.otlp.timeout_seconds <= 0) e.otlp.timeout_seconds = d.emit.otlp.timeout_seconds
  if (e.otlp.queue_size <= 0) e.otlp.queue_size = d.emit.otlp.queue_size
  if (e.otlp.min_severity === '') e.otlp.min_severity = d.emit.otlp.min_severity
}

function httpUrlOk(u: string): boolean {
  let parsed: URL
  try {
    parsed = new URL(u)
  } catch {
    return false
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== ''
}

/** A syslog address: `udp://host:port`, `tcp://host:port` or ([beyond]) `tls://host:port`. */
export interface SyslogAddress {
  readonly network: 'udp' | 'tcp' | 'tls'
  readonly host: string
  readonly port: number
}

/** Parses a syslog address; the error text is the reference's (§3.2). */
export function parseSyslogAddress(a: string): SyslogAddress | string {
  const m = /^(udp|tcp|tls):\/\/(.*)$/.exec(a)
  if (m === null) return 'must be udp://, tcp:// or tls:// with host:port'
  const rest = m[2]!
  const hp = /^(?:\[([^\]]+)\]|([^:/[\]]+)):(\d{1,5})$/.exec(rest)
  if (hp === null) {
    const noPort = /^(?:\[[^\]]+\]|[^:/[\]]+)$/.test(rest)
    if (rest !== '' && noPort) return `must include port (e.g. udp://host:514): address ${rest}: missing port in address`
    return 'must be udp://, tcp:// or tls:// with host:port'
  }
  const port = Number(hp[3])
  if (port < 1 || port > 65535) return `must include port (e.g. udp://host:514): invalid port ${hp[3]}`
  return {network: m[1] as SyslogAddress['network'], host: hp[1] ?? hp[2]!, port}
}

export function validateEmit(c: PipelockConfig): void {
  const e = c.emit
  const fail = (path: string[], message: string): never => {
    throw new ConfigFieldError(['emit', ...path], message)
  }
  const severity = (path: string[], s: string): void => {
    if (!EMIT_SEVERITIES.includes(s)) fail(path, `"${s}": must be info, warn, or critical`)
  }
  if (e.webhook.url !== '') {
    if (!httpUrlOk(e.webhook.url)) fail(['webhook', 'url'], 'must be http:// or https:// with a host (value not shown: it may hold a token)')
    severity(['webhook', 'min_severity'], e.webhook.min_severity)
    if (e.webhook.timeout_seconds <= 0) fail(['webhook', 'timeout_seconds'], 'must be positive')
    if (e.webhook.queue_size <= 0) fail(['webhook', 'queue_size'], 'must be positive')
  }
  // Sent as `Authorization: Bearer <token>` and as OTLP header lines: a value the HTTP client
  // refuses would fail every delivery, so it is refused here (never echoed: it is a credential).
  const token = headerValueError(e.webhook.auth_token, true)
  if (token !== null) fail(['webhook', 'auth_token'], token)
  for (const [name, value] of Object.entries(e.otlp.headers)) {
    const n = headerNameError(name)
    if (n !== null) fail(['otlp', 'headers', name], n)
    const v = headerValueError(value, true)
    if (v !== null) fail(['otlp', 'headers', name], v)
  }
  const s = e.syslog
  if (s.address !== '') {
    const parsed = parseSyslogAddress(s.address)
    if (typeof parsed === 'string') fail(['syslog', 'address'], `"${s.address}": ${parsed}`)
    severity(['syslog', 'min_severity'], s.min_severity)
    if (!(s.facility.toLowerCase() in SYSLOG_FACILITIES)) fail(['syslog', 'facility'], `"${s.facility}": must be one of ${Object.keys(SYSLOG_FACILITIES).join(', ')}`)
    if (s.format !== 'bsd' && s.format !== 'rfc5424') fail(['syslog', 'format'], `"${s.format}": must be bsd or rfc5424`)
    if (s.queue_size <= 0) fail(['syslog', 'queue_size'], 'must be positive')
    const tls = s.tls
    const tlsSet = tls.ca_file !== '' || tls.cert_file !== '' || tls.key_file !== '' || tls.server_name !== ''
    if (tlsSet && (parsed as SyslogAddress).network !== 'tls') fail(['syslog', 'tls'], 'is set but the address is not tls://')
    if ((tls.cert_file === '') !== (tls.key_file === '')) fail(['syslog', 'tls'], 'cert_file and key_file must be set together')
    // Read when the sink dials at start and at every reconnect: a file that cannot be read is a
    // config error here (run said only "syslog dial: ENOENT", naming no file; check said OK).
    for (const k of ['ca_file', 'cert_file', 'key_file'] as const) {
      if (tls[k] === '') continue
      try {
        if (!statSync(tls[k]).isFile()) fail(['syslog', 'tls', k], `"${tls[k]}" is not a regular file`)
        readFileSync(tls[k])
      } catch (err) {
        if (err instanceof ConfigFieldError) throw err
        fail(['syslog', 'tls', k], `"${tls[k]}" cannot be read: ${osErrorReason(err)}`)
      }
    }
  }
  const o = e.otlp
  if (o.endpoint !== '') {
    if (!httpUrlOk(o.endpoint)) fail(['otlp', 'endpoint'], 'must be http:// or https:// with a host (value not shown: it may hold credentials)')
    severity(['otlp', 'min_severity'], o.min_severity)
    if (o.timeout_seconds <= 0) fail(['otlp', 'timeout_seconds'], 'must be positive')
    if (o.queue_size <= 0) fail(['otlp', 'queue_size'], 'must be positive')
  }
}
