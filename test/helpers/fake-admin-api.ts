/**
 * A stand-in for the session admin API of `pipelock run` (runtime §12) on 127.0.0.1: it checks
 * the Bearer token the way §12 does (401 + WWW-Authenticate, body `unauthorized`), answers each
 * `METHOD raw-path` with a canned reply, 404 `404 page not found` for anything else, and
 * records every request (method, raw path — so `%7C` stays visible —, Authorization, body).
 */
import http from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {spawn} from 'node:child_process'
import {repoPath} from './vectors.js'
import type {CliResult} from './cli.js'

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly authorization: string | undefined
  readonly contentType: string | undefined
  readonly body: string
}

export interface FakeReply {
  readonly status?: number
  readonly headers?: Record<string, string>
  /** A string is sent as text/plain, anything else as JSON. */
  readonly body?: unknown
  /** Never answer (timeout tests). */
  readonly hang?: boolean
}

export class FakeAdminApi {
  readonly requests: RecordedRequest[] = []
  private readonly replies = new Map<string, FakeReply>()
  private readonly sockets = new Set<Socket>()
  private constructor(
    private readonly server: http.Server,
    readonly token: string,
  ) {}

  static async start(token = 'test-token'): Promise<FakeAdminApi> {
    const server = http.createServer()
    const api = new FakeAdminApi(server, token)
    server.on('request', (req, res) => api.handle(req, res))
    server.on('connection', (s) => {
      api.sockets.add(s)
      s.on('close', () => api.sockets.delete(s))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return api
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Sets the reply for `METHOD /raw/path` (e.g. `GET /api/v1/sessions/a%7C10.0.0.1`). */
  on(route: string, reply: FakeReply): this {
    this.replies.set(route, reply)
    return this
  }

  reset(): void {
    this.requests.length = 0
    this.replies.clear()
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const rec: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      }
      this.requests.push(rec)
      if (rec.authorization !== `Bearer ${this.token}`) {
        res.writeHead(401, {'www-authenticate': 'Bearer realm="pipelock"', 'content-type': 'text/plain; charset=utf-8'})
        res.end('unauthorized\n')
        return
      }
      const reply = this.replies.get(`${rec.method} ${rec.path}`)
      if (reply === undefined) {
        res.writeHead(404, {'content-type': 'text/plain; charset=utf-8'})
        res.end('404 page not found\n')
        return
      }
      if (reply.hang === true) return
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {})
      const type = typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'
      res.writeHead(reply.status ?? 200, {'content-type': type, ...reply.headers})
      res.end(text)
    })
  }
}

/**
 * `runCli` for tests whose server lives in this process: the synchronous runner would block
 * the event loop the fake API needs. stdin is an empty pipe (never a TTY).
 */
export async function runCliAsync(args: readonly string[], options: {env?: NodeJS.ProcessEnv; input?: string} = {}): Promise<CliResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', 'run.js'), ...args], {cwd: repoPath(), env: options.env ?? process.env})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (status) => resolve({status, stdout, stderr}))
    child.stdin.end(options.input ?? '')
  })
}

