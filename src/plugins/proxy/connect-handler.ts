/**
 * CONNECT tunnels (§4.3): the synthetic `https://<host>/` is URL-scanned, the CONNECT request's
 * own headers get header DLP, a 1024-tunnel cap applies, the upstream is dialled through the
 * SSRF-safe dialer, the client's first TLS record is checked for a matching SNI, then bytes are
 * relayed with idle and lifetime timers. Kill-switch activation destroys every live tunnel.
 */
import type {IncomingMessage} from 'node:http'
import {Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import type {ReasonCode} from '../scanner/index.js'
import {blockHeaders, killSwitchBody} from './block.js'
import {allowDecision, blockDecision, safeTarget, upstreamFailure, type DecisionBase, type ProxyCore} from './core.js'
import type {Decision, DecisionStage} from './decision.js'
import {firstHeader, headerDlpGate, RequestRecord, sessionPreflight, urlVerdict} from './request-gate.js'
import {classifySni, recordLength, type SniCategory} from './sni.js'

export const MAX_TUNNELS = 1024
const SNI_TIMEOUT_MS = 5000
const SNI_MAX = 16 * 1024 + 5

/** Writes a raw HTTP/1.1 response on a hijacked socket and closes it. */
export function writeRawResponse(socket: Duplex, status: number, statusText: string, headers: Record<string, string>, body: string): void {
  if (socket.destroyed) return
  const lines = [`HTTP/1.1 ${status} ${statusText}`]
  const all = {...headers, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close'}
  for (const [k, v] of Object.entries(all)) lines.push(`${k}: ${v}`)
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body)
}

const STATUS_TEXT: Record<number, string> = {400: 'Bad Request', 403: 'Forbidden', 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable'}

function textHeaders(): Record<string, string> {
  return {'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff'}
}

/** `host:port` of an authority-form target; port defaults to 443. */
export function parseAuthority(target: string): {host: string; port: number} | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/?#@[\]\s]+)(?::(\d{1,5}))?$/.exec(target)
  if (m === null) return null
  const port = m[2] === undefined ? 443 : Number(m[2])
  if (port < 1 || port > 65535) return null
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!
  return {host, port}
}

export function killSwitchConnectDeny(socket: Duplex, message: string): void {
  writeRawResponse(socket, 503, 'Service Unavailable', {'Content-Type': 'application/json'}, JSON.stringify(killSwitchBody(message)) + '\n')
}

export async function handleConnect(core: ProxyCore, req: IncomingMessage, client: Duplex, head: Buffer, b: DecisionBase): Promise<void> {
  const snap = core.snapshot()
  const cfg = snap.config
  client.on('error', () => undefined)
  const target = req.url ?? ''
  const auth = parseAuthority(target)
  if (auth === null) {
    writeRawResponse(client, 400, 'Bad Request', textHeaders(), 'invalid CONNECT target\n')
    return
  }
  const display = auth.host.includes(':') ? `[${auth.host}]:${auth.port}` : `${auth.host}:${auth.port}`
  const synthetic = `https://${auth.host.includes(':') ? `[${auth.host}]` : auth.host}/`
  // Session profiling (§14): one lookup after the URL verdict; every Decision is read back by `settle`.
  const ps = snap.sessions
  const rec = new RequestRecord(core, ps)
  const record = (d: Decision): void => rec.record(d)
  const deny = (stage: DecisionStage, layer: string, detail: string, status: number, reason?: ReasonCode, scan?: Parameters<typeof blockDecision>[3]['scan'], body?: string): void => {
    const safe = layer === 'all' ? synthetic : safeTarget(snap, synthetic, layer)
    const tgt = safe === synthetic ? display : safe
    const d = blockDecision(core, b, tgt, {stage, layer, ...(reason ? {reason} : {}), detail, status, enforced: true, ...(scan ? {scan} : {})})
    record(d)
    const hint: Record<string, string> = cfg.explain_blocks && d.hint ? {'X-Pipelock-Hint': d.hint.replace(/[\r\n]/g, ' ')} : {}
    writeRawResponse(client, status, STATUS_TEXT[status] ?? 'Forbidden', {...textHeaders(), ...blockHeaders(d.reason!, layer), ...hint}, body ?? `CONNECT blocked: ${detail}\n`)
  }

  const scan = await urlVerdict(core, snap, b, synthetic, () => display, rec, deny)
  if (scan === null) return
  const t = rec.session
  // §14.3: CONNECT answers `CONNECT blocked: session escalation level <label>`.
  if (sessionPreflight(snap, rec, auth.host.toLowerCase(), firstHeader(req.headers['user-agent']), deny)) return
  if (headerDlpGate(snap, rec, req, auth.host.toLowerCase(), display, deny)) return
  if (core.activeTunnels() >= MAX_TUNNELS) return deny('capacity', 'tunnel_capacity', 'too many active tunnels', 503, 'rate_limit', undefined, 'too many active tunnels\n')

  let upstream
  try {
    upstream = await core.dial(auth.host, auth.port)
  } catch (err) {
    const e = err as Error & {code?: string}
    record(upstreamFailure(core, b, display, `tunnel dial failed: ${e.code === 'PIPELOCK_DIAL_BLOCKED' ? e.message : (e.code ?? e.message)}`, e.code === 'PIPELOCK_DIAL_BLOCKED'))
    writeRawResponse(client, 502, 'Bad Gateway', textHeaders(), 'tunnel dial failed\n')
    return
  }
  upstream.on('error', () => undefined)
  if (client.destroyed || core.killSwitch.isActive()) {
    upstream.destroy()
    if (!client.destroyed) killSwitchConnectDeny(client, core.killSwitch.message)
    return
  }
  client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
  const openedAt = core.nowMs()
  let bytes = 0
  let closed = false
  let lifetime: NodeJS.Timeout | undefined
  const close = (): void => {
    if (closed) return
    closed = true
    clearTimeout(lifetime)
    untrack()
    client.destroy()
    upstream.destroy()
    core.metrics.tunnelClosed(bytes, (core.nowMs() - openedAt) / 1000)
    core.audit.event('info', 'tunnel_close', 'tunnel closed', {target: display, request_id: b.requestId, agent: b.agent, bytes, duration_ms: core.nowMs() - openedAt})
  }
  const untrack = core.trackTunnel(close)
  // Session reset/terminate cut the session's live tunnels.
  if (t !== null) {
    const sess = t.session
    sess.cancels.add(close)
    ps!.exposure(t, `https://${display}/`, auth.host.toLowerCase(), 'tunnel')
    const unlink = (): void => void sess.cancels.delete(close)
    client.once('close', unlink)
  }
  record(allowDecision(core, b, display, 200, 0, scan.warnings.map((w) => w.pattern)))

  // SNI verification: peek the first record (replayed upstream), 5 s, ≤ 16 KiB.
  let first: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0)
  const category = await new Promise<SniCategory>((resolve) => {
    if (!cfg.forward_proxy.sni_verification) return resolve('match')
    const decide = (): boolean => {
      if (first.length === 0) return false
      if (first[0] !== 0x16) return (resolve('not_tls'), true)
      const need = recordLength(first)
      if (need === null) return false
      if (need > SNI_MAX) return (resolve('malformed_tls'), true)
      if (first.length < need) return false
      resolve(classifySni(first.subarray(0, need), auth.host))
      return true
    }
    if (decide()) return
    const timer = setTimeout(() => {
      cleanup()
      resolve('timeout')
    }, SNI_TIMEOUT_MS)
    const onData = (c: Buffer): void => {
      first = Buffer.concat([first, c])
      if (decide()) cleanup()
    }
    const onEnd = (): void => {
      cleanup()
      resolve(first.length === 0 ? 'not_tls' : 'malformed_tls')
    }
    const cleanup = (): void => {
      clearTimeout(timer)
      client.off('data', onData)
      client.off('end', onEnd)
      client.off('close', onEnd)
      client.pause()
    }
    client.on('data', onData)
    client.once('end', onEnd)
    client.once('close', onEnd)
  })
  if (cfg.forward_proxy.sni_verification) core.metrics.sni.inc({category, agent: b.agent})
  if (category === 'mismatch' || category === 'malformed_tls' || category === 'timeout') {
    core.audit.event('warn', 'sni_mismatch', 'CONNECT SNI verification failed; tunnel closed', {target: display, category, request_id: b.requestId, agent: b.agent})
    close()
    return
  }
  if (closed) return

  // Relay socket to socket; the timers act on events, never per chunk (a timer per chunk cost
  // CPU, and the old per-chunk bookkeeping leaked the lifetime timer, which then held the
  // process open after SIGTERM). Lifetime: one timer, cleared on close. Idle: the client
  // socket's own timeout, which node restarts on every read and every write; the relay writes
  // to the client whatever upstream sends, so it fires only when both directions were silent.
  lifetime = setTimeout(close, cfg.forward_proxy.max_tunnel_seconds * 1000)
  if (client instanceof Socket) {
    client.setTimeout(cfg.forward_proxy.idle_timeout_seconds * 1000)
    client.once('timeout', close)
  }
  const relay = (from: Duplex, to: Duplex): void => {
    from.on('data', (c: Buffer) => {
      // Kill switch re-checked on every read (§4.3 step 7): a cached flag, no I/O; activation
      // also destroys tunnels directly.
      if (core.killSwitch.activeAsOfLastPoll()) return close()
      bytes += c.length
      if (!to.write(c)) from.pause()
    })
    to.on('drain', () => from.resume())
    from.once('end', () => to.end())
    from.once('close', close)
    from.once('error', close)
  }
  if (first.length > 0) {
    bytes += first.length
    upstream.write(first)
  }
  relay(client, upstream)
  relay(upstream, client)
  client.resume()
}
