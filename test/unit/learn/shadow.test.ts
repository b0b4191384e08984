import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock, fromPlain, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {compactContract} from '../../../src/plugins/enforcement/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {
  aggregateDeltas,
  analyzeShadow,
  createScannerReplay,
  exemplarId,
  judgeEvent,
  loadShadowContract,
  renderShadowJson,
  renderShadowMarkdown,
  shadowReplay,
  unreplayableScan,
  type ReplayedRecord,
  type ShadowDelta,
  SHADOW_CHANGES_LIMIT,
} from '../../../src/plugins/learn/index.js'
import {keyPairFromSeed, sha256} from '../../../src/plugins/signing/index.js'
import {repoPath, vectorPath} from '../../helpers/vectors.js'

const NOW = fixedClock('2026-04-30T12:00:00Z').nowNanos()
const T0 = fixedClock('2026-04-30T10:00:00Z').nowNanos()
const SEC = 1_000_000_000n

function rec(over: Partial<ReplayedRecord>): ReplayedRecord {
  return {
    surface: 'url', method: 'GET', url: 'https://a.example/x', toolName: '', mcpMethod: '', originalAction: 'allow', candidateAction: 'allow',
    evidenceOnly: false, summaryOnly: false, findings: [], grade: 'full', sidecar: false, observedAtNs: T0, ...over,
  }
}
const contract = (rule: string, action: 'allow' | 'block') => [{kind: 'contract', action, policy_rule: rule, match_text: 'u'}]

test('analyzeShadow: counts, change types and per-rule classification (§3.3)', () => {
  const a = analyzeShadow(
    [
      rec({findings: contract('r-a', 'allow')}), // unchanged
      rec({candidateAction: 'block', findings: contract('r-a', 'block')}), // new block
      rec({originalAction: 'block', findings: contract('r-b, r-a,r-b', 'allow')}), // new allow for both ids
      rec({originalAction: 'fail_closed', candidateAction: 'block', findings: contract('r-b', 'block')}), // changed, not a new block
      rec({evidenceOnly: true, surface: 'cee', grade: 'none'}),
      rec({summaryOnly: true, surface: 'response', grade: 'partial', sidecar: true}),
      rec({candidateAction: 'block', findings: [{kind: 'blocklist', action: 'block'}]}), // scanner block: no rule stats
    ],
    'sha256:c',
    NOW,
  )
  assert.deepEqual(
    {t: a.totalRecords, r: a.replayed, c: a.changed, nb: a.newBlocks, na: a.newAllows, e: a.evidenceOnly, s: a.summaryOnly},
    {t: 7, r: 5, c: 4, nb: 2, na: 2, e: 1, s: 1},
  )
  assert.deepEqual(
    a.rules.map((r) => [r.ruleId, r.evaluations, r.newBlocks, r.newAllows, r.unchanged, r.state, r.reason]),
    [
      ['r-a', 3, 1, 1, 1, 'clear', 'below_denominator_floor'],
      ['r-b', 2, 0, 2, 0, 'clear', 'below_denominator_floor'],
    ],
  )
  assert.deepEqual([...a.captureSurfaces.entries()], [['url', {grade: 'full', sidecar: false}], ['cee', {grade: 'none', sidecar: false}], ['response', {grade: 'partial', sidecar: true}]])
})

test('exemplar id is SHA-256 over surface␀method␀url␀tool␀mcp_method', () => {
  assert.equal(exemplarId({surface: 'url', method: 'GET', url: 'https://a/', toolName: '', mcpMethod: ''}), 'sha256:' + sha256('url\0GET\0https://a/\0\0').toString('hex'))
})

test('aggregateDeltas: one-minute UTC windows, lossless count, first three exemplars, sorted batches', () => {
  const d = (rule: string, t: bigint, ex: string, orig = 'allow', cand = 'block'): ShadowDelta => ({contractHash: 'sha256:c', ruleId: rule, originalVerdict: orig, candidateVerdict: cand, exemplarId: ex, observedAtNs: t})
  const batches = aggregateDeltas([
    d('r-b', T0 + 5n * SEC, 'e5'),
    d('r-a', T0 + 59n * SEC, 'e4'),
    d('r-a', T0 + 1n * SEC, 'e2'),
    d('r-a', T0, 'e1'),
    d('r-a', T0 + 2n * SEC, ''),
    d('r-a', T0 + 3n * SEC, 'e3'),
    d('r-a', T0 + 60n * SEC, 'e6'),
    d('r-a', T0 + 4n * SEC, 'e9', 'block', 'allow'),
  ])
  assert.deepEqual(
    batches.map((b) => [b.ruleId, b.originalVerdict, b.candidateVerdict, (b.windowStartNs - T0) / SEC, (b.windowEndNs - b.windowStartNs) / SEC, b.losslessCount, b.exemplarIds]),
    [
      ['r-a', 'allow', 'block', 0n, 60n, 5, ['e1', 'e2', 'e3']],
      ['r-a', 'block', 'allow', 0n, 60n, 1, ['e9']],
      ['r-b', 'allow', 'block', 0n, 60n, 1, ['e5']],
      ['r-a', 'allow', 'block', 60n, 60n, 1, ['e6']],
    ],
  )
})

