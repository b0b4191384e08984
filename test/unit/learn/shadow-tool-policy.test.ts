import {test} from 'node:test'
import assert from 'node:assert/strict'
import {defaultConfig} from '../../../src/plugins/config/index.js'
import {BUILTIN_TOOL_POLICY_RULES} from '../../../src/plugins/config/index.js'
import {createToolPolicyReplay, replayEvent, type ToolPolicyReplay} from '../../../src/plugins/learn/index.js'
import {mcpSettingsFromConfig} from '../../../src/plugins/mcp/index.js'
import {scannerSettingsFromConfig} from '../../../src/plugins/proxy/index.js'
import {createScanner} from '../../../src/plugins/scanner/index.js'

// learn-lifecycle §3.2: a `tool_policy` record re-runs the candidate config's MCP tool policy, so
// a loosened policy shows up as new allows (it used to be evidence-only).

function replayFor(rules: typeof BUILTIN_TOOL_POLICY_RULES): ToolPolicyReplay {
  const c = structuredClone(defaultConfig())
  c.mcp_tool_policy.enabled = true
  c.mcp_tool_policy.action = 'warn'
  c.mcp_tool_policy.rules = [...rules]
  const policy = mcpSettingsFromConfig(c, createScanner(scannerSettingsFromConfig(c, {env: {}}))).policy
  assert.ok(policy !== null)
  return createToolPolicyReplay(policy)
}

const ev = {surface: 'tool_policy', method: '', url: '', toolName: 'bash', toolArgsJson: '{"command":"rm -rf /tmp/x"}', mcpMethod: 'tools/call', effectiveAction: 'block', payloadRef: '', payloadSha256: '', observedAtNs: undefined}
const contract = {contractHash: 'sha256:' + '0'.repeat(64), body: new Map()}
const noScanner = async () => ({verdict: 'allow', findings: []})

test('the built-in policy still blocks a destructive delete: no change against the captured block', async () => {
  const r = await replayEvent(ev, contract, noScanner, replayFor(BUILTIN_TOOL_POLICY_RULES))
  assert.equal(r.candidateAction, 'block')
  assert.equal(r.evidenceOnly, false)
  assert.deepEqual(r.findings, [{kind: 'tool_policy', action: 'block', policy_rule: 'Destructive File Delete', tool_name: 'bash'}])
})

test('a policy without that rule lets the same call through: a new allow', async () => {
  const loosened = BUILTIN_TOOL_POLICY_RULES.filter((x) => x.name !== 'Destructive File Delete')
  const r = await replayEvent(ev, contract, noScanner, replayFor(loosened))
  assert.equal(r.candidateAction, 'allow')
  assert.equal(r.originalAction, 'block')
})

test('without a tool policy to replay, tool_policy records stay evidence-only', async () => {
  const r = await replayEvent(ev, contract, noScanner)
  assert.equal(r.evidenceOnly, true)
})
