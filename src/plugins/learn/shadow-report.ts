import {formatGoTime, fromEpochNanos, goJsonIndent, JsonNumber, toUtc, type JsonObject, type JsonValue} from '../canonical/index.js'
import {formatFixed} from '../canonical/index.js'
import type {ShadowAnalysis, ShadowChange} from './shadow-analyze.js'

// learn-lifecycle §3.4: shadow.json (2-space indent, Go HTML escaping, fixed key order) and the
// exact shadow.md layout.

export function rfc3339(ns: bigint): string {
  return formatGoTime(toUtc(fromEpochNanos(ns)))
}

/** JS `JSON.stringify` float text (shortest round trip), e.g. 33.333333333333336, 0, 100. */
function float(x: number): JsonNumber {
  return new JsonNumber(JSON.stringify(x))
}

const int = (n: number): JsonNumber => new JsonNumber(String(n))

export function shadowReportTree(a: ShadowAnalysis): JsonObject {
  const o: JsonObject = new Map<string, JsonValue>([
    ['report_version', int(1)],
    ['generated_at', rfc3339(a.generatedAtNs)],
    ['contract_hash', a.contractHash],
    ['total_records', int(a.totalRecords)],
    ['replayed', int(a.replayed)],
    ['changed', int(a.changed)],
    ['new_blocks', int(a.newBlocks)],
    ['new_allows', int(a.newAllows)],
    ['evidence_only', int(a.evidenceOnly)],
    ['summary_only', int(a.summaryOnly)],
  ])
  o.set(
    'rules',
    a.rules.map((r) => {
      const m: JsonObject = new Map<string, JsonValue>([
        ['rule_id', r.ruleId],
        ['evaluations', int(r.evaluations)],
        ['new_blocks', int(r.newBlocks)],
        ['new_allows', int(r.newAllows)],
        ['unchanged', int(r.unchanged)],
        ['new_block_rate_pct', float(r.newBlockRatePct)],
        ['state', r.state],
      ])
      if (r.reason !== '') m.set('reason', r.reason)
      return m
    }),
  )
  if (a.quarantines.length > 0) {
    o.set(
      'quarantines',
      a.quarantines.map(
        (q) =>
          new Map<string, JsonValue>([
            ['rule_id', q.ruleId],
            ['reason', q.reason],
            ['evaluations', int(q.evaluations)],
            ['new_blocks', int(q.newBlocks)],
            ['new_block_rate_pct', float(q.newBlockRatePct)],
            ['cooldown_until', rfc3339(q.cooldownUntilNs)],
          ]),
      ),
    )
  }
  if (a.batches.length > 0) {
    // Go field names, no JSON tags in the reference struct.
    o.set(
      'batches',
      a.batches.map(
        (b) =>
          new Map<string, JsonValue>([
            ['ContractHash', b.contractHash],
            ['RuleID', b.ruleId],
            ['OriginalVerdict', b.originalVerdict],
            ['CandidateVerdict', b.candidateVerdict],
            ['WindowStart', rfc3339(b.windowStartNs)],
            ['WindowEnd', rfc3339(b.windowEndNs)],
            ['LosslessCount', int(b.losslessCount)],
            ['ExemplarIDs', b.exemplarIds.length === 0 ? null : [...b.exemplarIds]],
          ]),
      ),
    )
  }
  if (a.captureSurfaces.size > 0) {
    const cs: JsonObject = new Map()
    for (const k of [...a.captureSurfaces.keys()].sort()) {
      const v = a.captureSurfaces.get(k) as {grade: string; sidecar: boolean}
      cs.set(k, new Map<string, JsonValue>([['grade', v.grade], ['sidecar', v.sidecar]]))
    }
    o.set('capture_surfaces', cs)
  }
  // [ext] issue 34: what the candidate would change, by destination and decider (after the
  // reference's keys, omitted when nothing changed; `learn diff` and other readers ignore them).
  if (a.changes.length > 0) {
    o.set(
      'changes',
      a.changes.map((c) => {
        const m: JsonObject = new Map<string, JsonValue>([
          ['change', c.change],
          ['count', int(c.count)],
          ['surface', c.surface],
        ])
        if (c.method !== '') m.set('method', c.method)
        if (c.methodOverrides.length > 0) m.set('method_overrides', [...c.methodOverrides])
        if (c.host !== '' || c.path !== '') {
          m.set('scheme', c.scheme)
          m.set('host', c.host)
          if (c.port !== '') m.set('port', c.port)
          m.set('path', c.path)
        }
        if (c.server !== '') m.set('server', c.server)
        if (c.tool !== '') m.set('tool', c.tool)
        if (c.mcpMethod !== '') m.set('mcp_method', c.mcpMethod)
        m.set('original_verdict', c.originalVerdict)
        m.set('candidate_verdict', c.candidateVerdict)
        m.set('decided_by', c.decidedBy)
        if (c.ruleId !== '') m.set('rule_id', c.ruleId)
        if (c.reason !== '') m.set('reason', c.reason)
        if (c.captureOnlyRuleId !== '') m.set('capture_only_rule_id', c.captureOnlyRuleId)
        // An MCP block's wire `reason` is shared with HTTP's host-level denies: name what the
        // evaluator refused (as the -32006 error's `data.contract_reason` does).
        if (c.mcpReason !== '') m.set('contract_reason', c.mcpReason)
        return m
      }),
    )
  }
  if (a.changesOmitted > 0) o.set('changes_omitted', int(a.changesOmitted))
  // [ext] records whose captured scanner verdict replay cannot redo, kept as captured, by cause.
  if (a.keptAsCaptured.size > 0) {
    const kept: JsonObject = new Map()
    for (const k of [...a.keptAsCaptured.keys()].sort()) kept.set(k, int(a.keptAsCaptured.get(k) as number))
    o.set('kept_as_captured', kept)
  }
  return o
}