function manyRecords(rule: string, evaluations: number, newBlocks: number): ReplayedRecord[] {
  const out: ReplayedRecord[] = []
  for (let i = 0; i < evaluations; i++) {
    const block = i < newBlocks
    out.push(rec({url: `https://a.example/${rule}/${i}`, candidateAction: block ? 'block' : 'allow', findings: contract(rule, block ? 'block' : 'allow')}))
  }
  return out
}

test('quarantine: minimum 50 evaluations, ceiling 5.0 %, page limit 5 per run (§3.3)', () => {
  const records = [
    ...manyRecords('r-01', 49, 49), // below floor
    ...manyRecords('r-02', 100, 5), // exactly 5.0 %: clear
    ...manyRecords('r-03', 800, 1), // 0.125 %: Go %.2f → 0.12
    ...['r-04', 'r-05', 'r-06', 'r-07', 'r-08', 'r-09'].flatMap((r) => manyRecords(r, 50, 3)), // 6 %: 5 candidates, then rate-limited
  ]
  const a = analyzeShadow(records, 'sha256:c', NOW)
  assert.deepEqual(
    a.rules.map((r) => `${r.ruleId} ${r.state} ${r.reason}`),
    [
      'r-01 clear below_denominator_floor',
      'r-02 clear ',
      'r-03 clear ',
      'r-04 candidate new_block_rate_above_ceiling',
      'r-05 candidate new_block_rate_above_ceiling',
      'r-06 candidate new_block_rate_above_ceiling',
      'r-07 candidate new_block_rate_above_ceiling',
      'r-08 candidate new_block_rate_above_ceiling',
      'r-09 clear page_rate_limited',
    ],
  )
  assert.equal(a.quarantines.length, 5)
  assert.equal(a.quarantines[0]?.cooldownUntilNs, NOW + 3600n * SEC)
  const md = renderShadowMarkdown(a)
  assert.ok(md.includes('| `r-03` | 800 | 1 | 0 | 0.12% | clear |  |\n'), 'Go %.2f ties to even')
  assert.ok(md.includes('- `r-04`: 6.00% new-block rate (3/50), cooldown until `2026-04-30T13:00:00Z`\n'))
})

test('shadow.md exact layout: empty report', () => {
  const a = analyzeShadow([], 'sha256:abc', NOW)
  assert.equal(
    renderShadowMarkdown(a),
    '# Shadow Report\n\n- contract_hash: `sha256:abc`\n- generated_at: `2026-04-30T12:00:00Z`\n- records: 0 total, 0 replayed, 0 changed\n- deltas: 0 new blocks, 0 new allows, 0 batches\n\n## Quarantine\n\nNo quarantine candidates.\n\n## Rules\n\nNo contract rule evaluations.\n\n## Changes\n\nNo decision changes.\n',
  )
  assert.equal(
    renderShadowJson(a),
    '{\n  "report_version": 1,\n  "generated_at": "2026-04-30T12:00:00Z",\n  "contract_hash": "sha256:abc",\n  "total_records": 0,\n  "replayed": 0,\n  "changed": 0,\n  "new_blocks": 0,\n  "new_allows": 0,\n  "evidence_only": 0,\n  "summary_only": 0,\n  "rules": []\n}\n',
  )
})

