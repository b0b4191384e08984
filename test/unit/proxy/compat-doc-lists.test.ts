/**
 * Lists in docs/compatibility.md that mirror a set in the code: the findings a scoped exception
 * can waive, and the metric families MCP decisions are counted in.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import {WAIVABLE_LAYERS} from '../../../src/plugins/proxy/exception-rules.js'
import {TOOL_CALL_METRIC_HELP} from '../../../src/plugins/proxy/tool-call-metrics.js'
import {repoPath} from '../../helpers/vectors.js'

const compat = readFileSync(repoPath('docs/compatibility.md'), 'utf8')

/** The text of the one line that starts with `start`. */
function lineStarting(start: string): string {
  const lines = compat.split('\n').filter((l) => l.startsWith(start))
  assert.equal(lines.length, 1, `docs/compatibility.md: one line starting ${JSON.stringify(start)}`)
  return lines[0]!
}

const backticked = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)

test('the "Waivable findings" row names exactly the labels a scoped exception can waive', () => {
  const row = lineStarting('| Waivable findings |')
  const ours = row.split('|')[3]!
  // The labels come before "one exception per request"; what follows is what is never waived.
  const named = backticked(ours.slice(0, ours.indexOf('one exception per request')))
  assert.deepEqual([...new Set(named)].sort(), [...WAIVABLE_LAYERS].sort())
})

test('the MCP metrics bullet names every tool-call metric family', () => {
  const bullet = lineStarting('- MCP metrics use their own families')
  const named = backticked(bullet.slice(0, bullet.indexOf('rather than'))).filter((n) => n.startsWith('pipelock_'))
  assert.deepEqual([...new Set(named)].sort(), Object.keys(TOOL_CALL_METRIC_HELP).map((n) => `pipelock_${n}`).sort())
})
