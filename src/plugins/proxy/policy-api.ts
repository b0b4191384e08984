/**
 * The policy side of the admin API (issue 14, beyond the reference): scoped exceptions and the
 * operator's change note. Mounted beside the session API (runtime §12) — only when an API token
 * existed at start-up, on the API listener (or the main one), behind the same failed-token
 * throttle — and processed in the same order: method (405 + Allow) → auth (503 / 401) →
 * per-action rate limit (10 a minute; list is not limited) → body (JSON ≤ 64 KiB, unknown fields
 * refused) → action. Errors are plain text. Every call is audited as `policy_admin`.
 *
 *   GET  /api/v1/exceptions                → {"exceptions":[…],"count":N}
 *   POST /api/v1/exceptions                → 201 the exception (body: exception-rules.ts ExceptionGrant)
 *   POST /api/v1/exceptions/{id}/revoke    → {"id","revoked":true,"exception":{…}} (body: {"revoked_by"?})
 *   POST /api/v1/policy/change-note        → {"pending":true,"operator","change_id"?,"file_sha256","expires_at"}, or
 *                                            {"pending":false,"attested":true,…,"change":{"trigger","at","changed_paths"}}; 409 when nothing to bind to
 *   POST /api/v1/policy/reload             → 202 {"reload_requested":true,"note_pending":bool,"note"?} (body: a change note, optional)
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {bearerMatches} from '../killswitch/index.js'
import type {AuditLog} from './audit-log.js'
import {sendJson} from './block.js'
import type {ExceptionGrant} from './exception-rules.js'
import type {ExceptionStore} from './exception-store.js'
import type {ChangeNote, NoteBinding} from './policy-change.js'
import {ApiError, drained, objectBody, optString, readJsonBody, sendText} from './session-api.js'

/** The policy-change trail's hooks the API drives (run-service wires them). */
export interface PolicyHooks {
  /**
   * Binds the note to the change it describes, named by the config file's SHA-256 (`fileSha`,
   * default the file on disk): attests the change in force, waits for the file's reload, or refuses.
   */
  note(n: ChangeNote, fileSha?: string): NoteBinding
  /** Starts a reload of the config file (as SIGHUP does); false without a config file. */
  reload(): boolean
}

export interface PolicyApiOptions {
  readonly token: () => string
  readonly audit: () => AuditLog
  /** The exception store, or null when exceptions are unavailable (no signing flight recorder). */
  readonly exceptions: () => ExceptionStore | null
  /** The session API's fixed windows (separate buckets per action). */
  readonly allow: (bucket: string) => boolean
  readonly policy: () => PolicyHooks | null
  /** Grant-time check of an exception's `pattern`: the refusal, or null when it names something waivable (issue 34). */
  readonly checkPattern?: (pattern: string) => string | null
}

type Action = 'exception_list' | 'exception_grant' | 'exception_revoke' | 'change_note' | 'reload'

const LIMITED: Partial<Record<Action, string>> = {exception_grant: 'exception_grant', exception_revoke: 'exception_revoke', change_note: 'policy', reload: 'policy'}
const NO_EXCEPTIONS = 'exceptions need flight_recorder.enabled with signing_key_path: every use is a signed receipt and the grants persist in flight_recorder.dir'
const ID_RE = /^[A-Za-z0-9._-]{1,64}$/
const GRANT_FIELDS = ['host', 'path', 'pattern', 'agent', 'uses', 'expires_in_seconds', 'granted_by', 'reason'] as const
const NOTE_FIELDS = ['operator', 'justification', 'change_id', 'file_sha256']
const MAX_JUSTIFICATION = 4096

export class PolicyApi {
  constructor(private readonly opts: PolicyApiOptions) {}

