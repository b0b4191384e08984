// The redirect step's pieces (mcp.md §8.5, containment.md §6-§7): the argv a profile runs
// (`/proc/self/exe` is this CLI under Node), the argument digest, and the tool_redirect fact as
// an audit event and a metric.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {test} from 'node:test'
import {argsDigest, redirectArgv} from '../../../src/plugins/mcp-proxy/redirect.js'
import {AuditLog, ToolCallMetrics} from '../../../src/plugins/proxy/index.js'
import type {McpDecision} from '../../../src/plugins/mcp/index.js'

test('/proc/self/exe runs this CLI (node + entry script); other argv are kept', () => {
  assert.deepEqual(redirectArgv(['/proc/self/exe', 'internal-redirect', 'fetch-proxy']), [process.execPath, process.argv[1], 'internal-redirect', 'fetch-proxy'])
  assert.deepEqual(redirectArgv(['/bin/echo', 'x']), ['/bin/echo', 'x'])
})

test('args digest: sha256:<first 8 bytes hex> len=<bytes>', () => {
  const j = '{"command":"curl x"}'
  assert.equal(argsDigest(j), `sha256:${createHash('sha256').update(j).digest('hex').slice(0, 16)} len=20`)
})

test('a tool_redirect fact is one audit event with its fields and one counter sample', () => {
  const fields = {tool_name: 'bash', args_digest: 'sha256:00 len=2', redirect_profile: 'p', redirect_reason: 'r', policy_rule: 'rule', result: 'redirected', latency_ms: 3}
  const d = {
    direction: 'request', transport: 'mcp_stdio', line: 1, id: '1', method: 'tools/call', tool: 'bash', verdict: 'redirect', stage: 'tool_policy', layer: 'mcp_tool_policy',
    reason: null, findings: ['policy:rule'], dlpWarnings: [], forward: null, answer: '{}', notes: [], facts: [{kind: 'tool_redirect', action: 'redirect', name: 'p', detail: 'bash', fields}],
  } as McpDecision
  // The audit sink (the run's AuditLog) as the emitter sees it: its tap gets each event's type and fields.
  const events: Array<[string, Readonly<Record<string, unknown>>]> = []
  const audit = new AuditLog([], {includeAllowed: false, includeBlocked: true, now: () => new Date(0)})
  audit.setTap({emit: (type, f) => void events.push([type, f])})
  audit.record(d)
  assert.deepEqual(events, [['tool_redirect', {resource: 'bash', transport: 'mcp_stdio', ...fields}]])
  const m = new ToolCallMetrics()
  m.record(d)
  assert.equal(m.snapshot().get('mcp_tool_redirects_total{result="redirected"}'), 1)
})
