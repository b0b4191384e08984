// The request gate as data (docs/architecture.md, "The gate"): every transport row names every
// stage of the one order (a stage or the reason it is skipped), runGate follows the order and
// stops at the first stage that answers, and docs/run.md prints the live table.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import type {RequestGateContext, Stage, StageId} from '../../../src/plugins/proxy/gate/context.js'
import {renderStageMatrix} from '../../../src/plugins/proxy/gate/matrix.js'
import {STAGE_ORDER} from '../../../src/plugins/proxy/gate/order.js'
import {runStages} from '../../../src/plugins/proxy/gate/run-gate.js'
import {isSkip, stagesFor, TRANSPORT_STAGES, type StageRow} from '../../../src/plugins/proxy/gate/transport-stages.js'
import {assertRowsNameEveryStage} from '../stages/rows.js'

const root = new URL('../../../../', import.meta.url)

test('every transport row names every stage of the order, each run or skipped with a reason', () => {
  assertRowsNameEveryStage(STAGE_ORDER, TRANSPORT_STAGES)
})

test('the stages no HTTP transport may skip: the kill switch, session, contract and budget run everywhere', () => {
  for (const [transport, row] of Object.entries(TRANSPORT_STAGES)) {
    for (const id of ['kill_switch', 'identity', 'session', 'contract', 'budget'] as const) assert.ok(!isSkip(row[id]), `${transport} skips ${id}`)
    assert.ok(!isSkip(row.url_scan) || !isSkip(row.url_dlp), `${transport} checks its URL`)
    assert.ok(!isSkip(row.header_dlp), `${transport} skips header DLP`)
  }
})

// The recipe of docs/architecture.md, followed once: a new stage is an object with an id and a
// `run`, placed in a row; the gate runs it in its place and its answer ends the gate.
test('recipe: a trivial stage added to a row runs in order, and its answer stops the gate', async () => {
  const ran: string[] = []
  const answered: string[] = []
  const trace = (id: StageId, answer = false): Stage => ({id, run: () => (ran.push(id), answer)})
  const audit: Stage = {
    id: 'header_dlp',
    async run(ctx) {
      ran.push('header_dlp')
      if (ctx.method !== 'DELETE') return false
      ctx.block({stage: 'header_dlp', layer: 'trivial', detail: 'DELETE refused by the trivial stage', status: 403})
      return true
    },
  }
  const row: StageRow = {...TRANSPORT_STAGES.forward, kill_switch: trace('kill_switch'), identity: trace('identity'), envelope_verify: {skip: 'not part of this recipe test'}, envelope: {skip: 'not part of this recipe test'}, url_scan: trace('url_scan'), session: trace('session'), taint: {skip: 'not part of this recipe test'}, header_dlp: audit, redaction: {skip: 'not part of this recipe test'}, body: trace('body'), git_push: trace('git_push'), address: {skip: 'not part of this recipe test'}, a2a: trace('a2a'), cross_request: trace('cross_request'), contract: trace('contract'), budget: trace('budget')}
  const ctx = (method: string) => ({method, block: ({layer, detail}: {layer: string; detail: string}) => answered.push(`${layer}: ${detail}`)}) as unknown as RequestGateContext
  assert.equal(await runStages(stagesFor(row), ctx('GET')), false)
  assert.deepEqual(ran, ['kill_switch', 'identity', 'url_scan', 'session', 'header_dlp', 'body', 'git_push', 'a2a', 'cross_request', 'contract', 'budget'])
  ran.length = 0
  assert.equal(await runStages(stagesFor(row), ctx('DELETE')), true)
  assert.deepEqual(ran, ['kill_switch', 'identity', 'url_scan', 'session', 'header_dlp'])
  assert.deepEqual(answered, ['trivial: DELETE refused by the trivial stage'])
})

test('docs/run.md and docs/architecture.md print the live stage matrix', () => {
  const matrix = renderStageMatrix()
  for (const doc of ['docs/run.md', 'docs/architecture.md']) {
    const text = readFileSync(new URL(doc, root), 'utf8')
    assert.ok(text.includes(matrix), `${doc} does not hold the current stage matrix; paste renderStageMatrix()'s output`)
  }
})
