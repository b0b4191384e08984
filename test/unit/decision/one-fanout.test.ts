// One Decision, one fan-out (issue 33): a URL request's Decision and a tool call's go through the
// same sink instances — one receipt sink on the flight recorder's chains, one capture sink, one
// audit log, one metrics registry, in one DecisionFanout — and those write exactly the bytes the
// tree before the change wrote for them through two sets of sinks (the proxy's for HTTP,
// mcp-proxy's McpReceiptSink/McpAuditSink/McpCaptureSink/McpMetrics for MCP). The expected bytes in
// test/fixtures/one-decision/expected/ were written by that tree (commit d4de811) from
// decisions.json with the same key, clock and random source; they never change.
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {fixedClock, fromPlain} from '../../../src/plugins/canonical/index.js'
import {resolveConfig} from '../../../src/plugins/config/index.js'
import {DecisionFanout, isToolCall, type Decision, type RequestDecision, type ToolCallDecision} from '../../../src/plugins/decision/index.js'
import {buildMcpRuntime} from '../../../src/plugins/mcp-proxy/index.js'
import {AuditLog, openCaptureSink, openRecorder, ProxyMetrics, ReceiptSink} from '../../../src/plugins/proxy/index.js'
import {encodePrivateKeyText, keyPairFromSeed} from '../../../src/plugins/signing/index.js'
import {repoPath} from '../../helpers/vectors.js'

const FIXTURE = repoPath('test', 'fixtures', 'one-decision')
const TS = '2026-05-01T09:00:00.689Z'

/** Every file under `dir`, relative, sorted (`|` in session names kept as the fixture's `_`). */
function files(dir: string, base = ''): string[] {
  return readdirSync(path.join(dir, base)).sort().flatMap((f) => (statSync(path.join(dir, base, f)).isDirectory() ? files(dir, path.join(base, f)) : [path.join(base, f)]))
}

test('an HTTP Decision and a tool-call Decision through the same sink instances write the bytes of the two former sink sets', async () => {
  const input = JSON.parse(readFileSync(path.join(FIXTURE, 'decisions.json'), 'utf8')) as {request: RequestDecision[]; toolCall: Array<ToolCallDecision & {args?: unknown}>}
  // Tool-call arguments as the pipeline parses them (canonical JSON values).
  const decisions: Decision[] = [...input.request, ...input.toolCall.map((d) => (d.args === undefined ? d : {...d, args: fromPlain(d.args)}) as ToolCallDecision)]
  assert.deepEqual(decisions.map(isToolCall), [false, false, true, true, true])

  const work = mkdtempSync(path.join(tmpdir(), 'pipelock-one-fanout-'))
  const key = keyPairFromSeed(Buffer.alloc(32, 7))
  const keyFile = path.join(work, 'key')
  writeFileSync(keyFile, encodePrivateKeyText(Buffer.concat([key.seed, key.publicKey])), {mode: 0o600})
  const config = resolveConfig({flight_recorder: {enabled: true, dir: path.join(work, 'recorder'), signing_key_path: keyFile}}, {env: {}}).config
  let n = 0
  const random = (k: number): Uint8Array => Uint8Array.from({length: k}, () => (n++ * 31 + 7) & 0xff)
  const clock = fixedClock(TS)
  const rec = await openRecorder(config, 'sha256:golden-config', {clock, random, host: 'golden'})
  const rt = buildMcpRuntime(config, {})
  const lines: string[] = []
  const audit = new AuditLog([{write: (l) => void lines.push(l)}], {includeAllowed: true, includeBlocked: true, now: () => new Date(Date.parse(TS))})
  const metrics = new ProxyMetrics('golden', 0, () => 0, {killSwitchSources: () => ({}), activeTunnels: () => 0})
  const receipts = new ReceiptSink(rec!.chains!, {escrow: false, toolCallAgent: 'code-agent'})
  const capture = openCaptureSink({
    dir: path.join(work, 'capture'), clock, snapshot: () => ({hash: 'sha256:golden-config', scanner: rt.deps.scanner}), build: {version: 'golden', sha: 'golden'}, raw: false, salt: undefined,
    toolCalls: {agent: 'code-agent', server: 'npx', invocation: 1},
  })
  const fanout = new DecisionFanout([receipts, audit, metrics, capture])
  const receiptIds = decisions.map((d) => fanout.record(d))
  // A URL request's block names its receipt; a tool call's record returns none (the MCP error names none).
  assert.deepEqual(receiptIds.map((id) => typeof id), ['string', 'string', 'undefined', 'undefined', 'undefined'])
  await new Promise((r) => setImmediate(r))
  capture.close()
  rec!.close()
  audit.flush()
  rt.close()

  const expected = path.join(FIXTURE, 'expected')
  assert.equal(lines.join(''), readFileSync(path.join(expected, 'audit.jsonl'), 'utf8'))
  const m: string[] = []
  metrics.toolCalls.render(m)
  assert.equal(m.join('\n') + '\n', readFileSync(path.join(expected, 'tool-call-metrics.txt'), 'utf8'))
  for (const sub of ['recorder', 'capture']) {
    const got = files(path.join(work, sub))
    assert.deepEqual(got.map((f) => f.replaceAll('|', '_')), files(path.join(expected, sub)))
    for (const f of got) assert.equal(readFileSync(path.join(work, sub, f), 'utf8'), readFileSync(path.join(expected, sub, f.replaceAll('|', '_')), 'utf8'), `${sub}/${f}`)
  }
})