test('shadow.md and shadow.json exact layout: rules, batches (Go field names), surfaces, JS float text', () => {
  const a = analyzeShadow(
    [rec({candidateAction: 'block', findings: contract('r-a', 'block'), contractReason: 'contract_enforce_default', url: 'https://a.example/<x>?q=1'}), rec({findings: contract('r-a', 'allow')}), rec({findings: contract('r-a', 'allow')})],
    'sha256:c',
    NOW,
  )
  assert.equal(
    renderShadowMarkdown(a),
    '# Shadow Report\n\n- contract_hash: `sha256:c`\n- generated_at: `2026-04-30T12:00:00Z`\n- records: 3 total, 3 replayed, 1 changed\n- deltas: 1 new blocks, 0 new allows, 1 batches\n\n## Quarantine\n\nNo quarantine candidates.\n\n## Rules\n\n| rule | evals | new_blocks | new_allows | rate | state | reason |\n|---|---:|---:|---:|---:|---|---|\n| `r-a` | 3 | 1 | 0 | 33.33% | clear | below_denominator_floor |\n\n## Changes\n\n| change | count | method | destination | was | would be | decided by |\n|---|---:|---|---|---|---|---|\n| new block | 1 | GET | `https://a.example/%3Cx%3E` | allow | block | default deny: no rule of the host matches (contract_enforce_default, host rule `r-a`) |\n',
  )
  const json = renderShadowJson(a)
  assert.ok(json.includes('"new_block_rate_pct": 33.333333333333336,'))
  assert.ok(json.includes('"batches": [\n    {\n      "ContractHash": "sha256:c",\n      "RuleID": "r-a",\n      "OriginalVerdict": "allow",\n      "CandidateVerdict": "block",\n      "WindowStart": "2026-04-30T10:00:00Z",\n      "WindowEnd": "2026-04-30T10:01:00Z",\n      "LosslessCount": 1,\n      "ExemplarIDs": [\n        "sha256:'))
  assert.ok(json.includes('  "capture_surfaces": {\n    "url": {\n      "grade": "full",\n      "sidecar": false\n    }\n  },\n'))
  assert.deepEqual(Object.keys(JSON.parse(json)), ['report_version', 'generated_at', 'contract_hash', 'total_records', 'replayed', 'changed', 'new_blocks', 'new_allows', 'evidence_only', 'summary_only', 'rules', 'batches', 'capture_surfaces', 'changes'])
  assert.deepEqual(JSON.parse(json).changes, [
    {change: 'new_block', count: 1, surface: 'url', method: 'GET', scheme: 'https', host: 'a.example', path: '/%3Cx%3E', original_verdict: 'allow', candidate_verdict: 'block', decided_by: 'contract', rule_id: 'r-a', reason: 'contract_enforce_default'},
  ])
})

/** The `## Changes` section of shadow.md and its table head. */
const CHANGES_HEAD = '## Changes\n\n| change | count | method | destination | was | would be | decided by |\n|---|---:|---|---|---|---|---|\n'

/** `records` analysed against contract `sha256:c`, and the `## Changes` section shadow.md gives them. */
function changesOf(records: ReplayedRecord[]): {a: ReturnType<typeof analyzeShadow>; section: string} {
  const a = analyzeShadow(records, 'sha256:c', NOW)
  const md = renderShadowMarkdown(a)
  return {a, section: md.slice(md.indexOf('## Changes'))}
}

test('shadow changes (issue 34): one row per destination and decider, MCP tools by server/tool, scanner deciders by finding kind, bounded list', () => {
  const {a, section} = changesOf(
    [
      rec({url: 'https://x.example/a?k=1', candidateAction: 'block', findings: contract('', 'block'), contractReason: 'contract_default_deny'}),
      rec({url: 'https://x.example/a?k=2', candidateAction: 'block', findings: contract('', 'block'), contractReason: 'contract_default_deny'}),
      rec({url: 'http://y.example/b', originalAction: 'block', candidateAction: 'allow'}),
      rec({url: 'https://z.example/c', candidateAction: 'block', findings: [{kind: 'dlp', action: 'block'}, {kind: 'blocklist', action: 'block'}]}),
      rec({surface: 'tool_policy', url: '', method: '', toolName: 'delete_repo', mcpServer: 'github', mcpMethod: 'tools/call', candidateAction: 'block', findings: contract('', 'block'), contractReason: 'contract_default_deny', mcpReason: 'contract_mcp_default_deny'}),
    ],
  )
  assert.equal(
    section,
    CHANGES_HEAD +
      '| new block | 1 | tools/call | `tool github/delete_repo` | allow | block | default deny: no enforce rule for tool delete_repo of server github (contract_mcp_default_deny; block_reason contract_default_deny) |\n' +
      '| new block | 2 | GET | `https://x.example/a` | allow | block | default deny: no rule for the host (contract_default_deny) |\n' +
      '| new block | 1 | GET | `https://z.example/c` | allow | block | scanner replay (blocklist,dlp) |\n' +
      '| new allow | 1 | GET | `http://y.example/b` | block | allow | scanner replay |\n',
  )
  // default-deny deltas form batches under their wire reason (they name no rule)
  assert.deepEqual(a.batches.map((b) => [b.ruleId, b.losslessCount]), [['contract_default_deny', 3]])
  const many = Array.from({length: SHADOW_CHANGES_LIMIT + 5}, (_, i) => rec({url: `https://m.example/p${i}`, candidateAction: 'block', findings: contract('', 'block'), contractReason: 'contract_default_deny'}))
  const big = analyzeShadow([...many, rec({url: 'https://m.example/p1', candidateAction: 'block', findings: contract('', 'block'), contractReason: 'contract_default_deny'})], 'sha256:c', NOW)
  assert.equal(big.changes.length, SHADOW_CHANGES_LIMIT)
  assert.equal(big.changesOmitted, 5)
  assert.equal(big.changes.find((c) => c.path === '/p1')?.count, 2)
  assert.equal(big.newBlocks, SHADOW_CHANGES_LIMIT + 6)
  assert.ok(renderShadowMarkdown(big).endsWith(`\n5 more changed records of further destinations are counted above but not listed (at most ${SHADOW_CHANGES_LIMIT} destinations are listed).\n`))
  assert.ok(renderShadowJson(big).endsWith('  "changes_omitted": 5\n}\n'))
})

