// A wrap's calls out to its server (call-cuts.ts): a call cut, its id used again by the client, and
// the server's answers read for them — the late answer to the cut call never answers the new one.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {CallCuts} from '../../../src/plugins/mcp-proxy/call-cuts.js'
import {call, runtimeFor, Session} from '../mcp/helpers.js'

/** A session whose call 2 reached the server and was cut; the client then sent a new call 2. */
function cutThenReuse() {
  const runtime = runtimeFor()
  const s = new Session(runtime)
  const log: string[] = []
  const calls = new CallCuts(s.ctx, runtime.killSwitch, {record: () => undefined, answer: () => undefined, log: (l) => log.push(l)})
  const send = (id: number, name: string): string => {
    const d = s.req(call(id, name, {}))
    assert.notEqual(d.forward, null)
    return calls.forwarded({...d, forward: d.forward!})
  }
  send(2, 'slow')
  assert.equal(calls.cutSession('hard'), 1)
  const reused = send(2, 'again')
  assert.match(reused, /"id":"pipelock-reissued-1"/)
  return {s, calls, log}
}

test('a forgotten cut: an answer with the client\'s id while its new call is out under a reissued id is dropped, said on stderr, in a batch too; the reissued answer is the call\'s', () => {
  const {s, calls, log} = cutThenReuse()
  try {
    // The cut is forgotten (the HTTP bridge's aborted POST; or the oldest of too many cuts).
    calls.noLateAnswer('2')
    const late = calls.fromUpstream('{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"slow done"}]}}')
    assert.deepEqual(late, {raw: '{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"slow done"}]}}', drop: true, upstreamId: '2'})
    // Inside a batch too: it answers nothing, and is said as outside one.
    const batch = calls.fromUpstream('[{"jsonrpc":"2.0","id":2,"result":{}}]')
    assert.equal(s.res(batch.raw).forward, null)
    const why = 'pipelock: dropped the MCP server\'s late answer to id 2: the client\'s call with that id is out as "pipelock-reissued-1"'
    assert.deepEqual(log, [why, why])
    const own = calls.fromUpstream('{"jsonrpc":"2.0","id":"pipelock-reissued-1","result":{}}')
    assert.deepEqual(own, {raw: '{"jsonrpc":"2.0","id":2,"result":{}}', drop: false, upstreamId: '"pipelock-reissued-1"'})
    const d = s.res(own.raw)
    assert.equal(d.forward, '{"jsonrpc":"2.0","id":2,"result":{}}')
    assert.equal(calls.answered(d, own.upstreamId), false)
  } finally {
    calls.stop()
  }
})

test('the late answer inside a batch is dropped as one outside it: said once, and the id is not reissued again', () => {
  const {s, calls, log} = cutThenReuse()
  try {
    const batch = calls.fromUpstream('[{"jsonrpc":"2.0","id":2,"result":{}}]')
    assert.equal(batch.drop, false)
    const d = s.res(batch.raw)
    // Refused whole, and it answers nothing: the client's new call 2 still waits.
    assert.equal(d.forward, null)
    assert.equal(calls.answered(d, batch.upstreamId), false)
    assert.deepEqual(log, ['pipelock: dropped the MCP server\'s late answer to id 2: the call was cut'])
    const own = calls.fromUpstream('{"jsonrpc":"2.0","id":"pipelock-reissued-1","result":{}}')
    const answer = s.res(own.raw)
    assert.equal(answer.forward, '{"jsonrpc":"2.0","id":2,"result":{}}')
    calls.answered(answer, own.upstreamId)
    // Nothing is owed with id 2 any more: the next call 2 goes up as sent.
    const d3 = s.req(call(2, 'third', {}))
    assert.equal(calls.forwarded({...d3, forward: d3.forward!}), d3.forward)
    assert.equal(log.length, 1)
  } finally {
    calls.stop()
  }
})