/** The method a change's records asked for: the request line's, and any a method override named. */
export function changeMethod(c: ShadowChange): string {
  if (c.method === '' && c.mcpMethod !== '') return c.mcpMethod
  return c.methodOverrides.length === 0 ? c.method : `${c.method} (override ${c.methodOverrides.join(', ')})`
}

/** Where a change goes: `scheme://host[:port]/path` for HTTP, `server/tool` for MCP. */
export function changeDestination(c: ShadowChange): string {
  if (c.host !== '') return `${c.scheme}://${c.host}${c.port === '' ? '' : ':' + c.port}${c.path}`
  if (c.path !== '') return c.path
  if (c.tool !== '') return c.server === '' ? `tool ${c.tool}` : `tool ${c.server}/${c.tool}`
  return `(${c.surface})`
}

/** What decided a change, in words: a rule, the contract's default deny, or the scanner. */
export function changeDecider(c: ShadowChange): string {
  // A capture-only rule does not allow under a contract that enforces rules: say which one the
  // operator may have meant to keep reachable.
  if (c.decidedBy === 'contract' && c.captureOnlyRuleId !== '') {
    const why = c.reason === 'contract_default_deny' ? 'no enforce rule for the host' : `no enforce rule of host ${c.host} matches`
    return `default deny: ${why} (${c.reason}); capture-only rule \`${c.captureOnlyRuleId}\` matches and is not enforced`
  }
  if (c.decidedBy === 'contract' && c.mcpReason !== '') return mcpDecider(c)
  if (c.decidedBy === 'contract') {
    const rules = c.ruleId.split(',').map((r) => `\`${r}\``).join(', ')
    const under = c.ruleId === '' ? '' : `, host rule ${rules}`
    switch (c.reason) {
      case '':
        return `rule ${rules}`
      case 'contract_default_deny':
        return `default deny: no rule for the ${c.host === '' && c.tool !== '' ? 'tool' : 'host'} (contract_default_deny)`
      case 'contract_enforce_default':
        // The deny belongs to the host: no rule of it matched, so none is named (an MCP args
        // mismatch, which shares this wire code, names the rule whose args differ).
        return c.ruleId === '' && c.host !== '' ? `default deny: no enforce rule of host ${c.host} matches (contract_enforce_default)` : `default deny: no rule of the host matches (contract_enforce_default${under})`
      case 'contract_non_default_port':
        // The port is refused for the whole host before any rule is tried: the host is named, no rule.
        return c.ruleId === '' && c.host !== '' && c.port !== ''
          ? `port not allowed: host ${c.host} on port ${c.port}; contracts allow default ports only (contract_non_default_port)`
          : `port not allowed: contracts judge default ports only (contract_non_default_port${under})`
      case 'contract_invalid_path':
        // Named only when it is the one path rule for the request's method; otherwise the host's.
        return c.ruleId === '' && c.host !== ''
          ? `path has no canonical form: the path rules of host ${c.host} cannot judge it (contract_invalid_path)`
          : `path has no canonical form (contract_invalid_path${under})`
      default:
        return `contract (${c.reason}${under})`
    }
  }
  const who = c.decidedBy === 'tool_policy' ? 'tool policy replay' : 'scanner replay'
  return c.reason === '' ? who : `${who} (${c.reason})`
}

