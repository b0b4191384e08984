/**
 * Server→client: the one verdict function for a message (spec mcp.md §5.1). Order: frame → kill
 * switch → batch → unparseable → confused deputy → media policy → tool-definition scan →
 * general injection scan → action. A tools/list feeds the session-binding inventory only when it
 * is forwarded (fix Q6); `ask` is `block` (fix Q36: stdin is the MCP stream); `strip` rewrites
 * matching string leaves in place or blocks (fix Q11).
 */
import {goJson, type JsonObject, type JsonValue} from '../../canonical/index.js'
import {redactResponse, type Scanner} from '../../scanner/index.js'
import {errorLine, mcpError, type McpError} from '../jsonrpc/errors.js'
import {isObject, parseFrame} from '../jsonrpc/frame.js'
import {scanMessage, toolsListOf} from '../scan/response.js'
import {decodeTools, toolHash} from '../tools/scan.js'
import {scanResponseFrame, unparseableResponse, type ResponseScans} from './response-scans.js'
import type {McpDecision, McpFact, McpStage} from './decision.js'
import type {McpContext} from './request.js'
import {sessionOf, upgraded} from './session-gates.js'

/** `pre`: this message's `scanResponseFrame`, computed off the event loop by the scan pool; absent = computed here. */
export function decideResponse(ctx: McpContext, raw: string, pre?: ResponseScans): McpDecision {
  const {settings, deps, state} = ctx
  const http = state.transport !== 'mcp_stdio'
  const line = ++state.outputLine
  const at = http ? '' : `line ${line}: `
  const frame = parseFrame(raw)
  const notes: string[] = []
  const sess = sessionOf(ctx)
  const facts: McpFact[] = []
  const base = {direction: 'response' as const, transport: state.transport, line, id: frame.id, method: frame.method, tool: '', dlpWarnings: [], notes, facts, ...(sess !== null ? {session: sess.key} : {})}
  /** The session level's upgrade of a response-side action, logged and kept as an audit fact. */
  const upgrade = (action: string, surface: string): string => {
    if (sess === null) return action
    const to = upgraded(sess.upgrade(action), action, entry?.label ?? '', notes)
    if (to !== action) facts.push({kind: 'adaptive_upgrade', action: to, name: `${action}->${to}`, detail: surface, severity: entry?.label ?? ''})
    return to
  }
  // A blocked server-initiated request (sampling/createMessage, elicitation/create …) is answered to
  // the server, never relayed as an error to the client (fix Q20 for every block, issue 37: the
  // client saw a response to an id it never sent, and the server's call waited for an answer).
  const serverRequest = frame.hasMethod && !frame.isResponse && frame.id !== null
  const replace = (stage: McpStage, layer: string, err: McpError, findings: readonly string[]): McpDecision => ({
    ...base, verdict: 'block', stage, layer, reason: err.reason, findings,
    // Messages without an id never receive an error: they are dropped.
    forward: frame.id === null || serverRequest ? null : errorLine(frame.id, err), answer: serverRequest ? errorLine(frame.id, err) : null,
  })

  const ks = deps.killSwitch.status()
  if (ks.active) {
    const err = mcpError('kill_switch', ks.message)
    if (frame.id === null) {
      notes.push(`response ${at}kill switch dropped notification (source=${ks.source})`)
      return replace('kill_switch', 'kill_switch', err, [])
    }
    notes.push(`response ${at}kill switch denied (source=${ks.source})`)
    if (frame.hasMethod && !frame.isResponse) {
      // Fix Q20: a server-initiated request is answered to the server, not the client.
      return {...replace('kill_switch', 'kill_switch', err, []), forward: null, answer: errorLine(frame.id, err)}
    }
    return replace('kill_switch', 'kill_switch', err, [])
  }
  // Session step (§5.1 steps 3–4): due time recovery, then block_all (no signal).
  const entry = sess?.enter() ?? null
  // Taint (policy-extra §1.3): every server message raises the session's exposure — a remote
  // server's content is untrusted, a local (stdio) one's internal.
  sess?.exposure?.(state.transport !== 'mcp_stdio', false)
  if (entry?.blockAll === true) {
    if (state.blockAllNoted !== true) {
      state.blockAllNoted = true
      notes.push(`session deny — escalation level ${entry.label}, blocking all responses`)
    }
    return {...replace('session', 'session_deny', mcpError('escalation', entry.label), [`escalation_level:${entry.label}`]), pattern: `escalation_level:${entry.label}`, severity: 'critical'}
  }
  if (frame.isBatch) {
    notes.push(`${at}blocked batch JSON-RPC message (not supported by MCP)`)
    return {...replace('batch', 'mcp_response_scan', mcpError('batch_request'), ['batch']), forward: null}
  }
  const msg = frame.value
  if (unparseableResponse(frame) || !isObject(msg)) {
    const jsonrpc = isObject(msg) ? msg.get('jsonrpc') : undefined
    const error = frame.error ?? (isObject(msg) ? `not a JSON-RPC 2.0 response: jsonrpc="${typeof jsonrpc === 'string' ? jsonrpc : ''}"` : 'invalid JSON structure')
    notes.push(`${at}${error}`)
    const scans = pre ?? scanResponseFrame(deps, settings.toolScan.enabled, frame)
    const names = scans.kind === 'unparseable' ? scans.injection : []
    if (names.length > 0) notes.push(`${at}injection detected (${names.join(', ')}), action=block`)
    notes.push(`${at}blocking unparseable response`)
    const err = mcpError('response_unparseable')
    return {...base, id: null, verdict: 'block', stage: 'parse', layer: 'mcp_response_scan', reason: err.reason, findings: [error], forward: errorLine(null, err), answer: null}
  }
  if (frame.isResponse && !state.tracker.consume(frame.id)) {
    notes.push(`${at}confused deputy: unsolicited response ID ${frame.id ?? 'null'}`)
    return {...replace('confused_deputy', 'mcp_response_scan', mcpError('confused_deputy'), ['unsolicited response id']), forward: errorLine(frame.id, mcpError('confused_deputy'))}
  }

  // Media policy, tool-definition scans and the injection scan: computed here, or off the event
  // loop by the scan pool for a large message (`pre`); the same function either way.
  const scans = pre ?? scanResponseFrame(deps, settings.toolScan.enabled, frame, false)
  if (scans.kind !== 'message') {
    // Fail closed: a message whose scan could not complete is never forwarded.
    const why = scans.kind === 'failed' ? scans.error : 'scan result does not match the message'
    notes.push(`${at}response scan failed (${why}), blocking`)
    return {...replace('response_scan', 'mcp_response_scan', mcpError('response_unscanned'), [`content scan failed: ${why}`]), pattern: 'scan_failed', severity: 'high'}
  }
  const m = scans.media
  if (m !== null && m.kind === 'block') {
    notes.push(`${at}media policy blocked MCP response (${m.reason})`)
    sess?.signal('block', 'media', m.reason)
    return {...replace('media_policy', 'media_policy', mcpError('media_policy', m.reason), [m.reason]), pattern: m.reason, severity: 'high'}
  }
  const text = scans.text
  // The message as the scans saw it (media-rewritten); only the strip path needs it parsed.
  const scanned = (): JsonObject => (pre === undefined || m?.kind !== 'rewritten' ? msg : (parseFrame(text).value as JsonObject))

  // Tool definitions (§6).
  const tools = settings.toolScan.enabled ? toolsListOf(msg) : null
  // Decoded once: the scans below and the forwarded-names baseline both read them.
  const defs = tools !== null ? decodeTools(tools) : []
  const toolFindings: string[] = []
  if (tools !== null) {
    for (const def of defs) {
      const result = scans.tools?.[def.index]
      const findings = [...(result?.findings ?? [])]
      const params = result?.params ?? []
      let drift: string | null = null
      if (settings.toolScan.detectDrift && def.name !== '') drift = state.baseline.checkDrift(def.name, toolHash(def), def.description, params)
      if (drift !== null) findings.push('definition-drift')
      if (findings.length === 0) continue
      const label = def.name === '' ? `#${def.index}` : def.name
      notes.push(`${at}tool "${label}": ${findings.join(', ')}`)
      if (drift !== null) notes.push(`  ${drift}`)
      toolFindings.push(...findings.map((f) => `${label}:${f}`))
    }
    const toolAction = toolFindings.length > 0 ? upgrade(settings.toolScan.action, 'mcp_tool_scan') : settings.toolScan.action
    if (toolFindings.length > 0) sess?.signal(toolAction === 'block' ? 'block' : 'near_miss', 'tools/list', toolFindings.join(', '))
    if (toolFindings.length > 0 && toolAction === 'block') {
      return replace('tool_scan', 'mcp_tool_scanning', mcpError('tool_poisoning'), toolFindings)
    }
  }

  // Inline, `msg` is the media-rewritten message the pool's worker scanned.
  const inj = {names: scans.injection ?? scanMessage(deps.scanner, msg, tools !== null).names}
  const forwardList = (): void => {
    if (tools === null) return
    const added = state.baseline.addForwarded(defs.map((t) => t.name))
    if (settings.binding !== null) for (const n of added) notes.push(`tool "${n}" added post-baseline`)
  }
  if (inj.names.length === 0) {
    forwardList()
    const warned = toolFindings.length > 0
    if (!warned) sess?.clean()
    return {
      ...base, verdict: warned ? 'warn' : 'allow', stage: warned ? 'tool_scan' : 'none', layer: warned ? 'mcp_tool_scanning' : '',
      reason: warned ? 'tool_poisoning' : null, findings: toolFindings, forward: text, answer: null,
    }
  }
  sess?.exposure?.(state.transport !== 'mcp_stdio', true)
  let action: string = settings.responseAction
  const escalated = upgrade(action, 'mcp_response')
  // An upgrade that made it a block answers with the escalation error (§5.1 step 12).
  const escalationDriven = escalated === 'block' && action !== 'block'
  action = escalated
  if (action === 'ask') action = 'block'
  if (action === 'strip') {
    const target = scanned()
    const stripped = stripInPlace(deps.scanner, target)
    if (stripped) {
      notes.push(`${at}injection detected (${inj.names.join(', ')}), action=strip`)
      sess?.signal('strip', 'response', inj.names.join(', '))
      forwardList()
      return {...base, verdict: 'warn', stage: 'response_scan', layer: 'mcp_response_scan', reason: 'prompt_injection', findings: [...toolFindings, ...inj.names], forward: goJson(target), answer: null, pattern: inj.names[0], severity: 'high'}
    }
    notes.push(`${at}strip failed (injection outside rewritable text), blocking instead`)
    action = 'block'
  }
  notes.push(`${at}injection detected (${inj.names.join(', ')}), action=${action}`)
  sess?.signal(action === 'warn' ? 'near_miss' : 'block', 'response', inj.names.join(', '))
  if (action === 'warn') {
    forwardList()
    return {...base, verdict: 'warn', stage: 'response_scan', layer: 'mcp_response_scan', reason: 'prompt_injection', findings: [...toolFindings, ...inj.names], forward: text, answer: null, pattern: inj.names[0], severity: 'high'}
  }
  const err = escalationDriven ? mcpError('escalation', entry?.label ?? '') : mcpError('response_injection')
  return {...replace('response_scan', 'mcp_response_scan', err, [...toolFindings, ...inj.names]), pattern: inj.names[0], severity: 'high'}
}

/**
 * Fix Q11: redacts every string leaf (in `result`, `error`, `params`) that itself carries an
 * injection, keeping all other fields. False when a hit cannot be rewritten (it spans leaves, or
 * came from a pass that cannot be redacted) — the caller then blocks.
 */
function stripInPlace(scanner: Scanner, msg: JsonObject): boolean {
  let changed = false
  let failed = false
  const visit = (v: JsonValue | undefined, set: (s: string) => void): void => {
    if (failed || v === undefined || v === null) return
    if (typeof v === 'string') {
      if (scanner.scanResponse(v).clean) return
      const red = redactResponse(scanner.response, v)
      if (red === null) failed = true
      else {
        set(red)
        changed = true
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, (s) => (v[i] = s)))
    } else if (isObject(v)) {
      for (const [k, x] of v) visit(x, (s) => v.set(k, s))
    }
  }
  for (const k of ['result', 'error', 'params']) visit(msg.get(k), (s) => msg.set(k, s))
  if (failed || !changed) return false
  return scanMessage(scanner, msg, toolsListOf(msg) !== null).names.length === 0
}
