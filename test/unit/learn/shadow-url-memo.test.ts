import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {compareCaptureFiles, readCaptureInputs, type CaptureFinding} from '../../../src/plugins/capture/index.js'
import {buildInfoUnavailableDigests} from '../../../src/plugins/contracts/index.js'
import {blockReasonCode, evaluateHttp, parseRequestUrl, type IndexedContract} from '../../../src/plugins/enforcement/index.js'
import {
  analyzeShadow,
  applyDecisions,
  capturedEvent,
  compileContract,
  createScannerReplay,
  deterministicKey,
  findOpportunityMissing,
  judgeEvent,
  observeOpportunity,
  prepareShadowContract,
  renderShadowJson,
  renderShadowMarkdown,
  resignContract,
  shadowReplay,
  type CapturedEvent,
  type ReplayedRecord,
  type ScannerReplay,
  type ScannerReplayResult,
} from '../../../src/plugins/learn/index.js'
import {keyPairFromSeed, sha256} from '../../../src/plugins/signing/index.js'
import {generateCorpus, type TrafficShape} from '../../../bench/corpus-generator.js'
import {GOLDEN_CORPORA} from '../../../bench/corpus-goldens.js'
import {listJsonl, oracleReplayScan, ratifiedGoldenBody, SHADOW_NOW, SHADOW_WEEK_NS} from '../../helpers/golden-shadow.js'
import {repoPath} from '../../helpers/vectors.js'

// Issue 18: `learn shadow` remembers what it judged of each URL (`UrlMemo`, shadow-url-memo.ts):
// a repeated URL is not scanned again, and a repeated (URL, method, action) is not evaluated
// again — its outcome, rule ids and opportunity host are reused. Differential against the replay
// without any memo — every record scanned, parsed and evaluated on its own, one after another
// (the oracle below is that code as it was before the memo, kept here) — on every golden corpus
// under both ratifications and on a generated corpus built to repeat URLs under other methods
// and actions, with scanner blocks, non-default ports, paths without a canonical form and URLs
// without an http(s) host: the same reports byte for byte and the same opportunity observation.

/** The oracle's judgement of a URL record: the evaluator on every record (the code before the memo). */
function oracleUrlRecord(ev: CapturedEvent, contract: IndexedContract, scan: ScannerReplayResult): ReplayedRecord {
  const base = {
    surface: ev.surface,
    method: ev.method,
    url: ev.url,
    toolName: ev.toolName,
    mcpMethod: ev.mcpMethod,
    originalAction: ev.effectiveAction,
    grade: 'full',
    sidecar: ev.payloadRef !== '',
    observedAtNs: ev.observedAtNs,
  }
  if (parseRequestUrl(ev.url) === undefined) return {...base, candidateAction: scan.verdict, evidenceOnly: false, summaryOnly: false, findings: scan.findings}
  const d = evaluateHttp(contract, {url: ev.url, method: ev.method, effectiveAction: ev.effectiveAction, mode: 'live', scannerVerdict: scan.verdict})
  let findings: CaptureFinding[]
  if (d.winningSource === 'contract') findings = [{kind: 'contract', action: d.verdict === 'block' ? 'block' : 'allow', policy_rule: d.ruleId, match_text: ev.url}]
  else findings = scan.findings
  // issue 34: a contract decision carries its wire reason, so the report can say what decided it
  const reason = d.winningSource === 'contract' ? {contractReason: d.verdict === 'block' ? blockReasonCode(d) : ''} : {}
  return {...base, ...reason, candidateAction: d.verdict, evidenceOnly: false, summaryOnly: false, findings}
}

type Outcome = {md: string; json: string; changed: number; opportunity: unknown; missing: unknown}

/** The oracle: every record read, scanned (URLs), evaluated and analysed one after another. */
async function oracleReplay(files: string[], body: JsonObject): Promise<Outcome> {
  const c = prepareShadowContract(body)
  const scan = oracleReplayScan()
  const records: ReplayedRecord[] = []
  const events: CapturedEvent[] = []
  await readCaptureInputs(files.map((name) => ({name})), {
    onEntry: (e) => {
      const ev = capturedEvent(e)
      if (ev === undefined || (ev.observedAtNs !== undefined && ev.observedAtNs < SHADOW_NOW - SHADOW_WEEK_NS)) return
      events.push(ev)
    },
  })
  for (const ev of events) records.push(ev.surface === 'url' ? oracleUrlRecord(ev, c.evaluator, await scan(ev.url)) : judgeEvent(ev, c.evaluator, undefined))
  const analysis = analyzeShadow(records, c.contractHash, SHADOW_NOW)
  const opportunity = observeOpportunity(records)
  return {md: renderShadowMarkdown(analysis), json: renderShadowJson(analysis), changed: analysis.changed, opportunity, missing: findOpportunityMissing(c.opportunityRules, opportunity)}
}

