/**
 * The general injection scan (mcp.md §5.2) and its action: none found → the gate goes on and the
 * message is forwarded; otherwise the response action, upgraded by the session level (an upgrade
 * to block answers with the escalation error, §5.1 step 12); `ask` is `block` (fix Q36: stdin is
 * the MCP stream); `strip` rewrites matching string leaves in place or blocks (fix Q11); `warn`
 * forwards the message as a warn.
 */
import {goJson, type JsonObject, type JsonValue} from '../../../../../canonical/index.js'
import {redactResponseNamed, type Scanner} from '../../../../../scanner/index.js'
import {mcpError} from '../../../../jsonrpc/errors.js'
import {isObject, parseFrame} from '../../../../jsonrpc/frame.js'
import {scanMessage, toolsListOf} from '../../../../scan/response.js'
import {decide, forwardList, replace, upgrade, type McpResponseStage} from '../context.js'

export const responseScanStage: McpResponseStage = {
  id: 'response_scan',
  run(ctx) {
    const {settings, deps, state} = ctx.mcp
    const {at, sess, toolFindings} = ctx
    const msg = ctx.msg!
    const notes = ctx.base.notes
    const scans = ctx.scans!
    const m = scans.media
    const text = scans.text
    // The message as the scans saw it (media-rewritten); only the strip path needs it parsed.
    const scanned = (): JsonObject => (ctx.pre === undefined || m?.kind !== 'rewritten' ? msg : (parseFrame(text).value as JsonObject))
    // Inline, `msg` is the media-rewritten message the pool's worker scanned.
    const names = scans.injection ?? scanMessage(deps.scanner, msg, ctx.tools !== null).names
    if (names.length === 0) return false
    const listed = names.join(', ')
    sess?.exposure?.(state.transport !== 'mcp_stdio', true)
    let action: string = settings.responseAction
    const escalated = upgrade(ctx, action, 'mcp_response')
    // An upgrade that made it a block answers with the escalation error (§5.1 step 12).
    const escalationDriven = escalated === 'block' && action !== 'block'
    action = escalated
    if (action === 'ask') action = 'block'
    if (action === 'strip') {
      const target = scanned()
      const redacted = stripInPlace(deps.scanner, target)
      if (redacted !== null) {
        // The redaction reads more passes than the scan: report every pattern it removed too, so
        // the log line, the receipt and the audit event name what the forwarded text lost.
        const all = [...names, ...redacted.filter((n) => !names.includes(n))]
        const allListed = all.join(', ')
        notes.push(`${at}injection detected (${allListed}), action=strip`)
        sess?.signal('strip', 'response', allListed)
        const forward = forwardList(ctx, goJson(target))
        return decide(ctx, {...ctx.base, verdict: 'warn', stage: 'response_scan', layer: 'mcp_response_scan', reason: 'prompt_injection', findings: [...toolFindings, ...all], forward, answer: null, pattern: all[0], severity: 'high'})
      }
      notes.push(`${at}strip failed (injection outside rewritable text), blocking instead`)
      action = 'block'
    }
    notes.push(`${at}injection detected (${listed}), action=${action}`)
    sess?.signal(action === 'warn' ? 'near_miss' : 'block', 'response', listed)
    if (action === 'warn') {
      const forward = forwardList(ctx, text)
      return decide(ctx, {...ctx.base, verdict: 'warn', stage: 'response_scan', layer: 'mcp_response_scan', reason: 'prompt_injection', findings: [...toolFindings, ...names], forward, answer: null, pattern: names[0], severity: 'high'})
    }
    const err = escalationDriven ? mcpError('escalation', ctx.entry?.label ?? '') : mcpError('response_injection')
    return decide(ctx, {...replace(ctx, 'response_scan', 'mcp_response_scan', err, [...toolFindings, ...names]), pattern: names[0], severity: 'high'})
  },
}

/**
 * Fix Q11: redacts every string leaf (in `result`, `error`, `params`) that itself carries an
 * injection, keeping all other fields, and returns the names of the patterns it redacted. Null
 * when a hit cannot be rewritten (it spans leaves, or came from a pass that cannot be redacted) —
 * the caller then blocks.
 */
function stripInPlace(scanner: Scanner, msg: JsonObject): string[] | null {
  const names: string[] = []
  let failed = false
  const visit = (v: JsonValue | undefined, set: (s: string) => void): void => {
    if (failed || v === undefined || v === null) return
    if (typeof v === 'string') {
      if (scanner.scanResponse(v).clean) return
      const red = redactResponseNamed(scanner.response, v)
      if (red === null) failed = true
      else {
        set(red.content)
        for (const n of red.names) if (!names.includes(n)) names.push(n)
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, (s) => (v[i] = s)))
    } else if (isObject(v)) {
      for (const [k, x] of v) visit(x, (s) => v.set(k, s))
    }
  }
  for (const k of ['result', 'error', 'params']) visit(msg.get(k), (s) => msg.set(k, s))
  if (failed || names.length === 0) return null
  return scanMessage(scanner, msg, toolsListOf(msg) !== null).names.length === 0 ? names : null
}
