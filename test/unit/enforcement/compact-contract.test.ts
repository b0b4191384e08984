import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fromPlain, JsonNumber, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {LIFECYCLE_STATES} from '../../../src/plugins/contracts/index.js'
import {compactContract, evaluateHttp, evaluateMcp, withIndex, type ResolvedContract} from '../../../src/plugins/enforcement/index.js'
import {prng} from '../../helpers/prng.js'
import {decisionOrError} from '../../helpers/decision.js'

// `compactContract` (issue 17: the evaluator's form that keeps no decoded tree) against
// `withIndex` (the index beside the tree, itself checked against the rule-by-rule walk in
// contract-index.test.ts): random HTTP and MCP contracts — literal and collapsed paths, methods,
// effective actions of every JSON type, MCP args matchers with strings, booleans, exact
// rationals, null, objects and malformed lists — decide every random request the same way.

const HOSTS = ['api.example.com', 'API.Example.com.', 'docs.example.com', 'a-very-long-host-name.example.net']
const PATHS = ['/', '/v1/users', '/v1/users/42', '/repos/*', '/v1/users/*', '/a-long-literal-path/with/several/segments']
const ARG_VALUES: unknown[] = ['/a', '/b', 'a string longer than thirteen', true, false, new JsonNumber('1'), new JsonNumber('1.0'), new JsonNumber('10e-1'), new JsonNumber('2'), null, {nested: 'x'}]

function randomContract(r: () => number): ResolvedContract {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const rules: Record<string, unknown>[] = []
  for (let i = 0, n = 1 + Math.floor(r() * 12); i < n; i++) {
    const state = r() < 0.03 ? 'bogus_state' : r() < 0.8 ? 'enforce' : pick(LIFECYCLE_STATES)
    if (r() < 0.3) {
      const selector: Record<string, unknown> = {server: {value: pick(['node', 'files'])}, tool: {value: pick(['read', 'write'])}}
      const roll = r()
      if (roll < 0.1) selector.args = 'not-an-array'
      else if (roll < 0.2) selector.args = [{key: ' ', value: 'x'}]
      else if (roll < 0.7) selector.args = Array.from({length: 1 + Math.floor(r() * 2)}, () => ({key: pick(['path', 'n', 'flag']), value: pick(ARG_VALUES)}))
      rules.push({rule_id: `rule-with-a-long-id-${i}`, rule_kind: 'mcp_tool_call', lifecycle_state: state, selector})
      continue
    }
    const selector: Record<string, unknown> = {host: {value: pick(HOSTS)}}
    if (r() < 0.7) {
      selector.paths = Array.from({length: 1 + Math.floor(r() * 2)}, () => {
        const value = pick(PATHS)
        return value.endsWith('*') && r() < 0.7 ? {value, normalization: {collapsed_segments: [{index: value.split('/').length - 1}]}} : r() < 0.05 ? {novalue: true} : {value}
      })
    }
    if (r() < 0.5) selector.methods = [pick(['GET', 'post', ' patch ']), ...(r() < 0.2 ? [7] : [])]
    if (r() < 0.3) selector.effective_action = pick(['allow', 'warn', null, 3, true])
    rules.push({rule_id: `r${i}`, rule_kind: pick(['http_destination', 'http_action']), lifecycle_state: state, selector})
  }
  return {contractHash: 'sha256:c', body: fromPlain({rules}) as JsonObject}
}

test('compactContract decides exactly as withIndex (400 random contracts × 10 HTTP and 10 MCP requests)', () => {
  const r = prng(1717)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const reasons = new Set<string>()
  for (let c = 0; c < 400; c++) {
    const contract = randomContract(r)
    const full = withIndex(contract)
    const compact = compactContract(contract)
    assert.equal('body' in compact, false)
    for (let q = 0; q < 10; q++) {
      const path = pick([...PATHS.filter((p) => !p.includes('*')), '/repos/abc', '/v1//x', '/V1/Users/'])
      const http = {url: `${pick(['https', 'http'])}://${pick(HOSTS).toLowerCase()}${pick(['', ':8443'])}${path}`, method: pick(['GET', 'POST', 'patch']), effectiveAction: pick(['', 'allow', 'warn']), mode: pick(['live', 'shadow']), scannerVerdict: 'allow'}
      const h = decisionOrError(() => evaluateHttp(compact, http))
      assert.deepEqual(h, decisionOrError(() => evaluateHttp(full, http)), JSON.stringify(http))
      const args = fromPlain({path: pick(['/a', '/b', 'a string longer than thirteen']), n: pick([1, 2, '1']), flag: pick([true, false])})
      const mcp = {server: pick(['node', 'files']), tool: pick(['read', 'write']), args, mode: 'live', scannerVerdict: 'allow'}
      const m = decisionOrError(() => evaluateMcp(compact, mcp))
      assert.deepEqual(m, decisionOrError(() => evaluateMcp(full, mcp)))
      assert.deepEqual(m, decisionOrError(() => evaluateMcp(contract, mcp)))
      for (const d of [h, m] as {reason?: string; error?: string}[]) reasons.add(d.error !== undefined ? 'error' : d.reason || 'allow')
    }
  }
  assert.deepEqual([...reasons].sort(), ['allow', 'contract_default_deny', 'contract_enforce_default', 'contract_invalid_path', 'contract_mcp_args_mismatch', 'contract_mcp_default_deny', 'contract_non_default_port', 'contract_observed_only', 'error'])
})
