import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {goJson, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {loadContract} from '../../../src/plugins/contracts/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {applyDecisions, deterministicKey, lifecycleEnv, resignContract, runLearnRatify, type RatifyDecision, type RatifyRequest, type RatifyStep} from '../../../src/plugins/learn/index.js'
import {generateAgentKeys, keyPairFromSeed, sha256} from '../../../src/plugins/signing/index.js'
import {repoPath} from '../../helpers/vectors.js'
import {GOLDEN_PAIR, GOLDEN_KEY, CORPORA, COLLAPSING, changingCandidate} from './stream-candidates.js'

// The streamed ratify (ratify-stream.ts) against the whole path: for the same candidate and
// request, the same contract bytes, receipt line, result (warnings included) or error.


interface Outcome {
  steps: RatifyStep[]
  result?: unknown
  error?: {code: string; message: string; hint?: string | undefined}
  contract?: Buffer
  receipt?: Buffer
  files: string[]
}

/** One run in `dir` (its outputs removed after, so the next run starts alike). */
async function run(dir: string, req: RatifyRequest): Promise<Outcome> {
  const steps: RatifyStep[] = []
  const out: Outcome = {steps, files: []}
  try {
    out.result = await runLearnRatify({...req, trace: (s) => (steps.push(s), req.trace?.(s))})
  } catch (e) {
    if (!(e instanceof PipelockError)) throw e
    out.error = {code: e.code, message: e.message, hint: e.hint}
  }
  const dest = req.out as string
  const receipts = path.join(path.dirname(dest), 'ratification-receipts.jsonl')
  if (existsSync(dest)) out.contract = readFileSync(dest)
  if (existsSync(receipts)) out.receipt = readFileSync(receipts)
  rmSync(dest, {force: true})
  rmSync(receipts, {force: true})
  out.files = readdirSync(dir).sort()
  return out
}

/** The candidate text written into a fresh directory, ratified streamed then whole; both outcomes compared, the streamed one returned. */
async function compare(text: string | Buffer, over: Partial<RatifyRequest> = {}, name = 'candidate.yaml', setup?: (dir: string) => void): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-ratify-stream-'))
  try {
    setup?.(dir)
    const candidate = path.join(dir, name)
    writeFileSync(candidate, text)
    const req: RatifyRequest = {candidate, out: path.join(dir, 'ratified.yaml'), keystore: path.join(dir, 'keystore'), interactive: false, acceptLowConfidence: true, env: lifecycleEnv(true), ...over}
    const streamed = await run(dir, req)
    const whole = await run(dir, {...req, stream: false})
    assert.deepEqual(whole.steps, ['whole'])
    assert.deepEqual(streamed.error, whole.error, 'error')
    assert.deepEqual(streamed.result, whole.result, 'result')
    assert.ok(streamed.contract?.equals(whole.contract ?? Buffer.alloc(0)) ?? whole.contract === undefined, 'contract bytes')
    assert.ok(streamed.receipt?.equals(whole.receipt ?? Buffer.alloc(0)) ?? whole.receipt === undefined, 'receipt line')
    assert.deepEqual(streamed.files, whole.files, 'files left')
    if (streamed.error !== undefined) assert.deepEqual(streamed.files.filter((f) => f !== 'keystore'), [name], 'nothing written on failure')
    assert.deepEqual(readFileSync(candidate), Buffer.from(text), 'candidate untouched')
    return streamed
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

const STREAMED: RatifyStep[] = ['facts-read', 'body-signed', 'yaml-written']

function golden(): {body: JsonObject; rules: JsonObject[]} {
  const env = loadContract(readFileSync(COLLAPSING, 'utf8'), COLLAPSING)
  return {body: env.body, rules: env.body.get('rules') as JsonObject[]}
}

/** A candidate signed by the deterministic compile key (trusted in deterministic mode): the golden's rules decided as given, its body edited by `edit`. */
function candidate(decide: (rule: JsonObject, i: number) => RatifyDecision, edit?: (body: JsonObject) => void): string {
  const {body, rules} = golden()
  const applied = applyDecisions(body, rules.map(decide))
  edit?.(applied.body)
  return resignContract(applied.body, deterministicKey('ratifyCompile'), 'learn ratify').yaml
}

function ids(): string[] {
  return golden().rules.map((r) => r.get('rule_id') as string)
}

test('every golden candidate: streamed and whole ratify give the same bytes, receipt and result', async () => {
  for (const corpus of CORPORA) {
    const text = readFileSync(repoPath('goldens', corpus, 'contract.yaml'))
    const ok = await compare(text, {contractKey: GOLDEN_KEY})
    assert.deepEqual(ok.steps, STREAMED, corpus)
    assert.equal(ok.error, undefined, corpus)
    // the low-confidence refusal, where the corpus has low-confidence rules, is the same too
    const guarded = await compare(text, {contractKey: GOLDEN_KEY, acceptLowConfidence: false})
    assert.equal(guarded.steps[0], 'facts-read', corpus)
  }
})

test('--decide: rules rejected in the middle, capture-only, coverage warnings, data classes by rule index', async () => {
  const all = ids()
  const decide = new Map<string, RatifyDecision>(all.map((id, i) => [id, i % 3 === 1 ? 'reject' : i % 3 === 2 ? 'capture_only' : 'enforce']))
  const fdc = (body: JsonObject): void => {
    const m = new Map<string, JsonValue>()
    for (const [k, v] of [['/rules/0', 'public'], ['/rules/1', 'sensitive'], ['/rules/2', 'public'], ['/rules/5/selector', 'internal'], ['/other', 'internal']] as const) m.set(k, v)
    body.set('field_data_classes', m)
  }
  const text = candidate(() => 'capture_only', fdc)
  const r = await compare(text, {decide})
  assert.deepEqual(r.steps, STREAMED)
  const result = r.result as {warnings: string[]; rejectedRuleIds: string[]}
  assert.ok(result.rejectedRuleIds.length > 0)
  assert.ok(result.warnings.length > 0, 'the coverage warnings are exercised')
  const out = loadContract((r.contract as Buffer).toString('utf8'), 'x.yaml')
  assert.deepEqual([...(out.body.get('field_data_classes') as JsonObject).keys()].sort(), ['/other', '/rules/0', '/rules/1', '/rules/3/selector'])
})

test("a host whose rules are all left capture-only while another host is enforced: warned about from that host's rules alone", async () => {
  const moved = (i: number): boolean => i % 5 === 0
  const text = candidate(
    () => 'capture_only',
    (body) => {
      ;(body.get('rules') as JsonObject[]).forEach((r, i) => {
        if (!moved(i)) return
        const sel = new Map(r.get('selector') as JsonObject)
        sel.set('host', new Map(sel.get('host') as JsonObject).set('value', 'other.example.com'))
        r.set('selector', sel)
      })
    },
  )
  const decide = new Map<string, RatifyDecision>(ids().map((id, i) => [id, moved(i) ? 'capture_only' : 'enforce']))
  const r = await compare(text, {decide})
  assert.deepEqual(r.steps, STREAMED)
  const warnings = (r.result as {warnings: string[]}).warnings
  assert.ok(warnings.length > 0 && warnings.every((w) => w.includes('no enforce rule names host other.example.com')), warnings.join('\n'))
})

test('earlier decisions kept, --redo-decisions, --decide over them; low-confidence and all-rejected refusals; unknown --decide', async () => {
  const earlier = candidate((_, i) => (i % 4 === 0 ? 'capture_only' : 'enforce'))
  for (const over of [{}, {redoDecisions: true}, {decide: new Map<string, RatifyDecision>([[ids()[1] as string, 'reject']])}, {acceptLowConfidence: false}]) {
    const r = await compare(earlier, over)
    assert.equal(r.steps[0], 'facts-read')
  }
  const kept = await compare(earlier)
  assert.match((kept.result as {warnings: string[]}).warnings[0] as string, /kept its decisions/)
  const none = await compare(earlier, {decide: new Map(ids().map((id) => [id, 'reject' as const]))})
  assert.equal(none.error?.code, 'RATIFY_DECISION_INVALID')
  const unknown = await compare(earlier, {decide: new Map([['no-such-rule', 'enforce' as const]])})
  assert.equal(unknown.error?.code, 'USAGE')
  const low = await compare(readFileSync(COLLAPSING), {contractKey: GOLDEN_KEY, acceptLowConfidence: false})
  if (low.error !== undefined) assert.equal(low.error.code, 'LOW_CONFIDENCE_REFUSED')
})

test('outside the streamed read (JSON, edited YAML, bad signature, wrong key): the whole path decides, with the same outcome', async () => {
  const text = readFileSync(COLLAPSING, 'utf8')
  const env = loadContract(text, COLLAPSING)
  const json = await compare(goJson(new Map<string, JsonValue>([['body', env.body], ['signature', env.signature]])), {contractKey: GOLDEN_KEY}, 'candidate.json')
  assert.deepEqual(json.steps, ['whole'])
  assert.equal(json.error, undefined)
  const commented = await compare('# edited by hand\n' + text, {contractKey: GOLDEN_KEY})
  assert.equal(commented.error, undefined)
  // one rule's host changed: the signature no longer verifies
  const at = text.indexOf('host:')
  const tampered = text.slice(0, at) + text.slice(at).replace(/value: ([a-z])/, (_, c: string) => `value: ${c === 'x' ? 'y' : 'x'}`)
  assert.notEqual(tampered, text)
  const bad = await compare(tampered, {contractKey: GOLDEN_KEY})
  assert.deepEqual(bad.steps, ['whole'])
  assert.equal(bad.error?.code, 'CONTRACT_SIGNATURE_INVALID')
  const wrongKey = await compare(text, {contractKey: deterministicKey('ratifyCompile').keyPair.publicKey.toString('hex')})
  assert.deepEqual(wrongKey.steps, ['whole'])
  assert.equal(wrongKey.error?.code, 'CONTRACT_SIGNATURE_INVALID')
  const noKey = await compare(text)
  assert.equal(noKey.error?.code, 'CONTRACT_SIGNATURE_INVALID')
})

test('no --contract-key: the keystore key of the signer the file names verifies the streamed read; keystore signers', async () => {
  // keys from the keystore, ids and time still fixed (so the receipts compare)
  const env = {...lifecycleEnv(true), deterministic: false}
  const keystore = (dir: string): void => {
    generateAgentKeys(path.join(dir, 'keystore'), 'golden-contract-compile', {keyPair: GOLDEN_PAIR})
    generateAgentKeys(path.join(dir, 'keystore'), 'receipt-signing', {keyPair: keyPairFromSeed(sha256('ratify-stream receipt'))})
  }
  const r = await compare(readFileSync(COLLAPSING), {env}, 'candidate.yaml', keystore)
  assert.deepEqual(r.steps, STREAMED)
  assert.equal((r.result as {compileKeyId: string}).compileKeyId, 'golden-contract-compile')
  const missing = await compare(readFileSync(COLLAPSING), {env, compileKeyAgent: 'ci-compile'}, 'candidate.yaml', keystore)
  assert.equal(missing.steps[0], 'facts-read')
  assert.equal(missing.error?.code !== undefined, true)
})

test('a candidate changed between the streamed passes is refused, nothing written', async () => {
  for (const when of ['facts-read', 'body-signed'] as const) {
    const {dir, candidate, trace} = changingCandidate('pipelock-ratify-stream-', when)
    try {
      const r = await run(dir, {
        candidate,
        out: path.join(dir, 'ratified.yaml'),
        keystore: path.join(dir, 'keystore'),
        contractKey: GOLDEN_KEY,
        interactive: false,
        acceptLowConfidence: true,
        env: lifecycleEnv(true),
        trace,
      })
      assert.equal(r.error?.code, 'CANDIDATE_INVALID', when)
      assert.match(r.error?.message ?? '', /the candidate changed while learn ratify read it; nothing was written/)
      assert.deepEqual(r.files, ['candidate.yaml'], when)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }
})
