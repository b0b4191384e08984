// The MCP response gate as data (docs/architecture.md, "The MCP response gate"): every MCP
// transport row names every response stage of the one order (a stage or the reason it is
// skipped), the rows run in that order, a stage placed in a row runs in its place and its answer
// is the message's Decision, and the docs print the table.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {MCP_RESPONSE_STAGE_ORDER, MCP_RESPONSE_TRANSPORT_STAGES, MCP_TRANSPORT_STAGES, mcpResponseStagesFor, type McpResponseGateContext, type McpResponseStage, type McpResponseStageId, type McpResponseStageRow} from '../../../src/plugins/mcp/index.js'
import {renderMcpResponseMatrix, renderStageMatrix} from '../../../src/plugins/proxy/gate/matrix.js'
import {isSkip, runStagesSync} from '../../../src/plugins/stages/index.js'
import {call, runtimeFor, Session} from './helpers.js'
import {assertRowsNameEveryStage} from '../stages/rows.js'

test('every MCP transport row names every MCP response stage, each run or skipped with a reason, in the one order', () => {
  assertRowsNameEveryStage(MCP_RESPONSE_STAGE_ORDER, MCP_RESPONSE_TRANSPORT_STAGES)
  assert.deepEqual(Object.keys(MCP_RESPONSE_TRANSPORT_STAGES).sort(), Object.keys(MCP_TRANSPORT_STAGES).sort())
  for (const [transport, row] of Object.entries(MCP_RESPONSE_TRANSPORT_STAGES)) {
    for (const id of ['kill_switch', 'confused_deputy', 'media_policy', 'tool_scan', 'response_scan'] as const) assert.ok(!isSkip(row[id]), `${transport} skips ${id}`)
  }
})

// The recipe for the MCP response side: a stage placed in a row runs in its place, and its
// answer ends the gate as the message's Decision.
test('recipe: a trivial MCP response stage runs in order and its answer stops the gate', () => {
  const ran: string[] = []
  const trace = (id: McpResponseStageId): McpResponseStage => ({id, run: () => (ran.push(id), false)})
  const refuse: McpResponseStage = {
    id: 'response_scan',
    run(ctx) {
      ran.push('response_scan')
      if (!ctx.frame.isResponse) return false
      ctx.decision = {verdict: 'block', stage: 'response_scan', layer: 'trivial'} as McpResponseGateContext['decision']
      return true
    },
  }
  const row = Object.fromEntries(MCP_RESPONSE_STAGE_ORDER.map((id) => [id, id === 'response_scan' ? refuse : id === 'batch' ? {skip: 'not part of this recipe test'} : trace(id)])) as McpResponseStageRow
  const ctx = (isResponse: boolean) => ({frame: {isResponse}, decision: null}) as unknown as McpResponseGateContext
  const forwarded = ctx(false)
  assert.equal(runStagesSync(mcpResponseStagesFor(row), forwarded), false)
  assert.equal(forwarded.decision, null)
  assert.deepEqual(ran, MCP_RESPONSE_STAGE_ORDER.filter((id) => id !== 'batch'))
  const answered = ctx(true)
  assert.equal(runStagesSync(mcpResponseStagesFor(row), answered), true)
  assert.equal(answered.decision?.layer, 'trivial')
})

test('decideResponse runs the rows: once the client has sent a request, a response to another id is a confused-deputy block on every MCP transport; the sent one is allowed', () => {
  const runtime = runtimeFor()
  for (const transport of Object.keys(MCP_RESPONSE_TRANSPORT_STAGES) as Array<keyof typeof MCP_RESPONSE_TRANSPORT_STAGES>) {
    const s = new Session(runtime, transport)
    assert.equal(s.req(call(8, 'read_file', {path: '/tmp/x'})).verdict, 'allow', transport)
    const deputy = s.res({jsonrpc: '2.0', id: 7, result: {content: [{type: 'text', text: 'hello'}]}})
    assert.deepEqual([deputy.verdict, deputy.stage, deputy.findings], ['block', 'confused_deputy', ['unsolicited response id']], transport)
    const ok = s.res({jsonrpc: '2.0', id: 8, result: {content: [{type: 'text', text: 'hello'}]}})
    assert.deepEqual([ok.verdict, ok.stage, ok.forward], ['allow', 'none', '{"jsonrpc":"2.0","id":8,"result":{"content":[{"type":"text","text":"hello"}]}}'], transport)
  }
})

test('the stage matrix prints the MCP response table with its columns, after the HTTP response table', () => {
  const r = renderMcpResponseMatrix()
  assert.match(r, /^\| MCP response stage \| mcp_stdio \| mcp_http_upstream \| mcp_ws \| mcp_http_listener \|$/m)
  assert.match(r, /^\| `confused_deputy` \| ✓ \| ✓ \| ✓ \| ✓ \|$/m)
  assert.match(r, /^\| `tool_scan` \| ✓ \| ✓ \| ✓ \| ✓ \|$/m)
  const m = renderStageMatrix()
  assert.ok(m.includes(r), 'the MCP response table is part of the rendered matrix')
  assert.ok(m.indexOf('| response stage |') < m.indexOf(r) && m.indexOf(r) < m.indexOf('Stages of one gate only:'), 'between the HTTP response table and the list that ends the matrix')
})
