import {z} from 'zod'
import {PipelockError} from '../errors/index.js'
import type {AdminClient, AdminResponse} from './admin-client.js'
import {alignColumns, printable} from './text-format.js'

// The client of the approvals admin API (proxy approvals-api.ts, docs/ask.md): held requests
// listed and answered; one function per endpoint, and the human text of `pipelock ask …`.

export const approvalSchema = z.object({
  id: z.string(),
  kind: z.string(),
  transport: z.string(),
  agent: z.string(),
  session_key: z.string(),
  target: z.string(),
  reason: z.string(),
  patterns: z.array(z.string()),
  preview: z.string(),
  allow_strip: z.boolean(),
  created_at: z.string(),
  expires_at: z.string(),
  status: z.string(),
  decided_by: z.string().optional(),
  decided_at: z.string().optional(),
  decision_reason: z.string().optional(),
})
export type ApprovalInfo = z.infer<typeof approvalSchema>

export const approvalListSchema = z.object({approvals: z.array(approvalSchema), count: z.number().int()})
export type ApprovalList = z.infer<typeof approvalListSchema>

export const approvalAnswerSchema = z.object({id: z.string(), status: z.string(), decided_by: z.string(), decided_at: z.string()})
export type ApprovalAnswer = z.infer<typeof approvalAnswerSchema>

export type AskDecision = 'allow' | 'deny' | 'strip'

const ID_RE = /^[A-Za-z0-9._-]{1,80}$/

function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new PipelockError('ADMIN_ARGUMENT_INVALID', `invalid approval id ${JSON.stringify(id)}`, {hint: 'ids look like ask-0193…; see: pipelock ask list'})
}

export async function listApprovals(client: AdminClient, all: boolean): Promise<AdminResponse<ApprovalList>> {
  return await client.get(`/api/v1/approvals${all ? '?status=all' : ''}`, approvalListSchema)
}

export async function showApproval(client: AdminClient, id: string): Promise<AdminResponse<ApprovalInfo>> {
  checkId(id)
  return await client.get(`/api/v1/approvals/${id}`, approvalSchema)
}

export async function answerApproval(client: AdminClient, id: string, decision: AskDecision, by: string, reason: string): Promise<AdminResponse<ApprovalAnswer>> {
  checkId(id)
  return await client.post(`/api/v1/approvals/${id}`, {decision, ...(by !== '' ? {decided_by: by} : {}), ...(reason !== '' ? {reason} : {})}, approvalAnswerSchema)
}

const p = printable

/** Whole seconds between two RFC 3339 times, as `12s` / `3m4s`. */
function age(fromIso: string, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - Date.parse(fromIso)) / 1000))
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`
}

/** `ID AGE KIND AGENT TARGET REASON` (+ STATUS with --all); `No pending approvals.` when empty. */
export function renderApprovalList(l: ApprovalList, nowMs: number, all: boolean): string[] {
  if (l.approvals.length === 0) return [all ? 'No approvals.' : 'No pending approvals.']
  const rows = [['ID', 'AGE', 'KIND', 'AGENT', 'TARGET', 'REASON', ...(all ? ['STATUS'] : [])]]
  for (const a of l.approvals) rows.push([p(a.id), age(a.created_at, nowMs), p(a.kind), p(a.agent || '-'), p(a.target), p(a.reason), ...(all ? [p(a.status)] : [])])
  return alignColumns(rows)
}

/** One held request in full (`ask show`, and the prompt of `ask approve/deny` without an id). */
export function renderApproval(a: ApprovalInfo): string[] {
  return [
    `Approval ${p(a.id)}`,
    `  kind:       ${p(a.kind)} (${p(a.transport)})`,
    `  agent:      ${p(a.agent || '-')}`,
    `  session:    ${p(a.session_key || '-')}`,
    `  target:     ${p(a.target)}`,
    `  reason:     ${p(a.reason)}`,
    ...(a.patterns.length > 0 ? [`  patterns:   ${a.patterns.map(p).join(', ')}`] : []),
    ...(a.preview !== '' ? [`  preview:    ${p(a.preview)}`] : []),
    `  status:     ${p(a.status)}${a.decided_by !== undefined ? ` by ${p(a.decided_by)}` : ''}`,
    `  expires_at: ${p(a.expires_at)}`,
  ]
}

export function renderAnswer(r: ApprovalAnswer, decision: AskDecision): string {
  return decision === 'deny' ? `denied ${p(r.id)}` : `approved ${p(r.id)} (${decision})`
}
