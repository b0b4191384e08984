/**
 * Byte renderings of an emitted event: the webhook/syslog JSON document (§3.4) and Go's
 * `fmt.Sprint` of a field value for OTLP attributes (§3.6). Both follow Go because SIEM parsers
 * written against the reference read these bytes.
 */
import {compareUtf8, formatGoTime, fromEpochNanos, goJson, JsonNumber, type JsonValue} from '../canonical/index.js'
import type {EmitEvent} from './event.js'

/** A JSON tree of a field value: object keys sorted (Go map order), numbers as JS/Go render them. */
function toJsonValue(v: unknown): JsonValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'boolean') return v
  // Go's float64 JSON and JS's Number#toString agree (exponent below 1e-6 and from 1e21, `e-7`, `e+21`).
  if (typeof v === 'number') return Number.isFinite(v) ? new JsonNumber(String(v)) : null
  if (typeof v === 'bigint') return new JsonNumber(v.toString())
  if (Array.isArray(v)) return v.map(toJsonValue)
  if (typeof v === 'object') {
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort(compareUtf8)
    return new Map(keys.map((k) => [k, toJsonValue((v as Record<string, unknown>)[k])] as const))
  }
  return String(v)
}

/** RFC 3339 UTC with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano). */
export function eventTimestamp(ns: bigint): string {
  return formatGoTime(fromEpochNanos(ns))
}

/**
 * The webhook body and syslog MSG (§3.4): Go JSON in struct order, `fields` keys sorted, `<>&`
 * and U+2028/2029 escaped by `goJson`. `fields` may be replaced (syslog truncation).
 */
export function eventJson(e: EmitEvent, fields: Readonly<Record<string, unknown>> = e.fields): string {
  const doc = new Map<string, JsonValue>([
    ['severity', e.severity],
    ['type', e.type],
    ['timestamp', eventTimestamp(e.timeNanos)],
    ['pipelock_instance', e.instance],
    ['fields', toJsonValue(fields)],
  ])
  return goJson(doc)
}

/** Go `%v` of a float64: shortest digits, exponent form below 1e-4 and from 1e21, two-digit exponent. */
function sprintFloat(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0'
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf'
  const [mant, exp] = x.toExponential().split('e') as [string, string]
  const e = Number(exp)
  if (e < -4 || e >= 21) {
    const sign = e < 0 ? '-' : '+'
    return `${mant}e${sign}${String(Math.abs(e)).padStart(2, '0')}`
  }
  return String(x)
}

/**
 * Go `fmt.Sprint` of a field value (§3.6): strings verbatim, numbers as Go prints them, bools,
 * arrays `[a b c]`, structs `{v1 v2}` in declaration order (for `bundle_rules`: rule_id, bundle,
 * bundle_version), maps `map[k:v]` with sorted keys.
 */
export function goSprint(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : sprintFloat(v)
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (v === null || v === undefined) return '<nil>'
  if (Array.isArray(v)) return '[' + v.map(goSprint).join(' ') + ']'
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    if ('rule_id' in o && 'bundle' in o) return `{${goSprint(o.rule_id)} ${goSprint(o.bundle)} ${goSprint(o.bundle_version ?? '')}}`
    return 'map[' + Object.keys(o).sort(compareUtf8).map((k) => `${k}:${goSprint(o[k])}`).join(' ') + ']'
  }
  return String(v)
}
