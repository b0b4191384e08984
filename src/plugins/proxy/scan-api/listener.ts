/**
 * The scan API listener (scanners-extra §1.3–§1.7): `POST /api/v1/scan` on its own address,
 * started by `pipelock run` when `scan_api.listen` is set. Config, scanners and tool policy are
 * read from the running snapshot per request (hot reload); the listener's socket settings
 * (address, connection limit, read/write timeouts) are fixed at start.
 */
import {randomBytes} from 'node:crypto'
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import net, {type AddressInfo, type Socket} from 'node:net'
import {scanApiSettings, type ScanApiSettings} from '../../config/index.js'
import {PipelockError} from '../../errors/index.js'
import type {KillSwitchController} from '../../killswitch/index.js'
import type {Resolver} from '../../scanner/index.js'
import {Histogram, renderFamily} from '../metrics.js'
import type {ProxySnapshot} from '../state.js'
import type {ToolPolicy} from '../../mcp/index.js'
import {bearerToken, matchesDigests, tokenDigests} from './auth.js'
import {ScanUnavailable} from '../scan-offload/body-scans.js'
import {executeScan, toolPolicyOf, type Finding} from './execute.js'
import {TokenBuckets} from './limiter.js'
import {decodeScanRequest, inputProblem, RequestError, SCAN_KINDS, type ScanKind} from './request.js'

export interface ScanApiDeps {
  readonly snapshot: () => ProxySnapshot
  readonly killSwitch: KillSwitchController
  readonly version: string
  readonly resolver: Resolver
  readonly nowMs: () => number
}

interface ApiError {
  readonly code: string
  readonly message: string
  readonly retryable: boolean
}

interface Envelope {
  status: 'completed' | 'error'
  decision?: 'allow' | 'deny'
  kind: string
  scan_id: string
  request_id?: string
  duration_ms?: number
  engine_version: string
  findings?: readonly Finding[]
  errors?: readonly ApiError[]
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The five metric families of §1.7. */
class ScanApiMetrics {
  readonly requests = new Map<string, number>()
  readonly findings = new Map<string, number>()
  readonly errors = new Map<string, number>()
  readonly durations = new Map<string, Histogram>()
  inflight = 0

  private static inc(m: Map<string, number>, key: string): void {
    m.set(key, (m.get(key) ?? 0) + 1)
  }
  request(kind: string, decision: string, status: number): void {
    ScanApiMetrics.inc(this.requests, JSON.stringify([kind, decision, String(status)]))
  }
  finding(kind: string, scanner: string, severity: string): void {
    ScanApiMetrics.inc(this.findings, JSON.stringify([kind, scanner, severity]))
  }
  error(kind: string, code: string): void {
    ScanApiMetrics.inc(this.errors, JSON.stringify([kind, code]))
  }
  duration(kind: string, seconds: number): void {
    let h = this.durations.get(kind)
    if (h === undefined) this.durations.set(kind, (h = new Histogram('pipelock_scan_api_duration_seconds', 'Scan API scan duration (post-validation).', DURATION_BUCKETS)))
    h.observe(seconds)
  }
  render(out: string[]): void {
    const samples = (m: Map<string, number>, names: string[]): Array<[Record<string, string>, number]> =>
      [...m].map(([k, v]) => [Object.fromEntries((JSON.parse(k) as string[]).map((x, i) => [names[i]!, x])), v])
    renderFamily(out, 'pipelock_scan_api_requests_total', 'Scan API requests by kind, decision and status code.', 'counter', samples(this.requests, ['kind', 'decision', 'status_code']))
    renderFamily(out, 'pipelock_scan_api_findings_total', 'Scan API findings by kind, scanner and severity.', 'counter', samples(this.findings, ['kind', 'scanner', 'severity']))
    renderFamily(out, 'pipelock_scan_api_errors_total', 'Scan API error envelopes by kind and error code.', 'counter', samples(this.errors, ['kind', 'error_code']))
    renderFamily(out, 'pipelock_scan_api_inflight_requests', 'Scan API requests being handled.', 'gauge', [[{}, this.inflight]])
    const kinds = [...this.durations.keys()].sort()
    const all: string[] = []
    for (const k of kinds) {
      const part: string[] = []
      this.durations.get(k)!.render(part, {kind: k})
      all.push(...(all.length === 0 ? part : part.slice(2)))
    }
    out.push(...all)
  }
}

/** Scan ids from CSPRNG bytes drawn 4 KiB at a time: one id needs 8, and a call per id was a visible share of a url scan. */
class ScanIds {
  private buf = Buffer.alloc(0)
  private at = 0
  next(): string {
    if (this.at + 8 > this.buf.length) {
      this.buf = randomBytes(4096)
      this.at = 0
    }
    const id = this.buf.toString('hex', this.at, this.at + 8)
    this.at += 8
    return `scan-${id}`
  }
}

/** What the listener derives from one config snapshot, once: settings, token digests, the tool policy. */
interface PerSnapshot {
  readonly settings: ScanApiSettings
  readonly digests: readonly Buffer[]
  policy: ToolPolicy | null | undefined
}


export class ScanApiServer {
  private readonly http: http.Server
  private readonly front: net.Server
  private readonly metrics = new ScanApiMetrics()
  private readonly buckets: TokenBuckets
  /** Fixed at start (§1.8): listen, connection limit, read and write timeouts. */
  private readonly fixed: ScanApiSettings
  private active = 0
  private readonly waiting: Socket[] = []
  private readonly sockets = new Set<Socket>()
  private readonly ids = new ScanIds()
  /** Per config snapshot (a reload builds a new one, so tokens, limits and policy follow it). */
  private readonly derived = new WeakMap<ProxySnapshot, PerSnapshot>()

