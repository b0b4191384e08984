/**
 * Syslog sink (operations.md §3.5) behind the same bounded queue as the HTTP sinks — the
 * reference writes syslog synchronously on the request path, so a stalled TCP receiver stalls
 * proxied requests; here a stalled receiver fills a queue and the rest is counted (§3.3 fix).
 *
 * UDP: one datagram per line, capped at 8 KiB (field values truncated, never the header; a line
 * still too long is dropped as `too_large`). TCP: newline-delimited stream (RFC 6587
 * non-transparent framing) for `bsd`; `rfc5424` over a stream uses octet counting (RFC 6587
 * §3.4.1, the framing RFC 5425 requires for TLS). TLS ([beyond]): `tls://host:port` with an
 * optional CA bundle and client certificate. On a write error the sink reconnects once and
 * retries the same line; a second failure drops the event (`send_failed`).
 */
import dgram from 'node:dgram'
import {readFileSync} from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import type {SyslogAddress} from '../config/index.js'
import type {EmitEvent} from './event.js'
import type {SendOutcome, SinkTransport} from './queue.js'
import type {RateLimitedLog} from './stats.js'
import {syslogLine, type SyslogIdentity} from './syslog-format.js'
import {MAX_EVENT_BYTES} from './webhook-sink.js'

export const UDP_MAX_BYTES = 8 * 1024
/** Per-value cap used when a UDP line is over UDP_MAX_BYTES. */
const TRUNCATED_VALUE_BYTES = 256
const DIAL_TIMEOUT_MS = 10_000

export interface SyslogTlsOptions {
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
  readonly serverName: string
}

export interface SyslogSinkOptions {
  readonly address: SyslogAddress
  readonly format: 'bsd' | 'rfc5424'
  readonly identity: SyslogIdentity
  readonly tls: SyslogTlsOptions
  readonly log: RateLimitedLog
}

interface Connection {
  write(data: Buffer): Promise<void>
  close(): void
  readonly broken: boolean
}

function truncateFields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) {
    out[k] = typeof v === 'string' && Buffer.byteLength(v) > TRUNCATED_VALUE_BYTES ? Buffer.from(v).subarray(0, TRUNCATED_VALUE_BYTES).toString('utf8').replace(/\uFFFD$/, '') + '…' : v
  }
  return out
}

async function dialUdp(a: SyslogAddress): Promise<Connection> {
  const sock = dgram.createSocket(net.isIPv6(a.host) ? 'udp6' : 'udp4')
  let broken = false
  sock.on('error', () => (broken = true))
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject)
    sock.connect(a.port, a.host, () => {
      sock.off('error', reject)
      resolve()
    })
  })
  return {
    get broken() {
      return broken
    },
    write: (data) => new Promise((resolve, reject) => sock.send(data, (err) => (err ? reject(err) : resolve()))),
    close: () => {
      try {
        sock.close()
      } catch {
        // already closed
      }
    },
  }
}

async function dialStream(a: SyslogAddress, t: SyslogTlsOptions): Promise<Connection> {
  const sock: net.Socket = a.network === 'tls'
    ? tls.connect({
        host: a.host,
        port: a.port,
        servername: t.serverName !== '' ? t.serverName : net.isIP(a.host) ? undefined : a.host,
        ...(t.caFile !== '' ? {ca: readFileSync(t.caFile)} : {}),
        ...(t.certFile !== '' ? {cert: readFileSync(t.certFile), key: readFileSync(t.keyFile)} : {}),
      })
    : net.connect({host: a.host, port: a.port})
  let broken = false
  const markBroken = (): void => {
    broken = true
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`dial ${a.network} ${a.host}:${a.port}: i/o timeout`))
    }, DIAL_TIMEOUT_MS)
    sock.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    sock.once(a.network === 'tls' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer)
      resolve()
    })
  })
  sock.on('error', markBroken)
  sock.on('close', markBroken)
  sock.on('end', markBroken)
  // The receiver never sends anything we need; reading keeps a peer's FIN visible.
  sock.resume()
  sock.setKeepAlive(true, 60_000)
  return {
    get broken() {
      return broken
    },
    write: (data) =>
      new Promise((resolve, reject) => {
        if (sock.destroyed) return reject(new Error('connection closed'))
        const onClose = (): void => reject(new Error('connection closed'))
        sock.once('close', onClose)
        sock.write(data, (err) => {
          sock.off('close', onClose)
          if (err) reject(err)
          else resolve()
        })
      }),
    close: () => sock.destroy(),
  }
}

/** Opens the connection now (a failure is a start-up / reload error, §3.5) and returns the transport. */
export async function openSyslogTransport(o: SyslogSinkOptions): Promise<SinkTransport> {
  const dial = (): Promise<Connection> => (o.address.network === 'udp' ? dialUdp(o.address) : dialStream(o.address, o.tls))
  let conn: Connection | null = await dial()
  const octetCounting = o.format === 'rfc5424' && o.address.network !== 'udp'
  const frame = (line: string): Buffer => {
    if (!octetCounting) return Buffer.from(line, 'utf8')
    const body = Buffer.from(line.slice(0, -1), 'utf8')
    return Buffer.concat([Buffer.from(`${body.length} `), body])
  }
  const writeOnce = async (data: Buffer): Promise<void> => {
    if (conn === null || conn.broken) {
      conn?.close()
      conn = null
      conn = await dial()
    }
    await conn.write(data)
  }
  return {
    async send(e: EmitEvent): Promise<SendOutcome> {
      let line = syslogLine(o.format, e, o.identity)
      const cap = o.address.network === 'udp' ? UDP_MAX_BYTES : MAX_EVENT_BYTES
      if (Buffer.byteLength(line) > cap) {
        line = syslogLine(o.format, e, o.identity, truncateFields(e.fields))
        if (Buffer.byteLength(line) > cap) return 'too_large'
      }
      const data = frame(line)
      try {
        await writeOnce(data)
        return 'sent'
      } catch {
        // One reconnect and one retry of the same line (§3.5).
        conn?.close()
        conn = null
        try {
          await writeOnce(data)
          return 'sent'
        } catch (err) {
          o.log.line('syslog:error', `emit: syslog write error: ${(err as Error).message}`)
          return 'send_failed'
        }
      }
    },
    async dispose(): Promise<void> {
      conn?.close()
      conn = null
    },
  }
}
