import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {goJson, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {loadContract} from '../../../src/plugins/contracts/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {deterministicKey, lifecycleEnv, resignContract, runLearnForget, type ForgetRequest, type ForgetStep} from '../../../src/plugins/learn/index.js'
import {repoPath} from '../../helpers/vectors.js'
import {GOLDEN_KEY, CORPORA, COLLAPSING, changingCandidate, loadArithmeticFirst} from './stream-candidates.js'

// The streamed forget (forget-stream.ts) against the whole path: for the same candidate and
// request, the same contract bytes, tombstone bytes, receipt line, result or error.

const STREAMED: ForgetStep[] = ['rules-read', 'body-signed', 'yaml-written']

loadArithmeticFirst()

interface Outcome {
  steps: ForgetStep[]
  result?: unknown
  error?: {code: string; message: string; hint?: string | undefined}
  /** Every file written, by its path under the run's directory, and its bytes. */
  written: Map<string, Buffer>
}

function walk(dir: string, base = ''): string[] {
  return readdirSync(path.join(dir, base), {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? [path.join(base, e.name) + '/', ...walk(dir, path.join(base, e.name))] : [path.join(base, e.name)]))
}

/** One run in `dir`; what it wrote is read and removed after, so the next run starts alike. */
function run(dir: string, req: ForgetRequest, name: string): Outcome {
  const steps: ForgetStep[] = []
  const out: Outcome = {steps, written: new Map()}
  try {
    out.result = runLearnForget({...req, trace: (s) => (steps.push(s), req.trace?.(s))})
  } catch (e) {
    if (!(e instanceof PipelockError)) throw e
    out.error = {code: e.code, message: e.message, hint: e.hint}
  }
  for (const f of walk(dir)) {
    if (f === name || f.startsWith('keystore')) continue
    if (!f.endsWith('/')) out.written.set(f, readFileSync(path.join(dir, f)))
    else out.written.set(f, Buffer.alloc(0))
  }
  for (const f of out.written.keys()) rmSync(path.join(dir, f), {recursive: true, force: true})
  return out
}

/** The candidate text written into a fresh directory, forgotten streamed then whole; both outcomes compared, the streamed one returned. */
function compare(text: string | Buffer, over: Partial<ForgetRequest> = {}, name = 'candidate.yaml'): Outcome {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-forget-stream-'))
  try {
    const candidate = path.join(dir, name)
    writeFileSync(candidate, text)
    const req: ForgetRequest = {candidate, ruleId: '', reason: 'pii', keystore: path.join(dir, 'keystore'), env: lifecycleEnv(true), ...over}
    const streamed = run(dir, req, name)
    const whole = run(dir, {...req, stream: false}, name)
    assert.deepEqual(whole.steps, ['whole'])
    assert.deepEqual(streamed.error, whole.error, 'error')
    assert.deepEqual(streamed.result, whole.result, 'result')
    assert.deepEqual([...streamed.written.keys()].sort(), [...whole.written.keys()].sort(), 'files written')
    for (const [f, bytes] of whole.written) assert.ok(streamed.written.get(f)?.equals(bytes), `bytes of ${f}`)
    if (streamed.error !== undefined) assert.deepEqual([...streamed.written.keys()], [], 'nothing written on failure')
    assert.deepEqual(readFileSync(candidate), Buffer.from(text), 'candidate untouched')
    return streamed
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

function golden(file = COLLAPSING): {body: JsonObject; rules: JsonObject[]} {
  const env = loadContract(readFileSync(file, 'utf8'), file)
  return {body: env.body, rules: env.body.get('rules') as JsonObject[]}
}

/** The collapsing golden edited by `edit`, signed by the deterministic compile key (trusted in deterministic mode). */
function candidate(edit: (body: JsonObject, rules: JsonObject[]) => void): string {
  const {body, rules} = golden()
  edit(body, rules)
  return resignContract(body, deterministicKey('forgetCompile'), 'learn forget').yaml
}

test('every golden candidate: its first, middle and last rule forgotten streamed and whole give the same bytes', () => {
  for (const corpus of CORPORA) {
    const file = repoPath('goldens', corpus, 'contract.yaml')
    const ids = golden(file).rules.map((r) => r.get('rule_id') as string)
    for (const at of new Set([0, Math.floor(ids.length / 2), ids.length - 1])) {
      const r = compare(readFileSync(file), {contractKey: GOLDEN_KEY, ruleId: ids[at] as string})
      const what = `${corpus} rule ${at} of ${ids.length}`
      if (ids.length === 1) {
        assert.equal(r.error?.code, 'CANDIDATE_INVALID', what)
        continue
      }
      assert.deepEqual(r.steps, STREAMED, what)
      assert.equal(r.error, undefined, what)
      assert.ok([...r.written.keys()].some((f) => f.endsWith('.tombstone.yaml')), what)
    }
  }
})

test('a rule id held by rules in the middle: all of them removed, data classes follow their rules; the tombstone bytes', () => {
  const text = candidate((body, rules) => {
    const id = rules[5]?.get('rule_id') as string
    rules[9]?.set('rule_id', id)
    const m = new Map<string, JsonValue>()
    for (const [k, v] of [['/rules/4', 'public'], ['/rules/5', 'sensitive'], ['/rules/7/selector', 'internal'], ['/rules/9', 'public'], ['/rules/12', 'internal'], ['/other', 'internal']] as const) m.set(k, v)
    body.set('field_data_classes', m)
  })
  const id = golden().rules[5]?.get('rule_id') as string
  const r = compare(text, {ruleId: ` ${id} `})
  assert.deepEqual(r.steps, STREAMED)
  const contract = r.written.get('candidate.forgotten.yaml') as Buffer
  const out = loadContract(contract.toString('utf8'), 'x.yaml')
  const rules = out.body.get('rules') as JsonObject[]
  assert.equal(rules.length, golden().rules.length - 2)
  assert.ok(!rules.some((x) => x.get('rule_id') === id))
  assert.deepEqual([...(out.body.get('field_data_classes') as JsonObject).keys()].sort(), ['/other', '/rules/10', '/rules/4', '/rules/6/selector'])
  const prior = loadContract(text, 'c.yaml').body.get('contract_hash') as string
  assert.equal(out.body.get('prior_contract_hash'), prior)
  const tomb = r.written.get(`tombstones/${prior.replace(':', '-')}.tombstone.yaml`)
  assert.ok(tomb !== undefined && tomb.toString('utf8').includes(`prior_contract_hash: ${prior}\n`) && tomb.toString('utf8').includes('signer_key_id: deterministic-contract-activation\n'), tomb?.toString('utf8'))
})

test('refusals: no rule with the id, every rule with the id; both before anything is written', () => {
  const none = compare(readFileSync(COLLAPSING), {contractKey: GOLDEN_KEY, ruleId: 'r-none'})
  assert.deepEqual(none.steps, ['rules-read'])
  assert.equal(none.error?.message, 'learn: rule not found in candidate: "r-none"')
  const all = compare(candidate((_, rules) => rules.forEach((x) => x.set('rule_id', 'r-same'))), {ruleId: 'r-same'})
  assert.deepEqual(all.steps, ['rules-read'])
  assert.equal(all.error?.message, 'learn forget: refusing to write candidate with no rules')
})

test('outside the streamed read (JSON, edited YAML, bad signature) the whole path decides alike', () => {
  const text = readFileSync(COLLAPSING, 'utf8')
  const id = golden().rules[2]?.get('rule_id') as string
  const env = loadContract(text, COLLAPSING)
  const json = compare(goJson(new Map<string, JsonValue>([['body', env.body], ['signature', env.signature]])), {contractKey: GOLDEN_KEY, ruleId: id}, 'candidate.json')
  assert.deepEqual(json.steps, ['whole'])
  assert.equal(json.error, undefined)
  const commented = compare('# edited by hand\n' + text, {contractKey: GOLDEN_KEY, ruleId: id})
  assert.equal(commented.error, undefined)
  const at = text.indexOf('host:')
  const tampered = text.slice(0, at) + text.slice(at).replace(/value: ([a-z])/, (_, c: string) => `value: ${c === 'x' ? 'y' : 'x'}`)
  const bad = compare(tampered, {contractKey: GOLDEN_KEY, ruleId: id})
  assert.deepEqual(bad.steps, ['whole'])
  assert.equal(bad.error?.code, 'CONTRACT_SIGNATURE_INVALID')
  const noKey = compare(text, {ruleId: id})
  assert.equal(noKey.error?.code, 'CONTRACT_SIGNATURE_INVALID')
})

test('a candidate changed between the streamed passes is refused, no tombstone nor contract written', () => {
  for (const when of ['rules-read', 'body-signed'] as const) {
    const {dir, candidate: file, trace} = changingCandidate('pipelock-forget-stream-', when)
    try {
      mkdirSync(path.join(dir, 'keystore'))
      const r = run(
        dir,
        {
          candidate: file,
          ruleId: golden().rules[1]?.get('rule_id') as string,
          reason: 'pii',
          keystore: path.join(dir, 'keystore'),
          contractKey: GOLDEN_KEY,
          env: lifecycleEnv(true),
          trace,
        },
        'candidate.yaml',
      )
      assert.equal(r.error?.code, 'CANDIDATE_INVALID', when)
      assert.match(r.error?.message ?? '', /the candidate changed while learn forget read it; nothing was written/)
      assert.deepEqual([...r.written.keys()], [], when)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }
})
