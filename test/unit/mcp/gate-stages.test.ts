// The MCP tool-call gate as data (docs/architecture.md, "The MCP tool-call gate"): every MCP
// transport row names every stage of the MCP order, the rows run in that order, the listener
// alone reads request headers and A2A, a stage only one gate has says why the other skips it,
// and a stage added to a row runs in its place and its answer is the message's Decision.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {MCP_STAGE_ORDER, MCP_TRANSPORT_STAGES, runMcpGate, type McpGateContext, type McpGateStage, type McpStageId} from '../../../src/plugins/mcp/index.js'
import {answer} from '../../../src/plugins/mcp/pipeline/gate/context.js'
import {HTTP_SKIPS, MCP_SKIPS} from '../../../src/plugins/proxy/gate/mcp-columns.js'
import {matrixStages, renderStageMatrix} from '../../../src/plugins/proxy/gate/matrix.js'
import {SETTLE_ORDER, STAGE_ORDER} from '../../../src/plugins/proxy/gate/order.js'
import {isSkip, rowStages, runStagesSync} from '../../../src/plugins/stages/index.js'
import {mcpError} from '../../../src/plugins/mcp/jsonrpc/errors.js'
import {AWS_KEY, call, runtimeFor, Session} from './helpers.js'
import {assertRowsNameEveryStage} from '../stages/rows.js'

test('every MCP transport row names every stage of the MCP order, each run or skipped with a reason', () => {
  assertRowsNameEveryStage(MCP_STAGE_ORDER, MCP_TRANSPORT_STAGES)
  for (const [transport, row] of Object.entries(MCP_TRANSPORT_STAGES)) {
    for (const id of ['kill_switch', 'content', 'tool_policy', 'budget', 'chain', 'address', 'mode', 'session', 'cross_request', 'contract', 'taint'] as const) assert.ok(!isSkip(row[id]), `${transport} skips ${id}`)
  }
  assert.ok(!isSkip(MCP_TRANSPORT_STAGES.mcp_http_listener.header_dlp) && !isSkip(MCP_TRANSPORT_STAGES.mcp_http_listener.a2a))
})

test('a stage only one gate has: the other gate\'s transports skip it for a stated reason, and the matrix lists every stage once', () => {
  // The request gate's stages are its order and its settle stages (exception, mode).
  const httpStages = [...STAGE_ORDER, ...SETTLE_ORDER]
  const http = new Set<string>(httpStages)
  const mcp = new Set<string>(MCP_STAGE_ORDER)
  for (const id of httpStages) if (!mcp.has(id)) assert.ok((MCP_SKIPS[id] ?? '').length > 20, `no reason why MCP skips ${id}`)
  for (const id of MCP_STAGE_ORDER) if (!http.has(id)) assert.ok((HTTP_SKIPS[id as keyof typeof HTTP_SKIPS] ?? '').length > 20, `no reason why HTTP skips ${id}`)
  assert.deepEqual([...matrixStages()].sort(), [...new Set([...httpStages, ...MCP_STAGE_ORDER])].sort())
  assert.match(MCP_SKIPS.exception ?? '', /operations\.md §8\.3/)
  const m = renderStageMatrix()
  assert.match(m, /^\| stage \| fetch \| forward \| intercept \| connect \| reverse \| websocket \| mcp_stdio \| mcp_http_upstream \| mcp_ws \| mcp_http_listener \|$/m)
  assert.match(m, /^\| `tool_policy` \| – \| – \| – \| – \| – \| – \| ✓ \| ✓ \| ✓ \| ✓ \|$/m)
})

test('runMcpGate: the first stage that answers is the Decision; a clean call passes every stage', () => {
  const s = new Session(runtimeFor({}))
  const clean = s.req(call(1, 'echo', {text: 'hello'}))
  assert.equal(clean.verdict, 'allow')
  // The transport's row, as decideRequest runs it: the kill switch stage answers first.
  const ctx = {frame: {id: '7'}, base: {notes: []}, mcp: {deps: {killSwitch: {status: () => ({active: true, source: 'test', message: 'pipelock: kill switch active'})}}}, at: 'input: ', sess: null} as unknown as McpGateContext
  assert.equal(runMcpGate('mcp_stdio', ctx), true)
  assert.equal(ctx.decision?.stage, 'kill_switch')
  assert.equal(ctx.decision?.answer?.includes('"id":7'), true)
})

