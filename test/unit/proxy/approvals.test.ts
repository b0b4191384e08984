import assert from 'node:assert/strict'
import {test} from 'node:test'
import {ApprovalQueue, cutCodePoints, type AskRequest} from '../../../src/plugins/proxy/approvals.js'

const req = (over: Partial<AskRequest> = {}): AskRequest => ({
  kind: 'response', transport: 'fetch', agent: 'a', sessionKey: 'a|127.0.0.1', target: 'http://x/', reason: 'r', patterns: ['p'], preview: 'x', allowStrip: true, ...over,
})

function queue(max = 64, timeout = 30) {
  let n = 0
  const answers: string[] = []
  const q = new ApprovalQueue({nowMs: () => 1_700_000_000_000, timeoutSeconds: () => timeout, newId: () => `ask-${++n}`, maxPending: max, onAnswer: (i, a) => answers.push(`${i.id}:${a.outcome}:${i.status}`)})
  return {q, answers}
}

test('approvals: allow, strip and deny release the held request; late answers are refused', async () => {
  const {q, answers} = queue()
  const a = q.hold(req())
  const b = q.hold(req())
  const c = q.hold(req({allowStrip: false}))
  assert.deepEqual(q.list().map((x) => x.id), ['ask-1', 'ask-2', 'ask-3'])
  // Out of order.
  assert.equal(q.decide('ask-2', 'strip', 'bob', '').ok, true)
  assert.deepEqual(q.decide('ask-3', 'strip', 'bob', ''), {ok: false, status: 400, error: 'invalid decision: strip is not offered for this request'})
  assert.deepEqual(q.decide('ask-3', 'maybe', 'bob', ''), {ok: false, status: 400, error: 'invalid decision'})
  assert.equal(q.decide('ask-3', 'deny', 'bob', 'no').ok, true)
  assert.equal(q.decide('ask-1', 'allow', 'alice', '').ok, true)
  assert.deepEqual(await Promise.all([a, b, c]), [
    {id: 'ask-1', outcome: 'allow', decidedBy: 'alice', reason: ''},
    {id: 'ask-2', outcome: 'strip', decidedBy: 'bob', reason: ''},
    {id: 'ask-3', outcome: 'deny', decidedBy: 'bob', reason: 'no'},
  ])
  assert.deepEqual(answers, ['ask-2:strip:stripped', 'ask-3:deny:denied', 'ask-1:allow:allowed'])
  assert.deepEqual(q.decide('ask-1', 'deny', 'x', ''), {ok: false, status: 409, error: 'approval already decided'})
  assert.deepEqual(q.decide('ask-9', 'deny', 'x', ''), {ok: false, status: 404, error: 'approval not found'})
  assert.equal(q.list().length, 0)
  assert.equal(q.list(true).length, 3)
})

test('approvals: a full queue, a cancelled client and shutdown deny', async () => {
  const {q} = queue(1)
  const first = q.hold(req())
  assert.deepEqual(await q.hold(req()), {id: 'ask-2', outcome: 'deny', decidedBy: '', reason: 'approval queue full'})
  const ac = new AbortController()
  q.decide('ask-1', 'allow', 'a', '')
  await first
  const held = q.hold(req(), ac.signal)
  ac.abort()
  assert.deepEqual(await held, {id: 'ask-3', outcome: 'deny', decidedBy: '', reason: 'client disconnected'})
  assert.equal(q.get('ask-3')!.status, 'cancelled')
  const last = q.hold(req())
  q.close()
  assert.equal((await last).outcome, 'deny')
  assert.equal((await q.hold(req())).reason, 'shutting down')
})

test('approvals: a hold withdrawn with a reason (its session cut) is cancelled with that reason, and frees its slot', async () => {
  const {q} = queue(1)
  const ac = new AbortController()
  const held = q.hold(req({kind: 'taint'}), ac.signal)
  ac.abort('request cut: session terminated')
  assert.deepEqual(await held, {id: 'ask-1', outcome: 'deny', decidedBy: '', reason: 'request cut: session terminated'})
  assert.deepEqual([q.get('ask-1')!.status, q.get('ask-1')!.decision_reason], ['cancelled', 'request cut: session terminated'])
  assert.deepEqual(q.decide('ask-1', 'allow', 'carol', ''), {ok: false, status: 409, error: 'approval already decided'})
  // The one slot is free again; a signal aborted before the hold cancels it at once.
  const gone = new AbortController()
  gone.abort('request cut: session reset')
  assert.deepEqual(await q.hold(req(), gone.signal), {id: 'ask-2', outcome: 'deny', decidedBy: '', reason: 'request cut: session reset'})
  assert.equal(q.size, 0)
})

test('approvals: withdrawAll answers every pending hold as a cancelled deny and keeps the queue open', async () => {
  const {q, answers} = queue()
  const why = 'withdrawn by a config reload: response_scanning.action is no longer ask'
  assert.equal(q.empty, true)
  const a = q.hold(req())
  const b = q.hold(req({kind: 'taint', allowStrip: false}))
  assert.equal(q.empty, false)
  assert.equal(q.withdrawAll(why), 2)
  assert.deepEqual(await Promise.all([a, b]), [
    {id: 'ask-1', outcome: 'deny', decidedBy: '', reason: why},
    {id: 'ask-2', outcome: 'deny', decidedBy: '', reason: why},
  ])
  assert.deepEqual(answers, ['ask-1:deny:cancelled', 'ask-2:deny:cancelled'])
  assert.deepEqual(q.decide('ask-1', 'allow', 'alice', ''), {ok: false, status: 409, error: 'approval already decided'})
  assert.equal(q.empty, false)
  assert.equal(q.withdrawAll(why), 0)
  // Still open: a later hold waits for its answer.
  const c = q.hold(req())
  assert.equal(q.decide('ask-3', 'allow', 'alice', '').ok, true)
  assert.equal((await c).outcome, 'allow')
})

test('approvals: previews are cut on code points, not bytes', () => {
  assert.equal(cutCodePoints('😀'.repeat(201), 200), `${'😀'.repeat(200)}...`)
  assert.equal(cutCodePoints('short', 200), 'short')
})
