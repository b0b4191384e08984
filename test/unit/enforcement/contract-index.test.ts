import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fromPlain, type JsonNumber, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {LIFECYCLE_STATES, RESERVED_SEGMENTS} from '../../../src/plugins/contracts/index.js'
import {
  canonicalRequestPath,
  evaluateHttp,
  evaluateMcp,
  contractIndexBuilder,
  HTTP_RULE_KINDS,
  indexContract,
  isDefaultPort,
  parseRequestUrl,
  ruleHost,
  withIndex,
  type ContractDecision,
  type HttpRequestInput,
  type ResolvedContract,
} from '../../../src/plugins/enforcement/index.js'

// The indexed evaluator must decide exactly as the rule-by-rule walk of learn-lifecycle §7.6.
// The walk is kept here, written straight from the spec text, as the oracle; random contracts
// (hosts, literal and collapsed paths, methods, actions, every lifecycle state and a bad one,
// MCP rules in between) and random requests (ports, bad paths) are compared decision by decision.

function rnd(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** §7.6 as a walk over every rule: the first enforce HTTP rule of the host decides port and path problems; the first that holds allows. */
function walk(contract: ResolvedContract, input: HttpRequestInput): {verdict: string; reason: string; ruleId: string} | {error: string} {
  const url = parseRequestUrl(input.url)!
  const rules = (contract.body.get('rules') as JsonObject[]).filter((r) => r instanceof Map)
  let hasEnforce = false
  let firstHostRule = ''
  let canonical: string | undefined | null = null
  const methodsHold = (rule: JsonObject): boolean => {
    const methods = (rule.get('selector') as JsonObject).get('methods') as string[] | undefined
    return methods === undefined || methods.map((m) => m.trim().toUpperCase()).includes(input.method.trim().toUpperCase())
  }
  const actionHolds = (rule: JsonObject): boolean => {
    const action = (rule.get('selector') as JsonObject).get('effective_action')
    return action === undefined || action === null || action === (input.effectiveAction ?? '')
  }
  for (const rule of rules) {
    if (!HTTP_RULE_KINDS.includes(rule.get('rule_kind') as string)) continue
    const state = rule.get('lifecycle_state')
    if (typeof state !== 'string' || !(LIFECYCLE_STATES as readonly string[]).includes(state)) return {error: `contract: unsupported lifecycle_state: ${JSON.stringify(typeof state === 'string' ? state : '')}`}
    if (state !== 'enforce') continue
    hasEnforce = true
    if (ruleHost(rule) !== url.host) continue
    const id = rule.get('rule_id') as string
    if (firstHostRule === '') firstHostRule = id
    // a refused port names no rule: the port decides for the whole host (docs/compatibility.md; §7.6 names this rule)
    if (!isDefaultPort(url.scheme, url.port)) return {verdict: 'block', reason: 'contract_non_default_port', ruleId: ''}
    if (canonical === null) canonical = canonicalRequestPath(url.escapedPath)
    const sel = rule.get('selector') as JsonObject
    const paths = sel.get('paths') as JsonObject[] | undefined
    // an uncanonicalisable path names the one path rule of the host whose methods and action hold,
    // else no rule (docs/compatibility.md; §7.6 names this rule)
    if (paths !== undefined && canonical === undefined) {
      const tested = rules.filter((r) => r.get('lifecycle_state') === 'enforce' && HTTP_RULE_KINDS.includes(r.get('rule_kind') as string) && ruleHost(r) === url.host && (r.get('selector') as JsonObject).get('paths') !== undefined && methodsHold(r) && actionHolds(r))
      return {verdict: 'block', reason: 'contract_invalid_path', ruleId: tested.length === 1 ? (tested[0]!.get('rule_id') as string) : ''}
    }
    if (!methodsHold(rule)) continue
    if (paths !== undefined) {
      const ok = paths.some((p) => {
        const want = (p.get('value') as string).split('/')
        const got = (canonical as string).split('/')
        const collapsed = new Set(((p.get('normalization') as JsonObject | undefined)?.get('collapsed_segments') as JsonObject[] | undefined)?.map((c) => Number((c.get('index') as JsonNumber).text)) ?? [])
        return want.length === got.length && want.every((w, i) => w === got[i] || (collapsed.has(i) && w === '*' && got[i] !== '' && !RESERVED_SEGMENTS.includes(got[i]!)))
      })
      if (!ok) continue
    }
    if (!actionHolds(rule)) continue
    return {verdict: 'allow', reason: '', ruleId: id}
  }
  if (!hasEnforce) return {verdict: 'allow', reason: '', ruleId: ''}
  // a default deny names no rule: none matched (docs/compatibility.md; §7.6 names the first host rule)
  return firstHostRule !== '' ? {verdict: 'block', reason: 'contract_enforce_default', ruleId: ''} : {verdict: 'block', reason: 'contract_default_deny', ruleId: ''}
}

function outcome(f: () => ContractDecision): {verdict: string; reason: string; ruleId: string} | {error: string} {
  try {
    const d = f()
    return {verdict: d.verdict, reason: d.reason, ruleId: d.ruleId}
  } catch (e) {
    return {error: (e as Error).message.replace(/^.*?(contract: unsupported)/, '$1')}
  }
}

const HOSTS = ['api.example.com', 'API.Example.com.', 'docs.example.com', 'cdn.example.net', 'x.example.org']
const PATHS = ['/', '/v1/users', '/v1/users/42', '/v1/users/me', '/v1/orgs/7/repos', '/repos/*', '/v1/users/*', '/a/b/c']
const METHODS = ['GET', 'post', 'DELETE', ' patch ']

function randomContract(r: () => number, n: number): ResolvedContract {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const rules: Record<string, unknown>[] = []
  for (let i = 0; i < n; i++) {
    const roll = r()
    const kind = roll < 0.08 ? 'mcp_tool_call' : pick(['http_destination', 'http_action'])
    const state = r() < 0.03 ? 'bogus_state' : r() < 0.8 ? 'enforce' : pick(LIFECYCLE_STATES)
    const selector: Record<string, unknown> = {host: {value: pick(HOSTS)}}
    if (r() < 0.7) {
      selector.paths = Array.from({length: 1 + Math.floor(r() * 2)}, () => {
        const value = pick(PATHS)
        return value.endsWith('*') && r() < 0.7 ? {value, normalization: {collapsed_segments: [{index: value.split('/').length - 1}]}} : {value}
      })
    }
    if (r() < 0.5) selector.methods = [pick(METHODS), ...(r() < 0.3 ? [pick(METHODS)] : [])]
    if (r() < 0.2) selector.effective_action = pick(['allow', 'warn'])
    if (r() < 0.03) delete selector.host
    rules.push({rule_id: `r${i}`, rule_kind: kind, lifecycle_state: state, selector})
  }
  return {contractHash: 'sha256:c', body: fromPlain({rules}) as JsonObject}
}

function randomRequest(r: () => number): HttpRequestInput {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const port = pick(['', '', '', ':443', ':8443', ':80'])
  const scheme = r() < 0.8 ? 'https' : 'http'
  const path = pick([...PATHS.filter((p) => !p.includes('*')), '/v1//users', '/v1/../users', '/V1/Users/', '/repos/abc', '/v1/users/%2F'])
  return {url: `${scheme}://${pick(HOSTS).toLowerCase()}${port}${path}`, method: pick(METHODS), effectiveAction: pick(['', 'allow', 'warn']), mode: 'live', scannerVerdict: 'allow'}
}

test('the indexed evaluator decides exactly as the rule-by-rule walk (3,000 random contract/request pairs)', () => {
  const r = rnd(18)
  let compared = 0
  const reasons = new Set<string>()
  for (let c = 0; c < 300; c++) {
    const contract = randomContract(r, 1 + Math.floor(r() * 12))
    const indexed = withIndex(contract)
    for (let q = 0; q < 10; q++) {
      const input = randomRequest(r)
      const want = walk(contract, input)
      assert.deepEqual(outcome(() => evaluateHttp(indexed, input)), want, `${input.url} ${input.method} ${input.effectiveAction}\n${JSON.stringify(contract.body, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v))}`)
      assert.deepEqual(outcome(() => evaluateHttp(contract, input)), want)
      reasons.add('error' in want ? 'error' : want.reason === 'contract_invalid_path' ? `contract_invalid_path ${want.ruleId === '' ? 'host' : 'rule'}` : want.reason || 'allow')
      compared++
    }
  }
  assert.equal(compared, 3000)
  // The random cases reach every outcome the walk can produce.
  assert.deepEqual([...reasons].sort(), ['allow', 'contract_default_deny', 'contract_enforce_default', 'contract_invalid_path host', 'contract_invalid_path rule', 'contract_non_default_port', 'error'])
})

test('the index holds each host’s enforce HTTP rules in contract order, literal paths looked up directly', () => {
  const c = randomContract(rnd(7), 0)
  assert.equal(indexContract(c.body).hasEnforceHttp, false)
  const body = fromPlain({
    rules: [
      {rule_id: 'a', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: 'API.example.com.'}, paths: [{value: '/x'}, {value: '/y'}]}},
      {rule_id: 'b', rule_kind: 'mcp_tool_call', lifecycle_state: 'enforce', selector: {}},
      {rule_id: 'c', rule_kind: 'http_action', lifecycle_state: 'capture_only', selector: {host: {value: 'api.example.com'}}},
      {rule_id: 'd', rule_kind: 'http_action', lifecycle_state: 'enforce', selector: {host: {value: 'api.example.com'}}},
      {rule_id: 'e', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: 'api.example.com'}, paths: [{value: '/u/*', normalization: {collapsed_segments: [{index: 2}]}}]}},
    ],
  }) as JsonObject
  const idx = indexContract(body)
  const h = idx.httpByHost.get('api.example.com')!
  assert.deepEqual(h.all.map((x) => [x.id, x.position]), [['a', 0], ['d', 3], ['e', 4]])
  assert.deepEqual([...h.byPath.keys()], ['/x', '/y'])
  assert.deepEqual(h.open.map((x) => x.id), ['d', 'e'])
  assert.equal(idx.invalidHttp, undefined)
  assert.equal(idx.hasEnforceHttp, true)
})