const GOLDEN = repoPath('goldens', 'collapsing-paths', 'contract.yaml')
const GOLDEN_KEY = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')

test('loadShadowContract: key required unless the diagnostics flag; purpose and signature checked', () => {
  const warnings: string[] = []
  const base = {contract: GOLDEN, allowUnsignedForDiagnostics: false, keystore: path.join(tmpdir(), 'pipelock-no-such-keystore'), warn: (l: string) => warnings.push(l)}
  assert.throws(() => loadShadowContract(base), {message: 'learn shadow: --contract-key is required for --contract (or use --allow-unsigned-contract-for-diagnostics)'})
  loadShadowContract({...base, allowUnsignedForDiagnostics: true})
  assert.deepEqual(warnings, ['warning: unverified contract accepted because --allow-unsigned-contract-for-diagnostics is set; shadow replay is diagnostic only'])
  assert.equal(loadShadowContract({...base, contractKey: GOLDEN_KEY}).body.get('signer_key_id'), 'golden-contract-compile')
  const other = keyPairFromSeed(sha256('someone else')).publicKey.toString('hex')
  assert.throws(() => loadShadowContract({...base, contractKey: other}), {message: 'learn shadow: verify contract: signature does not verify'})
  assert.throws(() => loadShadowContract({...base, contractKey: 'zz'}), (e: unknown) => e instanceof PipelockError && e.message.startsWith('learn shadow: load contract verification key: '))
  assert.throws(() => loadShadowContract({...base, contract: 'relative.yaml', contractKey: GOLDEN_KEY}), {message: 'learn: invalid candidate file: candidate path must be absolute, got "relative.yaml"'})
})

test('replay corpus: the compiled contract as-is produces no contract blocks (no rule is enforce)', async () => {
  const file = vectorPath('replay-corpus', 'contract.yaml')
  const env = loadShadowContract({contract: file, contractKey: '3e60a846b80a5152a2e32fac4cadb3e9a661eee41558a8c84f5d00a827671380', allowUnsignedForDiagnostics: false, keystore: tmpdir(), warn: () => {}})
  const progress: [number, number][] = []
  const {analysis} = await shadowReplay([vectorPath('replay-corpus', 'corpus.jsonl')], env.body, createScannerReplay(), NOW, 168n * 3600n * SEC, undefined, (d, n) => progress.push([d, n]))
  // Progress after every read chunk: the whole file read, every replayable record queued.
  assert.deepEqual(progress.at(-1), [statSync(vectorPath('replay-corpus', 'corpus.jsonl')).size, 37])
  assert.equal(analysis.contractHash, 'sha256:85f31ee0b7f306773f68dbb648d9240aee86b09a0ca1f30cc1561025c7fcf533')
  assert.equal(analysis.totalRecords, 37)
  assert.equal(analysis.newBlocks, 0)
  assert.deepEqual(analysis.rules, [])
  assert.ok(renderShadowMarkdown(analysis).includes('\n## Rules\n\nNo contract rule evaluations.\n\n'))
  assert.ok(readFileSync(file, 'utf8').includes('capture_only'))
})