async function memoReplay(files: string[], body: JsonObject, scanner: ScannerReplay, urlMemoGeneration?: number, loading?: {afterMs: number; backlogEvents: number}, inFlightEvents?: number): Promise<Outcome> {
  try {
    const c = prepareShadowContract(body)
    // `loading`: the contract arrives as a promise answered later (as from the contract worker);
    // the replay reads ahead meanwhile, holding at most `backlogEvents` records unjudged.
    const contract = loading === undefined ? c : new Promise<typeof c>((resolve) => setTimeout(() => resolve(c), loading.afterMs))
    const r = await shadowReplay(files, contract, scanner, SHADOW_NOW, SHADOW_WEEK_NS, undefined, undefined, {...(urlMemoGeneration === undefined ? {} : {urlMemoGeneration}), ...(loading === undefined ? {} : {backlogEvents: loading.backlogEvents}), ...(inFlightEvents === undefined ? {} : {inFlightEvents})})
    return {md: renderShadowMarkdown(r.analysis), json: renderShadowJson(r.analysis), changed: r.analysis.changed, opportunity: r.opportunity, missing: findOpportunityMissing(c.opportunityRules, r.opportunity)}
  } finally {
    await scanner.close?.()
  }
}

/** `scanner` with each `many` answered after 0–4 ms, so later batches' scans often come in first. */
function slowScans(scanner: ScannerReplay): ScannerReplay {
  let n = 0
  const many = scanner.many as NonNullable<ScannerReplay['many']>
  return Object.assign((url: string) => scanner(url), {
    many: async (urls: readonly string[]) => {
      const r = await many(urls)
      await new Promise((resolve) => setTimeout(resolve, (n++ * 7) % 5))
      return r
    },
    ...(scanner.close === undefined ? {} : {close: scanner.close}),
  })
}

async function assertSameAsOracle(files: string[], body: JsonObject, label: string): Promise<Outcome> {
  const want = await oracleReplay(files, body)
  const arms: [string, () => Promise<Outcome>][] = [
    ['default memo', () => memoReplay(files, body, createScannerReplay())],
    ['2-entry URL memo generations (constant turnover)', () => memoReplay(files, body, createScannerReplay(), 2)],
    ['scan worker from the first URL, 5-entry generations', () => memoReplay(files, body, createScannerReplay(undefined, {workerAfter: 0, memoGeneration: 3}), 5)],
    ['contract still loading, read-ahead up to 600 records', () => memoReplay(files, body, createScannerReplay(), undefined, {afterMs: 30, backlogEvents: 600})],
    ['contract still loading, read-ahead without limit, 2-entry generations', () => memoReplay(files, body, createScannerReplay(undefined, {workerAfter: 0, memoGeneration: 3}), 2, {afterMs: 200, backlogEvents: Number.MAX_SAFE_INTEGER})],
    ['contract still loading, no read-ahead', () => memoReplay(files, body, createScannerReplay(), undefined, {afterMs: 5, backlogEvents: 0})],
    // Scans answered late and out of order (a busy worker): batches wait in flight, judged oldest first.
    ['slow scans, up to 600 records in flight', () => memoReplay(files, body, slowScans(createScannerReplay()), undefined, undefined, 600)],
    ['slow scans, in flight without limit, 2-entry generations', () => memoReplay(files, body, slowScans(createScannerReplay(undefined, {memoGeneration: 3})), 2, undefined, Number.MAX_SAFE_INTEGER)],
    ['slow scans, nothing in flight, contract still loading', () => memoReplay(files, body, slowScans(createScannerReplay()), undefined, {afterMs: 20, backlogEvents: 300}, 0)],
  ]
  for (const [arm, run] of arms) {
    const got = await run()
    assert.equal(got.md, want.md, `${label}: markdown, ${arm}`)
    assert.equal(got.json, want.json, `${label}: JSON, ${arm}`)
    assert.deepEqual(got.opportunity, want.opportunity, `${label}: opportunity observation, ${arm}`)
    assert.deepEqual(got.missing, want.missing, `${label}: opportunity_missing findings, ${arm}`)
  }
  return want
}

function captureFiles(root: string): string[] {
  return listJsonl(root).sort(compareCaptureFiles)
}

