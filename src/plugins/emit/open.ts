/**
 * Builds the emitter's sinks from the `emit` config section (operations.md §3.2). A sink that
 * cannot be created (a syslog address that does not connect) is an error: fatal at start-up,
 * "keep the old sinks" on reload.
 */
import os from 'node:os'
import {parseSyslogAddress, type PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {otlpTransport} from './otlp-sink.js'
import {QueuedSink} from './queue.js'
import {parseSeverity} from './severity.js'
import type {EmitStats, RateLimitedLog} from './stats.js'
import {systemOffsetMinutes} from './syslog-format.js'
import {openSyslogTransport} from './syslog-sink.js'
import {webhookTransport} from './webhook-sink.js'

export interface OpenSinksOptions {
  readonly version: string
  readonly stats: EmitStats
  readonly log: RateLimitedLog
  /** Injected for tests; default the OS hostname and process id. */
  readonly hostname?: string
  readonly pid?: number
}

/** `emit.instance_id`, else the hostname, else `pipelock`. */
export function emitInstance(emit: PipelockConfig['emit'], hostname = os.hostname()): string {
  return emit.instance_id !== '' ? emit.instance_id : hostname !== '' ? hostname : 'pipelock'
}

export async function openEmitSinks(emit: PipelockConfig['emit'], o: OpenSinksOptions): Promise<QueuedSink[]> {
  const sinks: QueuedSink[] = []
  const common = {stats: o.stats, log: o.log}
  if (emit.webhook.url !== '') {
    const w = emit.webhook
    sinks.push(new QueuedSink({
      ...common, name: 'webhook', minSeverity: parseSeverity(w.min_severity), capacity: w.queue_size,
      transport: webhookTransport({url: w.url, authToken: w.auth_token, timeoutSeconds: w.timeout_seconds, version: o.version, log: o.log}),
    }))
  }
  if (emit.syslog.address !== '') {
    const s = emit.syslog
    const address = parseSyslogAddress(s.address)
    if (typeof address === 'string') throw new PipelockError('CONFIG_INVALID', `invalid emit.syslog.address "${s.address}": ${address}`)
    let transport
    try {
      transport = await openSyslogTransport({
        address,
        format: s.format === 'rfc5424' ? 'rfc5424' : 'bsd',
        identity: {facility: s.facility, tag: s.tag, hostname: o.hostname ?? os.hostname(), pid: o.pid ?? process.pid, offsetMinutes: systemOffsetMinutes},
        tls: {caFile: s.tls.ca_file, certFile: s.tls.cert_file, keyFile: s.tls.key_file, serverName: s.tls.server_name},
        log: o.log,
      })
    } catch (err) {
      await Promise.all(sinks.map((x) => x.close(0)))
      const e = err as NodeJS.ErrnoException
      throw new PipelockError('EMIT_SINK_FAILED', `creating emit sinks: creating syslog sink: emit: syslog dial: ${e.code ?? e.message}`, {
        hint: `check that a syslog receiver listens on ${s.address}`,
      })
    }
    sinks.push(new QueuedSink({...common, name: 'syslog', minSeverity: parseSeverity(s.min_severity), capacity: s.queue_size, transport}))
  }
  if (emit.otlp.endpoint !== '') {
    const t = emit.otlp
    sinks.push(new QueuedSink({
      ...common, name: 'otlp', minSeverity: parseSeverity(t.min_severity), capacity: t.queue_size,
      transport: otlpTransport({
        endpoint: t.endpoint, headers: t.headers, timeoutSeconds: t.timeout_seconds, gzip: t.gzip,
        threatDetection: t.agent_threat_detection_emit, version: o.version, log: o.log,
      }),
    }))
  }
  return sinks
}
