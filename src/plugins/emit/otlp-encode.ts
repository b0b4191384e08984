/**
 * OTLP/HTTP protobuf `ExportLogsServiceRequest` for one event (operations.md §3.6, §3.7).
 *
 * Hand-written rather than through a protobuf library: the message is a fixed subset of seven
 * types and ten fields, encoded once per event on the emitter's sender; a reflection-based
 * encoder (protobufjs) would be a runtime dependency for ~60 lines and slower. The tests decode
 * these bytes with protobufjs from the `.proto` field numbers, byte-compare with its encoder, and
 * run a real HTTP receiver.
 */
import type {EmitEvent} from './event.js'
import {goSprint} from './render.js'
import type {Severity} from './severity.js'

// --- protobuf wire format (varint, length-delimited, fixed64)

function varint(n: number): number[] {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}

function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(payload.length)]), payload])
}

function stringField(field: number, s: string): Buffer {
  return lengthDelimited(field, Buffer.from(s, 'utf8'))
}

function fixed64Field(field: number, v: bigint): Buffer {
  const b = Buffer.alloc(9)
  b[0] = (field << 3) | 1
  b.writeBigUInt64LE(BigInt.asUintN(64, v), 1)
  return b
}

function varintField(field: number, n: number): Buffer {
  return Buffer.from([...varint(field << 3), ...varint(n)])
}

/** KeyValue{key=1, value=2 AnyValue{string_value=1}} */
function keyValue(key: string, value: string): Buffer {
  return Buffer.concat([stringField(1, key), lengthDelimited(2, stringField(1, value))])
}

// --- mapping

const SEVERITY_NUMBER: Readonly<Record<Severity, [number, string]>> = {info: [9, 'INFO'], warn: [13, 'WARN'], critical: [17, 'ERROR']}
const THREAT_SEVERITY: Readonly<Record<Severity, string>> = {critical: 'high', warn: 'medium', info: 'low'}
const THREAT_ACTION: Readonly<Record<string, string>> = {block: 'block', blocked: 'block', allow: 'allow', allowed: 'allow', warn: 'warn', ask: 'ask'}

export interface OtlpOptions {
  readonly version: string
  readonly threatDetection: boolean
}

/** The `agent.threat.detection.*` attributes of §3.7, or none. */
export function threatAttributes(e: EmitEvent, version: string): Array<[string, string]> {
  const f = e.fields
  let action: string | undefined
  if (typeof f.action === 'string') action = THREAT_ACTION[f.action]
  else if ((e.type === 'blocked' || e.type === 'ws_blocked') && typeof f.scanner === 'string' && f.scanner !== '') action = 'block'
  if (action === undefined) return []
  let rule: [string, string] | undefined
  if (typeof f.primary_rule_id === 'string' && f.primary_rule_id !== '' && typeof f.bundle_version === 'string' && f.bundle_version !== '') {
    rule = [f.primary_rule_id, `pipelock-rules@${f.bundle_version}`]
  } else if (typeof f.pattern === 'string' && f.pattern !== '') rule = [f.pattern, `pipelock-core@${version}`]
  else if (typeof f.scanner === 'string' && f.scanner !== '') rule = [f.scanner, `pipelock-core@${version}`]
  if (rule === undefined) return []
  const out: Array<[string, string]> = [
    ['agent.threat.detection.rule_id', rule[0]],
    ['agent.threat.detection.ruleset', rule[1]],
    ['agent.threat.detection.severity', THREAT_SEVERITY[e.severity]],
    ['agent.threat.detection.action', action],
  ]
  if (typeof f.request_id === 'string' && f.request_id !== '') out.push(['agent.threat.detection.correlation_id', f.request_id])
  return out
}

/** The attributes of the record: one string per field (sorted by key), the instance, then §3.7's. */
export function otlpAttributes(e: EmitEvent, o: OtlpOptions): Array<[string, string]> {
  const attrs: Array<[string, string]> = Object.keys(e.fields).sort().map((k) => [k, goSprint(e.fields[k])])
  attrs.push(['pipelock.instance', e.instance])
  if (o.threatDetection) attrs.push(...threatAttributes(e, o.version))
  return attrs
}

export function encodeLogsRequest(e: EmitEvent, o: OtlpOptions): Buffer {
  const [sevNumber, sevText] = SEVERITY_NUMBER[e.severity]
  const record = Buffer.concat([
    fixed64Field(1, e.timeNanos),
    varintField(2, sevNumber),
    stringField(3, sevText),
    lengthDelimited(5, stringField(1, e.type)),
    ...otlpAttributes(e, o).map(([k, v]) => lengthDelimited(6, keyValue(k, v))),
    fixed64Field(11, e.timeNanos),
  ])
  const resource = Buffer.concat([lengthDelimited(1, keyValue('service.name', 'pipelock')), lengthDelimited(1, keyValue('service.version', o.version))])
  const scopeLogs = lengthDelimited(2, record)
  const resourceLogs = Buffer.concat([lengthDelimited(1, resource), lengthDelimited(2, scopeLogs)])
  return lengthDelimited(1, resourceLogs)
}

/** `http://c:4318`, `…/` and `…/v1/logs` all post to `…/v1/logs`; a path prefix is kept (§3.6). */
export function otlpLogsUrl(endpoint: string): string {
  let u = endpoint.replace(/\/+$/, '')
  if (u.endsWith('/v1/logs')) u = u.slice(0, -'/v1/logs'.length)
  return u + '/v1/logs'
}