test('resolveShadowInputs: --sessions dir/file, agent discovery skips planted and foreign session dirs', async () => {
  const {cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync} = await import('node:fs')
  const {tmpdir} = await import('node:os')
  const path = await import('node:path')
  const {resolveShadowInputs} = await import('../../../src/plugins/learn/index.js')
  const root = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-inputs-'))
  try {
    const src = repoPath('goldens', 'multi-session', 'input')
    cpSync(path.join(src, 'shop-agent|10.0.0.1'), path.join(root, 'shop-agent|10.0.0.1'), {recursive: true})
    cpSync(path.join(src, 'shop-agent|10.0.0.2'), path.join(root, 'shop-agent|10.0.0.2'), {recursive: true})
    cpSync(repoPath('goldens', 'tail-block', 'input', 'wiki-agent|10.0.0.1'), path.join(root, 'shop-agent|planted'), {recursive: true})
    mkdirSync(path.join(root, 'capture-meta'))
    mkdirSync(path.join(root, 'shop-agentx'))
    const agent = resolveShadowInputs({agent: 'shop-agent', captureDir: root})
    assert.equal(agent.files.length, 6)
    assert.ok(agent.files.every((f) => f.includes('shop-agent|10.0.0.')))
    assert.deepEqual(agent.files.map((f) => path.basename(f)).slice(0, 3), ['evidence-shop-agent|10.0.0.1-0.jsonl', 'evidence-shop-agent|10.0.0.1-25.jsonl', 'evidence-shop-agent|10.0.0.1-50.jsonl'])
    assert.equal(resolveShadowInputs({sessions: root}).files.length, 7, '--sessions trusts the operator: every session dir but capture-meta')
    const one = agent.files[0] as string
    assert.deepEqual(resolveShadowInputs({sessions: one}).files, [one])
    assert.throws(() => resolveShadowInputs({agent: 'nobody', captureDir: root}), {code: 'CAPTURE_NO_INPUT', message: `learn shadow: no capture session of agent "nobody" under ${root}`, hint: 'sessions there belong to: shop-agent, shop-agentx'})
    assert.throws(() => resolveShadowInputs({agent: '..', captureDir: root}), /--agent must be a single path segment/)
    assert.throws(() => resolveShadowInputs({agent: 'shop-agent'}), {message: 'learn shadow: learn.capture_dir is not set; give --sessions, or a config with learn.capture_dir (--config FILE, $PIPELOCK_CONFIG or $PIPELOCK_HOME/pipelock.yaml)'})
    assert.throws(() => resolveShadowInputs({agent: 'shop-agent', captureDir: 'rel'}), {message: 'learn shadow: learn.capture_dir must be absolute, got "rel"'})
    symlinkSync(root, root + '-link')
    assert.throws(() => resolveShadowInputs({sessions: root + '-link'}), {message: `learn shadow: --sessions must not be a symlink: ${root}-link`})
    rmSync(root + '-link')
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
})

test('shadow changes: a record judged on a method override names it (its own row, method_overrides in JSON, "(override …)" in the table)', () => {
  const blocked = (over: Partial<ReplayedRecord>): ReplayedRecord => rec({url: 'https://a.example/v1/items', method: 'POST', candidateAction: 'block', findings: contract('r-a', 'block'), contractReason: 'contract_enforce_default', ...over})
  const {a, section} = changesOf([blocked({methodOverrides: ['DELETE']}), blocked({methodOverrides: ['DELETE']}), blocked({})])
  assert.equal(
    section,
    CHANGES_HEAD +
      '| new block | 1 | POST | `https://a.example/v1/items` | allow | block | default deny: no rule of the host matches (contract_enforce_default, host rule `r-a`) |\n' +
      '| new block | 2 | POST (override DELETE) | `https://a.example/v1/items` | allow | block | default deny: no rule of the host matches (contract_enforce_default, host rule `r-a`) |\n',
  )
  const changes = JSON.parse(renderShadowJson(a)).changes as Record<string, unknown>[]
  assert.deepEqual(changes.map((c) => [c.count, c.method, c.method_overrides]), [[1, 'POST', undefined], [2, 'POST', ['DELETE']]])
})

test('shadow: an MCP contract block is worded for MCP (server, tool, arguments), its evaluator reason in text and JSON', () => {
  const c = compactContract({
    contractHash: 'sha256:c',
    body: fromPlain({
      rules: [{rule_id: 'r-echo', rule_kind: 'mcp_tool_call', lifecycle_state: 'enforce', selector: {server: {value: 'node'}, tool: {value: 'echo'}, args: [{key: 'text', value: 'hi'}]}}],
    }) as JsonObject,
  })
  const call = (tool: string, args: string): ReplayedRecord =>
    judgeEvent({surface: 'tool_policy', method: '', url: '', toolName: tool, toolArgsJson: args, mcpMethod: 'tools/call', mcpServer: 'node', effectiveAction: 'allow', payloadRef: '', payloadSha256: '', observedAtNs: T0}, c, undefined)
  const {a, section} = changesOf([call('echo', '{"text":"hi"}'), call('echo', '{"text":"bye"}'), call('echo', '{"text":"bye"}'), call('write_file', '{"path":"/tmp/x"}')])
  // the rule whose arguments differ is charged; the tool no rule lists is not a rule's
  assert.deepEqual(a.rules.map((r) => [r.ruleId, r.evaluations, r.newBlocks, r.unchanged]), [['r-echo', 3, 2, 1]])
  assert.equal(
    section,
    CHANGES_HEAD +
      '| new block | 2 | tools/call | `tool node/echo` | allow | block | arguments not allowed: rule `r-echo` allows tool echo of server node with other arguments only (contract_mcp_args_mismatch; block_reason contract_enforce_default) |\n' +
      '| new block | 1 | tools/call | `tool node/write_file` | allow | block | default deny: no enforce rule for tool write_file of server node (contract_mcp_default_deny; block_reason contract_default_deny) |\n',
  )
  assert.doesNotMatch(section, /host|path/)
  const json = JSON.parse(renderShadowJson(a)) as {changes: Record<string, unknown>[]; batches: Record<string, unknown>[]}
  const change = {change: 'new_block', surface: 'tool_policy', server: 'node', mcp_method: 'tools/call', original_verdict: 'allow', candidate_verdict: 'block', decided_by: 'contract'}
  assert.deepEqual(json.changes, [
    {...change, count: 2, tool: 'echo', rule_id: 'r-echo', reason: 'contract_enforce_default', contract_reason: 'contract_mcp_args_mismatch'},
    {...change, count: 1, tool: 'write_file', reason: 'contract_default_deny', contract_reason: 'contract_mcp_default_deny'},
  ])
  assert.deepEqual(json.batches.map((b) => [b.RuleID, b.LosslessCount]).sort(), [['contract_default_deny', 1], ['r-echo', 2]])
})

/** A contract on 127.77.13.9: `/` and `/api/items/*` enforced, `/docs/index.html` capture-only. */
const SPLIT_HOST = compactContract({
  contractHash: 'sha256:c',
  body: fromPlain({
    rules: [
      ['r-root', 'enforce', '/'],
      ['r-items', 'enforce', '/api/items/*'],
      ['r-docs', 'capture_only', '/docs/index.html'],
    ].map(([rule_id, lifecycle_state, value]) => ({rule_id, rule_kind: 'http_destination', lifecycle_state, selector: {host: {value: '127.77.13.9', data_class: 'public'}, paths: [{value}]}})),
  }) as JsonObject,
})
const splitHostRecord = (p: string): ReplayedRecord =>
  judgeEvent({surface: 'url', method: 'GET', url: `http://127.77.13.9${p}`, toolName: '', toolArgsJson: '', mcpMethod: '', effectiveAction: 'allow', payloadRef: '', payloadSha256: '', observedAtNs: T0}, SPLIT_HOST, {verdict: 'allow', findings: []})

test('shadow: a default deny is the host\'s, charged to no rule (its first rule, for `/`, never matched /docs)', () => {
  const {a, section} = changesOf([splitHostRecord('/'), splitHostRecord('/'), splitHostRecord('/docs/index.html'), splitHostRecord('/docs/index.html'), splitHostRecord('/docs/index.html'), splitHostRecord('/other')])
  assert.deepEqual(a.rules.map((r) => [r.ruleId, r.evaluations, r.newBlocks, r.unchanged]), [['r-root', 2, 0, 2]])
  assert.equal(a.newBlocks, 4)
  assert.equal(
    section,
    CHANGES_HEAD +
      '| new block | 3 | GET | `http://127.77.13.9/docs/index.html` | allow | block | default deny: no enforce rule of host 127.77.13.9 matches (contract_enforce_default); capture-only rule `r-docs` matches and is not enforced |\n' +
      '| new block | 1 | GET | `http://127.77.13.9/other` | allow | block | default deny: no enforce rule of host 127.77.13.9 matches (contract_enforce_default) |\n',
  )
  const json = JSON.parse(renderShadowJson(a)) as {changes: Record<string, unknown>[]; batches: Record<string, unknown>[]}
  const change = {change: 'new_block', surface: 'url', method: 'GET', scheme: 'http', host: '127.77.13.9', original_verdict: 'allow', candidate_verdict: 'block', decided_by: 'contract', reason: 'contract_enforce_default'}
  assert.deepEqual(json.changes, [
    {...change, count: 3, path: '/docs/index.html', capture_only_rule_id: 'r-docs'},
    {...change, count: 1, path: '/other'},
  ])
  // the batch (and its shadow_delta receipt) goes under the reason, as a contract-wide default deny's does
  assert.deepEqual(json.batches.map((b) => [b.RuleID, b.LosslessCount]), [['contract_enforce_default', 4]])
})

test('shadow: a non-default port is the host\'s, charged to no rule (its first rule, for `/`, never matched /api/items/7)', () => {
  const {a, section} = changesOf([splitHostRecord('/'), splitHostRecord(':8080/api/items/7'), splitHostRecord(':8080/api/items/7')])
  assert.deepEqual(a.rules.map((r) => [r.ruleId, r.evaluations, r.newBlocks, r.unchanged]), [['r-root', 1, 0, 1]])
  assert.equal(a.newBlocks, 2)
  assert.equal(
    section,
    CHANGES_HEAD + '| new block | 2 | GET | `http://127.77.13.9:8080/api/items/7` | allow | block | port not allowed: host 127.77.13.9 on port 8080; contracts allow default ports only (contract_non_default_port) |\n',
  )
  const json = JSON.parse(renderShadowJson(a)) as {changes: Record<string, unknown>[]; batches: Record<string, unknown>[]}
  assert.deepEqual(json.changes, [
    {change: 'new_block', count: 2, surface: 'url', method: 'GET', scheme: 'http', host: '127.77.13.9', port: '8080', path: '/api/items/7', original_verdict: 'allow', candidate_verdict: 'block', decided_by: 'contract', reason: 'contract_non_default_port'},
  ])
  // the batch (and its shadow_delta receipt) goes under the reason, as a default deny's does
  assert.deepEqual(json.batches.map((b) => [b.RuleID, b.LosslessCount]), [['contract_non_default_port', 2]])
})

test('shadow: a path with no canonical form is the host\'s when no single path rule applies (its first rule, for `/`, drew it before)', () => {
  // both path rules of the host allow any method: the path, not a rule, decided
  const {a, section} = changesOf([splitHostRecord('/'), splitHostRecord('//api/items/7'), splitHostRecord('//api/items/7')])
  assert.deepEqual(a.rules.map((r) => [r.ruleId, r.evaluations, r.newBlocks, r.unchanged]), [['r-root', 1, 0, 1]])
  assert.equal(a.newBlocks, 2)
  assert.equal(
    section,
    CHANGES_HEAD + '| new block | 2 | GET | `http://127.77.13.9//api/items/7` | allow | block | path has no canonical form: the path rules of host 127.77.13.9 cannot judge it (contract_invalid_path) |\n',
  )
  const json = JSON.parse(renderShadowJson(a)) as {changes: Record<string, unknown>[]; batches: Record<string, unknown>[]}
  assert.deepEqual(json.changes, [
    {change: 'new_block', count: 2, surface: 'url', method: 'GET', scheme: 'http', host: '127.77.13.9', path: '//api/items/7', original_verdict: 'allow', candidate_verdict: 'block', decided_by: 'contract', reason: 'contract_invalid_path'},
  ])
  assert.deepEqual(json.batches.map((b) => [b.RuleID, b.LosslessCount]), [['contract_invalid_path', 2]])
  // with one path rule for the method, that rule is charged and named
  const c = compactContract({
    contractHash: 'sha256:c',
    body: fromPlain({
      rules: [
        {rule_id: 'r-get', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: 'a.example'}, methods: ['GET'], paths: [{value: '/a'}]}},
        {rule_id: 'r-post', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: 'a.example'}, methods: ['POST'], paths: [{value: '/b'}]}},
      ],
    }) as JsonObject,
  })
  const one = changesOf([judgeEvent({surface: 'url', method: 'POST', url: 'https://a.example//b', toolName: '', toolArgsJson: '', mcpMethod: '', effectiveAction: 'allow', payloadRef: '', payloadSha256: '', observedAtNs: T0}, c, {verdict: 'allow', findings: []})])
  assert.deepEqual(one.a.rules.map((r) => [r.ruleId, r.evaluations, r.newBlocks]), [['r-post', 1, 1]])
  assert.equal(one.section, CHANGES_HEAD + '| new block | 1 | POST | `https://a.example//b` | allow | block | path has no canonical form (contract_invalid_path, host rule `r-post`) |\n')
})