  constructor(private readonly deps: ScanApiDeps) {
    this.fixed = scanApiSettings(deps.snapshot().config)
    this.buckets = new TokenBuckets(deps.nowMs)
    this.http = http.createServer({maxHeaderSize: 16 * 1024, connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(this.fixed.readMs / 2)))}, (req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.destroy()
      })
    })
    // Header and whole-request read deadline = timeouts.read (§1.3 item 4).
    this.http.headersTimeout = this.fixed.readMs
    this.http.requestTimeout = this.fixed.readMs
    this.http.keepAliveTimeout = 5_000
    this.http.on('clientError', (_err, socket) => socket.destroy())
    // Connection limit (§1.3 item 3): a client over the limit waits, unread, until a slot frees;
    // it is never refused. The front server hands sockets to the HTTP server only within the limit.
    this.front = net.createServer({pauseOnConnect: true}, (s) => this.accept(s))
  }

  private accept(s: Socket): void {
    this.sockets.add(s)
    s.on('error', () => undefined)
    s.once('close', () => {
      this.sockets.delete(s)
      const i = this.waiting.indexOf(s)
      if (i >= 0) this.waiting.splice(i, 1)
    })
    if (this.active < this.fixed.connectionLimit) this.admit(s)
    else this.waiting.push(s)
  }

  private admit(s: Socket): void {
    this.active++
    s.once('close', () => {
      this.active--
      const next = this.waiting.shift()
      if (next !== undefined) this.admit(next)
    })
    this.http.emit('connection', s)
    s.resume()
  }

  private derive(snap: ProxySnapshot): PerSnapshot {
    let d = this.derived.get(snap)
    if (d === undefined) {
      const settings = scanApiSettings(snap.config)
      this.derived.set(snap, (d = {settings, digests: tokenDigests(settings.tokens), policy: undefined}))
    }
    return d
  }

  renderMetrics(out: string[]): void {
    this.metrics.render(out)
  }

  async listen(): Promise<string> {
    const addr = this.fixed.listen
    const i = addr.lastIndexOf(':')
    const host = i <= 0 ? undefined : addr.slice(0, i).replace(/^\[|\]$/g, '')
    const port = Number(addr.slice(i + 1))
    await new Promise<void>((resolve, reject) => {
      this.front.once('error', (err: NodeJS.ErrnoException) => reject(new PipelockError('LISTEN_FAILED', `scan API bind ${addr}: ${err.code ?? err.message}`, {hint: 'choose a free address for scan_api.listen, or stop what holds it'})))
      this.front.listen({host, port}, () => resolve())
    })
    const a = this.front.address() as AddressInfo
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
  }

  /** Stops accepting; in-flight requests get up to `drainMs`, then their sockets are cut. */
  async close(drainMs = 5000): Promise<void> {
    for (const s of this.waiting.splice(0)) s.destroy()
    const closed = new Promise<void>((r) => this.front.close(() => r()))
    this.http.closeIdleConnections()
    const timer = setTimeout(() => {
      for (const s of this.sockets) s.destroy()
    }, drainMs)
    timer.unref()
    await closed
    clearTimeout(timer)
  }

  /**
   * One JSON object and a newline (Go's HTML-safe escaping is not required, §1.6). The write
   * deadline (§1.9 Q1, fixed) is armed here, when the answer starts, so a slow scan still gets it.
   */
  private send(res: ServerResponse, status: number, body: Envelope, headers?: readonly string[]): void {
    if (res.headersSent || res.destroyed) return
    const text = JSON.stringify(body) + '\n'
    const t = setTimeout(() => res.destroy(), this.fixed.writeMs)
    t.unref()
    res.once('finish', () => clearTimeout(t))
    // A flat name/value list: node writes it without building and walking a headers object (bench: scan-api).
    const length = String(Buffer.byteLength(text))
    res.writeHead(status, headers === undefined ? ['Content-Type', 'application/json', 'Content-Length', length] : [...headers, 'Content-Type', 'application/json', 'Content-Length', length])
    res.end(text)
  }

  private fail(res: ServerResponse, kind: string, metricKind: string, status: number, err: ApiError, headers?: readonly string[], extra: Partial<Envelope> = {}): void {
    this.metrics.request(metricKind, 'error', status)
    this.metrics.error(metricKind, err.code)
    this.send(res, status, {status: 'error', kind, scan_id: this.ids.next(), ...extra, engine_version: this.deps.version, errors: [err]}, headers)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? ''
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    if (path !== '/api/v1/scan') {
      const body = '404 page not found\n'
      res.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': String(body.length)})
      res.end(body)
      return
    }
    this.metrics.inflight++
    try {
      await this.pipeline(req, res)
    } finally {
      this.metrics.inflight--
    }
  }

  /** §1.4, in order. */
  private async pipeline(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const snap = this.deps.snapshot()
    const d = this.derive(snap)
    const s = d.settings
    if (s.listen === '') return this.fail(res, '', '', 500, {code: 'config_unavailable', message: 'Scan API configuration unavailable', retryable: true})
    if (req.method !== 'POST') return this.fail(res, '', '', 405, {code: 'method_not_allowed', message: 'Only POST is accepted', retryable: false}, ['Allow', 'POST'])
    const token = bearerToken(req.headers.authorization)
    if (token === null || !matchesDigests(token, d.digests)) return this.fail(res, '', '', 401, {code: 'unauthorized', message: 'Missing or invalid bearer token', retryable: false})
    if (!this.buckets.take(token, s.requestsPerMinute, s.burst)) {
      return this.fail(res, '', '', 429, {code: 'rate_limited', message: 'Rate limit exceeded for this token', retryable: true}, ['Retry-After', '1'])
    }
    if (this.deps.killSwitch.isActive()) return this.fail(res, '', '', 503, {code: 'kill_switch_active', message: 'All scanning suspended by kill switch', retryable: false})
    const body = await readAtMost(req, s.maxBodyBytes + 1)
    if (body === null) return this.fail(res, '', '', 400, {code: 'read_error', message: 'Failed to read request body', retryable: false})
    if (body.length > s.maxBodyBytes) {
      // The rest is discarded unread: answer and close the connection.
      res.setHeader('Connection', 'close')
      return this.fail(res, '', '', 400, {code: 'body_too_large', message: `Request body exceeds ${s.maxBodyBytes} bytes`, retryable: false})
    }
    let parsed
    try {
      parsed = decodeScanRequest(body.toString('utf8'))
    } catch (err) {
      if (!(err instanceof RequestError)) throw err
      return this.fail(res, '', '', 400, {code: 'invalid_json', message: `Invalid request: ${err.message}`, retryable: false})
    }
    const kind = parsed.kind
    if (!(SCAN_KINDS as readonly string[]).includes(kind)) {
      return this.fail(res, kind, 'unknown', 400, {code: 'invalid_kind', message: `Unknown kind ${JSON.stringify(kind)}. Valid: url, dlp, prompt_injection, tool_call`, retryable: false})
    }
    const k = kind as ScanKind
    if (!s.kinds[k]) return this.fail(res, kind, kind, 400, {code: 'kind_disabled', message: `Kind ${JSON.stringify(kind)} is disabled on this server`, retryable: false})
    const problem = inputProblem(k, parsed.input, s.fieldLimits)
    if (problem !== null) return this.fail(res, kind, kind, 400, {code: 'invalid_input', message: problem, retryable: false})

    // Step 13: the scan under the deadline; a deadline or a cancel discards the verdict (never a partial allow).
    const started = this.deps.nowMs()
    const ctl = new AbortController()
    let why: 'deadline' | 'canceled' | null = null
    // Settled by the deadline or the client's close directly (no listener on the signal: bench scan-api).
    let stop!: (v: null) => void
    const aborted = new Promise<null>((resolve) => (stop = resolve))
    const deadline = setTimeout(() => {
      why = 'deadline'
      ctl.abort()
      stop(null)
    }, s.scanMs)
    const onClose = (): void => {
      if (!res.writableEnded && why === null) {
        why = 'canceled'
        ctl.abort()
        stop(null)
      }
    }
    res.once('close', onClose)
    let result: Awaited<ReturnType<typeof executeScan>> | null = null
    let failed = false
    let unavailable = false
    try {
      result = await Promise.race([executeScan(k, parsed.input, parsed.includeEvidence, {snap, resolver: this.deps.resolver, signal: ctl.signal, policy: () => (d.policy === undefined ? (d.policy = toolPolicyOf(snap)) : d.policy)}), aborted])
    } catch (err) {
      // The scan pool could not run a large field's scan (a thread died, the pool is full): no
      // verdict, and the client may try again (§1.5.3's answer when there is no scanner).
      if (err instanceof ScanUnavailable) unavailable = true
      failed = true
    } finally {
      clearTimeout(deadline)
    }
    // A synchronous scanner cannot be interrupted: a verdict that arrives after the deadline is discarded (§1.5.3).
    if (why === null && this.deps.nowMs() - started >= s.scanMs) why = 'deadline'
    const durationMs = Math.floor(this.deps.nowMs() - started)
    this.metrics.duration(kind, durationMs / 1000)
    const post = {...(parsed.requestId !== undefined ? {request_id: parsed.requestId} : {}), ...(durationMs > 0 ? {duration_ms: durationMs} : {})}
    if (why === 'deadline') return this.fail(res, kind, kind, 503, {code: 'scan_deadline_exceeded', message: 'Scan timed out', retryable: true}, undefined, post)
    if (why === 'canceled') return this.fail(res, kind, kind, 500, {code: 'request_canceled', message: 'Request canceled by client', retryable: false}, undefined, post)
    if (unavailable) return this.fail(res, kind, kind, 503, {code: 'scan_unavailable', message: 'Scan engine unavailable', retryable: true}, undefined, post)
    if (failed || result === null) return this.fail(res, kind, kind, 500, {code: 'internal_error', message: 'Scan failed', retryable: false}, undefined, post)
    res.off('close', onClose)
    this.metrics.request(kind, result.decision, 200)
    for (const f of result.findings) this.metrics.finding(kind, f.scanner, f.severity)
    this.send(res, 200, {
      status: 'completed', decision: result.decision, kind, scan_id: this.ids.next(), ...post, engine_version: this.deps.version,
      ...(result.findings.length > 0 ? {findings: result.findings} : {}),
    })
  }
}

/** Reads at most `limit` bytes of the body (stops reading beyond); null on a read error. */
function readAtMost(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let n = 0
    let done = false
    const finish = (v: Buffer | null): void => {
      if (done) return
      done = true
      req.off('data', onData)
      if (v !== null && v.length >= limit) req.resume()
      resolve(v)
    }
    const onData = (c: Buffer): void => {
      chunks.push(c)
      n += c.length
      // Over the limit: answer now; the rest is discarded as it arrives (bounded by timeouts.read).
      if (n >= limit) finish(Buffer.concat(chunks).subarray(0, limit))
    }
    req.on('data', onData)
    req.once('end', () => finish(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)))
    req.once('error', () => finish(null))
    req.once('aborted', () => finish(null))
  })
}