  /** Routes `/api/v1/exceptions…` and `/api/v1/policy/…`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, clientIp: string): boolean {
    const route = routeOf(req.method ?? '', path)
    if (route === null) return false
    let id = ''
    const done = (status: number, result: string): void => {
      this.opts.audit().event(status < 400 ? 'info' : 'warn', 'policy_admin', 'policy admin API call', {action: route.action, client_ip: clientIp, id, result, status})
    }
    this.serve(req, res, route, (x) => (id = x))
      .then((status) => done(status, 'ok'))
      .catch((err: unknown) => {
        const e = err instanceof ApiError ? err : new ApiError(500, 'internal error')
        if (!res.headersSent) sendText(res, e.status, e.message, e.headers)
        else res.destroy()
        done(e.status, e.message)
      })
    return true
  }

  private async serve(req: IncomingMessage, res: ServerResponse, route: Route, setId: (id: string) => void): Promise<number> {
    if (req.method !== route.method) throw drained(req, new ApiError(405, 'method not allowed', {Allow: route.method}))
    const token = this.opts.token()
    if (token === '') throw drained(req, new ApiError(503, 'policy API not configured (no api_token)'))
    if (!bearerMatches(req.headers.authorization, token)) throw drained(req, new ApiError(401, 'unauthorized', {'WWW-Authenticate': 'Bearer realm="pipelock"'}))
    const bucket = LIMITED[route.action]
    if (bucket !== undefined && !this.opts.allow(bucket)) throw drained(req, new ApiError(429, 'rate limit exceeded', {'Retry-After': '60'}))
    if (route.action === 'change_note' || route.action === 'reload') return await this.policyAction(req, res, route.action)
    const store = this.opts.exceptions()
    if (store === null) throw drained(req, new ApiError(409, NO_EXCEPTIONS))
    switch (route.action) {
      case 'exception_list': {
        req.resume()
        const list = store.list()
        sendJson(res, 200, {exceptions: list, count: list.length})
        return 200
      }
      case 'exception_grant': {
        const body = objectBody(await readJsonBody(req, false), GRANT_FIELDS)
        for (const k of ['host', 'path', 'pattern', 'agent', 'granted_by', 'reason']) optString(body, k)
        for (const k of ['uses', 'expires_in_seconds']) {
          if (body[k] !== undefined && typeof body[k] !== 'number') throw new ApiError(400, `invalid request body: ${k} must be a number`)
        }
        // An exception that names a finding the exception step can never waive is refused now,
        // not accepted to do nothing (issue 34).
        if (typeof body.pattern === 'string' && body.pattern.trim() !== '') {
          const refusal = this.opts.checkPattern?.(body.pattern) ?? null
          if (refusal !== null) throw new ApiError(400, refusal)
        }
        const r = store.grant(body as unknown as ExceptionGrant)
        if (!r.ok) throw new ApiError(r.status, r.error)
        setId(r.exception.id)
        sendJson(res, 201, r.exception)
        return 201
      }
      default: {
        const exceptionId = route.id!
        if (!ID_RE.test(exceptionId)) throw drained(req, new ApiError(400, 'missing or invalid exception id in URL path'))
        setId(exceptionId)
        const body = objectBody(await readJsonBody(req, true), ['revoked_by'])
        const by = optString(body, 'revoked_by') ?? ''
        const e = store.revoke(exceptionId, by.trim() === '' ? 'admin-api' : by.trim())
        if (e === undefined) throw new ApiError(404, 'exception not found')
        sendJson(res, 200, {id: exceptionId, revoked: true, exception: e})
        return 200
      }
    }
  }

  private async policyAction(req: IncomingMessage, res: ServerResponse, action: 'change_note' | 'reload'): Promise<number> {
    const hooks = this.opts.policy()
    if (hooks === null) throw drained(req, new ApiError(503, 'policy-change trail not running'))
    const body = objectBody(await readJsonBody(req, action === 'reload'), NOTE_FIELDS)
    const note = changeNote(body, action === 'change_note')
    const sha = optString(body, 'file_sha256')
    if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) throw new ApiError(400, 'invalid request body: file_sha256 must be 64 lower-case hex digits')
    const bound = note === undefined ? undefined : hooks.note(note, sha)
    if (bound !== undefined && !bound.ok) throw new ApiError(bound.status, bound.error)
    const answer = bound === undefined || !bound.ok ? {} : {
      operator: note!.operator, ...(note!.change_id !== undefined ? {change_id: note!.change_id} : {}), file_sha256: bound.file_sha256,
      ...(bound.state === 'pending' ? {pending: true, expires_at: bound.expires_at} : {pending: false, attested: true, change: bound.change}),
    }
    if (action === 'change_note') {
      sendJson(res, 200, answer)
      return 200
    }
    if (!hooks.reload()) throw new ApiError(409, 'no config file to reload (pipelock run was started without --config)')
    sendJson(res, 202, {reload_requested: true, note_pending: bound?.ok === true && bound.state === 'pending', ...(bound?.ok === true ? {note: answer} : {})})
    return 202
  }
}

interface Route {
  readonly action: Action
  readonly method: 'GET' | 'POST'
  readonly id?: string
}

function routeOf(method: string, path: string): Route | null {
  if (path === '/api/v1/exceptions') return method === 'POST' ? {action: 'exception_grant', method: 'POST'} : {action: 'exception_list', method: 'GET'}
  if (path === '/api/v1/policy/change-note') return {action: 'change_note', method: 'POST'}
  if (path === '/api/v1/policy/reload') return {action: 'reload', method: 'POST'}
  if (!path.startsWith('/api/v1/exceptions/')) return null
  const segs = path.slice('/api/v1/exceptions/'.length).split('/')
  if (segs.length === 2 && segs[1] === 'revoke') return {action: 'exception_revoke', method: 'POST', id: safeDecode(segs[0]!)}
  return {action: 'exception_revoke', method: 'POST', id: ''}
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return ''
  }
}

/** The note in a body; `required` = operator and justification must be there (else: no note). */
function changeNote(body: Record<string, unknown>, required: boolean): ChangeNote | undefined {
  const operator = optString(body, 'operator')?.trim()
  const justification = optString(body, 'justification')?.trim()
  const changeId = optString(body, 'change_id')?.trim()
  if (!required && operator === undefined && justification === undefined && changeId === undefined) return undefined
  // eslint-disable-next-line no-control-regex
  if (operator === undefined || operator === '' || operator.length > 128 || /[\x00-\x1f\x7f]/.test(operator)) throw new ApiError(400, 'invalid request body: operator is required (1 to 128 printable characters)')
  if (justification === undefined || justification === '' || Buffer.byteLength(justification) > MAX_JUSTIFICATION) throw new ApiError(400, `invalid request body: justification is required (at most ${MAX_JUSTIFICATION} bytes)`)
  if (changeId !== undefined && !ID_RE.test(changeId)) throw new ApiError(400, 'invalid request body: change_id must be 1 to 64 of A-Z a-z 0-9 . _ -')
  return {operator, justification, ...(changeId !== undefined ? {change_id: changeId} : {})}
}