test('URL memo: golden corpora report byte-identically to judging every record on its own', async () => {
  for (const corpus of GOLDEN_CORPORA) {
    const files = captureFiles(repoPath('goldens', corpus.name, 'input'))
    for (const mode of ['all', 'strict'] as const) await assertSameAsOracle(files, ratifiedGoldenBody(corpus.name, mode).body, `${corpus.name}/${mode}`)
  }
})

test('URL memo: URLs repeated under other methods and actions, scanner blocks, odd ports and paths', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-url-memo-'))
  try {
    // The same URL templates (and ids) under GET and POST and under allow and warn; tokens the
    // scanner blocks; a non-default port; a double slash (no canonical path); an upper-case host
    // with a trailing dot; a URL without an http(s) host; summary-only response records.
    const shape: TrafficShape = {
      routes: [
        {method: 'GET', url: 'https://api.example.com/v1/users/{id}', weight: 12, ids: 300},
        {method: 'POST', url: 'https://api.example.com/v1/users/{id}', weight: 3, ids: 300},
        {method: 'GET', url: 'https://api.example.com/v1/users/{id}', weight: 2, ids: 300, action: 'warn'},
        {method: 'GET', url: 'https://api.example.com/v1/blobs/{hash}', weight: 4, ids: 150},
        {method: 'GET', url: 'https://leak.example.net/t/ghp_{hash}', weight: 2, ids: 40},
        {method: 'GET', url: 'https://www.pastebin.com/raw/{id}', weight: 1, ids: 20},
        {method: 'GET', url: 'https://api.example.com:8443/v1/items/{id}', weight: 1, ids: 30},
        {method: 'GET', url: 'https://api.example.com/v1//users/{id}', weight: 1, ids: 30},
        {method: 'GET', url: 'https://API.Example.COM./v1/users/{id}', weight: 1, ids: 30},
        {method: 'GET', url: 'ftp://files.example.org/pub/{id}', weight: 1, ids: 10},
        {method: 'get', url: 'https://svc.example.io/q/{id}?page=2', weight: 2, ids: 60},
        {method: 'GET', url: 'https://cdn.example.net/app.{hash}.js', weight: 1, ids: 5, surface: 'response'},
      ],
    }
    generateCorpus(path.join(dir, 'replay'), {seed: 11, agent: 'memo-agent', sessions: 3, events: 4000, start: '2026-04-29T00:00:00Z', spanSeconds: 8 * 3600, shape})
    const files = captureFiles(path.join(dir, 'replay'))
    // The contract: compiled from GET-and-allow traffic to the same routes, its method-and-action
    // rules enforced and every other rule rejected — so a URL seen under GET and allow is allowed
    // by a rule, and the same URL under POST or warn is denied by default: a memo that ignored
    // the method or the action would differ.
    const learned: TrafficShape = {routes: shape.routes.filter((r) => r.method === 'GET' && r.action === undefined && r.surface === undefined)}
    generateCorpus(path.join(dir, 'learn'), {seed: 12, agent: 'memo-agent', sessions: 2, events: 3000, start: '2026-04-28T00:00:00Z', spanSeconds: 8 * 3600, shape: learned})
    const compiled = await compileContract(
      captureFiles(path.join(dir, 'learn')).map((name) => ({name})),
      {agent: 'memo-agent', floors: {}, compileConfigHash: 'sha256:unit', pipelockVersion: 'unit', pipelockBuildSha: 'unit', goVersion: 'unit', moduleDigestRoot: 'sha256:unit'},
      {clock: fixedClock('2026-04-30T00:00:00Z'), signer: {keyPair: keyPairFromSeed(sha256('unit')), keyId: 'unit'}, moduleDigests: buildInfoUnavailableDigests()},
    )
    const compiledBody = compiled.contract.get('body') as JsonObject
    const rules = compiledBody.get('rules') as JsonObject[]
    const decisions = rules.map((r) => (r.get('rule_kind') === 'http_action' ? 'enforce' : 'reject'))
    assert.ok(decisions.includes('enforce') && decisions.includes('reject'))
    const body = resignContract(applyDecisions(compiledBody, decisions).body, deterministicKey('ratifyCompile'), 'learn ratify').body
    const want = await assertSameAsOracle(files, body, 'generated')
    assert.ok(want.changed > 0)
    // The report does hold what the corpus was built for: contract allows, default-deny blocks
    // and scanner blocks.
    assert.match(want.json, /"rule_id"/)
    const scan = oracleReplayScan()
    assert.equal((await scan('https://leak.example.net/t/ghp_' + 'a1'.repeat(20))).verdict, 'block')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
