import type {AddressHoldView, AirlockChange, SessionDetail, SessionExplanation, SessionList, TerminateResult} from './schemas.js'
import {ago, alignColumns, alignFields, fieldKeyWidth, formatScore, inFuture, isUnsetTime, printable, timeWithAgo} from './text-format.js'

// Human text of the `pipelock session …` commands (runtime §13). Every renderer returns lines
// (no trailing newline) and takes "now" as epoch nanoseconds, so the text is a pure function of
// the server's answer and the injected clock. Server strings pass through `printable`.

const p = printable

/** `<session> (airlock tier <t>)` or `(escalation level <l>, blocks all requests)`: what holds a session's client address. */
export function renderHold(h: AddressHoldView): string {
  const what = h.kind === 'airlock' ? `airlock tier ${p(h.airlock_tier)}` : `escalation level ${p(h.escalation_level)}, blocks all requests`
  return `${p(h.session)} (${what})`
}

/** `KEY AGENT IP TIER ESCALATION SCORE LAST-ACTIVE`, tab-aligned; `No sessions match.` when empty. */
export function renderSessionList(list: SessionList, nowNs: bigint): string[] {
  if (list.sessions.length === 0) return ['No sessions match.']
  const rows = [['KEY', 'AGENT', 'IP', 'TIER', 'ESCALATION', 'SCORE', 'LAST-ACTIVE']]
  for (const s of list.sessions) {
    rows.push([p(s.key), p(s.agent), p(s.client_ip), p(s.airlock_tier), p(s.escalation_level), formatScore(s.threat_score), ago(s.last_activity, nowNs) ?? p(s.last_activity)])
  }
  return alignColumns(rows)
}

/**
 * `Session <key>`, the aligned detail fields, then `recent_events:` (oldest first, as sent) or
 * `(none)`. An event's empty `target` or `detail` is left out (an airlock transition has no target).
 */
export function renderSessionDetail(d: SessionDetail, nowNs: bigint): string[] {
  const fields: [string, string][] = [
    ['kind', p(d.kind)],
    ['agent', p(d.agent)],
    ['client_ip', p(d.client_ip)],
    ['airlock_tier', p(d.airlock_tier)],
    ['airlock_entered', isUnsetTime(d.airlock_entered_at) ? '-' : timeWithAgo(p(d.airlock_entered_at), nowNs)],
    ['in_flight', String(d.in_flight)],
    ['escalation', `${p(d.escalation_level)} (${d.escalation_level_int})`],
    ['threat_score', formatScore(d.threat_score)],
    ['block_all', String(d.block_all)],
    ...(d.held_by !== undefined ? [['held_by', `${renderHold(d.held_by)}: the identity is not bound, so its client address's hold refuses it too`] as [string, string]] : []),
    ['taint_level', p(String(d.taint_level))],
    ['contaminated', String(d.contaminated)],
  ]
  if (d.current_task_id !== undefined && d.current_task_id !== '') fields.push(['current_task_id', p(d.current_task_id)])
  if (d.current_task_label !== undefined && d.current_task_label !== '') fields.push(['current_task', p(d.current_task_label)])
  fields.push(['last_activity', timeWithAgo(p(d.last_activity), nowNs)])
  const lines = [`Session ${p(d.key)}`, ...alignFields(fields), 'recent_events:']
  const events = d.recent_events ?? []
  if (events.length === 0) lines.push('  (none)')
  for (const e of events) {
    const target = e.target === '' ? '' : ` target=${p(e.target)}`
    const detail = e.detail === '' ? '' : ` detail=${p(e.detail)}`
    lines.push(`  [${p(e.at)}] ${p(e.kind)}${target} score=${formatScore(e.score)}${detail}`)
  }
  return lines
}

