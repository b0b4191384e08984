// The response gate as data (docs/architecture.md, "The response gate"): every HTTP transport row
// names every response stage of the one order (a stage or the reason it is skipped), the gate runs
// a row's stages in that order and stops at the first that answers, and the docs print the table.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {TRANSPORT_STAGES} from '../../../src/plugins/proxy/gate/transport-stages.js'
import {renderResponseHeadMatrix, renderResponseMatrix, renderStageMatrix} from '../../../src/plugins/proxy/gate/matrix.js'
import type {ResponseGateContext, ResponseStage, ResponseStageId} from '../../../src/plugins/proxy/gate/response/context.js'
import {RESPONSE_STAGE_ORDER} from '../../../src/plugins/proxy/gate/response/order.js'
import {responseStagesFor, RESPONSE_TRANSPORT_STAGES, type ResponseStageRow} from '../../../src/plugins/proxy/gate/response/transport-stages.js'
import {isSkip, runStages} from '../../../src/plugins/stages/index.js'
import {assertRowsNameEveryStage} from '../stages/rows.js'

test('every HTTP transport row names every response stage, each run or skipped with a reason', () => {
  assertRowsNameEveryStage(RESPONSE_STAGE_ORDER, RESPONSE_TRANSPORT_STAGES)
  assert.deepEqual(Object.keys(RESPONSE_TRANSPORT_STAGES).sort(), Object.keys(TRANSPORT_STAGES).sort())
})

test('the transports that relay a buffered body run the transforms, the media policy and the injection scan; tunnels and frames skip the gate', () => {
  for (const t of ['fetch', 'forward', 'intercept', 'reverse'] as const) {
    for (const id of ['transform', 'media_policy', 'response_scan'] as const) assert.ok(!isSkip(RESPONSE_TRANSPORT_STAGES[t][id]), `${t} skips ${id}`)
  }
  for (const t of ['connect', 'websocket'] as const) assert.deepEqual(responseStagesFor(RESPONSE_TRANSPORT_STAGES[t]), [])
  assert.deepEqual(responseStagesFor(RESPONSE_TRANSPORT_STAGES.fetch).map((s) => s.id), ['transform', 'media_policy', 'page_text', 'response_scan', 'hidden_content'])
  assert.deepEqual(responseStagesFor(RESPONSE_TRANSPORT_STAGES.forward).map((s) => s.id), ['transform', 'media_policy', 'response_scan'])
})

// The recipe of docs/architecture.md for the response side: a stage placed in a row runs in its
// place, may rewrite the body the transport relays, and its answer ends the gate.
test('recipe: a trivial response stage runs in order, rewrites the body, and its answer stops the gate', async () => {
  const ran: string[] = []
  const answered: string[] = []
  const trace = (id: ResponseStageId): ResponseStage => ({id, run: () => (ran.push(id), false)})
  const upper: ResponseStage = {
    id: 'response_scan',
    run(ctx) {
      ran.push('response_scan')
      if (ctx.body.includes('refuse')) {
        ctx.block({stage: 'response', layer: 'trivial', detail: 'refused by the trivial stage', status: 403})
        return true
      }
      ctx.body = Buffer.from(ctx.body.toString('utf8').toUpperCase(), 'utf8')
      return false
    },
  }
  const row: ResponseStageRow = {transform: trace('transform'), media_policy: trace('media_policy'), page_text: {skip: 'not part of this recipe test'}, response_scan: upper, hidden_content: trace('hidden_content')}
  const ctx = (body: string) => ({body: Buffer.from(body), block: ({layer, detail}: {layer: string; detail: string}) => answered.push(`${layer}: ${detail}`)}) as unknown as ResponseGateContext
  const ok = ctx('hello')
  assert.equal(await runStages(responseStagesFor(row), ok), false)
  assert.equal(ok.body.toString(), 'HELLO')
  assert.deepEqual(ran, ['transform', 'media_policy', 'response_scan', 'hidden_content'])
  ran.length = 0
  assert.equal(await runStages(responseStagesFor(row), ctx('please refuse')), true)
  assert.deepEqual(ran, ['transform', 'media_policy', 'response_scan'])
  assert.deepEqual(answered, ['trivial: refused by the trivial stage'])
})

test('the stage matrix prints the response table with every skip reason, inside the request matrix', () => {
  const r = renderResponseMatrix()
  assert.match(r, /^\| response stage \| fetch \| forward \| intercept \| connect \| reverse \| websocket \|$/m)
  assert.match(r, /^\| `response_scan` \| ✓ \| ✓ \| ✓ \| – \| ✓ \| – \|$/m)
  assert.match(r, /^\| `page_text` \| ✓ \| – \| – \| – \| – \| – \|$/m)
  assert.match(r, /^- `hidden_content` on reverse: the whole body, hidden markup included, is what the injection scan reads$/m)
  const m = renderStageMatrix()
  assert.ok(m.includes(r), 'the response table is part of the rendered matrix')
  assert.ok(m.indexOf(r) < m.indexOf('Stages of one gate only:'), 'before the list that ends the matrix')
})

test('the response head gate: the header scan runs on every transport that relays an upstream\'s headers, the others say why not', () => {
  const r = renderResponseHeadMatrix()
  assert.match(r, /^\| `response_headers` \| – \| ✓ \| ✓ \| – \| ✓ \| – \|$/m)
  assert.match(r, /^- `response_headers` on websocket: the 101 is the proxy's own/m)
  const m = renderStageMatrix()
  assert.ok(m.includes(r) && m.indexOf(r) < m.indexOf(renderResponseMatrix()), 'printed before the response gate\'s table')
})
