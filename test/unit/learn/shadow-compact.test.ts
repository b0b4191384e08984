import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {decodeEnvelope} from '../../../src/plugins/contracts/index.js'
import {evaluateHttp, withIndex, type HttpRequestInput} from '../../../src/plugins/enforcement/index.js'
import {applyDecisions, deterministicKey, loadShadowCandidate, loadShadowContract, opportunityRules, opportunityTableRules, prepareShadowContract, resignContract} from '../../../src/plugins/learn/index.js'
import type {JsonObject} from '../../../src/plugins/canonical/index.js'
import {GOLDEN_CORPORA} from '../../../bench/corpus-goldens.js'
import {repoPath} from '../../helpers/vectors.js'
import {prng} from '../../helpers/prng.js'
import {loadEd25519Arithmetic} from '../../../src/plugins/signing/index.js'
import {decisionOrError} from '../../helpers/decision.js'

// `learn shadow` keeps only the compact contract (issue 17). Differential against the previous
// way (the whole tree loaded, then `withIndex`): for every golden corpus ratified two ways, the
// streamed compact form has the same hash, selector id and opportunity rules, and decides every
// golden event and 2,000 seeded random requests exactly as the tree did; an invalid contract
// fails with the same message either way.

function goldenEvents(corpus: string): HttpRequestInput[] {
  const out: HttpRequestInput[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.jsonl')) {
        for (const line of readFileSync(p, 'utf8').split('\n')) {
          if (line.trim() === '') continue
          const d = (JSON.parse(line) as {detail?: {request?: {url?: string; method?: string}; effective_action?: string}}).detail
          const url = d?.request?.url ?? ''
          if (!/^https?:\/\//i.test(url)) continue
          out.push({url, method: d?.request?.method ?? '', effectiveAction: d?.effective_action ?? '', mode: 'live', scannerVerdict: 'allow'})
        }
      }
    }
  }
  walk(repoPath('goldens', corpus, 'input'))
  return out
}

function randomRequests(r: () => number, events: readonly HttpRequestInput[], n: number): HttpRequestInput[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const out: HttpRequestInput[] = []
  for (let i = 0; i < n; i++) {
    const base = pick(events)
    const u = new URL(base.url)
    const segs = u.pathname.split('/')
    const roll = r()
    if (roll < 0.2) segs[segs.length - 1] = pick(['x', 'ABC', '42', '', '%2F', '..', 'caf%C3%A9'])
    else if (roll < 0.3) segs.push('extra')
    const port = pick(['', '', '', ':443', ':8443', ':80'])
    const host = r() < 0.1 ? 'elsewhere.example.org' : u.hostname
    out.push({url: `${u.protocol}//${host}${port}${segs.join('/')}`, method: pick(['GET', 'POST', 'put', base.method]), effectiveAction: pick(['', 'allow', 'warn', base.effectiveAction ?? '']), mode: pick(['live', 'shadow']), scannerVerdict: pick(['allow', 'warn', 'allow'])})
  }
  return out
}

const KEY = Buffer.from(deterministicKey('ratifyCompile').keyPair.publicKey).toString('hex')

/**
 * The golden candidates as compiled (every rule capture-only), ratified two ways, and ratified
 * with the rules without paths left capture-only and `lifecycle_state: "enforce"` quoted (the
 * same signed bytes; a text that does not name `lifecycle_state: enforce` as the emitter writes
 * it, so the lean index is tried, found incomplete, and the contract read again).
 */
const MODES = ['fresh', 'all', 'strict', 'quoted'] as const

function candidateText(body: JsonObject, mode: (typeof MODES)[number]): string {
  const rules = body.get('rules') as JsonObject[]
  const hasPaths = (x: JsonObject): boolean => (x.get('selector') as JsonObject).has('paths')
  if (mode === 'fresh') return resignContract(body, deterministicKey('ratifyCompile'), 'learn ratify').yaml
  // quoted: rules with paths enforced, the others left capture-only (a default deny names them).
  const applied = applyDecisions(body, rules.map((x) => (mode === 'all' || hasPaths(x) ? 'enforce' : mode === 'strict' ? 'reject' : 'capture_only')))
  const yaml = resignContract(applied.body, deterministicKey('ratifyCompile'), 'learn ratify').yaml
  if (mode !== 'quoted') return yaml
  const quoted = yaml.replaceAll('lifecycle_state: enforce', 'lifecycle_state: "enforce"')
  assert.notEqual(quoted, yaml)
  return quoted
}

test('the streamed compact contract decides every golden event and 2,000 random requests as the whole tree did (the signature checked over the signed bytes)', () => {
  differential()
})