test('the indexed MCP evaluator decides exactly as the rule-by-rule walk (3,000 random contract/call pairs)', () => {
  const r = rnd(13)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const SERVERS = ['node', 'npx', 'files', '']
  const TOOLS = ['read', 'write', 'list', '']
  const reasons = new Set<string>()
  for (let c = 0; c < 300; c++) {
    const rules: Record<string, unknown>[] = []
    for (let i = 0, n = 1 + Math.floor(r() * 10); i < n; i++) {
      const selector: Record<string, unknown> = {server: {value: pick(SERVERS)}, tool: {value: pick(TOOLS)}}
      if (r() < 0.3) selector.args = r() < 0.1 ? 'not-an-array' : [{key: 'path', value: pick(['/a', '/b'])}]
      const state = r() < 0.03 ? 'bogus_state' : r() < 0.8 ? 'enforce' : pick(LIFECYCLE_STATES)
      rules.push({rule_id: `m${i}`, rule_kind: r() < 0.85 ? 'mcp_tool_call' : 'http_destination', lifecycle_state: state, selector})
    }
    const contract: ResolvedContract = {contractHash: 'sha256:c', body: fromPlain({rules}) as JsonObject}
    const indexed = withIndex(contract)
    for (let q = 0; q < 10; q++) {
      const input = {server: pick(SERVERS.slice(0, 3)), tool: pick(TOOLS.slice(0, 3)), args: fromPlain({path: pick(['/a', '/b', '/c'])}), mode: 'live', scannerVerdict: 'allow'}
      const want = outcome(() => evaluateMcp(contract, input))
      assert.deepEqual(outcome(() => evaluateMcp(indexed, input)), want, `${input.server} ${input.tool}\n${JSON.stringify(rules)}`)
      reasons.add('error' in want ? 'error' : want.reason === 'contract_invalid_path' ? `contract_invalid_path ${want.ruleId === '' ? 'host' : 'rule'}` : want.reason || 'allow')
    }
  }
  assert.deepEqual([...reasons].sort(), ['allow', 'contract_mcp_args_mismatch', 'contract_mcp_default_deny', 'error'])
})