/** The process environment without any PIPELOCK_* variable, plus the given ones. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIPELOCK_')) env[k] = v
  return {...env, NO_COLOR: '1', ...extra}
}

// ---- §12-shaped answers used by the unit and e2e tests

export const NOW = '2026-03-01T12:00:00Z'

export const SNAPSHOT_HELD = {
  key: 'shop-agent|10.0.0.5',
  agent: 'shop-agent',
  client_ip: '10.0.0.5',
  kind: 'identity',
  current_task_id: 'task-7',
  current_task_label: 'checkout',
  threat_score: 12.625,
  escalation_level: 'high',
  block_all: false,
  airlock_tier: 'hard',
  taint_level: 'external',
  contaminated: true,
  last_activity: '2026-03-01T11:59:15Z',
}

export const SNAPSHOT_CALM = {
  key: 'mcp-stdio-42',
  agent: 'mcp',
  client_ip: '127.0.0.1',
  kind: 'invocation',
  threat_score: 0,
  escalation_level: 'normal',
  block_all: false,
  airlock_tier: 'none',
  taint_level: 'none',
  contaminated: false,
  last_activity: '2026-03-01T10:58:00Z',
}

export const DETAIL_HELD = {
  ...SNAPSHOT_HELD,
  airlock_entered_at: '2026-03-01T11:57:00Z',
  in_flight: 2,
  escalation_level_int: 2,
  recent_events: [
    {at: '2026-03-01T11:56:58Z', kind: 'block', type: 'dlp', target: 'https://paste.example/upload', detail: 'dlp_match', severity: 'critical', score: 3},
    {at: '2026-03-01T11:56:59Z', kind: 'anomaly', target: 'evil.example', detail: 'domain_anomaly', severity: 'warn', score: 2},
    // An airlock transition has no target: the line leaves `target=` out.
    {at: '2026-03-01T11:57:00Z', kind: 'airlock_enter', target: '', detail: 'none->hard', severity: 'warn', score: 12.625},
  ],
}

export const EXPLAIN_HELD = {
  key: 'shop-agent|10.0.0.5',
  tier: 'hard',
  reason: 'session quarantined at airlock tier hard',
  trigger: 'on_high',
  trigger_source: 'airlock_triggers',
  entered_at: '2026-03-01T11:57:00Z',
  elapsed_in_tier_ns: 180_000_000_000,
  escalation_level: 'high',
  escalation_level_int: 2,
  threat_score: 12.625,
  evidence_kind: 'block',
  evidence_target: 'https://paste.example/upload',
  evidence_detail: 'dlp_match',
  evidence_at: '2026-03-01T11:56:58Z',
  next_deescalation_tier: 'soft',
  next_deescalation_at: '2026-03-01T12:02:00Z',
}

export const EXPLAIN_CALM = {
  key: 'mcp-stdio-42',
  tier: 'none',
  reason: 'session not quarantined',
  escalation_level: 'normal',
  escalation_level_int: 0,
  threat_score: 0,
}

export const ADAPTIVE_STATUS = {
  active_sessions: 3,
  max_escalation_level: 'high',
  max_escalation_level_int: 2,
  sessions_by_level: {normal: 2, high: 1},
  airlock_tiers: {none: 2, hard: 1},
  recent_signal_counts: {block: 4, domain_anomaly: 1},
  top_anomalies: [
    {name: 'block', count: 4},
    {name: 'domain_anomaly', count: 1},
  ],
  lockdown_ttl_seconds: 300,
}

export const WHOAMI = {
  client_ip: '127.0.0.1',
  session_key: 'anonymous|127.0.0.1',
  exists: true,
  classification: 'observe',
  escalation_level: 'elevated',
  escalation_level_int: 1,
  threat_score: 5.125,
  block_all: false,
  airlock_tier: 'soft',
  lockdown_ttl_seconds: 300,
}

/** `session inspect` of DETAIL_HELD at NOW, line by line (pinned by the unit and e2e tests). */
export const HELD_DETAIL_TEXT: readonly string[] = [
  'Session shop-agent|10.0.0.5',
  '  kind:            identity',
  '  agent:           shop-agent',
  '  client_ip:       10.0.0.5',
  '  airlock_tier:    hard',
  '  airlock_entered: 2026-03-01T11:57:00Z (3m0s ago)',
  '  in_flight:       2',
  '  escalation:      high (2)',
  '  threat_score:    12.62',
  '  block_all:       false',
  '  taint_level:     external',
  '  contaminated:    true',
  '  current_task_id: task-7',
  '  current_task:    checkout',
  '  last_activity:   2026-03-01T11:59:15Z (45s ago)',
  'recent_events:',
  '  [2026-03-01T11:56:58Z] block target=https://paste.example/upload score=3.00 detail=dlp_match',
  '  [2026-03-01T11:56:59Z] anomaly target=evil.example score=2.00 detail=domain_anomaly',
  '  [2026-03-01T11:57:00Z] airlock_enter score=12.62 detail=none->hard',
]
/** `session explain` of EXPLAIN_HELD at NOW. */
export const HELD_EXPLAIN_TEXT: readonly string[] = [
  'Session shop-agent|10.0.0.5 explanation',
  '  tier:              hard',
  '  reason:            session quarantined at airlock tier hard',
  '  trigger:           on_high (source=airlock_triggers)',
  '  escalation:        high (2)',
  '  threat_score:      12.62',
  '  entered_at:        2026-03-01T11:57:00Z (3m0s ago)',
  '  evidence:',
  '    at:     2026-03-01T11:56:58Z',
  '    kind:   block',
  '    target: https://paste.example/upload',
  '    detail: dlp_match',
  '  next_deescalation: tier=soft at=2026-03-01T12:02:00Z (in 2m0s)',
]

/** `adaptive status` of ADAPTIVE_STATUS. */
export const ADAPTIVE_STATUS_TEXT: readonly string[] = [
  'adaptive status: sessions=3 max_level=high ttl_seconds=300',
  'levels: normal=2 elevated=0 high=1 critical=0',
  'airlock: none=2 soft=0 hard=1 drain=0',
  'top_anomalies:',
  '  block=4',
  '  domain_anomaly=1',
]
