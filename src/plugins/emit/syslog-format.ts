/**
 * Syslog lines (operations.md §3.5). The default (`format: bsd`) is the reference's line —
 * `<PRI>TIMESTAMP HOSTNAME TAG[PID]: MSG\n`, local time to the second — which is *not* RFC 5424
 * although the reference says so; SIEM parsers expect it, so it stays the default. `format:
 * rfc5424` ([beyond]) writes `<PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG` with a UTC timestamp
 * to the microsecond and the event type as MSGID.
 */
import {formatGoTime, formatOffsetSeconds, fromEpochNanos} from '../canonical/index.js'
import {SYSLOG_FACILITIES} from '../config/index.js'
import type {EmitEvent} from './event.js'
import {eventJson} from './render.js'
import type {Severity} from './severity.js'

const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = {critical: 2, warn: 4, info: 6}

export interface SyslogIdentity {
  readonly facility: string
  readonly tag: string
  readonly hostname: string
  readonly pid: number
  /** Minutes east of UTC at an instant (the local zone), injected for tests. */
  readonly offsetMinutes: (ms: number) => number
}

export function syslogPri(facility: string, s: Severity): number {
  return (SYSLOG_FACILITIES[facility.toLowerCase()] ?? 16) * 8 + SYSLOG_SEVERITY[s]
}

/** Local time, RFC 3339 seconds with the zone offset (`Z` when UTC), as Go's time.RFC3339. */
export function localSeconds(ns: bigint, offsetMinutes: (ms: number) => number): string {
  return formatOffsetSeconds(ns, offsetMinutes(Number(ns / 1_000_000n)))
}

function rfc5424Time(ns: bigint): string {
  const micros = (ns / 1000n) * 1000n
  const t = fromEpochNanos(micros)
  const base = formatGoTime({...t, nanos: 0})
  return base.slice(0, -1) + '.' + String(Math.floor(t.nanos / 1000)).padStart(6, '0') + 'Z'
}

/** RFC 5424 header fields are printable US-ASCII without spaces; `-` when empty. */
function headerField(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const v = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max)
  return v === '' ? '-' : v
}

export function syslogLine(format: 'bsd' | 'rfc5424', e: EmitEvent, id: SyslogIdentity, fields?: Readonly<Record<string, unknown>>): string {
  const pri = syslogPri(id.facility, e.severity)
  const msg = eventJson(e, fields)
  if (format === 'rfc5424') {
    return `<${pri}>1 ${rfc5424Time(e.timeNanos)} ${headerField(id.hostname, 255)} ${headerField(id.tag, 48)} ${id.pid} ${headerField(e.type, 32)} - ${msg}\n`
  }
  return `<${pri}>${localSeconds(e.timeNanos, id.offsetMinutes)} ${id.hostname} ${id.tag}[${id.pid}]: ${msg}\n`
}

/** The system zone's offset, minutes east of UTC. */
export function systemOffsetMinutes(ms: number): number {
  return -new Date(ms).getTimezoneOffset()
}
