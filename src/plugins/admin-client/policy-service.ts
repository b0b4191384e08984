import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {z} from 'zod'
import {parseGoDuration} from '../canonical/index.js'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {refuseSpecialFile} from '../signing/index.js'
import type {AdminClient, AdminResponse} from './admin-client.js'

// The client of the policy admin API (proxy policy-api.ts, issue 14): scoped exceptions and the
// operator's change note: one function per endpoint, with its typed answer. The human text is in
// render-policy.ts.

/** An exception always ends: at most 7 days (the server enforces the same bound). */
const MAX_EXPIRES_MS = 7 * 24 * 3_600_000

export const exceptionSchema = z.object({
  id: z.string(),
  host: z.string(),
  path: z.string().optional(),
  pattern: z.string().optional(),
  agent: z.string().optional(),
  uses: z.number().int(),
  uses_left: z.number().int(),
  granted_at: z.string(),
  expires_at: z.string(),
  granted_by: z.string(),
  reason: z.string(),
})
export type ExceptionInfo = z.infer<typeof exceptionSchema>

export const exceptionListSchema = z.object({exceptions: z.array(exceptionSchema), count: z.number().int()})
export type ExceptionList = z.infer<typeof exceptionListSchema>

export const exceptionRevokeSchema = z.object({id: z.string(), revoked: z.boolean(), exception: exceptionSchema})
export type ExceptionRevoke = z.infer<typeof exceptionRevokeSchema>

export const changeNoteSchema = z.object({
  pending: z.boolean(),
  operator: z.string(),
  change_id: z.string().optional(),
  /** The config file the note is bound to (servers before issue 34 leave it out). */
  file_sha256: z.string().optional(),
  expires_at: z.string().optional(),
  attested: z.boolean().optional(),
  /** The change in force the note attests (`attested: true`). */
  change: z.object({trigger: z.string(), at: z.string(), changed_paths: z.array(z.string())}).optional(),
})
export type ChangeNoteResult = z.infer<typeof changeNoteSchema>

export const reloadSchema = z.object({reload_requested: z.boolean(), note_pending: z.boolean(), note: changeNoteSchema.optional()})
export type ReloadResult = z.infer<typeof reloadSchema>

export interface GrantInput {
  readonly host: string
  readonly path?: string
  readonly pattern?: string
  readonly agent?: string
  readonly uses: number
  /** A Go duration (`90m`, `2h`, `168h`). */
  readonly expires: string
  readonly operator: string
  readonly reason: string
}

/** `--expires` → whole seconds, 1 s to 168 h; an unbounded or malformed lifetime is refused here. */
export function expiresSeconds(text: string): number {
  let ms: number
  try {
    ms = parseGoDuration(text)
  } catch {
    ms = Number.NaN
  }
  if (!Number.isFinite(ms) || ms < 1000 || ms > MAX_EXPIRES_MS) {
    throw new PipelockError('ADMIN_ARGUMENT_INVALID', `--expires ${JSON.stringify(text)}: want a duration from 1s to 168h (e.g. 30m, 2h); an exception always expires`)
  }
  return Math.ceil(ms / 1000)
}

export async function grantException(client: AdminClient, g: GrantInput): Promise<AdminResponse<ExceptionInfo>> {
  if (!Number.isInteger(g.uses) || g.uses < 1 || g.uses > 100) throw new PipelockError('ADMIN_ARGUMENT_INVALID', `--uses ${g.uses}: want 1 to 100`)
  const body = {
    host: g.host, ...(g.path !== undefined ? {path: g.path} : {}), ...(g.pattern !== undefined ? {pattern: g.pattern} : {}), ...(g.agent !== undefined ? {agent: g.agent} : {}),
    uses: g.uses, expires_in_seconds: expiresSeconds(g.expires), granted_by: g.operator, reason: g.reason,
  }
  return await client.post('/api/v1/exceptions', body, exceptionSchema)
}

export async function listExceptions(client: AdminClient): Promise<AdminResponse<ExceptionList>> {
  return await client.get('/api/v1/exceptions', exceptionListSchema)
}

export async function revokeException(client: AdminClient, id: string, operator: string): Promise<AdminResponse<ExceptionRevoke>> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new PipelockError('ADMIN_ARGUMENT_INVALID', `invalid exception id ${JSON.stringify(id)}`, {hint: 'ids look like exc-0123456789ab; see: pipelock exception list'})
  return await client.post(`/api/v1/exceptions/${id}/revoke`, {revoked_by: operator}, exceptionRevokeSchema, {exceptionId: id})
}

export interface NoteInput {
  readonly operator: string
  readonly justification: string
  readonly changeId?: string
  /** SHA-256 of the config file the note describes (`--file`); default: the file the proxy has on disk. */
  readonly fileSha256?: string
}

const noteBody = (n: NoteInput): Record<string, string> => ({
  operator: n.operator, justification: n.justification, ...(n.changeId !== undefined ? {change_id: n.changeId} : {}), ...(n.fileSha256 !== undefined ? {file_sha256: n.fileSha256} : {}),
})

/** `--file`: the SHA-256 of the config file the note was written for, read here (the proxy binds the note to it). */
export function noteFileSha256(file: string): string {
  refuseSpecialFile(file, '--file')
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw new PipelockError('ADMIN_ARGUMENT_INVALID', `--file ${file}: ${osErrorReason(e)}`, {location: {file}})
  }
  return createHash('sha256').update(bytes).digest('hex')
}

export async function sendChangeNote(client: AdminClient, n: NoteInput): Promise<AdminResponse<ChangeNoteResult>> {
  return await client.post('/api/v1/policy/change-note', noteBody(n), changeNoteSchema)
}

export async function requestReload(client: AdminClient, n?: NoteInput): Promise<AdminResponse<ReloadResult>> {
  return await client.post('/api/v1/policy/reload', n === undefined ? {} : noteBody(n), reloadSchema)
}
