import type {ChangeNoteResult, ExceptionInfo, ExceptionList, ExceptionRevoke, ReloadResult} from './policy-service.js'
import {alignColumns, printable} from './text-format.js'

// Human text of `pipelock exception …` and `pipelock policy …`: pure functions of the server's
// answers; server strings pass through `printable`.

const p = printable

/** `host=… path=… pattern="…" agent=…` (only what the grant names). */
function scope(e: ExceptionInfo): string {
  return [`host=${p(e.host)}`, ...(e.path !== undefined ? [`path=${p(e.path)}`] : []), ...(e.pattern !== undefined ? [`pattern=${JSON.stringify(p(e.pattern))}`] : []), ...(e.agent !== undefined ? [`agent=${p(e.agent)}`] : [])].join(' ')
}

export function renderGrant(e: ExceptionInfo): string[] {
  return [`granted ${p(e.id)}: ${scope(e)} uses=${e.uses} expires_at=${p(e.expires_at)}`]
}

/** `ID HOST PATH PATTERN AGENT USES-LEFT EXPIRES GRANTED-BY REASON`; `No exceptions in force.` when empty. */
export function renderExceptionList(l: ExceptionList): string[] {
  if (l.exceptions.length === 0) return ['No exceptions in force.']
  const rows = [['ID', 'HOST', 'PATH', 'PATTERN', 'AGENT', 'USES-LEFT', 'EXPIRES', 'GRANTED-BY', 'REASON']]
  for (const e of l.exceptions) {
    rows.push([p(e.id), p(e.host), p(e.path ?? '*'), p(e.pattern ?? '*'), p(e.agent ?? '*'), `${e.uses_left}/${e.uses}`, p(e.expires_at), p(e.granted_by), p(e.reason)])
  }
  return alignColumns(rows)
}

export function renderRevoke(r: ExceptionRevoke): string[] {
  return [`revoked ${p(r.id)}: ${scope(r.exception)} (${r.exception.uses_left} of ${r.exception.uses} uses left)`]
}

export function renderChangeNote(r: ChangeNoteResult): string[] {
  return [`change note pending until ${p(r.expires_at)}: operator=${p(r.operator)}${r.change_id !== undefined ? ` change_id=${p(r.change_id)}` : ''}`, 'the next reload that changes the policy records it (config_change event and receipt)']
}

export function renderReload(r: ReloadResult): string[] {
  return [`reload requested${r.note_pending ? ' (change note attached)' : ''}`]
}