test('shadow: a contract-wide default deny names a capture-only rule of the host that matches too', () => {
  const c = compactContract({
    contractHash: 'sha256:c',
    body: fromPlain({
      rules: [
        {rule_id: 'r-a', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: 'a.example'}}},
        {rule_id: 'r-b', rule_kind: 'http_destination', lifecycle_state: 'capture_only', selector: {host: {value: 'b.example'}, methods: ['GET']}},
      ],
    }) as JsonObject,
  })
  const ev = (method: string): ReplayedRecord =>
    judgeEvent({surface: 'url', method, url: 'https://B.example/x', toolName: '', toolArgsJson: '', mcpMethod: '', effectiveAction: 'allow', payloadRef: '', payloadSha256: '', observedAtNs: T0}, c, {verdict: 'allow', findings: []})
  assert.equal(
    changesOf([ev('GET'), ev('POST')]).section,
    CHANGES_HEAD +
      '| new block | 1 | GET | `https://b.example/x` | allow | block | default deny: no enforce rule for the host (contract_default_deny); capture-only rule `r-b` matches and is not enforced |\n' +
      '| new block | 1 | POST | `https://b.example/x` | allow | block | default deny: no rule for the host (contract_default_deny) |\n',
  )
})

test('unreplayableScan: live-state scanner stages and DLP on a redacted capture URL keep their captured verdict; the rest is replayed', () => {
  const f = (kind: string, action = 'block') => [{kind, action, pattern_name: 'p'}]
  const url = 'https://a.example/v1/items'
  for (const kind of ['ratelimit', 'databudget', 'ssrf', 'context']) assert.deepEqual(unreplayableScan(url, 'block', f(kind)), {kind, cause: kind})
  // An unenforced block (captured as warn) is kept the same way.
  assert.deepEqual(unreplayableScan(url, 'warn', f('ratelimit', 'warn')), {kind: 'ratelimit', cause: 'ratelimit'})
  // DLP: only when capture replaced the secret (a path segment, a host label, or the whole path).
  for (const redacted of ['https://a.example/v1/redacted-aws-access-id', 'https://redacted-github-token.a.example/x', 'https://a.example/redacted', 'http://127.0.0.1:8080/redacted-secret?h=abc']) {
    assert.deepEqual(unreplayableScan(redacted, 'block', f('core_dlp')), {kind: 'core_dlp', cause: 'core_dlp (redacted capture)'}, redacted)
    assert.deepEqual(unreplayableScan(redacted, 'block', f('dlp')), {kind: 'dlp', cause: 'dlp (redacted capture)'}, redacted)
  }
  assert.equal(unreplayableScan('https://a.example/v1/AKIAIOSFODNN7EXAMPLE', 'block', f('core_dlp')), undefined)
  assert.equal(unreplayableScan('https://a.example/v1/not-redacted-here', 'block', f('core_dlp')), undefined)
  // Stages the replay redoes from the URL, an allowed record, findings absent (reference captures).
  assert.equal(unreplayableScan(url, 'block', f('blocklist')), undefined)
  assert.equal(unreplayableScan(url, 'allow', f('ratelimit')), undefined)
  assert.equal(unreplayableScan(url, 'block', null), undefined)
})

