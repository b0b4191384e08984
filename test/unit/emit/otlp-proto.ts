/**
 * The OTLP logs subset of operations.md §3.6 as a `.proto`, loaded with protobufjs: an
 * independent decoder/encoder for the hand-written one in src/plugins/emit/otlp-encode.ts.
 */
import protobuf from 'protobufjs'

export const OTLP_LOGS_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue { string string_value = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message LogRecord {
  fixed64 time_unix_nano = 1;
  int32 severity_number = 2;
  string severity_text = 3;
  AnyValue body = 5;
  repeated KeyValue attributes = 6;
  fixed64 observed_time_unix_nano = 11;
}
message ScopeLogs { repeated LogRecord log_records = 2; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
`

export const ExportLogsServiceRequest = protobuf.parse(OTLP_LOGS_PROTO, {keepCase: true}).root.lookupType('otlp.ExportLogsServiceRequest')

export interface DecodedRecord {
  readonly resource: Record<string, string>
  readonly time: string
  readonly observed: string
  readonly severityNumber: number
  readonly severityText: string
  readonly body: string
  readonly attributes: Record<string, string>
  readonly attributeKeys: string[]
}

type Kv = {key: string; value?: {string_value?: string}}

/** Decodes one request holding one record (the sink's shape) into plain values. */
export function decodeOne(bytes: Uint8Array): DecodedRecord {
  const msg = ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(bytes), {longs: String, defaults: true}) as {
    resource_logs: Array<{resource: {attributes: Kv[]}; scope_logs: Array<{log_records: Array<Record<string, unknown> & {attributes: Kv[]; body: {string_value: string}}>}>}>
  }
  if (msg.resource_logs.length !== 1 || msg.resource_logs[0]!.scope_logs.length !== 1 || msg.resource_logs[0]!.scope_logs[0]!.log_records.length !== 1) {
    throw new Error('expected exactly one ResourceLogs → ScopeLogs → LogRecord')
  }
  const rl = msg.resource_logs[0]!
  const r = rl.scope_logs[0]!.log_records[0]!
  const kv = (l: Kv[]): Record<string, string> => Object.fromEntries(l.map((a) => [a.key, a.value?.string_value ?? '']))
  return {
    resource: kv(rl.resource.attributes),
    time: String(r.time_unix_nano),
    observed: String(r.observed_time_unix_nano),
    severityNumber: Number(r.severity_number),
    severityText: String(r.severity_text),
    body: r.body.string_value,
    attributes: kv(r.attributes),
    attributeKeys: r.attributes.map((a) => a.key),
  }
}
