import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {goJson, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {loadContract} from '../../../src/plugins/contracts/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {lifecycleEnv, runLearnPin, runLearnSplit, type CandidateEditRequest, type StreamStep} from '../../../src/plugins/learn/index.js'
import {repoPath} from '../../helpers/vectors.js'
import {GOLDEN_KEY, CORPORA, COLLAPSING, changingCandidate, loadArithmeticFirst} from './stream-candidates.js'

// The streamed split and pin (rule-edit-stream.ts) against the whole path: for the same signed
// candidate and request, the same written bytes (or none), result or error.

const STREAMED: StreamStep[] = ['rules-read', 'body-signed', 'yaml-written']

loadArithmeticFirst()

type Edit = (req: CandidateEditRequest & {index: number; segment: string}) => unknown
const split: Edit = (req) => runLearnSplit(req)
const pin: Edit = (req) => runLearnPin(req)

interface Outcome {
  steps: StreamStep[]
  result?: unknown
  error?: {code: string; message: string; hint?: string | undefined}
  /** The destination's bytes after the run (the candidate's own, when edited in place). */
  dest?: Buffer
  files: string[]
}

type Request = CandidateEditRequest & {index: number; segment: string}

/** One run in `dir`; the candidate is put back and the output removed after, so the next run starts alike. */
function run(dir: string, edit: Edit, req: Request, text: string | Buffer): Outcome {
  const steps: StreamStep[] = []
  const out: Outcome = {steps, files: []}
  try {
    out.result = edit({...req, trace: (s) => (steps.push(s), req.trace?.(s))})
  } catch (e) {
    if (!(e instanceof PipelockError)) throw e
    out.error = {code: e.code, message: e.message, hint: e.hint}
  }
  const dest = req.out ?? req.candidate
  if (existsSync(dest)) out.dest = readFileSync(dest)
  out.files = readdirSync(dir).sort()
  if (req.out !== undefined) rmSync(req.out, {force: true})
  writeFileSync(req.candidate, text)
  return out
}

/** The candidate written into a fresh directory, edited streamed then whole; both outcomes compared, the streamed one returned. */
function compare(edit: Edit, text: string | Buffer, over: Partial<Request> = {}, inPlace = false): Outcome {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-edit-stream-'))
  try {
    const candidate = path.join(dir, 'candidate.yaml')
    writeFileSync(candidate, text)
    const req: Request = {candidate, ...(inPlace ? {} : {out: path.join(dir, 'edited.yaml')}), rule: '', index: 0, segment: 'acme', keystore: path.join(dir, 'keystore'), env: lifecycleEnv(true), ...over}
    const streamed = run(dir, edit, req, text)
    const whole = run(dir, edit, {...req, stream: false}, text)
    assert.deepEqual(whole.steps, ['whole'])
    assert.deepEqual(streamed.error, whole.error, 'error')
    assert.deepEqual(streamed.result, whole.result, 'result')
    assert.ok(streamed.dest?.equals(whole.dest ?? Buffer.alloc(0)) ?? whole.dest === undefined, 'written bytes')
    assert.deepEqual(streamed.files, whole.files, 'files left')
    if (streamed.error !== undefined && !inPlace) assert.deepEqual(streamed.files, ['candidate.yaml'], 'nothing written on failure')
    return streamed
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

function rulesOf(text: string | Buffer): JsonObject[] {
  return loadContract(text.toString(), 'c.yaml').body.get('rules') as JsonObject[]
}

/** Whether the rule has a path with a normalization block (`collapsed`: with collapsed segments). */
function normalized(rule: JsonObject, collapsed: boolean): boolean {
  const paths = (rule.get('selector') as JsonObject | undefined)?.get('paths')
  if (!Array.isArray(paths)) return false
  return paths.some((p) => {
    const n = p instanceof Map ? p.get('normalization') : undefined
    if (!(n instanceof Map)) return false
    const c = n.get('collapsed_segments')
    return !collapsed || (Array.isArray(c) && c.length > 0)
  })
}

test('every golden candidate: split and pin of a rule in it, streamed and whole, give the same bytes', () => {
  let edited = 0
  for (const corpus of CORPORA) {
    const text = readFileSync(repoPath('goldens', corpus, 'contract.yaml'))
    const rules = rulesOf(text)
    const ids = rules.map((r) => r.get('rule_id') as string)
    const collapsing = rules.findIndex((r) => normalized(r, true))
    const plain = rules.findIndex((r) => !normalized(r, false))
    for (const at of new Set([collapsing, plain, Math.floor(rules.length / 2)])) {
      if (at < 0) continue
      for (const edit of [split, pin]) {
        const r = compare(edit, text, {contractKey: GOLDEN_KEY, rule: ids[at] as string})
        const what = `${corpus} rule ${at}`
        assert.equal(r.steps[0], 'rules-read', what)
        if (r.error === undefined) assert.equal(r.steps.at(-1), 'yaml-written', what)
        if ((r.result as {changed?: number} | undefined)?.changed) {
          assert.deepEqual(r.steps, STREAMED, what)
          edited++
        }
      }
    }
  }
  assert.ok(edited > 0, 'some rule was edited')
})

test("the edited rule's bytes and its neighbours unchanged; in place; a no-op writes the candidate's bytes or nothing", () => {
  const text = readFileSync(COLLAPSING)
  const rules = rulesOf(text)
  const at = rules.findIndex((r, i) => i > 0 && i < rules.length - 1 && normalized(r, true))
  assert.ok(at > 0, 'a collapsing rule in the middle')
  const id = rules[at]?.get('rule_id') as string
  for (const edit of [split, pin]) {
    const r = compare(edit, text, {contractKey: GOLDEN_KEY, rule: id})
    assert.deepEqual(r.steps, STREAMED)
    const out = rulesOf(r.dest as Buffer)
    assert.equal(out.length, rules.length)
    out.forEach((o, i) => {
      if (i !== at) assert.equal(goJson(o), goJson(rules[i] as JsonValue), `rule ${i} unchanged`)
    })
    assert.notEqual(goJson(out[at] as JsonValue), goJson(rules[at] as JsonValue), 'the rule is edited')
    if (edit === pin) assert.match(goJson(out[at] as JsonValue), /"pinned_segments":\[[^\]]*\{"reason":"operator_pin","value":"acme"\}/)
    const inPlace = compare(edit, text, {contractKey: GOLDEN_KEY, rule: id}, true)
    assert.deepEqual(inPlace.steps, STREAMED)
  }
  // pinned twice: the second pin changes nothing, elsewhere (the bytes as they are) or in place (nothing written)
  const once = compare(pin, text, {contractKey: GOLDEN_KEY, rule: id}).dest as Buffer
  const twice = compare(pin, once, {rule: id})
  assert.equal((twice.result as {changed: number}).changed, 0)
  assert.deepEqual(twice.steps, ['rules-read', 'yaml-written'])
  assert.ok(twice.dest?.equals(once))
  assert.equal(compare(pin, once, {rule: id}, true).error, undefined)
})

test('refusals: an unknown rule, an index the rule does not collapse; a bad signature left to the whole path, a commented file read streamed', () => {
  const text = readFileSync(COLLAPSING)
  const rules = rulesOf(text)
  const id = rules[rules.findIndex((r) => normalized(r, true))]?.get('rule_id') as string
  for (const edit of [split, pin]) {
    const unknown = compare(edit, text, {contractKey: GOLDEN_KEY, rule: 'r-none'})
    assert.deepEqual(unknown.steps, ['rules-read'])
    assert.equal(unknown.error?.code, 'RULE_NOT_FOUND')
  }
  const index = compare(split, text, {contractKey: GOLDEN_KEY, rule: id, index: 99})
  assert.deepEqual(index.steps, ['rules-read'])
  assert.equal(index.error?.code, 'RULE_NOT_FOUND')
  const t = text.toString('utf8')
  const at = t.indexOf('host:')
  const tampered = t.slice(0, at) + t.slice(at).replace(/value: ([a-z])/, (_, c: string) => `value: ${c === 'x' ? 'y' : 'x'}`)
  const bad = compare(pin, tampered, {contractKey: GOLDEN_KEY, rule: id})
  assert.deepEqual(bad.steps, ['whole'])
  assert.equal(bad.error?.code, 'CONTRACT_SIGNATURE_INVALID')
  const commented = compare(split, '# edited by hand\n' + t, {contractKey: GOLDEN_KEY, rule: id})
  assert.equal(commented.error, undefined)
})

test('a missing or symlinked candidate: the same refusal, in the words of the command', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-edit-stream-'))
  const refusal = (edit: Edit, req: Request): string | undefined => {
    try {
      edit(req)
      return undefined
    } catch (e) {
      if (!(e instanceof PipelockError)) throw e
      return `${e.code}: ${e.message}`
    }
  }
  try {
    writeFileSync(path.join(dir, 'real.yaml'), readFileSync(COLLAPSING))
    symlinkSync(path.join(dir, 'real.yaml'), path.join(dir, 'link.yaml'))
    for (const name of ['missing.yaml', 'link.yaml']) {
      for (const edit of [split, pin]) {
        const req: Request = {candidate: path.join(dir, name), rule: 'r-none', index: 0, segment: 'acme', keystore: path.join(dir, 'keystore'), contractKey: GOLDEN_KEY, env: lifecycleEnv(true)}
        const streamed = refusal(edit, req)
        assert.equal(streamed, refusal(edit, {...req, stream: false}), name)
        assert.match(streamed ?? '', /^CANDIDATE_INVALID: learn (split|pin): learn: invalid candidate file: /, name)
      }
    }
    assert.deepEqual(readdirSync(dir).sort(), ['link.yaml', 'real.yaml'])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('a candidate changed between the streamed passes is refused, nothing written', () => {
  const text = readFileSync(COLLAPSING, 'utf8')
  const rules = rulesOf(text)
  const id = rules[rules.findIndex((r) => normalized(r, true))]?.get('rule_id') as string
  for (const edit of [split, pin]) {
    for (const when of ['rules-read', 'body-signed'] as const) {
      const {dir, candidate, trace} = changingCandidate('pipelock-edit-stream-', when)
      try {
        const r = run(
          dir,
          edit,
          {
            candidate,
            out: path.join(dir, 'edited.yaml'),
            rule: id,
            index: 0,
            segment: 'acme',
            keystore: path.join(dir, 'keystore'),
            contractKey: GOLDEN_KEY,
            env: lifecycleEnv(true),
            trace,
          },
          text,
        )
        assert.equal(r.error?.code, 'CANDIDATE_INVALID', when)
        assert.match(r.error?.message ?? '', /the candidate changed while learn (split|pin) read it; nothing was written/)
        assert.deepEqual(r.files, ['candidate.yaml'], when)
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    }
  }
})