test('shadow.md and shadow.json name records kept as captured, and only when there are some', () => {
  const kept = analyzeShadow(
    [
      rec({originalAction: 'block', candidateAction: 'block', keptAsCaptured: 'ratelimit', findings: [{kind: 'ratelimit', action: 'block'}]}),
      rec({originalAction: 'block', candidateAction: 'block', keptAsCaptured: 'ratelimit', findings: [{kind: 'ratelimit', action: 'block'}]}),
      rec({originalAction: 'block', candidateAction: 'block', keptAsCaptured: 'core_dlp (redacted capture)', findings: [{kind: 'core_dlp', action: 'block'}]}),
      rec({}),
    ],
    'sha256:c',
    NOW,
  )
  assert.deepEqual({r: kept.replayed, c: kept.changed, rules: kept.rules.length}, {r: 4, c: 0, rules: 0})
  assert.ok(renderShadowMarkdown(kept).includes('- deltas: 0 new blocks, 0 new allows, 0 batches\n- kept as captured: 3 records whose scanner verdict replay cannot redo (core_dlp (redacted capture): 1, ratelimit: 2)\n\n## Quarantine\n'))
  assert.ok(renderShadowJson(kept).endsWith('  "kept_as_captured": {\n    "core_dlp (redacted capture)": 1,\n    "ratelimit": 2\n  }\n}\n'))
  const none = analyzeShadow([rec({})], 'sha256:c', NOW)
  assert.ok(!renderShadowMarkdown(none).includes('kept as captured'))
  assert.ok(!renderShadowJson(none).includes('kept_as_captured'))
})