test('a builder without capture-only rules: the same index for a contract with no enforce HTTP rule, incomplete once one comes', () => {
  const r = rnd(36)
  let same = 0
  let incomplete = 0
  for (let c = 0; c < 400; c++) {
    // Half the contracts have every HTTP rule capture-only (a fresh candidate), MCP rules enforced or not.
    const contract = randomContract(r, 1 + Math.floor(r() * 12))
    const rules = contract.body.get('rules') as JsonObject[]
    if (c % 2 === 0) for (const rule of rules) if (rule.get('rule_kind') !== 'mcp_tool_call' && rule.get('lifecycle_state') === 'enforce') rule.set('lifecycle_state', 'capture_only')
    const full = contractIndexBuilder()
    const lean = contractIndexBuilder({withoutCaptureOnly: true})
    rules.forEach((rule, i) => {
      full.add(rule, i)
      lean.add(rule, i)
    })
    const want = full.finish()
    const got = lean.finish()
    assert.equal(full.complete(), true)
    if (want.hasEnforceHttp) {
      assert.equal(lean.complete(), false, 'an enforce HTTP rule makes it incomplete')
      incomplete++
    } else {
      assert.equal(lean.complete(), true)
      assert.deepEqual(got, want)
      same++
    }
  }
  assert.ok(same > 150 && incomplete > 100, `${same} same, ${incomplete} incomplete`)
})
