/**
 * The approvals side of the admin API (docs/ask.md; policy-extra §2.5, beyond the reference):
 * held requests (`ask`) listed and answered. Mounted beside the session API — only when an API
 * token existed at start-up — processed in the same order: method (405 + Allow) → auth (503 /
 * 401) → rate limit (answers: 60 a minute) → body (JSON ≤ 64 KiB, unknown fields refused) →
 * action. Errors are plain text. Every call is audited as `approval_admin`.
 *
 *   GET  /api/v1/approvals[?status=all]  → {"approvals":[…],"count":N} (pending; `all` adds answered ones)
 *   GET  /api/v1/approvals/{id}          → the item; 404 `approval not found`
 *   POST /api/v1/approvals/{id}          → {"id","status","decided_by","decided_at"} (body {"decision":"allow|deny|strip","decided_by"?,"reason"?});
 *                                          400 `invalid decision`, 409 `approval already decided` / `approval expired`
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {bearerMatches} from '../killswitch/index.js'
import type {ApprovalQueue} from './approvals.js'
import type {AuditLog} from './audit-log.js'
import {sendJson} from './block.js'
import {ApiError, drained, objectBody, optString, readJsonBody, sendText} from './session-api.js'

export interface ApprovalsApiOptions {
  readonly token: () => string
  readonly audit: () => AuditLog
  /** The queue, or null while this run holds nothing (the config in force does not ask, and nothing was held). */
  readonly approvals: () => ApprovalQueue | null
  /** The 409's text when there is no queue: why nothing is held, and what to do. */
  readonly noQueue: () => string
  readonly nowMs: () => number
}

const ID_RE = /^[A-Za-z0-9._-]{1,80}$/
const WINDOW_MS = 60_000
const MAX_ANSWERS = 60

export class ApprovalsApi {
  private window = {start: 0, count: 0}

  constructor(private readonly opts: ApprovalsApiOptions) {}

  /** Routes `/api/v1/approvals…`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string, clientIp: string): boolean {
    if (path !== '/api/v1/approvals' && !path.startsWith('/api/v1/approvals/')) return false
    const id = path === '/api/v1/approvals' ? undefined : decodeURIComponent(path.slice('/api/v1/approvals/'.length))
    const action = id === undefined ? 'list' : req.method === 'POST' ? 'decide' : 'show'
    const done = (status: number, result: string): void => {
      this.opts.audit().event(status < 400 ? 'info' : 'warn', 'approval_admin', 'approval admin API call', {action, client_ip: clientIp, id: id ?? '', result, status})
    }
    this.serve(req, res, id, query)
      .then((status) => done(status, 'ok'))
      .catch((err: unknown) => {
        const e = err instanceof ApiError ? err : new ApiError(500, 'internal error')
        if (!res.headersSent) sendText(res, e.status, e.message, e.headers)
        else res.destroy()
        done(e.status, e.message)
      })
    return true
  }

  private async serve(req: IncomingMessage, res: ServerResponse, id: string | undefined, query: string): Promise<number> {
    const allowed = id === undefined ? 'GET' : 'GET, POST'
    if (req.method !== 'GET' && !(req.method === 'POST' && id !== undefined)) throw drained(req, new ApiError(405, 'method not allowed', {Allow: allowed}))
    const token = this.opts.token()
    if (token === '') throw drained(req, new ApiError(503, 'approvals API not configured (no api_token)'))
    if (!bearerMatches(req.headers.authorization, token)) throw drained(req, new ApiError(401, 'unauthorized', {'WWW-Authenticate': 'Bearer realm="pipelock"'}))
    if (req.method === 'POST' && !this.allow()) throw drained(req, new ApiError(429, 'rate limit exceeded', {'Retry-After': '60'}))
    const q = this.opts.approvals()
    if (q === null) throw drained(req, new ApiError(409, this.opts.noQueue()))
    if (id === undefined) {
      req.resume()
      const status = new URLSearchParams(query).get('status') ?? 'pending'
      if (status !== 'pending' && status !== 'all') throw new ApiError(400, 'invalid status: must be pending or all')
      const list = q.list(status === 'all')
      sendJson(res, 200, {approvals: list, count: list.length})
      return 200
    }
    if (!ID_RE.test(id)) throw drained(req, new ApiError(400, 'missing or invalid approval id in URL path'))
    if (req.method === 'GET') {
      req.resume()
      const item = q.get(id)
      if (item === undefined) throw new ApiError(404, 'approval not found')
      sendJson(res, 200, item)
      return 200
    }
    const body = objectBody(await readJsonBody(req, false), ['decision', 'decided_by', 'reason'])
    const decision = optString(body, 'decision') ?? ''
    const by = (optString(body, 'decided_by') ?? '').trim()
    const reason = (optString(body, 'reason') ?? '').trim()
    const r = q.decide(id, decision, by === '' ? 'admin-api' : by, reason)
    if (!r.ok) throw new ApiError(r.status, r.error)
    sendJson(res, 200, {id, status: r.item.status, decided_by: r.item.decided_by ?? '', decided_at: r.item.decided_at ?? ''})
    return 200
  }

  private allow(): boolean {
    const now = this.opts.nowMs()
    if (now - this.window.start >= WINDOW_MS) this.window = {start: now, count: 0}
    return ++this.window.count <= MAX_ANSWERS
  }
}