test('the same with the signature checked as the rules pass, and capture-only rules left out of the index of a candidate that enforces nothing', async () => {
  await loadEd25519Arithmetic()
  differential()
})

function differential(): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-compact-'))
  const r = prng(171)
  let compared = 0
  try {
    for (const corpus of GOLDEN_CORPORA) {
      const src = repoPath('goldens', corpus.name, 'contract.yaml')
      const env = decodeEnvelope(readFileSync(src, 'utf8'), src)
      const events = goldenEvents(corpus.name)
      assert.ok(events.length > 0, `${corpus.name}: golden events`)
      for (const mode of MODES) {
        const file = path.join(dir, `${corpus.name}-${mode}.yaml`)
        writeFileSync(file, candidateText(env.body, mode))
        const req = {contract: file, contractKey: KEY, allowUnsignedForDiagnostics: false, keystore: dir, warn: () => {}}
        const tree = loadShadowContract(req).body
        const old = withIndex({contractHash: prepareShadowContract(tree).contractHash, body: tree})
        const compact = loadShadowCandidate(req)
        const fromTree = prepareShadowContract(tree)
        assert.equal(compact.contractHash, fromTree.contractHash)
        assert.equal(compact.selectorId, fromTree.selectorId)
        assert.deepEqual(compact.opportunityRules, fromTree.opportunityRules)
        assert.deepEqual([...opportunityTableRules(compact.opportunityRules)], opportunityRules(tree))
        assert.equal(compact.evaluator.body, undefined, 'the compact form keeps no tree')
        for (const input of [...events, ...randomRequests(r, events, 2000 / (GOLDEN_CORPORA.length * 2))]) {
          assert.deepEqual(decisionOrError(() => evaluateHttp(compact.evaluator, input)), decisionOrError(() => evaluateHttp(old, input)), `${corpus.name} ${mode}: ${input.method} ${input.url}`)
          assert.deepEqual(decisionOrError(() => evaluateHttp(fromTree.evaluator, input)), decisionOrError(() => evaluateHttp(old, input)))
          compared++
        }
      }
    }
    assert.ok(compared > 2000, `compared ${compared}`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

test('loadShadowCandidate fails exactly as loadShadowContract does (invalid contract, missing key, bad signature), the signature checked as the rules pass', async () => {
  await loadEd25519Arithmetic()
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-compact-'))
  try {
    const src = repoPath('goldens', GOLDEN_CORPORA[0]?.name ?? '', 'contract.yaml')
    const env = decodeEnvelope(readFileSync(src, 'utf8'), src)
    const good = resignContract(env.body, deterministicKey('ratifyCompile'), 'learn ratify').yaml
    const cases: [string, string, Partial<{contractKey: string; allowUnsignedForDiagnostics: boolean}>][] = [
      ['bad-state', good.replace(/lifecycle_state: \w+/, 'lifecycle_state: bogus'), {contractKey: KEY}],
      ['unknown-field', good.replace(/( +)rule_id: /, '$1surprise: 1\n$1rule_id: '), {contractKey: KEY}],
      ['no-key', good, {}],
      ['bad-signature', good.replace(/signature: ed25519:[0-9a-f]{4}/, 'signature: ed25519:0000'), {contractKey: KEY}],
      ['other-key', good, {contractKey: '3e60a846b80a5152a2e32fac4cadb3e9a661eee41558a8c84f5d00a827671380'}],
    ]
    for (const [name, text, opts] of cases) {
      const file = path.join(dir, `${name}.yaml`)
      writeFileSync(file, text)
      const req = {contract: file, allowUnsignedForDiagnostics: false, keystore: dir, warn: () => {}, ...opts}
      const err = (f: () => unknown): string => {
        try {
          f()
          return 'no error'
        } catch (e) {
          return `${(e as {code?: string}).code}: ${(e as Error).message}`
        }
      }
      const want = err(() => loadShadowContract(req))
      assert.notEqual(want, 'no error', name)
      assert.equal(err(() => loadShadowCandidate(req)), want, name)
    }
    // The diagnostics flag warns once, either way.
    const file = path.join(dir, 'unsigned.yaml')
    writeFileSync(file, good)
    const warned: string[] = []
    loadShadowCandidate({contract: file, allowUnsignedForDiagnostics: true, keystore: dir, warn: (l) => warned.push(l)})
    assert.deepEqual(warned, ['warning: unverified contract accepted because --allow-unsigned-contract-for-diagnostics is set; shadow replay is diagnostic only'])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
