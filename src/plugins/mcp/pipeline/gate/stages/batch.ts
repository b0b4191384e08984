/** A JSON-RPC batch is not MCP (§4.1 step 5): refused, each request of it answered by id. */
import {goJson} from '../../../../canonical/index.js'
import {errorLine, mcpError} from '../../../jsonrpc/errors.js'
import {isObject, type McpFrame} from '../../../jsonrpc/frame.js'
import {answer, type McpGateStage} from '../context.js'

export const batchStage: McpGateStage = {
  id: 'batch',
  run(ctx) {
    if (!ctx.frame.isBatch) return false
    ctx.base.notes.push(`${ctx.at}blocked batch request (not supported by MCP)`)
    ctx.sess?.signal('block', 'batch', 'batch request')
    return answer(ctx, 'batch', 'mcp_input_scanning', mcpError('batch_request'), ['batch'], {answer: batchAnswer(ctx.frame)})
  },
}

/**
 * [ext] The answer to a batch (issue 37): one `-32600` error per request in it, each with that
 * request's id, as a JSON-RPC batch response — a client matches answers by id, so an error with
 * `id: null` alone left every request of the batch waiting. A batch with no request that has an
 * id (or not parseable as a list) gets the single `id: null` error of §4.1 step 5.
 */
export function batchAnswer(frame: McpFrame): string {
  const err = mcpError('batch_request')
  const ids: string[] = []
  const strictList = Array.isArray(frame.value) ? frame.value : null
  if (strictList !== null) {
    for (const el of strictList) {
      if (!isObject(el) || typeof el.get('method') !== 'string') continue
      const id = el.get('id')
      if (id === undefined || id === null || typeof id === 'boolean' || Array.isArray(id) || isObject(id)) continue
      ids.push(goJson(id))
    }
  } else {
    let lenient: unknown
    try {
      lenient = JSON.parse(frame.text)
    } catch {
      lenient = null
    }
    if (Array.isArray(lenient)) {
      for (const el of lenient) {
        if (el === null || typeof el !== 'object' || Array.isArray(el) || typeof el.method !== 'string') continue
        if (typeof el.id === 'string' || typeof el.id === 'number') ids.push(JSON.stringify(el.id))
      }
    }
  }
  if (ids.length === 0) return errorLine(null, err)
  return `[${ids.map((id) => errorLine(id, err)).join(',')}]`
}
