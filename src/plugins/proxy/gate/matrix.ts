/**
 * The stage matrix as docs/run.md and docs/architecture.md print it (a test keeps the docs equal
 * to this rendering of the live table): one row per stage in the gate's order, one column per
 * transport; `✓` runs, `–` skipped, with the reasons listed under the table.
 */
import {STAGE_ORDER} from './order.js'
import {isSkip, TRANSPORT_STAGES} from './transport-stages.js'

export function renderStageMatrix(): string {
  const transports = Object.keys(TRANSPORT_STAGES) as Array<keyof typeof TRANSPORT_STAGES>
  const lines = [`| stage | ${transports.join(' | ')} |`, `|---|${transports.map(() => '---').join('|')}|`]
  const reasons: string[] = []
  for (const id of STAGE_ORDER) {
    const cells = transports.map((t) => {
      const s = TRANSPORT_STAGES[t][id]
      if (!isSkip(s)) return '✓'
      reasons.push(`- \`${id}\` on ${t}: ${s.skip}`)
      return '–'
    })
    lines.push(`| \`${id}\` | ${cells.join(' | ')} |`)
  }
  return `${lines.join('\n')}\n\nSkipped stages and why:\n\n${reasons.join('\n')}\n`
}
