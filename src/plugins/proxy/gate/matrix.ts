/**
 * The stage matrix as docs/run.md and docs/architecture.md print it (a test keeps the docs equal
 * to this rendering of the live tables): one row per stage — the request gate's order, its settle
 * stages (SETTLE_STAGES), then the stages only the MCP tool-call gate has, in its order — and one
 * column per transport, the HTTP
 * ones (TRANSPORT_STAGES) then the MCP ones (MCP_TRANSPORT_STAGES); `✓` runs, `–` skipped, with
 * the reasons listed under the table. The MCP columns run their stages in the MCP order, printed
 * under the table. The response gate's table (RESPONSE_TRANSPORT_STAGES, the HTTP columns) follows
 * with its own reasons, then the MCP response gate's (MCP_RESPONSE_TRANSPORT_STAGES, the MCP
 * columns), before the list of stages only one request gate has.
 */
import {MCP_RESPONSE_STAGE_ORDER, MCP_RESPONSE_TRANSPORT_STAGES, MCP_STAGE_ORDER, MCP_TRANSPORT_STAGES, type McpStageId} from '../../mcp/index.js'
import {isSkip} from '../../stages/index.js'
import type {SettleId, StageId} from './context.js'
import {HTTP_SKIPS, MCP_SKIPS} from './mcp-columns.js'
import {SETTLE_ORDER, STAGE_ORDER} from './order.js'
import {SETTLE_STAGES, TRANSPORT_STAGES} from './transport-stages.js'
import {RESPONSE_STAGE_ORDER} from './response/order.js'
import {RESPONSE_TRANSPORT_STAGES} from './response/transport-stages.js'
import {RESPONSE_HEAD_ORDER, RESPONSE_HEAD_TRANSPORT_STAGES} from './response/head-gate.js'

type HttpStage = StageId | SettleId
type AnyStage = HttpStage | McpStageId

/** Every stage of either gate: the request gate's order and its settle stages, then the MCP-only stages in the MCP order. */
export function matrixStages(): readonly AnyStage[] {
  const http = new Set<string>([...STAGE_ORDER, ...SETTLE_ORDER])
  return [...STAGE_ORDER, ...SETTLE_ORDER, ...MCP_STAGE_ORDER.filter((id) => !http.has(id))]
}

/** A transport's HTTP stage of id `id` (a settle stage from its settle row), or undefined when the request gate has none. */
function httpCell(t: keyof typeof TRANSPORT_STAGES, id: AnyStage): object | undefined {
  return (SETTLE_ORDER as readonly string[]).includes(id) ? SETTLE_STAGES[t][id as SettleId] : TRANSPORT_STAGES[t][id as StageId]
}

export function renderStageMatrix(): string {
  const transports = Object.keys(TRANSPORT_STAGES) as Array<keyof typeof TRANSPORT_STAGES>
  const mcp = Object.keys(MCP_TRANSPORT_STAGES) as Array<keyof typeof MCP_TRANSPORT_STAGES>
  const columns = [...transports, ...mcp]
  const lines = [`| stage | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---').join('|')}|`]
  const reasons: string[] = []
  const across: string[] = []
  for (const id of matrixStages()) {
    const cells: string[] = []
    const http = httpCell('fetch', id) !== undefined
    for (const t of transports) {
      const s = httpCell(t, id)
      if (s === undefined) cells.push('–')
      else if (!isSkip(s)) cells.push('✓')
      else {
        reasons.push(`- \`${id}\` on ${t}: ${s.skip}`)
        cells.push('–')
      }
    }
    if (!http) across.push(`- \`${id}\` on the HTTP transports: ${HTTP_SKIPS[id as keyof typeof HTTP_SKIPS]}`)
    const inMcp = MCP_TRANSPORT_STAGES.mcp_stdio[id as McpStageId] !== undefined
    for (const t of mcp) {
      const s = MCP_TRANSPORT_STAGES[t][id as McpStageId]
      if (s === undefined) cells.push('–')
      else if (!isSkip(s)) cells.push('✓')
      else {
        reasons.push(`- \`${id}\` on ${t}: ${s.skip}`)
        cells.push('–')
      }
    }
    if (!inMcp) across.push(`- \`${id}\` on the MCP transports: ${MCP_SKIPS[id as HttpStage] ?? ''}`)
    lines.push(`| \`${id}\` | ${cells.join(' | ')} |`)
  }
  const settle = SETTLE_ORDER.map((id) => `\`${id}\``).join(' → ')
  return `${lines.join('\n')}\n\nThe HTTP columns run the settle stages (${settle}) after any stage that leaves a finding, before the next stage. The MCP columns run their stages in the MCP order: ${MCP_STAGE_ORDER.map((id) => `\`${id}\``).join(' → ')}.\n\nSkipped stages and why:\n\n${reasons.join('\n')}\n\n${renderResponseHeadMatrix()}\n${renderResponseMatrix()}\n${renderMcpResponseMatrix()}\nStages of one gate only:\n\n${across.join('\n')}\n`
}

/**
 * One response table: a row per stage of `order`, a column per transport of `rows` (✓ runs, – skipped),
 * under `title`, then the skip reasons (or `none` when no transport skips anything).
 */
function renderResponseTable<Id extends string>(
  o: {readonly title: string; readonly head: string; readonly skippedTitle: string; readonly none?: string},
  order: readonly Id[], rows: Readonly<Record<string, Readonly<Record<Id, object>>>>,
): string {
  const transports = Object.keys(rows)
  const lines = [`| ${o.head} | ${transports.join(' | ')} |`, `|---|${transports.map(() => '---').join('|')}|`]
  const reasons: string[] = []
  for (const id of order) {
    const cells = transports.map((t) => {
      const s = rows[t]![id]
      if (!isSkip(s)) return '✓'
      reasons.push(`- \`${id}\` on ${t}: ${s.skip}`)
      return '–'
    })
    lines.push(`| \`${id}\` | ${cells.join(' | ')} |`)
  }
  const skipped = reasons.length > 0 || o.none === undefined ? reasons.join('\n') : o.none
  return `${o.title} ${order.map((id) => `\`${id}\``).join(' → ')}:\n\n${lines.join('\n')}\n\n${o.skippedTitle}\n\n${skipped}\n`
}

/** The HTTP response head gate's table: one row per head stage, in its order, one column per HTTP transport. */
export function renderResponseHeadMatrix(): string {
  return renderResponseTable({
    title: 'The response head gate, on the upstream\'s status and headers as soon as it answers (before any body), in the order', head: 'response head stage',
    skippedTitle: 'Skipped response head stages and why:',
  }, RESPONSE_HEAD_ORDER, RESPONSE_HEAD_TRANSPORT_STAGES)
}

/** The HTTP response gate's table: one row per response stage, in the response order, one column per HTTP transport. */
export function renderResponseMatrix(): string {
  return renderResponseTable({title: 'The response gate, on a buffered response body, in the order', head: 'response stage', skippedTitle: 'Skipped response stages and why:'}, RESPONSE_STAGE_ORDER, RESPONSE_TRANSPORT_STAGES)
}

/** The MCP response gate's table: one row per MCP response stage, in its order, one column per MCP transport. */
export function renderMcpResponseMatrix(): string {
  return renderResponseTable({
    title: 'The MCP response gate, on each server→client message, in the order', head: 'MCP response stage', skippedTitle: 'Skipped MCP response stages and why:',
    none: 'None: every MCP transport runs every MCP response stage.',
  }, MCP_RESPONSE_STAGE_ORDER, MCP_RESPONSE_TRANSPORT_STAGES)
}
