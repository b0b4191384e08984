import {test} from 'node:test'
import assert from 'node:assert/strict'
import {goJson} from '../../../src/plugins/canonical/index.js'
import {summaryJson, summaryTree, type CaptureSummary} from '../../../src/plugins/capture/index.js'

// summaryJson writes the detail bytes in one pass; they must stay GoJSON(summaryTree(s)) for every
// field the summary has (capture files are hash-chained over these bytes and compile reads them).

const AWKWARD = ['', 'x', 'a<b>&"c"\\', 'ctl\u0001\n\t', '\u2028é漢🙂', 'lone\ud800', 'x'.repeat(300), 'é'.repeat(200)]

function base(): CaptureSummary {
  return {
    capture_schema_version: 1,
    surface: 'url',
    subsurface: 'fetch',
    config_hash: 'sha256:cfg',
    build_version: '1.0.0',
    build_sha: 'abc',
    payload_complete: false,
    transform_kind: 'raw',
    request: {method: 'GET', url: 'https://api.example.com/v1?q=<1>&r=2'},
    raw_findings: null,
    effective_findings: null,
    effective_action: 'allow',
    outcome: 'clean',
  }
}

function cases(): CaptureSummary[] {
  const out: CaptureSummary[] = [base()]
  const strings = ['surface', 'subsurface', 'config_hash', 'build_version', 'build_sha', 'agent', 'session_id_original', 'profile', 'action_class', 'payload_ref', 'payload_sha256', 'transform_kind', 'wire_payload_sample', 'scanner_sample', 'effective_action', 'outcome', 'skip_reason'] as const
  const requestStrings = ['method', 'url', 'body_sample', 'tool_name', 'tool_args_json', 'mcp_method', 'mcp_server'] as const
  for (const v of [...AWKWARD, 'READ', ' write ', 'spend']) {
    for (const k of strings) out.push({...base(), [k]: v})
    for (const k of requestStrings) out.push({...base(), request: {...base().request, [k]: v}})
  }
  for (const n of [0, 1, 255, 9_007_199_254_740_991]) {
    for (const k of ['capture_schema_version', 'batch_index', 'payload_bytes', 'wire_payload_bytes', 'scanner_bytes'] as const) out.push({...base(), [k]: n})
  }
  out.push({...base(), payload_complete: true})
  out.push({...base(), request: {...base().request, headers: {}}})
  out.push({...base(), request: {...base().request, headers: {'X-B': ['2', '<3>'], 'Accept': ['a'], 'x-a': []}}})
  const findings = [
    [],
    [{kind: 'dlp'}],
    [{kind: 'dlp', action: 'block', severity: 'high', pattern_name: 'AWS <key>', encoded: '', match_text: 'm', chain: 'c', addr_verdict: 'a', tool_name: 't', drift_type: 'd', poison_signal: 'p', policy_rule: 'r', redirect_to: 'https://x/?a&b', tool_sequence: ['a', 'b<']}],
    [{kind: 'url', tool_sequence: []}, {kind: 'dlp', action: 'warn', pattern_name: 'x'}],
  ]
  for (const f of findings) {
    out.push({...base(), raw_findings: f, effective_findings: f})
    out.push({...base(), raw_findings: f, effective_findings: null})
  }
  return out
}

test('summaryJson is byte for byte GoJSON(summaryTree(s)) for every field, empty and awkward values included', () => {
  const all = cases()
  assert.ok(all.length > 200)
  for (const s of all) assert.equal(summaryJson(s), goJson(summaryTree(s)), JSON.stringify(s))
})

test('summaryJson refuses what the tree refuses: a non-integer number', () => {
  for (const bad of [1.5, Number.NaN, 2 ** 60]) {
    assert.throws(() => goJson(summaryTree({...base(), payload_bytes: bad})), RangeError)
    assert.throws(() => summaryJson({...base(), payload_bytes: bad}), RangeError)
  }
})
