import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {ALLOWED_GATED, DROP_REASONS, isEmitted, severityOf} from '../../../src/plugins/emit/index.js'
import {repoPath} from '../../helpers/vectors.js'

// docs/operations.md, "What is emitted" and "Queues, drops and shutdown": the event types it says
// are never emitted, the ones that follow logging.include_allowed, the severity it gives each
// named type and the drop reasons are the emitter's own, so an operator's SIEM rules hold.

const doc = readFileSync(repoPath('docs', 'operations.md'), 'utf8')
const codes = (s: string): string[] => [...s.matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1]!)
const sentence = (start: string, end: string): string => {
  const i = doc.indexOf(start)
  assert.ok(i >= 0, `operations.md says ${JSON.stringify(start)}`)
  return doc.slice(i, doc.indexOf(end, i))
}

test('operations.md: the event types never emitted, and those gated by include_allowed, are the emitter\'s', () => {
  const never = codes(sentence('Every audit event is an emitted event except', '.'))
  assert.ok(never.length >= 5)
  for (const t of never) assert.equal(isEmitted(t), false, `${t} is not emitted`)
  for (const t of ['blocked', 'allowed', 'anomaly', 'kill_switch_deny', 'config_change']) assert.equal(isEmitted(t), true, `${t} is emitted`)
  // "… except `redirect`, …. `allowed`, `tunnel_open`, … follow `logging.include_allowed`"
  const end = doc.indexOf('follow `logging.include_allowed`')
  assert.ok(end >= 0)
  const gated = codes(doc.slice(doc.lastIndexOf('. ', end), end))
  assert.deepEqual(gated.sort(), [...ALLOWED_GATED].sort())
})

test('operations.md: every event type of the severity table has that severity', () => {
  const table = sentence('| severity | event types |', '\n\n')
  for (const line of table.split('\n').slice(2)) {
    const [, sev, types] = line.split('|').map((c) => c.trim())
    if (sev === 'info') {
      for (const t of codes(types!)) assert.equal(severityOf(t, {}), 'info', `${t} is info`)
    } else if (sev === 'warn') {
      for (const t of codes(types!)) assert.equal(severityOf(t, {}), 'warn', `${t} is warn`)
    } else {
      assert.equal(sev, 'critical')
      assert.equal(severityOf('kill_switch_deny', {}), 'critical')
      assert.equal(severityOf('adaptive_upgrade', {to: 'block'}), 'critical')
      assert.equal(severityOf('adaptive_escalation', {to: 'critical'}), 'critical')
      assert.equal(severityOf('chain_detection', {action: 'block'}), 'critical')
    }
  }
})

test('operations.md: the drop reasons of pipelock_emit_events_dropped_total are the emitter\'s', () => {
  const named = codes(sentence('`reason` is `queue_full`', '(a serialised'))
  assert.deepEqual(named.filter((c) => c !== 'reason').sort(), [...DROP_REASONS].sort())
})
