// Layer 3: event emission (operations.md §3) — webhook, syslog and OTLP/HTTP logs sinks fed by
// the audit log's tap, each behind a bounded queue that never blocks traffic.
export {Emitter, type EmitterOptions} from './emitter.js'
export {openEmitSinks, emitInstance, type OpenSinksOptions} from './open.js'
export {EmitStats, RateLimitedLog, DROP_REASONS, type DropReason, type SinkName} from './stats.js'
export {QueuedSink, DRAIN_TIMEOUT_MS, type SinkTransport, type SendOutcome, type QueuedSinkOptions} from './queue.js'
export {buildEvent, type EmitEvent} from './event.js'
export {severityOf, parseSeverity, isEmitted, ALLOWED_GATED, type Severity} from './severity.js'
export {eventJson, eventTimestamp, goSprint} from './render.js'
export {encodeLogsRequest, otlpAttributes, otlpLogsUrl, threatAttributes} from './otlp-encode.js'
export {syslogLine, syslogPri, localSeconds, type SyslogIdentity} from './syslog-format.js'
export {UDP_MAX_BYTES} from './syslog-sink.js'
export {MAX_EVENT_BYTES} from './webhook-sink.js'