/** `Session <key> explanation` and the aligned fields of `…/explain`; absent optional fields are left out. */
export function renderSessionExplanation(x: SessionExplanation, nowNs: bigint): string[] {
  const fields: [string, string][] = [
    ['tier', p(x.tier)],
    ['reason', p(x.reason)],
  ]
  if (x.trigger !== undefined && x.trigger !== '') {
    fields.push(['trigger', x.trigger_source !== undefined && x.trigger_source !== '' ? `${p(x.trigger)} (source=${p(x.trigger_source)})` : p(x.trigger)])
  }
  if (x.held_by !== undefined) fields.push(['held_by', `${renderHold(x.held_by)}: release or terminate that session to free this one`])
  fields.push(['escalation', `${p(x.escalation_level)} (${x.escalation_level_int})`], ['threat_score', formatScore(x.threat_score)])
  if (!isUnsetTime(x.entered_at)) fields.push(['entered_at', timeWithAgo(p(x.entered_at), nowNs)])
  const hasEvidence = [x.evidence_kind, x.evidence_target, x.evidence_detail].some((v) => v !== undefined && v !== '') || !isUnsetTime(x.evidence_at)
  const evidence: [string, string] = ['evidence', hasEvidence ? '' : '(none recorded)']
  const tail: [string, string][] = []
  if (x.next_deescalation_tier !== undefined && x.next_deescalation_tier !== '') {
    let next = `tier=${p(x.next_deescalation_tier)}`
    if (!isUnsetTime(x.next_deescalation_at)) {
      const rel = inFuture(x.next_deescalation_at, nowNs)
      next += ` at=${p(x.next_deescalation_at)}${rel === undefined ? '' : ` (${rel})`}`
    }
    tail.push(['next_deescalation', next])
  } else if (x.tier !== 'none' && x.tier !== '') {
    // The server leaves the field out when this tier's timer is 0: say that no timer will lower it,
    // so "is auto-recovery coming anyway?" has an answer rather than a missing line.
    tail.push(['next_deescalation', 'none (this tier has no timer: only an operator release lowers it)'])
  }
  // The level recovers on its own too (5 quiet minutes per step): when, so "wait or act?" has an answer.
  if (x.next_level_recovery_level !== undefined && x.next_level_recovery_level !== '' && !isUnsetTime(x.next_level_recovery_at)) {
    const rel = inFuture(x.next_level_recovery_at, nowNs)
    tail.push(['level_recovery', `level=${p(x.next_level_recovery_level)} at=${p(x.next_level_recovery_at)}${rel === undefined ? '' : ` (${rel})`}`])
  }
  // One value column for the whole block, though the evidence sub-block sits in between.
  const w = fieldKeyWidth([...fields, evidence, ...tail])
  const lines = [`Session ${p(x.key)} explanation`, ...alignFields([...fields, evidence], '  ', w)]
  if (hasEvidence) {
    lines.push(
      ...alignFields(
        [
          ['at', isUnsetTime(x.evidence_at) ? '-' : p(x.evidence_at)],
          ['kind', p(x.evidence_kind ?? '-')],
          ['target', p(x.evidence_target ?? '-')],
          ['detail', p(x.evidence_detail ?? '-')],
        ],
        '    ',
      ),
    )
  }
  lines.push(...alignFields(tail, '  ', w))
  return lines
}

/** `released <key>: <from> -> <to> (changed=…)`. */
export function renderRelease(r: AirlockChange): string[] {
  const lines = [`released ${p(r.key)}: ${p(r.previous_tier)} -> ${p(r.new_tier)} (changed=${r.changed})`]
  // The level that blocked everything comes down with the tier; say so, and say when something still blocks.
  if (r.previous_escalation_level !== undefined && r.escalation_level !== undefined && r.previous_escalation_level !== r.escalation_level) {
    lines.push(`  escalation: ${p(r.previous_escalation_level)} -> ${p(r.escalation_level)}`)
  }
  if (r.block_all === true) lines.push(`  still blocked: escalation level ${p(r.escalation_level ?? '?')} blocks all requests`)
  if (r.held_by !== undefined) lines.push(`  still blocked: client address held by session ${renderHold(r.held_by)}; release that session too`)
  return lines
}

/**
 * The warning (for stderr) and the result line (for stdout) of `session terminate`. The warning is
 * there only when the server reports connections cut; a server that does not report the count
 * (`connections_cut` absent) gets the warning as before, since it may have cut some.
 */
export function renderTerminate(t: TerminateResult): {warning?: string; lines: string[]} {
  const cut = t.connections_cut
  const warning =
    cut === undefined
      ? `WARNING: terminated session ${p(t.key)} — in-flight connections were cut.`
      : cut === 0
        ? undefined
        : `WARNING: terminated session ${p(t.key)} — ${cut === 1 ? '1 in-flight connection was' : `${cut} in-flight connections were`} cut.`
  return {
    ...(warning === undefined ? {} : {warning}),
    lines: [
      `terminated ${p(t.key)}: previous_tier=${p(t.previous_tier)} level=${p(t.previous_level)} score=${formatScore(t.previous_score)} cee_cleared=${t.cee_state_cleared}`,
    ],
  }
}