/**
 * An MCP tool call the contract refused, in MCP terms: the server and tool no rule allows, or the
 * rule for that server and tool whose arguments differ. The evaluator's reason comes first; the
 * wire code (shared with HTTP's host-level denies) follows as `block_reason`.
 */
function mcpDecider(c: ShadowChange): string {
  const tool = c.server === '' ? `tool ${c.tool}` : `tool ${c.tool} of server ${c.server}`
  const why = `(${c.mcpReason}; block_reason ${c.reason})`
  switch (c.mcpReason) {
    case 'contract_mcp_args_mismatch': {
      const rules = c.ruleId.split(',').map((r) => `\`${r}\``).join(', ')
      return `arguments not allowed: rule ${rules} allows ${tool} with other arguments only ${why}`
    }
    case 'contract_mcp_default_deny':
      return `default deny: no enforce rule for ${tool} ${why}`
    default:
      return `contract ${why}`
  }
}

/** Markdown table cell text: a pipe or a line break would end the cell. */
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]/g, ' ')
}

export function renderShadowJson(a: ShadowAnalysis): string {
  return goJsonIndent(shadowReportTree(a), '', '  ') + '\n'
}

export function renderShadowMarkdown(a: ShadowAnalysis): string {
  let s = '# Shadow Report\n\n'
  s += `- contract_hash: \`${a.contractHash}\`\n`
  s += `- generated_at: \`${rfc3339(a.generatedAtNs)}\`\n`
  s += `- records: ${a.totalRecords} total, ${a.replayed} replayed, ${a.changed} changed\n`
  s += `- deltas: ${a.newBlocks} new blocks, ${a.newAllows} new allows, ${a.batches.length} batches\n`
  s += keptLine(a)
  s += '\n'
  s += '## Quarantine\n\n'
  if (a.quarantines.length === 0) s += 'No quarantine candidates.\n'
  for (const q of a.quarantines) {
    s += `- \`${q.ruleId}\`: ${formatFixed(q.newBlockRatePct, 2)}% new-block rate (${q.newBlocks}/${q.evaluations}), cooldown until \`${rfc3339(q.cooldownUntilNs)}\`\n`
  }
  s += '\n## Rules\n'
  if (a.rules.length === 0) s += '\nNo contract rule evaluations.\n'
  else {
    s += '\n| rule | evals | new_blocks | new_allows | rate | state | reason |\n|---|---:|---:|---:|---:|---|---|\n'
    for (const r of a.rules) {
      s += `| \`${r.ruleId}\` | ${r.evaluations} | ${r.newBlocks} | ${r.newAllows} | ${formatFixed(r.newBlockRatePct, 2)}% | ${r.state} | ${r.reason} |\n`
    }
  }
  return s + renderChangesMarkdown(a)
}

/**
 * [ext] The records whose captured scanner block replay cannot redo (a rate limit, DLP on a
 * redacted URL, …): counted unchanged, never charged to a rule; '' when there are none.
 */
function keptLine(a: ShadowAnalysis): string {
  if (a.keptAsCaptured.size === 0) return ''
  const causes = [...a.keptAsCaptured.keys()].sort().map((k) => `${k}: ${a.keptAsCaptured.get(k)}`)
  const n = [...a.keptAsCaptured.values()].reduce((x, y) => x + y, 0)
  return `- kept as captured: ${n} record${n === 1 ? '' : 's'} whose scanner verdict replay cannot redo (${causes.join(', ')})\n`
}

/** [ext] issue 34: every changed destination, what it was, what it would be, and what decides it. */
function renderChangesMarkdown(a: ShadowAnalysis): string {
  let s = '\n## Changes\n\n'
  if (a.changes.length === 0) return s + 'No decision changes.\n'
  s += '| change | count | method | destination | was | would be | decided by |\n|---|---:|---|---|---|---|---|\n'
  for (const c of a.changes) {
    s += `| ${c.change.replace('_', ' ')} | ${c.count} | ${cell(changeMethod(c))} | \`${cell(changeDestination(c))}\` | ${cell(c.originalVerdict)} | ${cell(c.candidateVerdict)} | ${cell(changeDecider(c))} |\n`
  }
  if (a.changesOmitted > 0) s += `\n${a.changesOmitted} more changed records of further destinations are counted above but not listed (at most ${a.changes.length} destinations are listed).\n`
  return s
}
