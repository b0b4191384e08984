/**
 * Address-poisoning protection on a request's params — a tools/call's arguments (scanners-extra
 * §4.4, mcp.md §4.2 step 6, issue 38): the blockchain addresses in the params' JSON text are
 * compared with `address_protection.allowed_addresses`, as the request gate's `address` stage does
 * for HTTP bodies. A finding makes the content dirty: one more finding for `mode` (reason and
 * receipt pattern `address:<explanation>`, after DLP and injection), whose merged action then
 * answers `-32001` with `block_reason: dlp_match` — the reason the HTTP stage puts in its block
 * header — on `block`, or forwards with the finding on `warn`.
 */
import {goJson} from '../../../../canonical/index.js'
import {isObject} from '../../../jsonrpc/frame.js'
import type {McpGateStage} from '../context.js'

export const addressStage: McpGateStage = {
  id: 'address',
  run(ctx) {
    const checker = ctx.mcp.deps.scanner.address
    if (checker == null) return false
    const params = ctx.frame.error === null && isObject(ctx.frame.value) ? ctx.frame.value.get('params') : undefined
    if (params === undefined || params === null) return false
    const r = checker.check(goJson(params))
    if (r.action === null) return false
    const first = r.findings.find((f) => f.action === r.action) ?? r.findings[0]!
    const reason = `address:${first.explanation}`
    ctx.address = {action: r.action, pattern: reason}
    ctx.reasons.push(reason)
    return false
  },
}
