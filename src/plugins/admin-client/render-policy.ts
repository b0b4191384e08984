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

const who = (r: ChangeNoteResult): string => `operator=${p(r.operator)}${r.change_id !== undefined ? ` change_id=${p(r.change_id)}` : ''}`
const file = (r: ChangeNoteResult): string => (r.file_sha256 !== undefined ? ` sha256 ${p(r.file_sha256.slice(0, 12))}…` : '')

export function renderChangeNote(r: ChangeNoteResult): string[] {
  if (r.attested === true && r.change !== undefined) {
    const paths = r.change.changed_paths.length > 0 ? r.change.changed_paths.map(p).join(', ') : 'no policy paths'
    return [`change note attached: ${who(r)}`, `attests the ${p(r.change.trigger)} change of ${p(r.change.at)} that loaded the config file in force (${paths})`]
  }
  return [
    `change note pending until ${p(r.expires_at ?? '?')}: ${who(r)}`,
    `the reload that loads the config file${file(r)} records it (config_change event and receipt); any other change does not`,
  ]
}

export function renderReload(r: ReloadResult): string[] {
  if (r.note?.attested === true) return ['reload requested; the change note attests the change in force', ...renderChangeNote(r.note).slice(1)]
  return [`reload requested${r.note_pending ? ' (change note attached)' : ''}`]
}