// The recipe of docs/architecture.md for an MCP stage: an id, a `run`, a place in a row; its
// answer (`answer(ctx, …)`) ends the gate.
test('recipe: a trivial MCP stage refusing tools/call "delete" runs in its place and stops the gate', () => {
  const ran: string[] = []
  const trace = (id: McpStageId): McpGateStage => ({id, run: () => (ran.push(id), false)})
  const refuse: McpGateStage = {
    id: 'tool_policy',
    run(ctx) {
      ran.push('tool_policy')
      if (ctx.frame.toolName !== 'delete') return false
      return answer(ctx, 'tool_policy', 'trivial', mcpError('tool_policy'), ['delete refused by the trivial stage'])
    },
  }
  const row = {...MCP_TRANSPORT_STAGES.mcp_stdio}
  for (const id of MCP_STAGE_ORDER) (row as Record<string, unknown>)[id] = id === 'tool_policy' ? refuse : ['content', 'contract'].includes(id) ? trace(id) : {skip: 'not part of this recipe test'}
  const stages = rowStages(MCP_STAGE_ORDER, row)
  const ctx = (tool: string) => ({frame: {id: '1', toolName: tool}, base: {}, decision: null}) as unknown as McpGateContext
  const ok = ctx('read')
  assert.equal(runStagesSync(stages, ok), false)
  assert.deepEqual(ran, ['content', 'tool_policy', 'contract'])
  ran.length = 0
  const no = ctx('delete')
  assert.equal(runStagesSync(stages, no), true)
  assert.deepEqual(ran, ['content', 'tool_policy'])
  assert.equal(no.decision?.layer, 'trivial')
  assert.deepEqual(no.decision?.findings, ['delete refused by the trivial stage'])
})

const ALLOWED = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'
const ONE_OFF = '0x5aaeb6053f3e94c9b9b09f33669435e7ef1beaed'
const LOOKALIKE = 'address:ETH address 0x5aaeb6...1beaed resembles allowlisted 0x5aaeb6...1beaed: first 4 and last 4 payload characters match, middle differs (possible address poisoning)'

test('address stage: a lookalike in the params is a content finding merged into the strictest action', () => {
  const addr = (action: string) => ({address_protection: {enabled: true, action, allowed_addresses: [ALLOWED]}})
  for (const transport of ['mcp_stdio', 'mcp_http_listener'] as const) {
    const s = new Session(runtimeFor(addr('block')), transport)
    assert.equal(s.req(call(1, 'pay', {to: ALLOWED})).verdict, 'allow')
    const d = s.req(call(2, 'pay', {to: ONE_OFF}))
    assert.deepEqual([d.verdict, d.stage, d.layer, d.reason, d.pattern, d.severity, d.findings], ['block', 'content', 'mcp_input_scanning', 'dlp_match', LOOKALIKE, 'high', [LOOKALIKE]], transport)
    assert.equal(d.answer, '{"jsonrpc":"2.0","id":2,"error":{"code":-32001,"message":"pipelock: request blocked by MCP input scanning","data":{"block_reason":"dlp_match"}}}')
    // A DLP finding in the same call comes first in the reasons and names the receipt pattern.
    const both = s.req(call(3, 'pay', {to: ONE_OFF, note: AWS_KEY}))
    assert.equal(both.reason, 'dlp_match')
    assert.equal(both.findings.at(-1), LOOKALIKE)
    assert.notEqual(both.pattern, LOOKALIKE)
  }
  const w = new Session(runtimeFor(addr('warn'))).req(call(1, 'pay', {to: ONE_OFF}))
  assert.deepEqual([w.verdict, w.findings, w.forward !== null], ['warn', [LOOKALIKE], true])
  // Off (the default): the same call is not looked at.
  assert.equal(new Session(runtimeFor({})).req(call(1, 'pay', {to: ONE_OFF})).verdict, 'allow')
})
